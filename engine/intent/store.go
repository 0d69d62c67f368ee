package intent

import (
	"context"
	"errors"
	"time"

	"grace/engine/clarity"
)

// ErrNotFound is returned when no intent has the asked ID or key.
var ErrNotFound = errors.New("intent not found")

// ErrKeyTaken fails a group of changes (GroupStore.ApplyAll) one of whose
// creates names an idempotency key its actor already holds.
var ErrKeyTaken = errors.New("idempotency key already taken")

// Change is one atomic step: an intent created or updated together with the
// records that narrate it. The store applies a Change in one transaction:
// all of it is durable, or none of it.
type Change struct {
	// Create inserts a new intent. If its IdempotencyKey is already taken
	// by the same actor, nothing in the Change is written and
	// Result.Existing holds the intent that has the key. Keys are scoped
	// to their actor: two agents may use the same key.
	Create *Intent
	// Update writes the mutable fields of an existing intent (state, tier,
	// decision, attempts, last error, worker, updated/not-before/deadline,
	// decided by/reason, reviewed). Payload, context, type, actor,
	// priority, key and created time are never rewritten.
	Update *Intent
	// Records are written as narrative + clarity + audit entries.
	Records []clarity.Record
}

// Empty reports whether c writes nothing: no intent and no records.
func (c *Change) Empty() bool {
	return c.Create == nil && c.Update == nil && len(c.Records) == 0
}

// GroupStore is a Store that also writes several changes all or none.
type GroupStore interface {
	Store
	// ApplyAll applies cs in one transaction and returns once they are
	// durable, one result per change; if any cannot apply (an unknown ID,
	// an invalid record, a create whose idempotency key is taken:
	// ErrKeyTaken) none is written and the error says which.
	ApplyAll(ctx context.Context, cs []*Change) ([]Result, error)
}

// Result tells what applying a Change did.
type Result struct {
	// Existing is set when Create's idempotency key was already taken.
	Existing *Intent
}

// Filter selects intents for List. Zero fields do not filter. Results are
// newest first, at most Limit (0 means a store default of 100).
type Filter struct {
	State State
	Actor string
	Type  string
	Since time.Time
	// Tier filters by autonomy tier when HasTier is true.
	Tier    int
	HasTier bool
	// Unreviewed keeps only intents not yet marked Reviewed (the Tier 1
	// review list).
	Unreviewed bool
	// Unretried keeps only intents not yet retried: none was submitted
	// under their actor's idempotency key RetryKey(ID), as Retry submits
	// its new intent.
	Unretried bool
	// IdempotencyKey selects the intent Actor submitted under that key
	// (keys are scoped to their actor, so Actor is needed with it).
	IdempotencyKey string
	// Before pages through a list: only intents that come after the
	// intent with this ID in the newest-first order (created before it).
	// An ID that names no intent is an error wrapping ErrNotFound.
	Before string
	Limit  int
}

// RetryKey is the idempotency key, scoped to the original's actor, under
// which a retry of the intent id is submitted: an intent is retried once,
// and Filter.Unretried finds those not yet retried by it.
func RetryKey(id string) string { return "retry-of-" + id }

// Store keeps intents durably. Implementations must be safe for concurrent
// use.
type Store interface {
	// Apply applies c and returns once it is durable.
	Apply(ctx context.Context, c *Change) (Result, error)
	// ApplyAsync queues c behind every change queued before it and calls
	// done (from the writer's goroutine; done must not block) once it is
	// durable or has failed. It may block while the writer's queue is full.
	// An empty change (Empty) writes nothing: it is a barrier, done once
	// every change queued before it is.
	ApplyAsync(c *Change, done func(Result, error))
	// Get returns the intent with the ID, or ErrNotFound.
	Get(ctx context.Context, id string) (Intent, error)
	// List returns intents matching f, newest first.
	List(ctx context.Context, f Filter) ([]Intent, error)
	// NonTerminal returns every intent not in a terminal state, oldest
	// first; start-up recovery uses it.
	NonTerminal(ctx context.Context) ([]Intent, error)
	// CountByState returns how many intents are in each state.
	CountByState(ctx context.Context) (map[State]int, error)
}
