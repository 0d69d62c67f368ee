package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
	"grace/engine/intent"
)

// getCommand is "grace intent get ID".
func (a *app) getCommand() *cobra.Command {
	var wait bool
	var waitFor time.Duration
	cmd := &cobra.Command{
		Use:   "get ID [--wait]",
		Short: "Show one intent: its state, decision, attempts, worker and who decided",
		Long: `Show one intent as the engine holds it now: state, tier and routing
decision, attempts, the worker of its last attempt, its last error, who
approved, denied or cancelled it and why, and its payload and context
(masked fields shown masked). A queued intent held back by a pause (the
scheduler's, its type's or its actor's: grace scheduler) says so, from a
running server. With --json, the intent as GET
/v1/intents/{id} answers it. Its whole story is in
"grace narratives search --intent ID".

With --wait (a running server only), it first waits until the intent
has finished (at most --wait-timeout), as "intent submit --wait" does:
say after a submission without --wait, or for a Tier 0 intent's approval
and run. It then shows the intent, says how it ended on standard error,
and exits 0 only if it completed.`,
		Args: oneArg("an intent ID", "grace intent list shows them"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := strings.TrimSpace(args[0])
			if id == "" {
				return usageErrorf("get: the intent ID is empty (grace intent list shows the IDs)")
			}
			if waitFor <= 0 {
				return usageErrorf("--wait-timeout %v: want a positive duration, like 5m", waitFor)
			}
			if cmd.Flags().Changed("wait-timeout") && !wait {
				return usageErrorf("--wait-timeout is for --wait")
			}
			return a.withIntents(cmd, readIntents, func(ctx context.Context, b intentBackend) error {
				if _, remote := b.(*httpapi.Client); wait && !remote {
					return errors.New("--wait needs a running server to run the intent (start grace serve or the console)")
				}
				in, err := b.Get(ctx, id)
				if errors.Is(err, intent.ErrNotFound) {
					return fmt.Errorf("intent %s: no such intent%s", shownID(id), a.prunedHint(cmd))
				}
				if err != nil {
					return fmt.Errorf("get intent %s: %w", shownID(id), err)
				}
				started := time.Now()
				if wait {
					if in, err = awaitFinished(ctx, b, in, waitFor); err != nil {
						return err
					}
				}
				if a.json {
					if err := a.writeJSON(in); err != nil {
						return err
					}
				} else {
					rows := intentRows(in, time.Now())
					if c, remote := b.(*httpapi.Client); remote && in.State == intent.StateQueued {
						rows = append(rows, heldRows(ctx, c, in)...)
					}
					if c, remote := b.(*httpapi.Client); remote && in.State.Terminal() {
						if s, err := c.Snapshot(ctx); err == nil {
							rows = append(rows, runawayRowsOf(s.Layer2.RunawayHandlers, in.ID, time.Now())...)
						}
					}
					a.table(rows)
				}
				if wait {
					return a.endedAs(in, fmt.Sprintf("waited %v", time.Since(started).Round(time.Millisecond)))
				}
				return nil
			})
		},
	}
	a.addJSONFlag(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the intent has finished; exit 0 only if it completed")
	cmd.Flags().DurationVar(&waitFor, "wait-timeout", 10*time.Minute, "with --wait, the longest to wait")
	return cmd
}

// heldRows say why the queued intent in is held back, if it is: the
// scheduler paused, its type, or its actor (each pause that holds it). It
// asks the server; an answer it cannot get (a token without the right)
// says nothing.
func heldRows(ctx context.Context, c *httpapi.Client, in intent.Intent) [][]string {
	s, err := c.Scheduler(ctx)
	if err != nil {
		return nil
	}
	var rows [][]string
	if p := s.Pause; s.Paused && p != nil {
		rows = append(rows, []string{"held", fmt.Sprintf("the scheduler is paused by %s since %s: %s; grace scheduler resume dispatches again",
			p.By, stamp(p.Since), oneLine(p.Reason))})
	}
	for _, t := range s.PausedTypes {
		if t.Type == in.Type {
			rows = append(rows, []string{"held", fmt.Sprintf("type %s is paused by %s since %s: %s; grace scheduler resume --type %s dispatches it again",
				t.Type, t.By, stamp(t.Since), oneLine(t.Reason), t.Type)})
		}
	}
	for _, p := range s.PausedActors {
		if strings.EqualFold(p.Actor, in.Actor) { // actor holds match without case
			rows = append(rows, []string{"held", fmt.Sprintf("actor %s is paused by %s since %s: %s; grace scheduler resume --actor %s dispatches its intents again",
				p.Actor, p.By, stamp(p.Since), oneLine(p.Reason), p.Actor)})
		}
	}
	return rows
}

// runawayRowsOf say that an attempt of intent id was abandoned and its
// handler still runs, if one of rs is it.
func runawayRowsOf(rs []engine.RunawayHandler, id string, now time.Time) [][]string {
	var rows [][]string
	for _, h := range rs {
		if h.IntentID == id {
			rows = append(rows, []string{"runaway", fmt.Sprintf("the handler of attempt %d on %s still runs, abandoned %s ago: told to stop when %s, it ignored it; nothing it does counts",
				h.Attempt, h.Where(), now.Sub(h.AbandonedAt).Round(time.Second), h.Cause)})
		}
	}
	return rows
}

// intentRows are one intent's fields as name/value rows, the empty ones
// left out; now dates the times.
func intentRows(in intent.Intent, now time.Time) [][]string {
	rows := [][]string{
		{"id", in.ID},
		{"type", in.Type},
		{"state", string(in.State)},
		{"tier", fmt.Sprintf("%d, routed to %s", in.Tier, orDash(in.Decision.RoutedTo))},
		{"actor", in.Actor},
		{"priority", fmt.Sprint(in.Priority)},
		{"created", when(in.CreatedAt, now)},
		{"updated", when(in.UpdatedAt, now)},
		{"attempts", fmt.Sprint(in.Attempts)},
	}
	add := func(name, value string) {
		if value != "" {
			rows = append(rows, []string{name, value})
		}
	}
	add("worker", in.Worker)
	add("last_error", oneLine(in.LastError))
	if !in.NotBefore.IsZero() {
		add("not_before", when(in.NotBefore, now))
	}
	if !in.Deadline.IsZero() && in.State == intent.StatePendingApproval {
		add("deadline", when(in.Deadline, now))
	}
	if first := in.FirstApprover(); first != "" {
		add("approvals", first+" approved, 1 of the 2 needed (a second, different operator must approve)"+reasonSuffix(in.DecisionReason))
	} else if in.DecidedBy != "" {
		add("decided_by", in.DecidedBy+reasonSuffix(in.DecisionReason))
	}
	if in.Tier == 1 {
		add("reviewed", fmt.Sprint(in.Reviewed))
	}
	if _, key, ok := strings.Cut(in.IdempotencyKey, "\x1f"); ok {
		add("idempotency_key", key)
	} else {
		add("idempotency_key", in.IdempotencyKey)
	}
	for _, why := range in.Decision.Reasoning {
		add("why", why)
	}
	add("payload", compactJSON(in.Payload))
	if len(in.Context) > 0 {
		if b, err := json.Marshal(in.Context); err == nil {
			add("context", string(b))
		}
	}
	return rows
}

// when is t with how long ago (or ahead) it is from now.
func when(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		return fmt.Sprintf("%s (in %s)", stamp(t), -d)
	}
	return fmt.Sprintf("%s (%s ago)", stamp(t), d)
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + oneLine(reason)
}

// compactJSON is raw on one line ("" when empty or null).
func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return clip(b.String(), 2000)
}

// prunedHint is what an intent not found may have become when the config
// prunes the record (retention.records): a clause for the error, "" when
// it keeps everything.
func (a *app) prunedHint(cmd *cobra.Command) string {
	cfg, err := a.config(cmd)
	if err != nil || cfg.Retention.Records <= 0 {
		return ""
	}
	return fmt.Sprintf(" (or it was pruned: retention.records is %s, and intents that ended longer ago are deleted)", cfg.Retention.Records)
}
