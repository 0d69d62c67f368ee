package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"grace/engine/intent"
)

// approveCommand is "grace intent approve ID [--reason R]".
func (a *app) approveCommand() *cobra.Command {
	return a.decideCommand("approve", "Approve a pending Tier 0 intent", false)
}

// denyCommand is "grace intent deny ID --reason R".
func (a *app) denyCommand() *cobra.Command {
	return a.decideCommand("deny", "Deny a pending intent (a reason is required)", true)
}

// decideCommand builds approve or deny; they differ in the verb and in
// whether the reason is required.
func (a *app) decideCommand(verb, short string, needReason bool) *cobra.Command {
	var reason, operator string
	use := verb + " ID [--reason R]"
	if needReason {
		use = verb + " ID --reason R"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := strings.TrimSpace(args[0])
			reason = strings.TrimSpace(reason)
			if needReason && reason == "" {
				return usageErrorf("%s needs --reason: say why, it goes on the record", verb)
			}
			if strings.TrimSpace(operator) == "" {
				return usageErrorf("--operator must not be empty")
			}
			return a.withIntents(cmd, true, func(ctx context.Context, b intentBackend) error {
				call := b.Approve
				if verb == "deny" {
					call = b.Deny
				}
				in, err := call(ctx, id, operator, reason)
				if err != nil {
					return fmt.Errorf("%s %s: %w", verb, id, err)
				}
				if a.json {
					return a.writeJSON(in)
				}
				by := in.DecidedBy // a server with identities records the token's identity
				if by == "" {
					by = operator
				}
				if verb == "approve" && in.State == intent.StatePendingApproval {
					fmt.Fprintf(a.stdout, "approval of %s recorded for %s: it needs a second operator's approval (two-person rule); still %s\n", in.ID, by, in.State)
					return nil
				}
				fmt.Fprintf(a.stdout, "%s %s by %s: now %s\n", pastTense(verb), in.ID, by, in.State)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required to deny)")
	cmd.Flags().StringVar(&operator, "operator", operatorName(), "who decides (default $USER); a server with identities records the token's identity instead")
	a.addJSONFlag(cmd)
	return cmd
}

func pastTense(verb string) string {
	if verb == "deny" {
		return "denied"
	}
	return "approved"
}
