package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
	"grace/engine/intent"
)

// retryable are the states intent retry selects from (--state): intents
// that ended without completing and that no person refused.
var retryable = []intent.State{intent.StateFailed, intent.StateCancelled, intent.StateExpired, intent.StateShed}

// retryCommand is "grace intent retry (ID... | filters | --all) --reason R":
// intents that ended without completing submitted again as new ones.
func (a *app) retryCommand() *cobra.Command {
	var reason, operator, typ, actor, since, state string
	var all, dryRun bool
	cmd := &cobra.Command{
		Use:   "retry (ID... | [--type T] [--actor A] [--since D] [--state S] | --all) --reason R [--dry-run]",
		Short: "Submit failed (or cancelled, expired, shed) intents again, as new intents governed afresh (a reason is required)",
		Long: `Submit an intent that ended without completing again: a new intent with
the same type, actor, payload, context and priority (and its schedule,
if still ahead), on the word of the operator who asks (with a reason, on
the record of both intents). It is governed like any submission: its
tier is decided again, a Tier 0 retry waits for the approval of an
operator other than its submitter, and the original stays as it ended. A
failed, cancelled, expired (its approval never came) or shed (dropped
under load) intent can be retried; a denied one cannot: a person
answered it. An intent is retried once: asking again for it, whoever
asks, prints the first retry (and, if that failed too, says to retry it
instead).

Name the intents by ID, or select them with --type, --actor and --since
(1h, or an RFC 3339 time), or --all, as after an outage is fixed: failed
ones, or those in --state (cancelled, expired, shed), that have not been
retried yet (so running it again after a fix finds only what failed
since). --dry-run lists what would be retried and changes nothing. With one ID it prints the new intent's ID; with more,
one line each and a summary, and it exits 1 if any retry was refused.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			reason = strings.TrimSpace(reason)
			if reason == "" {
				return usageErrorf("retry needs --reason: say why it should run again, it goes on the record")
			}
			if err := checkOperator(operator); err != nil {
				return err
			}
			if err := givenEmpty(cmd, "retry", "type", "actor", "since", "state"); err != nil {
				return err
			}
			if err := checkReason("retry", reason); err != nil {
				return err
			}
			// A selection leaves out the intents retried already: after
			// an outage's retries, "--all" again finds only the new ones.
			f := intent.Filter{Type: typ, Actor: actor, Unretried: true}
			if since != "" {
				t, err := httpapi.ParseSince(since, time.Now())
				if err != nil {
					return usageErrorf("--since %q: %v", since, err)
				}
				f.Since = t
			}
			filtered := typ != "" || actor != "" || since != "" || state != ""
			switch {
			case len(args) > 0 && (filtered || all):
				return usageErrorf("retry: name intents by ID or select them with --type/--actor/--since/--state/--all, not both")
			case len(args) == 0 && !filtered && !all:
				return usageErrorf("retry: name the intents: IDs, or --type/--actor/--since/--state filters, or --all for every failed intent")
			case state != "" && !slices.Contains(retryable, intent.State(state)):
				return usageErrorf("--state %q: want failed, cancelled, expired or shed (only those can be retried)", state)
			}
			for _, id := range args {
				if strings.TrimSpace(id) == "" {
					return usageErrorf("retry: an intent ID is empty (grace intent list --state failed shows the failed ones)")
				}
			}
			if len(args) == 1 && !dryRun {
				id := strings.TrimSpace(args[0])
				err := a.withIntents(cmd, changeIntents, func(ctx context.Context, b intentBackend) error {
					res, err := b.Retry(ctx, id, operator, reason)
					if err != nil {
						return err
					}
					if a.json {
						return a.writeJSON(retryOutputOf(id, res))
					}
					fmt.Fprintln(a.stdout, retriedLine(id, res))
					return nil
				})
				return decideError("retry", id, err)
			}
			states := []intent.State{intent.StateFailed}
			if state != "" {
				states = []intent.State{intent.State(state)}
			}
			return a.onSelection(cmd, "retry", args, f, states, dryRun, a.saidWouldRetry,
				func(ctx context.Context, b intentBackend, targets []intent.Intent) error {
					return a.retryAll(ctx, b, targets, operator, reason)
				})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&reason, "reason", "", "why they should run again (required)")
	fl.StringVar(&operator, "operator", operatorName(), "who asks (default $USER); a server with identities records the token's identity instead")
	fl.StringVar(&typ, "type", "", "select the intents of this type")
	fl.StringVar(&actor, "actor", "", "select the intents this actor submitted")
	fl.StringVar(&since, "since", "", "select the intents created since a duration ago (1h, 7d) or an RFC 3339 time")
	fl.StringVar(&state, "state", "", "select from this state instead of failed: cancelled, expired or shed")
	fl.BoolVar(&all, "all", false, "select every failed intent not yet retried (or every one in --state)")
	fl.BoolVar(&dryRun, "dry-run", false, "list what would be retried; change nothing")
	a.addJSONFlag(cmd)
	return cmd
}

// retryOutput is one retry in "grace intent retry --json".
type retryOutput struct {
	RetryOf  string `json:"retry_of"`
	ID       string `json:"id"`
	State    string `json:"state"`
	Tier     int    `json:"tier"`
	Existing bool   `json:"existing"`
}

func retryOutputOf(id string, res engine.SubmitResult) retryOutput {
	return retryOutput{RetryOf: id, ID: res.Intent.ID, State: string(res.Intent.State), Tier: res.Intent.Tier, Existing: res.Existing}
}

// retriedLine says what retrying id came to.
func retriedLine(id string, res engine.SubmitResult) string {
	if res.Existing {
		hint := ""
		if slices.Contains(retryable, res.Intent.State) {
			hint = " (retry " + res.Intent.ID + " to run it again)"
		}
		return fmt.Sprintf("%s was already retried as %s: %s%s", id, res.Intent.ID, res.Intent.State, hint)
	}
	return fmt.Sprintf("retried %s as %s: Tier %d, %s", id, res.Intent.ID, res.Intent.Tier, res.Intent.State)
}

// saidWouldRetry lists targets for --dry-run.
func (a *app) saidWouldRetry(targets []intent.Intent) error {
	if a.json {
		return a.writeJSON(map[string]any{"would_retry": targets})
	}
	if len(targets) > 0 {
		rows := [][]string{{"ID", "STATE", "TYPE", "ACTOR", "CREATED", "LAST ERROR"}}
		for _, in := range targets {
			rows = append(rows, []string{in.ID, string(in.State), in.Type, clip(in.Actor, 24), stamp(in.CreatedAt), clip(oneLine(in.LastError), 40)})
		}
		a.table(rows)
	}
	fmt.Fprintf(a.stderr, "grace: would retry %d intents (--dry-run: nothing changed)\n", len(targets))
	return nil
}

// retryOutcome is what a retry of many intents did, for --json.
type retryOutcome struct {
	Retried []retryOutput  `json:"retried"`
	Failed  []cancelFailed `json:"failed"`
}

// retryAll retries each target in turn and sums up what happened.
func (a *app) retryAll(ctx context.Context, b intentBackend, targets []intent.Intent, operator, reason string) error {
	out := retryOutcome{Retried: []retryOutput{}, Failed: []cancelFailed{}}
	again := 0
	for i, t := range targets {
		res, err := b.Retry(ctx, t.ID, operator, reason)
		if err != nil {
			out.Failed = append(out.Failed, cancelFailed{ID: t.ID, Error: decideError("retry", t.ID, err).Error()})
			if !a.json {
				fmt.Fprintf(a.stderr, "grace: %v\n", decideError("retry", t.ID, err))
			}
		} else {
			out.Retried = append(out.Retried, retryOutputOf(t.ID, res))
			if res.Existing {
				again++
			}
			if !a.json {
				fmt.Fprintln(a.stdout, retriedLine(t.ID, res))
			}
		}
		if ctx.Err() != nil || a.stopAtRefusedAccess("retry", err, i, len(targets)) {
			break
		}
	}
	if a.json {
		if err := a.writeJSON(out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stderr, "grace: retried %d of %d intents (%d had been retried already); %d refused\n",
			len(out.Retried)-again, len(targets), again, len(out.Failed))
	}
	if len(out.Failed) > 0 {
		return fmt.Errorf("retry: %d of %d intents could not be retried", len(out.Failed), len(targets))
	}
	return nil
}

var _ intentBackend = (*engine.Engine)(nil)
