package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
	"grace/engine/intent"
)

// submitCommand is "grace intent submit".
func (a *app) submitCommand() *cobra.Command {
	var f submissionFlags
	var wait bool
	var waitFor time.Duration
	cmd := &cobra.Command{
		Use:   "submit --type T [--actor A] [--payload J] [--context J] [--priority N] [--idempotency-key K] [--wait]",
		Short: "Submit an intent; prints its ID",
		Long: `Submit an intent to a running server, or to the database directly when no
server answers. Prints the new intent's ID (with --json: {id, state,
decision, existing}). An invalid intent is refused with every reason, one
per line, and exit 1. Resubmitting with the same --idempotency-key returns
the original intent (existing); the same key with another type, payload,
context or priority is refused with one line naming the intent that holds
the key and the fields that differ, nothing stored, and exit 1.

With --wait, it then waits until the intent has finished (at most
--wait-timeout), says how it ended on standard error, and exits 0 only if
it completed: exit 1 when it failed or was denied, cancelled, shed or left
to expire, or is still unfinished at the timeout (a Tier 0 intent waits
for a human). --json then prints the finished intent, as intent get --json.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sub, err := f.submission()
			if err != nil {
				return err
			}
			if waitFor <= 0 {
				return usageErrorf("--wait-timeout %v: want a positive duration, like 5m", waitFor)
			}
			if cmd.Flags().Changed("wait-timeout") && !wait {
				return usageErrorf("--wait-timeout is for --wait")
			}
			// Written directly to a database not made yet, an invalid intent
			// is refused before the data folder is created for it.
			a.beforeNewDB = func(ctx context.Context, cfg engine.Config) error {
				_, err := routeOnly(ctx, cfg, sub)
				return err
			}
			return a.withIntents(cmd, writeIntents, func(ctx context.Context, b intentBackend) error {
				sub := sub
				_, remote := b.(*httpapi.Client)
				if remote && !cmd.Flags().Changed("actor") {
					sub.Actor = "" // the server names the caller: its identity, or cli:<user> for the local token
				}
				if wait && !remote {
					return errors.New("--wait needs a running server to run the intent (start grace serve or the console); nothing was submitted")
				}
				res, err := b.Submit(ctx, sub)
				if err != nil {
					return err
				}
				if wait {
					if res.Existing {
						fmt.Fprintf(a.stderr, "grace: idempotency key %q already used; waiting for the original intent\n", sub.IdempotencyKey)
					}
					if !a.json {
						fmt.Fprintln(a.stdout, res.Intent.ID)
					}
					return a.waitFinished(ctx, b, res.Intent, waitFor)
				}
				if a.json {
					return a.writeJSON(httpapi.SubmitResponse{
						ID: res.Intent.ID, State: res.Intent.State, Decision: res.Intent.Decision, Existing: res.Existing,
					})
				}
				if res.Existing {
					fmt.Fprintf(a.stderr, "grace: idempotency key %q already used; this is the original intent\n", sub.IdempotencyKey)
				}
				fmt.Fprintln(a.stdout, res.Intent.ID)
				return nil
			})
		},
	}
	f.add(cmd, true)
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the intent has finished; exit 0 only if it completed")
	cmd.Flags().DurationVar(&waitFor, "wait-timeout", 10*time.Minute, "with --wait, the longest to wait")
	a.addJSONFlag(cmd)
	return cmd
}

// waitFinished waits (at most limit) until intent in has finished, the
// server holding each request until it does, then says how it ended: nil
// only when it completed.
func (a *app) waitFinished(ctx context.Context, b intentBackend, in intent.Intent, limit time.Duration) error {
	started := time.Now()
	in, err := awaitFinished(ctx, b, in, limit)
	if err != nil {
		return err
	}
	if a.json {
		if err := a.writeJSON(in); err != nil {
			return err
		}
	}
	return a.endedAs(in, fmt.Sprintf("%v after the submission", time.Since(started).Round(time.Millisecond)))
}

// awaitFinished waits (at most limit) until intent in has finished and
// returns it finished, or an error saying what it still is.
func awaitFinished(ctx context.Context, b intentBackend, in intent.Intent, limit time.Duration) (intent.Intent, error) {
	if in.State.Terminal() {
		return in, nil
	}
	wctx, cancel := context.WithTimeout(ctx, limit)
	next, err := b.WaitFinished(wctx, in.ID)
	cancel()
	if err != nil {
		return in, fmt.Errorf("wait for intent %s: %w", in.ID, err)
	}
	if !next.State.Terminal() {
		return next, fmt.Errorf("intent %s is still %s after %v (--wait-timeout)%s", next.ID, next.State, limit, pendingHint(next))
	}
	return next, nil
}

// endedAs says on standard error how the finished intent in ended (took
// says when): nil only when it completed.
func (a *app) endedAs(in intent.Intent, took string) error {
	if in.State == intent.StateCompleted {
		fmt.Fprintf(a.stderr, "grace: %s completed after %d attempt(s), %s\n", in.ID, in.Attempts, took)
		return nil
	}
	why := in.LastError
	if in.DecisionReason != "" {
		why = in.DecidedBy + ": " + in.DecisionReason
	}
	return fmt.Errorf("intent %s %s%s", in.ID, in.State, reasonSuffix(why))
}

// pendingHint says what an intent still waiting for a human needs.
func pendingHint(in intent.Intent) string {
	if in.State != intent.StatePendingApproval {
		return ""
	}
	return "; it waits for an operator: grace intent approve " + in.ID
}
