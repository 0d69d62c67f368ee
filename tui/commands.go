package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
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

// lastErrorer is a remote engine (httpapi.Remote) whose Snapshot cannot
// fail: it returns the last snapshot it got, and LastError says why the
// request failed (nil when it succeeded).
type lastErrorer interface{ LastError() error }

// snapshotCmd takes an engine snapshot off the Update goroutine, with the
// error of a remote engine's request.
func snapshotCmd(api engine.OperatorAPI) tea.Cmd {
	return func() tea.Msg {
		msg := snapshotMsg{snap: api.Snapshot()}
		if le, ok := api.(lastErrorer); ok {
			msg.err = le.LastError()
		}
		return msg
	}
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

// reviewLimit bounds how many unreviewed Tier 1 intents the review list
// asks for (the newest).
const reviewLimit = 500

// fetchReviewCmd lists the finished Tier 1 intents awaiting review, newest
// first, for owner. Unreviewed ones still running are counted, not listed:
// they cannot be reviewed yet.
func fetchReviewCmd(ctx context.Context, api engine.OperatorAPI, owner screenID) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		all, err := api.List(ctx, intent.Filter{Tier: 1, HasTier: true, Unreviewed: true, Limit: reviewLimit})
		if err != nil {
			return reviewMsg{owner: owner, err: fmt.Errorf("list Tier 1 intents awaiting review: %w", err)}
		}
		msg := reviewMsg{owner: owner, items: make([]intent.Intent, 0, len(all)), capped: len(all) >= reviewLimit}
		for _, it := range all {
			if it.State.Terminal() {
				msg.items = append(msg.items, it)
			} else {
				msg.running++
			}
		}
		return msg
	}
}

// decideCmd sends decision d about intent id as operator, for owner:
// approve or deny a pending intent (reason is the denial's), acknowledge
// or flag a finished Tier 1 one (reason is the flag's note).
func decideCmd(ctx context.Context, api engine.OperatorAPI, owner screenID, d decision, id, operator, reason string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		msg := decidedMsg{owner: owner, decision: d, id: id}
		switch d {
		case decisionDeny:
			msg.intent, msg.err = api.Deny(ctx, id, operator, reason)
		case decisionAcknowledge:
			msg.intent, msg.err = api.Review(ctx, id, operator, "", false)
		case decisionFlag:
			msg.intent, msg.err = api.Review(ctx, id, operator, reason, true)
		case decisionCancel:
			cn, ok := api.(engine.Canceller)
			if !ok {
				msg.err = errors.New("this engine cannot cancel intents")
				break
			}
			msg.intent, msg.err = cn.Cancel(ctx, id, operator, reason)
		case decisionRetry:
			rt, ok := api.(engine.Retrier)
			if !ok {
				msg.err = errors.New("this engine cannot retry intents")
				break
			}
			var res engine.SubmitResult
			res, msg.err = rt.Retry(ctx, id, operator, reason)
			msg.intent, msg.existing = res.Intent, res.Existing
		default:
			msg.intent, msg.err = api.Approve(ctx, id, operator, reason)
		}
		return msg
	}
}

// searchCmd fetches one page of narratives matching q for owner. now is
// the clock, to stamp the results.
func searchCmd(ctx context.Context, api engine.OperatorAPI, owner screenID, seq int, more bool, q clarity.Query, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		p, err := clarity.SearchPage(ctx, api, q)
		if err != nil {
			err = wrapOnce(searchWhat, err)
		}
		return searchMsg{owner: owner, seq: seq, more: more, limit: q.Limit, entries: p.Entries, resume: p.ResumeBefore, at: now(), err: err}
	}
}

// Story limits: records fetched per request, and the most one story shows.
const (
	storyPage = 1000
	storyMax  = 10000
)

// storyCmd fetches intent id and every record of its story, oldest first,
// for owner. An intent the engine no longer knows still has its records.
func storyCmd(ctx context.Context, api engine.OperatorAPI, owner screenID, seq int, id string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		msg := storyMsg{owner: owner, seq: seq, intentID: id}
		if it, err := api.Get(ctx, id); err == nil {
			msg.intent = &it
		} else if !errors.Is(err, engine.ErrNotFound) {
			msg.err = fmt.Errorf("get intent %s: %w", id, err)
			return msg
		}
		q := clarity.Query{IntentID: id, Limit: storyPage}
		for {
			page, err := api.Search(ctx, q)
			if err != nil {
				msg.err = wrapOnce("story of "+id, err)
				return msg
			}
			msg.entries = append(msg.entries, page...)
			if len(page) < storyPage {
				break
			}
			if len(msg.entries) >= storyMax {
				msg.capped = true
				break
			}
			q.BeforeID = page[len(page)-1].ID
		}
		slices.Reverse(msg.entries)
		return msg
	}
}

// verifyTimeout bounds an audit verification, which reads the whole chain.
const verifyTimeout = 10 * time.Minute

// verifyCmd verifies the audit chain for owner.
func verifyCmd(ctx context.Context, api engine.OperatorAPI, owner screenID, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
		defer cancel()
		start := now()
		rep, err := api.VerifyAudit(ctx)
		end := now()
		return verifyMsg{owner: owner, rep: rep, err: err, at: end, took: end.Sub(start)}
	}
}

// searchWhat is what a failed search says it was: the embedded engine and
// its store say it too, each wrapping the other's error.
const searchWhat = "search narratives"

// wrapOnce is err under what the console asked ("search narratives",
// "story of int_…"), with the engine's "search narratives: " said once:
// the embedded engine and its store each begin their errors with it, so
// the console's own wrapping made the status line say it three times
// before the cause. errors.Is and errors.As still see err.
func wrapOnce(what string, err error) error {
	msg := err.Error()
	double := searchWhat + ": " + searchWhat + ": "
	for strings.Contains(msg, double) {
		msg = strings.ReplaceAll(msg, double, searchWhat+": ")
	}
	if !strings.HasPrefix(msg, what+": ") {
		msg = what + ": " + msg
	}
	return &wrappedError{text: msg, err: err}
}

// wrappedError is an error said in other words than err's.
type wrappedError struct {
	text string
	err  error
}

func (e *wrappedError) Error() string { return e.text }
func (e *wrappedError) Unwrap() error { return e.err }
