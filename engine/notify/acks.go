package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"grace/engine"
)

// Acknowledgements remembers, across restarts, which approval requests
// each webhook acknowledged (answered 2xx): *engine.Engine implements it,
// when its store keeps them. The notifier then announces again at start
// only what a webhook has not acknowledged.
type Acknowledgements interface {
	// UnacknowledgedApprovals returns, for each webhook named (keyed by
	// the name as given), the newest limit intents waiting for approval
	// that it has not acknowledged, oldest first, how many there are, and
	// the IDs of those it has. engine.ErrNoApprovalAcks: none are kept.
	UnacknowledgedApprovals(ctx context.Context, webhooks []string, limit int) (map[string]engine.ApprovalsWaiting, error)
	// AcknowledgeApprovals remembers acks durably. The notifier calls it
	// from a goroutine of its own, so it may wait on the store.
	AcknowledgeApprovals(ctx context.Context, acks []engine.ApprovalAck) error
	// ForgetApprovalAcks forgets the acknowledgements of every webhook not
	// named in keep. Called as acknowledgements are, once at start.
	ForgetApprovalAcks(ctx context.Context, keep []string) (int64, error)
}

// ackBatch bounds the acknowledgements written in one call; those that
// arrive while one is written go in the next.
const ackBatch = 256

// ackWriteLimit bounds how long one write of acknowledgements may wait on
// the store (at shutdown too): past it they are not kept, and the intents
// are at worst announced again at the next start.
const ackWriteLimit = 10 * time.Second

// acker writes the acknowledgements on one goroutine; the webhooks only
// hand them over (delivered), never waiting. One that finds the queue
// full is not kept: its intent is at worst announced again at the next
// start, never left unannounced.
type acker struct {
	to    Acknowledgements
	log   *slog.Logger
	clock interface{ Now() time.Time }
	ch    chan engine.ApprovalAck
	keep  []string     // the webhooks sent approval requests
	lost  atomic.Int64 // acknowledgements that found ch full
	saved atomic.Int64 // acknowledgements written (tests)
	// failed is how many writes failed since the last that did not: the
	// first failure of a run of them is logged. The goroutine's.
	failed int
}

func newAcker(to Acknowledgements, n *Notifier, keep []string) *acker {
	return &acker{to: to, log: n.log, clock: n.clock, keep: keep, ch: make(chan engine.ApprovalAck, 4*n.opts.QueueSize)}
}

// ackName is what a webhook's acknowledgements are kept under: its name
// and a tag of its URL ("pager#" and 12 hex digits of the URL's SHA-256),
// so that a webhook pointed at another receiver under the same name is
// told again what the first one acknowledged (the old tag's rows are
// forgotten at start, as a removed webhook's are). The URL itself is not
// kept: it may hold a secret.
func (h *hook) ackName() string {
	sum := sha256.Sum256([]byte(h.url))
	return h.cfg.Name + "#" + hex.EncodeToString(sum[:6])
}

// delivered hands over, without waiting, that the webhook of h
// acknowledged d when d is an approval request; a may be nil (nothing is
// kept).
func (a *acker) delivered(h *hook, d delivery) {
	if a == nil || d.kind != KindApproval || d.intentID == "" {
		return
	}
	select {
	case a.ch <- engine.ApprovalAck{Webhook: h.ackName(), IntentID: d.intentID, At: a.clock.Now()}:
	default:
		a.lost.Add(1)
	}
}

// run forgets the acknowledgements of webhooks no longer sent approval
// requests, then writes what is handed over until stop is closed; then
// it writes what is still queued.
func (a *acker) run(stop <-chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), ackWriteLimit)
	if n, err := a.to.ForgetApprovalAcks(ctx, a.keep); err != nil {
		a.log.Warn("notify: the acknowledgements of webhooks no longer configured are not forgotten", "err", err)
	} else if n > 0 {
		a.log.Info("notify: forgot the acknowledgements of webhooks no longer sent approval requests", "rows", n)
	}
	cancel()
	batch := make([]engine.ApprovalAck, 0, ackBatch)
	for {
		select {
		case ack := <-a.ch:
			a.write(a.drain(append(batch[:0], ack)))
		case <-stop:
			for {
				batch = a.drain(batch[:0])
				if len(batch) == 0 {
					break
				}
				a.write(batch)
			}
			a.reportLost()
			return
		}
	}
}

// drain adds to batch what is queued, up to ackBatch.
func (a *acker) drain(batch []engine.ApprovalAck) []engine.ApprovalAck {
	for len(batch) < ackBatch {
		select {
		case ack := <-a.ch:
			batch = append(batch, ack)
			continue
		default:
		}
		break
	}
	return batch
}

// write keeps batch; a failure is logged (the first of a run of them),
// and its intents are at worst announced again at the next start.
func (a *acker) write(batch []engine.ApprovalAck) {
	ctx, cancel := context.WithTimeout(context.Background(), ackWriteLimit)
	defer cancel()
	err := a.to.AcknowledgeApprovals(ctx, batch)
	a.reportLost()
	if err == nil {
		a.saved.Add(int64(len(batch)))
		if a.failed > 0 {
			a.log.Info("notify: acknowledgements of approval requests kept again", "failed_writes", a.failed)
		}
		a.failed = 0
		return
	}
	if a.failed == 0 && !errors.Is(err, engine.ErrNoApprovalAcks) {
		a.log.Warn("notify: acknowledgements of approval requests not kept: those intents may be announced again at the next start",
			"acks", len(batch), "err", err)
	}
	a.failed++
}

// reportLost logs the acknowledgements that found the queue full since
// it last did.
func (a *acker) reportLost() {
	if lost := a.lost.Swap(0); lost > 0 {
		a.log.Warn("notify: acknowledgements of approval requests not kept (their queue was full): those intents may be announced again at the next start",
			"lost", lost)
	}
}
