package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"grace/engine/intent"
)

// MaxSchedule is how far ahead a submission's not_before may lie.
const MaxSchedule = 365 * 24 * time.Hour

// Intake limits besides intake.max_payload_bytes.
const (
	maxTypeLen       = 64
	maxActorLen      = 128
	maxKeyLen        = 200
	maxContextKeys   = 64
	maxContextKeyLen = 64
)

var (
	// typePattern is a sane intent type: "query_knowledge", "acme.deploy:v2".
	typePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:-]*$`)
	// contextKeyPattern is a sane mission context key: "revenue_impact".
	contextKeyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:-]*$`)
)

// checkSubmission returns sub cleaned up for storing (actor trimmed, payload
// compacted, a null or absent payload turned into {}) and every problem
// found, each naming its field by its JSON name.
func (e *Engine) checkSubmission(sub intent.Submission) (intent.Submission, []Problem) {
	var probs []Problem
	add := func(field, format string, args ...any) {
		probs = append(probs, Problem{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	out := sub

	switch {
	case sub.Type == "":
		add("type", "is required")
	case len(sub.Type) > maxTypeLen:
		add("type", "must be at most %d characters (got %d)", maxTypeLen, len(sub.Type))
	case !typePattern.MatchString(sub.Type):
		add("type", "must be an identifier: a letter, then letters, digits, '_', '.', ':' or '-' (got %q)", clip(sub.Type, maxTypeLen))
	}

	out.Actor = strings.TrimSpace(sub.Actor)
	if p := actorProblem(out.Actor); p != "" {
		add("actor", "%s", p)
	}

	if sub.Priority < 0 || sub.Priority > 9 {
		add("priority", "must be between 0 and 9 (got %d)", sub.Priority)
	}

	if !sub.NotBefore.IsZero() {
		now := e.clock.Now()
		switch ahead := sub.NotBefore.Sub(now); {
		case ahead <= 0:
			out.NotBefore = time.Time{} // due already: now
		case ahead > MaxSchedule:
			span := spanText(ahead)
			if ahead == time.Duration(math.MaxInt64) { // Sub saturates at 292 years
				span = strconv.FormatInt((sub.NotBefore.Unix()-now.Unix())/86400, 10) + " days"
			}
			add("not_before", "(%s) is %s ahead; an intent can be scheduled at most %s ahead",
				sub.NotBefore.UTC().Format(time.RFC3339), span, spanText(MaxSchedule))
		default:
			out.NotBefore = sub.NotBefore.UTC()
		}
	}

	limit := e.cfg.Intake.MaxPayloadBytes
	raw := bytes.TrimSpace(sub.Payload)
	if len(sub.Payload) > limit {
		add("payload", "is %d bytes; the limit is %d (intake.max_payload_bytes)", len(sub.Payload), limit)
	}
	// One pass both validates and compacts (json.Compact refuses what
	// json.Valid refuses); the copy also frees the payload from the
	// caller's buffer.
	var compact bytes.Buffer
	var compactErr error
	if len(raw) > 0 {
		compact.Grow(len(raw))
		compactErr = json.Compact(&compact, raw)
	}
	switch {
	case len(raw) == 0 || string(raw) == "null":
		out.Payload = json.RawMessage(`{}`)
	case compactErr != nil:
		var v any
		err := json.Unmarshal(raw, &v)
		add("payload", "must be valid JSON: %v", err)
	case !utf8.Valid(raw):
		// encoding/json accepts any bytes inside a string; stored as they
		// are, they would make every later JSON answer invalid UTF-8.
		add("payload", "must be UTF-8 text (byte %d is not)", invalidUTF8At(raw))
	case raw[0] != '{':
		add("payload", "must be a JSON object (got %s)", jsonKind(raw[0]))
	default:
		// Handlers and policies would read one of the two values, the
		// record and an auditor perhaps the other.
		if dup, _ := ScanNames(raw, nil); dup != "" {
			add("payload", "gives the name %s twice; give each name once", clip(dup, 64))
			break
		}
		out.Payload = compact.Bytes()
	}

	if len(sub.Context) > maxContextKeys {
		add("context", "must have at most %d keys (got %d)", maxContextKeys, len(sub.Context))
	}
	for _, k := range sortedKeys(sub.Context) {
		switch {
		case k == "":
			add("context", "a key is empty")
		case len(k) > maxContextKeyLen || !contextKeyPattern.MatchString(k):
			add("context", "key %q must be an identifier of at most %d characters: a letter or '_', then letters, digits, '_', '.', ':' or '-'", clip(k, maxContextKeyLen), maxContextKeyLen)
		}
	}
	if len(sub.Context) > 0 {
		if b, err := json.Marshal(sub.Context); err != nil {
			add("context", "cannot be encoded as JSON: %v", err)
		} else if len(b) > limit {
			add("context", "is %d bytes as JSON; the limit is %d (intake.max_payload_bytes)", len(b), limit)
		}
	}

	switch {
	case len(sub.IdempotencyKey) > maxKeyLen:
		add("idempotency_key", "must be at most %d characters (got %d)", maxKeyLen, len(sub.IdempotencyKey))
	case !printable(sub.IdempotencyKey):
		add("idempotency_key", "must be printable text without control characters")
	}
	return out, probs
}

// actorProblem says what is wrong with an actor's name (trimmed already),
// or "" when an intent may carry it: intake and the actor pause check
// names alike.
func actorProblem(actor string) string {
	switch {
	case actor == "":
		return "is required"
	case len(actor) > maxActorLen:
		return fmt.Sprintf("must be at most %d characters (got %d)", maxActorLen, len(actor))
	case !printable(actor):
		return "must be printable text without control characters"
	}
	return ""
}

// invalidUTF8At is the offset of the first byte of b that is not valid
// UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// jsonKind names the JSON value that starts with c.
func jsonKind(c byte) string { return JSONKind(c) }

// JSONKind names the kind of the valid JSON value that starts with c ("an
// object", "an array", …), for errors about a value of the wrong kind.
func JSONKind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
