package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"grace/engine"
	"grace/engine/watchdog"
)

// hook is one webhook: its queue and the goroutine (run) that delivers
// from it, one notification at a time, in order.
type hook struct {
	n      *Notifier
	cfg    engine.WebhookConfig // with its defaults
	url    string
	host   string // for logs: the URL may hold a secret in its path
	minSev watchdog.Status
	secret []byte // nil: unsigned

	queue chan delivery
	stop  chan struct{} // closed when the notifier stops
	// reqCtx is the requests' context, cancelled ShutdownGrace after stop.
	reqCtx    context.Context
	cancelReq context.CancelFunc

	// full is set while the queue is full, so that a full queue is logged
	// once rather than for every notification dropped. The dispatcher's.
	full bool
	// standing is how its deliveries stand, for the watchdog (health.go).
	standing standing
}

// delivery is one notification for one webhook: its body is the same on
// every attempt.
type delivery struct {
	id, kind string
	subject  string // the alert key or intent ID, for the log
	intentID string // the intent an approval request is about
	body     []byte
}

// failure is d, failed for good, as the record tells it.
func (h *hook) failure(d delivery, cause string, status, attempts int, how string) engine.NotificationFailure {
	return engine.NotificationFailure{Webhook: h.cfg.Name, Host: h.host, Kind: d.kind, DeliveryID: d.id, Subject: d.subject,
		IntentID: d.intentID, Reason: cause, Status: status, Attempts: attempts, How: how}
}

// kinds are the notification kinds the webhook is sent.
func (h *hook) kinds() []string {
	var ks []string
	if h.cfg.Wants(engine.NotifyAlert) {
		ks = append(ks, KindAlert)
	}
	if h.cfg.Wants(engine.NotifyApproval) {
		ks = append(ks, KindApproval, KindApprovalsPending)
	}
	return ks
}

// wantsAlert reports whether the webhook is sent this change of an alert:
// a raise or an escalation that reaches its min_severity, and a
// de-escalation or resolution of an alert that reached it (Peak), which
// it was therefore sent. An alert announced again as its silence ended
// is sent when it reached min_severity (Peak): its changes meanwhile
// were not sent, and its resolution will be. A resolution sent as a
// silence ended is sent when the peak the webhooks were told of before
// the silence (ToldPeak) reached it: a webhook that never heard of the
// alert does not hear of its resolution.
func (h *hook) wantsAlert(ev watchdog.AlertEvent) bool {
	if !h.cfg.Wants(engine.NotifyAlert) {
		return false
	}
	if ev.AfterSilence && ev.Change == watchdog.Resolved && ev.ToldPeak != watchdog.OK {
		return ev.ToldPeak >= h.minSev
	}
	if ev.AfterSilence {
		return ev.Alert.Peak >= h.minSev
	}
	switch ev.Change {
	case watchdog.Raised, watchdog.Escalated:
		return ev.Alert.Severity >= h.minSev
	case watchdog.Deescalated, watchdog.Resolved:
		return ev.Alert.Peak >= h.minSev
	}
	return false
}

// enqueue gives msg a delivery ID and queues it without waiting: when the
// queue is full it is dropped and counted (the engine is never held up by
// a webhook). Called by the dispatcher only.
func (h *hook) enqueue(msg Message, subject string) {
	msg.ID = newDeliveryID()
	if msg.Kind == KindApproval && msg.Intent != nil {
		msg.ID = approvalDeliveryID(h.cfg.Name, msg.Intent.ID)
	}
	body, err := json.Marshal(msg)
	if err != nil { // the message holds plain values and checked JSON
		h.n.log.Error("notify: encode notification", "webhook", h.cfg.Name, "kind", msg.Kind, "err", err)
		h.n.m.add(h.cfg.Name, msg.Kind, ResultFailed, 1)
		return
	}
	select {
	case h.queue <- delivery{id: msg.ID, kind: msg.Kind, subject: subject, intentID: msg.intentID(), body: body}:
		h.full = false
	default:
		h.n.m.add(h.cfg.Name, msg.Kind, ResultDropped, 1)
		h.standing.droppedSome(1)
		f := h.failure(delivery{id: msg.ID, kind: msg.Kind, subject: subject, intentID: msg.intentID()},
			fmt.Sprintf("the webhook's queue of %d was full (the receiver is slower than what Grace sends)", cap(h.queue)), 0, 0,
			"never attempted: a notification that finds its webhook's queue full is dropped, so that the engine never waits for a webhook")
		f.Dropped = true
		h.n.rec.report(f)
		if !h.full {
			h.full = true
			h.n.log.Warn("notify: webhook queue full: dropping notifications until it drains (counted in grace_notifications_total{result=\"dropped\"})",
				"webhook", h.cfg.Name, "queue", cap(h.queue), "kind", msg.Kind, "id", msg.ID)
		}
	}
}

// newDeliveryID is a unique delivery ID: "dlv_" and 20 random hex digits
// (an alert's change, an approvals_pending summary).
func newDeliveryID() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return "dlv_" + hex.EncodeToString(b[:])
}

// approvalDeliveryID is the delivery ID of the approval request of intent
// id to the webhook named webhook: "dlv_" and 20 hex digits of a SHA-256
// of the two, the same each time the request is made. A re-announcement
// at start (another run of Grace, which keeps no list of what it sent)
// thus carries the ID of the intent's first announcement, and a receiver
// that drops repeats by X-Grace-Delivery is told of each intent once. The
// webhook's name (compared without case, as the config does) keeps two
// webhooks' deliveries apart; its URL, which may hold a secret, is not used.
func approvalDeliveryID(webhook, id string) string {
	sum := sha256.Sum256([]byte("grace approval_requested\x00" + strings.ToLower(webhook) + "\x00" + id))
	return "dlv_" + hex.EncodeToString(sum[:10])
}

// run delivers the queue in order until the notifier stops; then it
// counts and logs what was left undelivered.
func (h *hook) run() {
	for {
		select {
		case <-h.stop:
			h.abandon(0)
			return
		default:
		}
		select {
		case <-h.stop:
			h.abandon(0)
			return
		case d := <-h.queue:
			if !h.deliver(d) {
				h.n.m.add(h.cfg.Name, d.kind, ResultDropped, 1)
				h.abandon(1)
				return
			}
		}
	}
}

// abandon counts the notifications still queued at shutdown, plus
// inFlight (one cut short), as dropped, and logs how many there were.
func (h *hook) abandon(inFlight int) {
	byKind := map[string]int{}
	for {
		select {
		case d := <-h.queue:
			byKind[d.kind]++
			continue
		default:
		}
		break
	}
	n := inFlight
	for kind, c := range byKind {
		h.n.m.add(h.cfg.Name, kind, ResultDropped, c)
		n += c
	}
	if n > 0 {
		h.n.log.Warn("notify: stopping with notifications undelivered", "webhook", h.cfg.Name, "undelivered", n)
	}
}
