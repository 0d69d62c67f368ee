package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/intent"
)

// retryCommand is "grace intent retry ID --reason R": a failed intent
// submitted again as a new one.
func (a *app) retryCommand() *cobra.Command {
	var reason, operator string
	cmd := &cobra.Command{
		Use:   "retry ID --reason R",
		Short: "Submit a failed intent again, as a new intent governed afresh (a reason is required)",
		Long: `Submit a failed intent again: a new intent with the same type, payload,
context and priority, submitted by the operator who asks (with a reason,
on the record of both intents). It is governed like any submission: its
tier is decided again, a Tier 0 retry waits for another operator's
approval, and the original stays failed. Asking again for the same
intent prints the first retry. Prints the new intent's ID.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := strings.TrimSpace(args[0])
			if id == "" {
				return usageErrorf("retry: the intent ID is empty (grace intent list --state failed shows the failed ones)")
			}
			reason = strings.TrimSpace(reason)
			if reason == "" {
				return usageErrorf("retry needs --reason: say why it should run again, it goes on the record")
			}
			if err := checkOperator(operator); err != nil {
				return err
			}
			err := a.withIntents(cmd, changeIntents, func(ctx context.Context, b intentBackend) error {
				res, err := b.Retry(ctx, id, operator, reason)
				if err != nil {
					return err
				}
				if a.json {
					return a.writeJSON(retryOutput{RetryOf: id, ID: res.Intent.ID, State: string(res.Intent.State), Tier: res.Intent.Tier, Existing: res.Existing})
				}
				if res.Existing {
					hint := ""
					if res.Intent.State == intent.StateFailed {
						hint = " (retry " + res.Intent.ID + " to run it again)"
					}
					fmt.Fprintf(a.stdout, "%s was already retried as %s: %s%s\n", id, res.Intent.ID, res.Intent.State, hint)
					return nil
				}
				fmt.Fprintf(a.stdout, "retried %s as %s: Tier %d, %s\n", id, res.Intent.ID, res.Intent.Tier, res.Intent.State)
				return nil
			})
			return decideError("retry", id, err)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why it should run again (required)")
	cmd.Flags().StringVar(&operator, "operator", operatorName(), "who asks (default $USER); a server with identities records the token's identity instead")
	a.addJSONFlag(cmd)
	return cmd
}

// retryOutput is "grace intent retry --json".
type retryOutput struct {
	RetryOf  string `json:"retry_of"`
	ID       string `json:"id"`
	State    string `json:"state"`
	Tier     int    `json:"tier"`
	Existing bool   `json:"existing"`
}

var _ intentBackend = (*engine.Engine)(nil)
