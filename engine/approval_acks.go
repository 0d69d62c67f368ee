package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"grace/engine/intent"
)

// ApprovalAck says that a webhook acknowledged (answered 2xx) the
// approval request of an intent: the notifier need not announce it to
// that webhook again after a restart.
type ApprovalAck struct {
	// Webhook names the webhook (compared without case, as the config
	// does names): the notifier gives its name and a tag of its URL,
	// so that another receiver under the same name is told again.
	// IntentID is the intent the request was about.
	Webhook, IntentID string
	// At is when the webhook answered.
	At time.Time
}

// ApprovalAckStore remembers, across restarts, which approval requests
// each webhook acknowledged. The store implements it. Its webhook names
// are in lower case (the engine hands them over so).
type ApprovalAckStore interface {
	// SaveApprovalAcks writes acks and returns once they are durable. An
	// ack whose intent is not pending approval when it is written is not
	// kept: a row lives while its intent waits, and goes as the intent
	// leaves pending_approval (approved, denied, expired, cancelled) or
	// is deleted.
	SaveApprovalAcks(ctx context.Context, acks []ApprovalAck) error
	// ApprovalAcks returns the intents each webhook acknowledged, by
	// webhook name.
	ApprovalAcks(ctx context.Context) (map[string]map[string]struct{}, error)
	// ForgetApprovalAcks deletes the acknowledgements of every webhook but
	// those named, and any whose intent no longer waits, and says how
	// many it deleted.
	ForgetApprovalAcks(ctx context.Context, keep []string) (int64, error)
}

// ErrNoApprovalAcks: the engine's store keeps no acknowledgements of
// approval requests (every pending intent is then announced again at
// start, to every webhook).
var ErrNoApprovalAcks = errors.New("this engine's store keeps no acknowledgements of approval requests")

// ApprovalsWaiting is what one webhook has not acknowledged of the intents
// waiting for approval (pending, their deadline not passed).
type ApprovalsWaiting struct {
	// Newest are the newest of them (up to the limit asked for), oldest
	// first, masked like Get; Total is how many there are.
	Newest []intent.Intent
	Total  int
	// Acknowledged are the IDs of the waiting intents the webhook did
	// acknowledge.
	Acknowledged []string
}

// ackStore is the store's ApprovalAckStore, nil when it keeps none.
func (e *Engine) ackStore() ApprovalAckStore {
	s, _ := e.store.(ApprovalAckStore)
	return s
}

// UnacknowledgedApprovals returns, for each webhook named (keyed by the
// name as given), the intents waiting for approval it has not
// acknowledged: the newest limit of them and how many. It reads the
// store, so it answers before the engine starts: the notifier announces
// again, at start, only what each webhook has not acknowledged. It fails
// with ErrNoApprovalAcks when the store keeps no acknowledgements.
func (e *Engine) UnacknowledgedApprovals(ctx context.Context, webhooks []string, limit int) (map[string]ApprovalsWaiting, error) {
	st := e.ackStore()
	if st == nil {
		return nil, ErrNoApprovalAcks
	}
	waiting, err := e.waitingApprovals(ctx)
	if err != nil {
		return nil, err
	}
	acks, err := st.ApprovalAcks(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the webhooks' acknowledgements: %w", err)
	}
	out := make(map[string]ApprovalsWaiting, len(webhooks))
	for _, w := range webhooks {
		acked := acks[strings.ToLower(w)]
		var a ApprovalsWaiting
		var rest []intent.Intent
		for _, in := range waiting {
			if _, ok := acked[in.ID]; ok {
				a.Acknowledged = append(a.Acknowledged, in.ID)
			} else {
				rest = append(rest, in)
			}
		}
		a.Total = len(rest)
		if limit > 0 {
			a.Newest = e.guard.mask.intents(rest[max(0, len(rest)-limit):])
		}
		out[w] = a
	}
	return out, nil
}

// AcknowledgeApprovals remembers acks durably (those whose intent no
// longer waits are not kept). It waits on the store: the notifier calls
// it from a goroutine of its own, never from one that delivers or that
// the engine waits on.
func (e *Engine) AcknowledgeApprovals(ctx context.Context, acks []ApprovalAck) error {
	st := e.ackStore()
	if st == nil {
		return ErrNoApprovalAcks
	}
	norm := make([]ApprovalAck, len(acks))
	for i, a := range acks {
		a.Webhook = strings.ToLower(a.Webhook)
		norm[i] = a
	}
	return st.SaveApprovalAcks(ctx, norm)
}

// ForgetApprovalAcks forgets the acknowledgements of the webhooks not
// named in keep (removed from the config, or no longer sent approval
// requests): a webhook of that name added again is told again what
// waits. It waits on the store, as AcknowledgeApprovals does.
func (e *Engine) ForgetApprovalAcks(ctx context.Context, keep []string) (int64, error) {
	st := e.ackStore()
	if st == nil {
		return 0, ErrNoApprovalAcks
	}
	names := make([]string, len(keep))
	for i, w := range keep {
		names[i] = strings.ToLower(w)
	}
	return st.ForgetApprovalAcks(ctx, names)
}
