package notify

import (
	"context"
	"errors"
	"fmt"

	"grace/engine"
	"grace/engine/intent"
)

// atStart is what one webhook is told again at start: the newest intents
// left waiting for approval that it has not acknowledged (all of them when
// no acknowledgements are kept), oldest first, and how many there are.
type atStart struct {
	newest []intent.Intent
	total  int
}

// approvalHooks are the webhooks that want approval requests, in config
// order.
func (n *Notifier) approvalHooks() []*hook {
	var hs []*hook
	for _, h := range n.hooks {
		if h.cfg.Wants(engine.NotifyApproval) {
			hs = append(hs, h)
		}
	}
	return hs
}

// pendingAtStart reads what each webhook that wants approval requests is
// to be told again at start, and the intents waiting that a webhook
// acknowledged (announced: no event of theirs is a new request). When src
// keeps acknowledgements it sets n.acks, so that those of this run are
// kept too.
func (n *Notifier) pendingAtStart(ctx context.Context, src Source) (plans map[*hook]atStart, acked []string) {
	hooks := n.approvalHooks()
	if len(hooks) == 0 {
		return nil, nil
	}
	names := make([]string, len(hooks))
	for i, h := range hooks {
		names[i] = h.ackName()
	}
	if ak, ok := src.(Acknowledgements); ok {
		per, err := ak.UnacknowledgedApprovals(ctx, names, n.opts.ReannounceMax)
		switch {
		case err == nil:
			n.acks = newAcker(ak, n, names)
			plans = make(map[*hook]atStart, len(hooks))
			for _, h := range hooks {
				w := per[h.ackName()]
				plans[h] = atStart{newest: w.Newest, total: w.Total}
				acked = append(acked, w.Acknowledged...)
			}
			return plans, acked
		case errors.Is(err, engine.ErrNoApprovalAcks):
		default:
			n.acks = newAcker(ak, n, names) // what is acknowledged from now on is still kept
			n.log.Warn("notify: what the webhooks acknowledged cannot be read: every intent waiting for approval is announced again", "err", err)
		}
	}
	w, ok := src.(Waiting)
	if !ok {
		return nil, nil
	}
	newest, total, err := w.WaitingApprovals(ctx, n.opts.ReannounceMax)
	if err != nil {
		n.log.Warn("notify: the intents waiting for approval are not announced again", "err", err)
		return nil, nil
	}
	plans = make(map[*hook]atStart, len(hooks))
	for _, h := range hooks {
		plans[h] = atStart{newest: newest, total: total}
	}
	return plans, nil
}

// reannounce queues, for each webhook, the approval requests of the
// intents a previous run left waiting that it is to be told again (the
// newest, oldest first), after a summary when it has more than those to be
// told. Each is then announced, as is each intent a webhook acknowledged:
// an event of it does not send it again. The dispatcher's, before it
// reads events.
func (n *Notifier) reannounce(plans map[*hook]atStart, acked []string) {
	for _, id := range acked {
		if len(n.announced) < maxAnnounced {
			n.announced[id] = struct{}{}
		}
	}
	now := n.clock.Now()
	for _, h := range n.hooks { // in config order
		p, ok := plans[h]
		if !ok {
			continue
		}
		kept := make([]intent.Intent, 0, len(p.newest))
		for _, in := range p.newest {
			if in.Deadline.IsZero() || in.Deadline.After(now) {
				kept = append(kept, in)
			}
		}
		total := p.total - (len(p.newest) - len(kept)) // those expire as the engine starts
		if len(kept) == 0 {
			continue
		}
		var msgs []Message
		if total > len(kept) {
			sum := pendingSummary(now, total, kept)
			if n.acks != nil {
				sum.Summary = fmt.Sprintf("%d intents waiting for an operator's approval since before Grace restarted were not acknowledged by this webhook; the newest %d are announced again one by one ('grace intent list --state pending_approval' lists every intent waiting)",
					total, len(kept))
			}
			msgs = append(msgs, sum)
		}
		for _, in := range kept {
			if len(n.announced) < maxAnnounced {
				n.announced[in.ID] = struct{}{}
			}
			msgs = append(msgs, reannouncement(now, in))
		}
		for _, m := range msgs {
			h.enqueue(m, firstNonEmpty(m.intentID(), "pending approvals"))
		}
		n.log.Info("notify: announcing again the intents left waiting for approval", "webhook", h.cfg.Name,
			"announced", len(kept), "pending", total, "acknowledgements_kept", n.acks != nil)
	}
}
