package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
	"grace/engine/intent"
)

// cancellable are the states an intent can be cancelled in.
var cancellable = []intent.State{intent.StatePendingApproval, intent.StateQueued, intent.StateRunning}

// maxBulkCancel bounds how many intents one filtered cancel selects.
const maxBulkCancel = 100000

// cancelCommand is "grace intent cancel (ID... | filters | --all) --reason R".
func (a *app) cancelCommand() *cobra.Command {
	var reason, operator, typ, actor, state string
	var all, dryRun bool
	cmd := &cobra.Command{
		Use:   "cancel (ID... | [--type T] [--actor A] [--state S] | --all) --reason R [--dry-run]",
		Short: "Cancel intents that have not finished (pending, queued or running: a running one's handler is told to stop; a reason is required)",
		Long: `Cancel intents that have not finished: pending approval, queued, or
running (the handler is told to stop and whatever it returns is
discarded). A cancelled intent never runs again.

Name the intents by ID, or select them with --type, --actor and --state
(pending_approval, queued or running; all three when not given), or
--all for every unfinished intent. --dry-run lists what would be
cancelled and changes nothing. An intent that finishes while the cancel
is under way keeps its outcome and is counted apart; the command exits 1
if any cancel failed otherwise. With an agent's token, only the agent's
own intents are listed and cancelled.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			reason = strings.TrimSpace(reason)
			if reason == "" {
				return usageErrorf("cancel needs --reason: say why, it goes on the record")
			}
			if err := checkOperator(operator); err != nil {
				return err
			}
			if err := givenEmpty(cmd, "cancel", "type", "actor", "state"); err != nil {
				return err
			}
			if err := checkReason("cancel", reason); err != nil {
				return err
			}
			filtered := typ != "" || actor != "" || state != ""
			switch {
			case len(args) > 0 && (filtered || all):
				return usageErrorf("cancel: name intents by ID or select them with --type/--actor/--state/--all, not both")
			case len(args) == 0 && !filtered && !all:
				return usageErrorf("cancel: name the intents: IDs, or --type/--actor/--state filters, or --all for every unfinished intent")
			case state != "" && !slices.Contains(cancellable, intent.State(state)):
				return usageErrorf("--state %q: want pending_approval, queued or running (only those can be cancelled)", state)
			}
			for _, id := range args {
				if strings.TrimSpace(id) == "" {
					return usageErrorf("cancel: an intent ID is empty (grace intent list shows the IDs)")
				}
			}
			if len(args) == 1 && !dryRun { // one intent: said as approve and deny say theirs
				id := strings.TrimSpace(args[0])
				err := a.withIntents(cmd, changeIntents, func(ctx context.Context, b intentBackend) error {
					in, err := b.Cancel(ctx, id, operator, reason)
					if err != nil {
						return err
					}
					return a.saidDecided("cancel", in, operator)
				})
				return decideError("cancel", id, err)
			}
			states := cancellable
			if state != "" {
				states = []intent.State{intent.State(state)}
			}
			return a.onSelection(cmd, "cancel", args, intent.Filter{Type: typ, Actor: actor}, states, dryRun, a.saidWouldCancel,
				func(ctx context.Context, b intentBackend, targets []intent.Intent) error {
					return a.cancelAll(ctx, b, targets, operator, reason)
				})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&reason, "reason", "", "why (required): it goes on the record")
	fl.StringVar(&operator, "operator", operatorName(), "who cancels (default $USER); a server with identities records the token's identity instead")
	fl.StringVar(&typ, "type", "", "select the unfinished intents of this type")
	fl.StringVar(&actor, "actor", "", "select the unfinished intents this actor submitted")
	fl.StringVar(&state, "state", "", "select only intents in this state (pending_approval, queued or running)")
	fl.BoolVar(&all, "all", false, "select every unfinished intent")
	fl.BoolVar(&dryRun, "dry-run", false, "list what would be cancelled; change nothing")
	a.addJSONFlag(cmd)
	return cmd
}

// onSelection selects the intents named by ids, or else those f selects
// in states (selectIntents), for verb, and hands them to list (--dry-run:
// nothing changes) or to act.
func (a *app) onSelection(cmd *cobra.Command, verb string, ids []string, f intent.Filter, states []intent.State, dryRun bool,
	list func([]intent.Intent) error, act func(context.Context, intentBackend, []intent.Intent) error) error {
	access := changeIntents
	if dryRun {
		access = readIntents
	}
	return a.withIntents(cmd, access, func(ctx context.Context, b intentBackend) error {
		targets, err := selectIntents(ctx, b, verb, ids, f, states)
		if err != nil {
			return err
		}
		if len(targets) == 0 && len(ids) == 0 {
			a.typeHint(cmd, verb, f.Type)
		}
		if dryRun {
			return list(targets)
		}
		return act(ctx, b, targets)
	})
}

// selectIntents are the intents named by ids, or else those f selects in
// each of states, newest first, for verb (cancel, retry): at most
// maxBulkCancel.
// An intent named twice (its ID in two cases, say) is selected once, and
// a selection of none is an empty list, never null in --json.
func selectIntents(ctx context.Context, b intentBackend, verb string, ids []string, f intent.Filter, states []intent.State) ([]intent.Intent, error) {
	out := []intent.Intent{}
	named := map[string]bool{}
	for _, id := range ids {
		in, err := b.Get(ctx, strings.TrimSpace(id))
		if err != nil {
			return nil, decideError(verb, id, err)
		}
		if !named[in.ID] {
			named[in.ID] = true
			out = append(out, in)
		}
	}
	if len(ids) > 0 {
		return out, nil
	}
	for _, st := range states {
		page := f
		page.State, page.Limit = st, 1000
		for {
			list, err := b.List(ctx, page)
			if err != nil {
				return nil, fmt.Errorf("list %s intents: %w", st, err)
			}
			out = append(out, list...)
			if len(out) > maxBulkCancel {
				return nil, fmt.Errorf("%s: more than %d intents selected; narrow the selection", verb, maxBulkCancel)
			}
			if len(list) < page.Limit {
				break
			}
			page.Before = list[len(list)-1].ID
		}
	}
	return out, nil
}

// typeHint warns, when --type selected nothing, that types are matched
// exactly, naming the charter's type (this config's governance.tiers) that
// typ differs from only in case or separators: "Schedule_Task" selects
// none of the schedule_task intents.
func (a *app) typeHint(cmd *cobra.Command, verb, typ string) {
	if typ == "" {
		return
	}
	cfg, err := a.config(cmd)
	if err != nil {
		return
	}
	if near := nearCharterType(cfg, typ); near != "" {
		fmt.Fprintf(a.stderr, "grace: warning: %s: no intent of type %q; types are matched exactly: did you mean --type %s?\n", verb, typ, near)
	}
}

// givenEmpty refuses a selector flag of verb given with nothing in it: an
// empty --actor "$AGENT" would otherwise select every actor's intents
// (beside --type or --all), where the script meant one.
func givenEmpty(cmd *cobra.Command, verb string, flags ...string) error {
	for _, name := range flags {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed && strings.TrimSpace(fl.Value.String()) == "" {
			return usageErrorf("%s: --%s is empty; name one, or leave --%s out", verb, name, name)
		}
	}
	return nil
}

// checkReason refuses a --reason of verb that the engine would refuse
// (too long, or holding a control character) before anything is asked:
// a bulk cancel or retry made one refused request per intent, each on the
// record, and said so a line each.
func checkReason(verb, reason string) error {
	if err := engine.CheckText("--reason", reason, engine.MaxReasonBytes, true); err != nil {
		return usageErrorf("%s: %v; nothing was changed", verb, err)
	}
	return nil
}

// saidWouldCancel lists targets for --dry-run.
func (a *app) saidWouldCancel(targets []intent.Intent) error {
	if a.json {
		return a.writeJSON(map[string]any{"would_cancel": targets})
	}
	if len(targets) > 0 { // a selection of none: the summary alone, no bare header
		rows := [][]string{{"ID", "STATE", "TYPE", "ACTOR", "CREATED"}}
		for _, in := range targets {
			rows = append(rows, []string{in.ID, string(in.State), in.Type, clip(in.Actor, 24), stamp(in.CreatedAt)})
		}
		a.table(rows)
	}
	fmt.Fprintf(a.stderr, "grace: would cancel %d intents (--dry-run: nothing changed)\n", len(targets))
	return nil
}

// cancelOutcome is what a cancel of many intents did, for --json.
type cancelOutcome struct {
	Cancelled []string `json:"cancelled"`
	// AlreadyCancelled were cancelled by then (by another operator, or an
	// earlier command): each is said with who cancelled it and why.
	AlreadyCancelled []string       `json:"already_cancelled"`
	Finished         []string       `json:"finished"` // finished before they could be cancelled: their outcome stands
	Failed           []cancelFailed `json:"failed"`
}

type cancelFailed struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// cancelAll cancels each target in turn and sums up what happened.
func (a *app) cancelAll(ctx context.Context, b intentBackend, targets []intent.Intent, operator, reason string) error {
	out := cancelOutcome{Cancelled: []string{}, AlreadyCancelled: []string{}, Finished: []string{}, Failed: []cancelFailed{}}
	for i, t := range targets {
		_, err := b.Cancel(ctx, t.ID, operator, reason)
		var now intent.Intent
		if errors.Is(err, engine.ErrNotCancellable) {
			// Caught moving (between the queue and a worker): once more,
			// unless it has really finished.
			var gerr error
			if now, gerr = b.Get(ctx, t.ID); gerr == nil && !now.State.Terminal() {
				_, err = b.Cancel(ctx, t.ID, operator, reason)
			}
		}
		switch {
		case err == nil:
			out.Cancelled = append(out.Cancelled, t.ID)
			if !a.json {
				fmt.Fprintf(a.stdout, "cancelled %s (%s, was %s)\n", t.ID, t.Type, t.State)
			}
		case errors.Is(err, engine.ErrNotCancellable) && now.State == intent.StateCancelled:
			// Another operator's cancel (or an earlier one) came first:
			// not a finish of its own, and said with who and why.
			out.AlreadyCancelled = append(out.AlreadyCancelled, t.ID)
			if !a.json {
				fmt.Fprintf(a.stdout, "%s (%s) was cancelled already by %s: %s\n", t.ID, t.Type, orDash(now.DecidedBy), orDash(now.DecisionReason))
			}
		case errors.Is(err, engine.ErrNotCancellable):
			out.Finished = append(out.Finished, t.ID)
		default:
			out.Failed = append(out.Failed, cancelFailed{ID: t.ID, Error: decideError("cancel", t.ID, err).Error()})
			if !a.json {
				fmt.Fprintf(a.stderr, "grace: %v\n", decideError("cancel", t.ID, err))
			}
		}
		if ctx.Err() != nil || a.stopAtRefusedAccess("cancel", err, i, len(targets)) {
			break
		}
	}
	if a.json {
		if err := a.writeJSON(out); err != nil {
			return err
		}
	} else {
		already := ""
		if n := len(out.AlreadyCancelled); n > 0 {
			already = fmt.Sprintf("%d cancelled already; ", n)
		}
		fmt.Fprintf(a.stderr, "grace: cancelled %d of %d intents; %s%d had finished; %d failed\n",
			len(out.Cancelled), len(targets), already, len(out.Finished), len(out.Failed))
	}
	if len(out.Failed) > 0 {
		return fmt.Errorf("cancel: %d of %d intents could not be cancelled", len(out.Failed), len(targets))
	}
	return nil
}

// stopAtRefusedAccess reports whether a command acting on many intents
// (verb: cancel, retry) stops at err, the i-th of n: a token the server
// refuses (401), or whose role may not do verb (403 forbidden), is
// refused for every other intent too. A viewer's cancel --all made one
// refused request per intent, each said on a line of its own. It says
// how many were not tried.
func (a *app) stopAtRefusedAccess(verb string, err error, i, n int) bool {
	var he *httpapi.Error
	if !errors.As(err, &he) || (he.Status != http.StatusUnauthorized && (he.Status != http.StatusForbidden || he.Code != httpapi.CodeForbidden)) {
		return false
	}
	if left := n - i - 1; left > 0 && !a.json {
		fmt.Fprintf(a.stderr, "grace: %s: stopped: the server refuses this token's %s; the other %d intents were not tried\n", verb, verb, left)
	}
	return true
}
