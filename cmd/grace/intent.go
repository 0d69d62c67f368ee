package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
	"grace/engine/intent"
)

// intentCommand is "grace intent": route, submit, batch, list, get,
// approve, deny, cancel, retry.
func (a *app) intentCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "intent",
		Short: "Route, submit (one or a batch), list, get, approve, deny, cancel and retry intents",
		Long: `Route, submit (one or a batch), list, get, approve, deny, cancel and retry intents.

route decides without storing anything. The others talk to a running
server (api.server, or --server) with the API token; when no server
answers they work on the database directly, and the intents run when an
engine starts.`,
		RunE: groupRun,
	}
	cmd.PersistentFlags().StringVar(&a.server, "server", "", "URL of a running grace serve (default: config api.server)")
	cmd.AddCommand(a.routeCommand(), a.submitCommand(), a.batchCommand(), a.listCommand(), a.getCommand(), a.approveCommand(), a.denyCommand(), a.cancelCommand(), a.retryCommand())
	return cmd
}

// submissionFlags are the flags that describe an intent.
type submissionFlags struct {
	typ, actor, payload, context, key string
	priority                          int
	notBefore                         string         // --not-before: an RFC 3339 time
	delay                             time.Duration  // --delay: not before now plus this
	cmd                               *cobra.Command // for standard input (--payload @-)
}

// add registers the flags; withSubmit adds --priority and --idempotency-key.
func (f *submissionFlags) add(cmd *cobra.Command, withSubmit bool) {
	f.cmd = cmd
	fl := cmd.Flags()
	fl.StringVar(&f.typ, "type", "", "intent type, e.g. query_knowledge (required)")
	fl.StringVar(&f.actor, "actor", defaultActor(), "who asks (default cli:$USER; a server with identities takes the token's identity)")
	fl.StringVar(&f.payload, "payload", "", `payload, a JSON object, e.g. '{"query":"q3 revenue"}'; @FILE reads a file, @- standard input`)
	fl.StringVar(&f.context, "context", "", `mission context, a JSON object, e.g. '{"revenue_impact":true}'; @FILE or @- as for --payload`)
	if withSubmit {
		fl.IntVar(&f.priority, "priority", httpapi.DefaultPriority, "priority 0 (lowest) to 9")
		fl.StringVar(&f.key, "idempotency-key", "", "resubmitting with the same key returns the original intent")
		fl.StringVar(&f.notBefore, "not-before", "", "schedule it: not dispatched before this RFC 3339 time (at most 365 days ahead)")
		fl.DurationVar(&f.delay, "delay", 0, "schedule it: not dispatched before this long from now, e.g. 10m")
	}
	_ = cmd.MarkFlagRequired("type")
}

// submission builds the intent. JSON that does not parse is refused here
// (it cannot be sent); every other check is the engine's.
func (f *submissionFlags) submission() (intent.Submission, error) {
	sub := intent.Submission{Type: f.typ, Actor: f.actor, Priority: f.priority, IdempotencyKey: f.key}
	switch nb := strings.TrimSpace(f.notBefore); {
	case nb != "" && f.delay != 0:
		return sub, usageErrorf("--not-before and --delay both schedule the intent: give one")
	case f.delay < 0:
		return sub, usageErrorf("--delay %v: want a positive duration, like 10m", f.delay)
	case f.delay > 0:
		sub.NotBefore = time.Now().Add(f.delay)
	case nb != "":
		t, err := time.Parse(time.RFC3339Nano, nb)
		if err != nil {
			return sub, usageErrorf("--not-before %q: want an RFC 3339 time, like 2026-11-29T18:00:00Z", nb)
		}
		sub.NotBefore = t
	}
	if f.payload == "@-" && f.context == "@-" {
		// The first would read it all and the second find it empty.
		return sub, usageErrorf("--payload @- and --context @-: standard input is read once; put one of them in a file (@FILE)")
	}
	payload, err := f.jsonArg("payload", f.payload)
	if err != nil {
		return sub, err
	}
	ctxJSON, err := f.jsonArg("context", f.context)
	if err != nil {
		return sub, err
	}
	var problems []engine.Problem
	if f.cmd != nil && f.cmd.Flags().Changed("actor") && strings.TrimSpace(f.actor) == "" {
		// A server took an empty actor as "the caller" (leaving --actor
		// out says that), where the database refused it: an empty
		// --actor "$AGENT" is refused either way, as an empty --type is.
		problems = append(problems, engine.Problem{Field: "actor", Reason: "is required"})
	}
	// A byte order mark, which some editors put before JSON, is not
	// part of it (the API ignores one too).
	if s := strings.TrimSpace(strings.TrimPrefix(payload, utf8BOM)); s != "" {
		// One not UTF-8 is the engine's to refuse, naming the byte.
		if !json.Valid([]byte(s)) {
			problems = append(problems, engine.Problem{Field: "payload", Reason: "is not valid JSON: " + jsonSyntaxError(s)})
		} else {
			sub.Payload = json.RawMessage(s)
		}
	}
	if s := strings.TrimSpace(strings.TrimPrefix(ctxJSON, utf8BOM)); s != "" {
		ctx, p := contextArg(s)
		if p != nil {
			problems = append(problems, *p)
		}
		sub.Context = ctx
	}
	if problems != nil {
		return sub, &engine.ValidationError{Problems: problems}
	}
	return sub, nil
}

// maxJSONArg bounds what --payload @FILE and --context @FILE read; the
// engine's own limit (intake.max_payload_bytes) is far smaller, so a
// larger file could never be accepted, and /dev/zero must not fill memory.
const maxJSONArg = 16 << 20

// jsonArg returns the JSON of --flag: v itself, or with @FILE the file's
// contents (@- reads standard input, once). No JSON text starts with '@',
// so a literal value is never mistaken for a file name.
func (f *submissionFlags) jsonArg(flag, v string) (string, error) {
	name, ok := strings.CutPrefix(v, "@")
	if !ok {
		return v, nil
	}
	var r io.Reader
	switch {
	case name == "":
		return "", usageErrorf("--%s @: name a file after @, or @- for standard input", flag)
	case name == "-":
		r = os.Stdin
		if f.cmd != nil {
			r = f.cmd.InOrStdin()
		}
	default:
		fh, err := os.Open(name)
		if err != nil {
			return "", usageErrorf("--%s %s: %w", flag, v, unwrapPath(err))
		}
		defer fh.Close()
		if st, err := fh.Stat(); err == nil && st.IsDir() {
			return "", usageErrorf("--%s %s: %s is a directory, not a JSON file", flag, v, name)
		}
		r = fh
	}
	b, err := io.ReadAll(io.LimitReader(r, maxJSONArg+1))
	if err != nil {
		return "", usageErrorf("--%s %s: read: %w", flag, v, unwrapPath(err))
	}
	if len(b) > maxJSONArg {
		return "", usageErrorf("--%s %s: larger than %d MiB; the engine takes at most intake.max_payload_bytes", flag, v, maxJSONArg>>20)
	}
	if len(b) == 0 {
		return "", usageErrorf("--%s %s: empty; give a JSON object", flag, v)
	}
	return string(b), nil
}

// unwrapPath drops the *PathError's repetition of the file name, which
// the caller's message already gives.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// utf8BOM is the UTF-8 byte order mark.
const utf8BOM = "\xef\xbb\xbf"

// notUTF8 says where s, which is not valid UTF-8, first goes wrong, as
// the engine says it of a payload.
func notUTF8(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		i += n
	}
	return fmt.Sprintf("must be UTF-8 text (byte %d is not)", i)
}

// contextArg reads --context's JSON text s as the API reads a
// submission's context: an object, no name given twice in it, every
// number kept as written (one a float64 would round is refused, not
// changed). The problem names the field at fault.
func contextArg(s string) (map[string]any, *engine.Problem) {
	bad := func(field, reason string) (map[string]any, *engine.Problem) {
		return nil, &engine.Problem{Field: field, Reason: reason}
	}
	switch {
	case !utf8.ValidString(s):
		return bad("context", notUTF8(s))
	case !json.Valid([]byte(s)):
		return bad("context", "is not valid JSON: "+jsonSyntaxError(s))
	case s[0] != '{':
		return bad("context", "must be a JSON object (got "+engine.JSONKind(s[0])+")")
	}
	if dup, _ := engine.ScanNames([]byte(s), nil); dup != "" {
		return bad("context."+dup, "is given twice")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var req httpapi.SubmitRequest
	if err := dec.Decode(&req.Context); err != nil {
		return bad("context", strings.TrimPrefix(err.Error(), "json: "))
	}
	sub, err := req.Submission() // keeps the context's numbers, or says which one it cannot
	if err != nil {
		field, reason, ok := strings.Cut(err.Error(), ": ")
		if !ok || !strings.HasPrefix(field, "context") {
			field, reason = "context", err.Error()
		}
		return bad(field, reason)
	}
	return sub.Context, nil
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
