package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"grace/engine/httpapi"
)

// schedulerCommand is "grace scheduler": the running engine's dispatching,
// shown, paused and resumed.
func (a *app) schedulerCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Show, pause and resume a running server's dispatching",
		Long: `Show, pause and resume the scheduler of a running server (api.server, or
--server): while it is paused nothing is dispatched (queued intents wait,
running ones finish) and intake goes on; the pause lasts until resumed,
across restarts, unless the scheduler_auto_resume safeguard undoes one
that outlasts scheduler.auto_resume_after while work waits.

With --type T, the pause or resume is of that intent type alone, as a job
system pauses one queue: its intents are accepted and wait, other types
dispatch as before (T must be a type of the charter, governance.tiers).
With --actor A, it is of the intents actor A submits alone: a quarantine of
one agent, whose intents are still accepted, governed and queued but wait
while other actors' flow. An intent whose type and actor are both paused
waits for both resumes. --type and --actor go one at a time.

  grace scheduler                        paused or not, by whom, why; queue depth;
                                         each paused type and actor, how many wait
  grace scheduler pause --reason R       (a reason is required; on the record)
  grace scheduler pause --type T --reason R
  grace scheduler pause --actor A --reason R
  grace scheduler resume [--type T | --actor A] [--reason R]`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withScheduler(cmd, func(ctx context.Context, c *httpapi.Client) error {
				s, err := c.Scheduler(ctx)
				if err != nil {
					return err
				}
				return a.printScheduler(s)
			})
		},
	}
	cmd.PersistentFlags().StringVar(&a.server, "server", "", "URL of a running grace serve (default: config api.server)")
	a.addJSONFlag(cmd)
	cmd.AddCommand(a.schedulerVerbCommand("pause"), a.schedulerVerbCommand("resume"))
	return cmd
}

// schedulerVerbCommand is "grace scheduler pause" or "… resume".
func (a *app) schedulerVerbCommand(verb string) *cobra.Command {
	var reason, typ, actor string
	short := "Stop dispatching (all, one --type or one --actor) until resumed (a reason is required)"
	use := verb + " [--type T | --actor A] --reason R"
	if verb == "resume" {
		short = "Dispatch again (all, one --type or one --actor)"
		use = verb + " [--type T | --actor A] [--reason R]"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reason, typ, actor = strings.TrimSpace(reason), strings.TrimSpace(typ), strings.TrimSpace(actor)
			if cmd.Flags().Changed("type") && cmd.Flags().Changed("actor") {
				return usageErrorf("scheduler %s: --type and --actor go one at a time; %s the type and the actor with a command each", verb, verb)
			}
			if verb == "pause" && reason == "" {
				return usageErrorf("scheduler pause: --reason is required (it goes on the record), as in --reason \"downstream outage\"")
			}
			if cmd.Flags().Changed("type") && typ == "" {
				return usageErrorf("scheduler %s: --type is empty; name an intent type, as in --type deploy_model", verb)
			}
			if cmd.Flags().Changed("actor") && actor == "" {
				return usageErrorf("scheduler %s: --actor is empty; name the actor whose intents to %s, as in --actor agent.builder", verb, verb)
			}
			return a.withScheduler(cmd, func(ctx context.Context, c *httpapi.Client) error {
				var err error
				switch {
				case typ != "" && verb == "pause":
					err = c.PauseType(ctx, "", typ, reason)
				case typ != "":
					err = c.ResumeType(ctx, "", typ, reason)
				case actor != "" && verb == "pause":
					err = c.PauseActor(ctx, "", actor, reason)
				case actor != "":
					err = c.ResumeActor(ctx, "", actor, reason)
				case verb == "pause":
					err = c.PauseScheduler(ctx, "", reason)
				default:
					err = c.ResumeScheduler(ctx, "", reason)
				}
				if err != nil && typ != "" {
					// As intent cancel --type does: a slip of case or
					// separators is named with the type meant.
					if cfg, cerr := a.config(cmd); cerr == nil {
						if near := nearCharterType(cfg, typ); near != "" {
							err = fmt.Errorf("%w; types are matched exactly: did you mean --type %s?", err, near)
						}
					}
				}
				if err != nil {
					return err
				}
				s, err := c.Scheduler(ctx)
				if err != nil {
					return err
				}
				return a.printScheduler(s)
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the record")
	cmd.Flags().StringVar(&typ, "type", "", "the intent type to "+verb+" alone (default: the whole scheduler)")
	cmd.Flags().StringVar(&actor, "actor", "", "the actor whose intents to "+verb+" alone (default: the whole scheduler)")
	a.addJSONFlag(cmd)
	return cmd
}

// withScheduler runs fn against the configured server; the scheduler
// lives in a running engine, so a server that does not answer is an error
// saying so.
func (a *app) withScheduler(cmd *cobra.Command, fn func(context.Context, *httpapi.Client) error) error {
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	url := a.serverURL(cfg)
	if url == "" {
		return errors.New("no server configured (api.server, or --server): the scheduler runs in grace serve or the console")
	}
	tok, err := clientToken(cfg)
	if err != nil {
		return err
	}
	c := httpapi.NewClient(url, tok, &http.Client{Timeout: clientTimeout})
	c.Operator = operatorName()
	ctx, cancel := context.WithTimeout(cmd.Context(), clientTimeout)
	defer cancel()
	err = fn(ctx, c)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("no server answers at %s: the scheduler runs in grace serve or the console; start one, or name it with --server", url)
	}
	if refused := a.tokenRefused(url, err); refused != nil {
		return refused
	}
	return err
}

// printScheduler says whether the scheduler dispatches, or prints s as
// JSON.
func (a *app) printScheduler(s httpapi.SchedulerResponse) error {
	if a.json {
		return a.writeJSON(s)
	}
	if !s.Paused || s.Pause == nil {
		fmt.Fprintf(a.stdout, "running: dispatching; %d queued%s\n", s.QueueDepth, notYetDue(s.QueueDelayed))
	} else {
		p := s.Pause
		fmt.Fprintf(a.stdout, "paused by %s since %s (%s ago): %s; %d queued%s\n", p.By, stamp(p.Since),
			time.Since(p.Since).Round(time.Second), oneLine(p.Reason), s.QueueDepth, notYetDue(s.QueueDelayed))
	}
	for _, t := range s.PausedTypes {
		fmt.Fprintf(a.stdout, "type %s paused by %s since %s (%s ago): %s; %d of it waiting\n", t.Type, t.By, stamp(t.Since),
			time.Since(t.Since).Round(time.Second), oneLine(t.Reason), t.Waiting)
	}
	for _, p := range s.PausedActors {
		fmt.Fprintf(a.stdout, "actor %s paused by %s since %s (%s ago): %s; %d of its intents waiting\n", p.Actor, p.By, stamp(p.Since),
			time.Since(p.Since).Round(time.Second), oneLine(p.Reason), p.Waiting)
	}
	if line := queuedByType(s.QueuedByType); line != "" {
		fmt.Fprintln(a.stdout, "queued by type: "+line)
	}
	return nil
}

// queuedByType lists the types with intents queued, most queued first
// (then by name): "query_knowledge 12, schedule_task 3".
func queuedByType(m map[string]int) string {
	types := slices.Collect(maps.Keys(m))
	slices.SortFunc(types, func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%s %d", t, m[t])
	}
	return strings.Join(parts, ", ")
}
