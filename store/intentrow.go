package store

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"grace/engine/intent"
)

// intentCols are the intents table's columns in the order intentArgs and
// scanIntent use.
const intentCols = `id, type, actor, payload, context, priority, idempotency_key, state, tier,
	decision, attempts, last_error, worker, created_at, updated_at, not_before, deadline,
	decided_by, decision_reason, reviewed`

// intentArgs returns the values of every column of it, in intentCols order.
func intentArgs(it *intent.Intent) ([]any, error) {
	decision, err := json.Marshal(it.Decision)
	if err != nil {
		return nil, fmt.Errorf("encode decision: %w", err)
	}
	var payload, ctx, key any
	if len(it.Payload) > 0 {
		payload = string(it.Payload)
	}
	if len(it.Context) > 0 {
		ctx = string(appendObject(nil, it.Context))
	}
	if it.IdempotencyKey != "" {
		key = scopedKey(it.Actor, it.IdempotencyKey)
	}
	return []any{it.ID, it.Type, it.Actor, payload, ctx, int64(it.Priority), key,
		string(it.State), int64(it.Tier), string(decision), int64(it.Attempts), it.LastError,
		it.Worker, nanos(it.CreatedAt), nanos(it.UpdatedAt), nanos(it.NotBefore), nanos(it.Deadline),
		it.DecidedBy, it.DecisionReason, it.Reviewed}, nil
}

// updateSQL writes the mutable fields only (see intent.Change.Update).
const updateSQL = `UPDATE intents SET state = ?, tier = ?, decision = ?, attempts = ?,
	last_error = ?, worker = ?, updated_at = ?, not_before = ?, deadline = ?,
	decided_by = ?, decision_reason = ?, reviewed = ? WHERE id = ?`

// updateArgs returns the values for updateSQL.
func updateArgs(it *intent.Intent) ([]any, error) {
	decision, err := json.Marshal(it.Decision)
	if err != nil {
		return nil, fmt.Errorf("encode decision: %w", err)
	}
	return []any{string(it.State), int64(it.Tier), string(decision), int64(it.Attempts),
		it.LastError, it.Worker, nanos(it.UpdatedAt), nanos(it.NotBefore), nanos(it.Deadline),
		it.DecidedBy, it.DecisionReason, it.Reviewed, it.ID}, nil
}

// scanIntent decodes one row of intentCols. vals hold what the driver
// returns: int64, float64, string, []byte or nil.
func scanIntent(vals []any) (intent.Intent, error) {
	var it intent.Intent
	if len(vals) != 20 {
		return it, fmt.Errorf("decode intent: %d columns, want 20", len(vals))
	}
	it.ID, it.Type, it.Actor = str(vals[0]), str(vals[1]), str(vals[2])
	if p := str(vals[3]); p != "" {
		it.Payload = json.RawMessage(p)
	}
	if c := str(vals[4]); c != "" && c != "{}" {
		if err := json.Unmarshal([]byte(c), &it.Context); err != nil {
			return it, fmt.Errorf("decode intent %s context: %w", it.ID, err)
		}
	}
	it.Priority = int(num(vals[5]))
	it.IdempotencyKey = unscopedKey(str(vals[6]))
	it.State = intent.State(str(vals[7]))
	it.Tier = int(num(vals[8]))
	if err := json.Unmarshal([]byte(str(vals[9])), &it.Decision); err != nil {
		return it, fmt.Errorf("decode intent %s decision: %w", it.ID, err)
	}
	it.Attempts = int(num(vals[10]))
	it.LastError, it.Worker = str(vals[11]), str(vals[12])
	it.CreatedAt, it.UpdatedAt = when(vals[13]), when(vals[14])
	it.NotBefore, it.Deadline = when(vals[15]), when(vals[16])
	it.DecidedBy, it.DecisionReason = str(vals[17]), str(vals[18])
	it.Reviewed = num(vals[19]) != 0
	return it, nil
}

// nanos stores a time as Unix nanoseconds, the zero time as NULL.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// boundNanos is a query's time bound as Unix nanoseconds, saturated: a
// time past what int64 nanoseconds hold (years before 1678 or after 2262)
// is the first or last instant they do, where UnixNano would wrap round
// and turn "since the year 2999" into "since 1831".
func boundNanos(t time.Time) int64 {
	switch {
	case t.After(maxNanosTime):
		return math.MaxInt64
	case t.Before(minNanosTime):
		return math.MinInt64
	}
	return t.UnixNano()
}

var (
	maxNanosTime = time.Unix(0, math.MaxInt64)
	minNanosTime = time.Unix(0, math.MinInt64)
)

// when reads back what nanos stored, in UTC.
func when(v any) time.Time {
	n, ok := v.(int64)
	if !ok {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}

func num(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case bool:
		if x {
			return 1
		}
	}
	return 0
}

// keySep joins an actor and its idempotency key in the idempotency_key
// column (intake refuses control characters in keys), so that the
// column's UNIQUE constraint scopes keys to their actor: two agents may
// use the same key without one getting the other's intent back.
const keySep = "\x1f"

// scopedKey is the stored form of actor's idempotency key.
func scopedKey(actor, key string) string { return actor + keySep + key }

// unscopedKey is the key as its actor gave it.
func unscopedKey(stored string) string {
	if _, key, ok := strings.Cut(stored, keySep); ok {
		return key
	}
	return stored
}
