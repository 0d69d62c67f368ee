package tui

import (
	"context"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
)

// requestTimeout bounds every store-backed request the console makes, so a
// stuck engine shows up as an error on the status line, never as a hang.
const requestTimeout = 10 * time.Second

// maxEventBatch is how many queued events one eventsMsg may carry. Draining
// in batches keeps the console responsive when the engine is busy.
const maxEventBatch = 512

// tickCmd fires one tickMsg after d.
func tickCmd(d time.Duration) tea.Cmd {
	return tea.Tick(d, func(t time.Time) tea.Msg { return tickMsg{at: t} })
}

// snapshotCmd takes an engine snapshot off the Update goroutine.
func snapshotCmd(api engine.OperatorAPI) tea.Cmd {
	return func() tea.Msg { return snapshotMsg{snap: api.Snapshot()} }
}

// subscribeCmd opens the engine's event stream; the stream lives until ctx
// is cancelled.
func subscribeCmd(ctx context.Context, api engine.OperatorAPI) tea.Cmd {
	return func() tea.Msg { return subscribedMsg{ch: api.Subscribe(ctx)} }
}

// waitEventsCmd waits for the next event on ch, then takes whatever else is
// already queued (up to maxEventBatch) without waiting. It holds no
// goroutine of its own beyond the command's: the root model re-arms it after
// each batch. It returns eventsClosedMsg when ch is closed and nil when ctx
// is cancelled.
func waitEventsCmd(ctx context.Context, ch <-chan engine.Event) tea.Cmd {
	return func() tea.Msg {
		var first engine.Event
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-ch:
			if !ok {
				return eventsClosedMsg{}
			}
			first = ev
		}
		batch := []engine.Event{first}
		for len(batch) < maxEventBatch {
			select {
			case ev, ok := <-ch:
				if !ok {
					// Deliver what we have; the next wait reports the close.
					return eventsMsg{events: batch}
				}
				batch = append(batch, ev)
			default:
				return eventsMsg{events: batch}
			}
		}
		return eventsMsg{events: batch}
	}
}

// fetchPendingCmd lists the intents waiting for a human, for owner.
func fetchPendingCmd(ctx context.Context, api engine.OperatorAPI, owner screenID) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		items, err := api.Pending(ctx)
		if err != nil {
			err = fmt.Errorf("list pending approvals: %w", err)
		}
		return pendingMsg{owner: owner, items: items, err: err}
	}
}

// decideCmd approves or denies intent id as operator, for owner.
func decideCmd(ctx context.Context, api engine.OperatorAPI, owner screenID, d decision, id, operator, reason string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		msg := decidedMsg{owner: owner, decision: d, id: id}
		if d == decisionDeny {
			msg.intent, msg.err = api.Deny(ctx, id, operator, reason)
		} else {
			msg.intent, msg.err = api.Approve(ctx, id, operator, reason)
		}
		return msg
	}
}
