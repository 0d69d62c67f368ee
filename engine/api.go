package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// Errors callers branch on. Wrapped errors keep them matchable with errors.Is.
var (
	// ErrNotFound: no intent with that ID.
	ErrNotFound = intent.ErrNotFound
	// ErrNotPending: approve or deny of an intent that is not pending approval.
	ErrNotPending = errors.New("intent is not pending approval")
	// ErrReasonRequired: a denial without a reason.
	ErrReasonRequired = errors.New("a reason is required")
	// ErrQueueFull: the HTM queue is at capacity; the intent was not accepted.
	ErrQueueFull = errors.New("HTM queue is full")
	// ErrStopped: the engine is shutting down or not started.
	ErrStopped = errors.New("engine is not running")
	// ErrOperatorRequired: an approval, denial or review without the
	// operator's name.
	ErrOperatorRequired = errors.New("an operator name is required")
	// ErrNotReviewable: a review of an intent that is not a finished,
	// unreviewed Tier 1 intent.
	ErrNotReviewable = errors.New("intent is not a finished Tier 1 intent awaiting review")
)

// Problem is one reason a submission is invalid, naming the field at fault.
type Problem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// ValidationError lists every reason a submission was rejected.
type ValidationError struct {
	Problems []Problem
}

// Error lists every problem as "field: reason", separated by semicolons.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = fmt.Sprintf("%s: %s", p.Field, p.Reason)
	}
	return "invalid intent: " + strings.Join(parts, "; ")
}

// SubmitResult is what intake returns: the durable intent and whether it
// already existed under the submission's idempotency key.
type SubmitResult struct {
	Intent   intent.Intent `json:"intent"`
	Existing bool          `json:"existing"`
}

// WorkerInfo is one worker's live state.
type WorkerInfo struct {
	Name      string `json:"name"`
	Busy      bool   `json:"busy"`
	IntentID  string `json:"intent_id,omitempty"`
	Completed uint64 `json:"completed"`
	Failed    uint64 `json:"failed"`
}

// Snapshot is the engine's live figures, cheap to take (no store I/O).
type Snapshot struct {
	At time.Time `json:"at"`
	// QueueDepth is the number of intents waiting in the HTM queue.
	QueueDepth    int `json:"queue_depth"`
	QueueWarn     int `json:"queue_warn"`
	QueueCritical int `json:"queue_critical"`
	// ByState counts intents per state: non-terminal ones as they stand,
	// terminal ones reached since the engine started.
	ByState          map[intent.State]int `json:"by_state"`
	PendingApprovals int                  `json:"pending_approvals"`
	Workers          []WorkerInfo         `json:"workers"`
	WorkersBusy      int                  `json:"workers_busy"`
	WorkersIdle      int                  `json:"workers_idle"`
	// DispatchRate and CompletionRate are per second over the last 10 s.
	DispatchRate   float64 `json:"dispatch_rate"`
	CompletionRate float64 `json:"completion_rate"`
	Dispatched     uint64  `json:"dispatched"`
	Completed      uint64  `json:"completed"`
	Failed         uint64  `json:"failed"`
	Rejected       uint64  `json:"rejected"`
	// Recent holds the newest decisions, newest first (at most 50).
	Recent []clarity.Record `json:"recent"`
	Ready  bool             `json:"ready"`
}

// Event is pushed to subscribers when an intent changes state.
type Event struct {
	Kind   string        `json:"kind"` // "intent"
	Intent intent.Intent `json:"intent"`
}

// Reviewer takes the after-the-fact review of Tier 1 intents. *Engine
// implements it; it is apart from OperatorAPI so that existing
// implementations of that interface keep compiling.
type Reviewer interface {
	// Review marks a finished Tier 1 intent reviewed, or flags it with a
	// note, on operator's authority.
	Review(ctx context.Context, id, operator, note string, flag bool) (intent.Intent, error)
}

// OperatorAPI is everything the console and the HTTP API may ask of the
// engine. The console reaches the engine only through it, so the same
// screens can attach to a remote engine.
type OperatorAPI interface {
	// Submit validates, governs and durably accepts an intent. Invalid
	// input returns *ValidationError (and the rejection is recorded).
	Submit(ctx context.Context, sub intent.Submission) (SubmitResult, error)
	// Route returns the governance decision for sub without storing anything.
	Route(ctx context.Context, sub intent.Submission) (intent.Decision, error)
	// Get returns one intent.
	Get(ctx context.Context, id string) (intent.Intent, error)
	// List returns intents matching f, newest first.
	List(ctx context.Context, f intent.Filter) ([]intent.Intent, error)
	// Pending returns the intents waiting for a human, oldest first.
	Pending(ctx context.Context) ([]intent.Intent, error)
	// Approve releases a pending Tier 0 intent to the queue.
	Approve(ctx context.Context, id, operator, reason string) (intent.Intent, error)
	// Deny refuses a pending intent; reason is required.
	Deny(ctx context.Context, id, operator, reason string) (intent.Intent, error)
	// Snapshot returns live figures without touching the store.
	Snapshot() Snapshot
	// Search returns narratives, newest first.
	Search(ctx context.Context, q clarity.Query) ([]clarity.Entry, error)
	// Subscribe streams intent events until ctx is cancelled; a slow
	// subscriber misses events rather than slowing the engine.
	Subscribe(ctx context.Context) <-chan Event
}
