package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"grace/engine/intent"
)

// listCommand is "grace intent list".
func (a *app) listCommand() *cobra.Command {
	var (
		state string
		limit int
	)
	cmd := &cobra.Command{
		Use:   "list [--state S]",
		Short: "List intents, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := intent.Filter{State: intent.State(state), Limit: limit}
			if state != "" && !f.State.Valid() {
				return usageErrorf("--state %q: want one of %s", state, stateList())
			}
			if limit < 1 || limit > 1000 {
				return usageErrorf("--limit %d: want 1 to 1000", limit)
			}
			return a.withIntents(cmd, readIntents, func(ctx context.Context, b intentBackend) error {
				list, err := b.List(ctx, f)
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
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&state, "state", "", "only intents in this state ("+stateList()+")")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many")
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
