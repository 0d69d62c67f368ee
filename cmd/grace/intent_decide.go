package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
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

// maxOperatorLen bounds --operator, which goes on the record and, to a
// server, in a request header.
const maxOperatorLen = 128

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
		Args:  oneArg("an intent ID", "grace intent list --state pending_approval shows them"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := strings.TrimSpace(args[0])
			if id == "" {
				return usageErrorf("%s: the intent ID is empty (grace intent list shows the IDs)", verb)
			}
			reason = strings.TrimSpace(reason)
			if needReason && reason == "" {
				return usageErrorf("%s needs --reason: say why, it goes on the record", verb)
			}
			if err := checkOperator(operator); err != nil {
				return err
			}
			err := a.withIntents(cmd, changeIntents, func(ctx context.Context, b intentBackend) error {
				call := b.Approve
				switch verb {
				case "deny":
					call = b.Deny
				case "cancel":
					call = b.Cancel
				}
				in, err := call(ctx, id, operator, reason)
				if err != nil {
					return err
				}
				return a.saidDecided(verb, in, operator)
			})
			return decideError(verb, id, err)
		},
	}
	reasonUsage := "why: it goes on the record"
	if needReason {
		reasonUsage += " (required)"
	}
	cmd.Flags().StringVar(&reason, "reason", "", reasonUsage)
	cmd.Flags().StringVar(&operator, "operator", operatorName(), "who decides (default $USER); a server with identities records the token's identity instead")
	a.addJSONFlag(cmd)
	return cmd
}

// saidDecided prints the intent a decision (verb) left: as JSON, or one
// line naming who decided.
func (a *app) saidDecided(verb string, in intent.Intent, operator string) error {
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
}

// checkOperator refuses an --operator that is empty, too long or not
// printable: it goes on the record and, to a server, in a header.
func checkOperator(operator string) error {
	if strings.TrimSpace(operator) == "" {
		return usageErrorf("--operator must not be empty")
	}
	if len(operator) > maxOperatorLen || strings.IndexFunc(operator, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return usageErrorf("--operator %s must be at most %d characters of printable text", quoteClip(operator, maxOperatorLen), maxOperatorLen)
	}
	return nil
}

func pastTense(verb string) string {
	switch verb {
	case "deny":
		return "denied"
	case "cancel":
		return "cancelled"
	}
	return "approved"
}

// maxShownID is how much of an intent ID an error message shows.
const maxShownID = 64

// decideError names the verb and the intent in err. An intent that is not
// there, on the server or in the database, is said once, plainly: the
// engine's wrapping ("approve intent X: get intent X: ...") adds nothing.
func decideError(verb, id string, err error) error {
	var he *httpapi.Error
	var md *missingDBError
	var te *engine.TextError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &he) && he.Code == httpapi.CodeUnauthorized:
		return err // already names the server and the token
	case errors.As(err, &md):
		return fmt.Errorf("%s %s: %w", verb, quoteClip(id, maxShownID), saidOnce{err, verb, id})
	case errors.Is(err, engine.ErrNotFound), errors.As(err, &he) && he.Code == httpapi.CodeNotFound:
		return fmt.Errorf("%s %s: %w", verb, quoteClip(id, maxShownID), engine.ErrNotFound)
	case errors.As(err, &te):
		return fmt.Errorf("%s %s: %w", verb, quoteClip(id, maxShownID), te)
	}
	return fmt.Errorf("%s %s: %w", verb, quoteClip(id, maxShownID), saidOnce{err, verb, id})
}

// saidOnce is an engine error said without the engine's own naming of
// the verb and intent ("retry intent X: "), which decideError has said
// already; it matches whatever err matches.
type saidOnce struct {
	err      error
	verb, id string
}

func (s saidOnce) Error() string {
	msg := s.err.Error()
	prefix := s.verb + " intent " + strings.TrimSpace(s.id) + ": "
	if len(msg) > len(prefix) && strings.EqualFold(msg[:len(prefix)], prefix) {
		return msg[len(prefix):]
	}
	return msg
}

func (s saidOnce) Unwrap() error { return s.err }
