package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"grace/engine/httpapi"
)

// submitCommand is "grace intent submit".
func (a *app) submitCommand() *cobra.Command {
	var f submissionFlags
	cmd := &cobra.Command{
		Use:   "submit --type T [--actor A] [--payload J] [--context J] [--priority N] [--idempotency-key K]",
		Short: "Submit an intent; prints its ID",
		Long: `Submit an intent to a running server, or to the database directly when no
server answers. Prints the new intent's ID (with --json: {id, state,
decision, existing}). An invalid intent is refused with every reason, one
per line, and exit 1. Resubmitting with the same --idempotency-key returns
the original intent (existing); the same key with another type, payload,
context or priority is refused with one line naming the intent that holds
the key and the fields that differ, nothing stored, and exit 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sub, err := f.submission()
			if err != nil {
				return err
			}
			return a.withIntents(cmd, writeIntents, func(ctx context.Context, b intentBackend) error {
				sub := sub
				if _, remote := b.(*httpapi.Client); remote && !cmd.Flags().Changed("actor") {
					sub.Actor = "" // the server names the caller: its identity, or cli:<user> for the local token
				}
				res, err := b.Submit(ctx, sub)
				if err != nil {
					return err
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
	a.addJSONFlag(cmd)
	return cmd
}
