package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// ErrIdempotencyConflict: a submission reused an idempotency key that its
// actor already used for a different submission (another type, payload,
// context or priority). Nothing was stored.
var ErrIdempotencyConflict = errors.New("idempotency key already used for a different submission")

// WhatIdempotencyConflict names the record of a submission refused
// because its idempotency key holds a different submission.
const WhatIdempotencyConflict = "idempotency_conflict"

// IdempotencyConflictError is a submission refused because its actor's
// idempotency key is held by an intent submitted differently. It matches
// ErrIdempotencyConflict with errors.Is. It names the fields that differ,
// never their values (a payload may hold masked fields).
type IdempotencyConflictError struct {
	// Key is the idempotency key and Actor the actor it belongs to.
	Key   string `json:"idempotency_key"`
	Actor string `json:"actor"`
	// ExistingID is the intent that holds the key.
	ExistingID string `json:"existing_id"`
	// Fields are the JSON names of the fields that differ from the
	// holder's, in the order type, payload, context, priority.
	Fields []string `json:"fields"`
	// InBatch: the key's holder is the earlier submission HolderIndex
	// (from 0) of the same atomic batch, which was never stored;
	// ExistingID is empty.
	InBatch     bool `json:"in_batch,omitempty"`
	HolderIndex int  `json:"holder_index,omitempty"`
}

// Error names the key, its holder and the fields that differ.
func (e *IdempotencyConflictError) Error() string {
	if e.InBatch {
		return fmt.Sprintf("idempotency key %q is also the key of submission %d of this batch, which differs in its %s; nothing was stored "+
			"(give each submission its own key, or send one submission under it)", e.Key, e.HolderIndex, joinAnd(e.Fields))
	}
	return fmt.Sprintf("idempotency key %q is already used by intent %s, submitted with a different %s; nothing was stored "+
		"(resend that same submission to get %s back, or use a new key)",
		e.Key, e.ExistingID, joinAnd(e.Fields), e.ExistingID)
}

// Unwrap returns ErrIdempotencyConflict.
func (e *IdempotencyConflictError) Unwrap() error { return ErrIdempotencyConflict }

// resubmitted answers a submission whose idempotency key held is stored
// under: held itself (masked) with Existing set when clean is the same
// submission, else an *IdempotencyConflictError after a throttled
// idempotency_conflict record. clean is the validated submission; held
// the stored intent, with its real (unmasked) values.
func (e *Engine) resubmitted(ctx context.Context, clean intent.Submission, held intent.Intent) (SubmitResult, error) {
	fields := differingFields(clean, held)
	if len(fields) == 0 {
		return SubmitResult{Intent: e.guard.mask.intent(held), Existing: true}, nil
	}
	cerr := &IdempotencyConflictError{Key: clean.IdempotencyKey, Actor: clean.Actor, ExistingID: held.ID, Fields: fields}
	e.recordConflict(ctx, clean, cerr)
	return SubmitResult{}, cerr
}

// recordConflict puts the refusal of clean, a validated submission, with
// c on the record as idempotency_conflict, within its actor's refusal
// budget.
func (e *Engine) recordConflict(ctx context.Context, clean intent.Submission, c *IdempotencyConflictError) {
	now := e.clock.Now()
	if skipped, ok := e.guard.budget.identified(identityKey(clean.Actor), now); ok {
		if err := e.recordRefused(ctx, conflictRecord(now, clean, c, skipped)); err != nil {
			// The caller's answer matters more: it is returned all the same.
			e.log.Error("record idempotency conflict", "intent_id", c.ExistingID, "err", err)
		}
	}
}

// conflictRecord narrates a refused resubmission. It names the fields that
// differ and the payload's size, never a payload or context value.
func conflictRecord(now time.Time, clean intent.Submission, c *IdempotencyConflictError, skipped int) clarity.Record {
	why := []string{
		fmt.Sprintf("%s submitted %s under idempotency key %q, which intent %s already holds with a different %s",
			clean.Actor, clean.Type, c.Key, c.ExistingID, joinAnd(c.Fields)),
		fmt.Sprintf("Refused: nothing was stored; resending the same submission returns %s", c.ExistingID),
	}
	if c.InBatch {
		why = []string{
			fmt.Sprintf("%s submitted %s in an atomic batch under idempotency key %q, which submission %d of the same batch has too, with a different %s",
				clean.Actor, clean.Type, c.Key, c.HolderIndex, joinAnd(c.Fields)),
			"Refused: the batch was refused whole and nothing in it was stored",
		}
	}
	if skipped > 0 {
		why = append(why, fmt.Sprintf("%d refusals before this one were not recorded one by one (throttled)", skipped))
	}
	r := rec(now, clean.Actor, WhatIdempotencyConflict, whereIntake, "idempotency_check", "refused", c.ExistingID, why,
		map[string]any{"type": clean.Type, "idempotency_key": c.Key, "fields": c.Fields,
			"payload_bytes": len(clean.Payload), "unrecorded_refusals": skipped})
	r.Risk = 0.3
	return r
}

// differingFields compares a validated submission with the intent stored
// under its idempotency key and returns the JSON names of the fields that
// differ. Payloads are compared as JSON values: key order, whitespace and
// string escapes do not matter, and numbers are compared as exact decimals
// (1.0 and 1e0 equal 1; 9007199254740993 differs from 9007199254740992).
// Contexts are compared as the store keeps them: as JSON values whose
// numbers are float64, which is also what every front door decodes them
// to. An absent or empty context equals {}.
func differingFields(clean intent.Submission, held intent.Intent) []string {
	var out []string
	if clean.Type != held.Type {
		out = append(out, "type")
	}
	if !samePayload(clean.Payload, held.Payload) {
		out = append(out, "payload")
	}
	if !sameContext(clean.Context, held.Context) {
		out = append(out, "context")
	}
	if clean.Priority != held.Priority {
		out = append(out, "priority")
	}
	return out
}

// samePayload reports whether two payloads hold the same JSON value; an
// empty payload is {}. A payload that does not decode differs from any
// other.
func samePayload(a, b json.RawMessage) bool {
	a, b = orEmptyObject(a), orEmptyObject(b)
	if bytes.Equal(a, b) {
		return true
	}
	va, errA := decodeExact(a)
	vb, errB := decodeExact(b)
	return errA == nil && errB == nil && sameJSON(va, vb)
}

func orEmptyObject(p json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(p)) == 0 {
		return json.RawMessage(`{}`)
	}
	return p
}

// decodeExact decodes one JSON value keeping numbers as their literals.
func decodeExact(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// sameContext reports whether two mission contexts are the same once
// each has gone through JSON as the store keeps it. A context that cannot
// be encoded differs from any other.
func sameContext(a, b map[string]any) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	va, errA := storedForm(a)
	vb, errB := storedForm(b)
	return errA == nil && errB == nil && sameJSON(va, vb)
}

// storedForm is ctx as the store gives it back: encoded, then decoded
// with float64 numbers.
func storedForm(ctx map[string]any) (any, error) {
	if len(ctx) == 0 {
		return map[string]any{}, nil
	}
	b, err := json.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	var v any
	err = json.Unmarshal(b, &v)
	return v, err
}

// sameJSON reports whether two decoded JSON values are equal.
func sameJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !sameJSON(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		return ok && sameNumber(string(x), string(y))
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}

// sameNumber reports whether two JSON number literals are the same
// decimal value, exactly (no rounding to float64).
func sameNumber(a, b string) bool {
	if a == b {
		return true
	}
	da, okA := parseDecimal(a)
	db, okB := parseDecimal(b)
	return okA && okB && da == db
}

// decimal is a JSON number as its sign, its significant digits (no
// leading or trailing zeros) and the power of ten of its last digit:
// -12.50e3 is {neg: true, digits: "125", exp: 2}. Zero is the zero value.
type decimal struct {
	neg    bool
	digits string
	exp    int64
}

// maxDecimalExp bounds the exponents parseDecimal accepts, far beyond any
// float64, so that the arithmetic on them cannot overflow.
const maxDecimalExp = 1 << 40

// parseDecimal reads a JSON number literal; ok is false for one that is
// not a JSON number or has an exponent beyond maxDecimalExp.
func parseDecimal(s string) (d decimal, ok bool) {
	if strings.HasPrefix(s, "-") {
		d.neg, s = true, s[1:]
	}
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	whole, frac, _ := strings.Cut(mant, ".")
	if whole == "" || !allDigits(whole) || !allDigits(frac) {
		return decimal{}, false
	}
	var e int64
	if hasExp {
		n, err := strconv.ParseInt(exp, 10, 64)
		if err != nil || n > maxDecimalExp || n < -maxDecimalExp {
			return decimal{}, false
		}
		e = n
	}
	digits := strings.TrimLeft(whole+frac, "0")
	e -= int64(len(frac))
	trimmed := strings.TrimRight(digits, "0")
	e += int64(len(digits) - len(trimmed))
	if trimmed == "" {
		return decimal{}, true // zero, whatever its sign and exponent
	}
	d.digits, d.exp = trimmed, e
	return d, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// joinAnd lists words as "a", "a and b" or "a, b and c".
func joinAnd(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
