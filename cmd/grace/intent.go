package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
	"grace/engine/intent"
)

// intentCommand is "grace intent": route, submit, list, approve, deny.
func (a *app) intentCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "intent",
		Short: "Route, submit, list, approve and deny intents",
		Long: `Route, submit, list, approve and deny intents.

route decides without storing anything. The others talk to a running
server (api.server, or --server) with the API token; when no server
answers they work on the database directly, and the intents run when an
engine starts.`,
		RunE: groupRun,
	}
	cmd.PersistentFlags().StringVar(&a.server, "server", "", "URL of a running grace serve (default: config api.server)")
	cmd.AddCommand(a.routeCommand(), a.submitCommand(), a.listCommand(), a.approveCommand(), a.denyCommand())
	return cmd
}

// submissionFlags are the flags that describe an intent.
type submissionFlags struct {
	typ, actor, payload, context, key string
	priority                          int
}

// add registers the flags; withSubmit adds --priority and --idempotency-key.
func (f *submissionFlags) add(cmd *cobra.Command, withSubmit bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.typ, "type", "", "intent type, e.g. query_knowledge (required)")
	fl.StringVar(&f.actor, "actor", defaultActor(), "who asks")
	fl.StringVar(&f.payload, "payload", "", `payload, a JSON object, e.g. '{"query":"q3 revenue"}'`)
	fl.StringVar(&f.context, "context", "", `mission context, a JSON object, e.g. '{"revenue_impact":true}'`)
	if withSubmit {
		fl.IntVar(&f.priority, "priority", httpapi.DefaultPriority, "priority 0 (lowest) to 9")
		fl.StringVar(&f.key, "idempotency-key", "", "resubmitting with the same key returns the original intent")
	}
	_ = cmd.MarkFlagRequired("type")
}

// submission builds the intent. JSON that does not parse is refused here
// (it cannot be sent); every other check is the engine's.
func (f *submissionFlags) submission() (intent.Submission, error) {
	sub := intent.Submission{Type: f.typ, Actor: f.actor, Priority: f.priority, IdempotencyKey: f.key}
	var problems []engine.Problem
	if s := strings.TrimSpace(f.payload); s != "" {
		if !json.Valid([]byte(s)) {
			problems = append(problems, engine.Problem{Field: "payload", Reason: "is not valid JSON: " + jsonSyntaxError(s)})
		} else {
			sub.Payload = json.RawMessage(s)
		}
	}
	if s := strings.TrimSpace(f.context); s != "" {
		if err := json.Unmarshal([]byte(s), &sub.Context); err != nil {
			if json.Valid([]byte(s)) {
				problems = append(problems, engine.Problem{Field: "context", Reason: "must be a JSON object (got " + engine.JSONKind(s[0]) + ")"})
			} else {
				problems = append(problems, engine.Problem{Field: "context", Reason: "is not valid JSON: " + jsonSyntaxError(s)})
			}
		}
	}
	if problems != nil {
		return sub, &engine.ValidationError{Problems: problems}
	}
	return sub, nil
}

func jsonSyntaxError(s string) string {
	var v any
	err := json.Unmarshal([]byte(s), &v)
	if err == nil {
		return "unknown error"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// defaultActor names the CLI's user as the actor.
func defaultActor() string {
	return "cli:" + operatorName()
}

// decisionRows are a routing decision as table rows.
func decisionRows(d intent.Decision) [][]string {
	rows := [][]string{
		{"approved", fmt.Sprint(d.Approved)},
		{"autonomy_tier", fmt.Sprint(d.AutonomyTier)},
		{"requires_vote", fmt.Sprint(d.RequiresVote)},
		{"requires_human", fmt.Sprint(d.RequiresHuman)},
		{"alignment", fmt.Sprintf("%.2f", d.Alignment)},
		{"routed_to", d.RoutedTo},
	}
	for i, r := range d.Reasoning {
		label := ""
		if i == 0 {
			label = "reasoning"
		}
		rows = append(rows, []string{label, "- " + r})
	}
	for i, v := range d.Votes {
		label := ""
		if i == 0 {
			label = "votes"
		}
		verdict := "no"
		if v.Approve {
			verdict = "yes"
		}
		rows = append(rows, []string{label, fmt.Sprintf("%s: %s (%s)", v.Voter, verdict, v.Reason)})
	}
	return rows
}
