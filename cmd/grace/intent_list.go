package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"grace/engine/intent"
)

// listCommand is "grace intent list".
func (a *app) listCommand() *cobra.Command {
	var (
		state, before string
		limit         int
	)
	cmd := &cobra.Command{
		Use:   "list [--state S] [--limit N] [--before ID]",
		Short: "List intents, newest first",
		Long: `List intents, newest first. A page holds at most --limit intents; the
next page is --before the last ID of this one (the table says so on
stderr when the page is full).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := intent.Filter{State: intent.State(state), Limit: limit, Before: strings.TrimSpace(before)}
			if state != "" && !f.State.Valid() {
				return usageErrorf("--state %q: want one of %s", state, stateList())
			}
			if limit < 1 || limit > 1000 {
				return usageErrorf("--limit %d: want 1 to 1000", limit)
			}
			return a.withIntents(cmd, readIntents, func(ctx context.Context, b intentBackend) error {
				list, err := b.List(ctx, f)
				if f.Before != "" && errors.Is(err, intent.ErrNotFound) {
					return fmt.Errorf("--before %s: no such intent", f.Before)
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
