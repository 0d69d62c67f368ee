package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"grace/engine/governance"
	"grace/engine/httpapi"
	"grace/engine/intent"
)

// listCommand is "grace intent list".
func (a *app) listCommand() *cobra.Command {
	var (
		state, before, typ, actor, since string
		limit, tier                      int
	)
	cmd := &cobra.Command{
		Use:   "list [--state S] [--type T] [--actor A] [--tier N] [--since D] [--limit N] [--before ID]",
		Short: "List intents, newest first",
		Long: `List intents, newest first, of a state, type, actor and tier if given,
created since a duration ago (1h, 7d) or an RFC 3339 time. A page holds at
most --limit intents; the next page is --before the last ID of this one
(the table says so on stderr when the page is full). An agent's token
lists only its own intents.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := intent.Filter{State: intent.State(state), Limit: limit, Before: strings.TrimSpace(before),
				Type: strings.TrimSpace(typ), Actor: strings.TrimSpace(actor)}
			if state != "" && !f.State.Valid() {
				return usageErrorf("--state %q: want one of %s", state, stateList())
			}
			if cmd.Flags().Changed("tier") {
				if tier < 0 || tier > governance.MaxTier {
					return usageErrorf("--tier %d: want 0 to %d", tier, governance.MaxTier)
				}
				f.Tier, f.HasTier = tier, true
			}
			if since != "" {
				t, err := httpapi.ParseSince(since, time.Now())
				if err != nil {
					return &usageError{err: fmt.Errorf("--%w", err)}
				}
				f.Since = t
			}
			if limit < 1 || limit > 1000 {
				return usageErrorf("--limit %d: want 1 to 1000", limit)
			}
			return a.withIntents(cmd, readIntents, func(ctx context.Context, b intentBackend) error {
				list, err := b.List(ctx, f)
				if f.Before != "" && errors.Is(err, intent.ErrNotFound) {
					return fmt.Errorf("--before %s: no such intent", shownID(f.Before))
				}
				if err != nil {
					return fmt.Errorf("list intents: %w", err)
				}
				if list == nil {
					list = []intent.Intent{}
				}
				if a.json {
					return a.writeJSON(map[string]any{"intents": list})
				}
				if len(list) == 0 {
					// As for narratives search: a note, not a bare header.
					fmt.Fprintln(a.stderr, "grace: no intents match")
					return nil
				}
				rows := [][]string{{"ID", "STATE", "TIER", "TYPE", "ACTOR", "PRIO", "CREATED"}}
				for _, in := range list {
					rows = append(rows, []string{in.ID, string(in.State), fmt.Sprint(in.Tier), in.Type,
						clip(in.Actor, 24), fmt.Sprint(in.Priority), stamp(in.CreatedAt)})
				}
				a.table(rows)
				if len(list) == limit {
					fmt.Fprintf(a.stderr, "grace: more may follow: --before %s\n", list[len(list)-1].ID)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&state, "state", "", "only intents in this state ("+stateList()+")")
	cmd.Flags().StringVar(&typ, "type", "", "only intents of this type")
	cmd.Flags().StringVar(&actor, "actor", "", "only intents this actor submitted")
	cmd.Flags().IntVar(&tier, "tier", 0, "only intents of this autonomy tier (0 to 4)")
	cmd.Flags().StringVar(&since, "since", "", "only intents created since a duration ago (1h, 7d) or an RFC 3339 time")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many")
	cmd.Flags().StringVar(&before, "before", "", "the next page: only intents listed after this ID")
	a.addJSONFlag(cmd)
	return cmd
}

func stateList() string {
	names := make([]string, len(intent.States))
	for i, s := range intent.States {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}
