package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/engine/watchdog"
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
	// ErrSelfReview: the submitter of a Tier 1 intent acknowledging its
	// review (flagging it is allowed): a later review is someone else's.
	ErrSelfReview = errors.New("the intent's submitter may not mark it reviewed")
	// ErrNotCancellable: a cancel of an intent that has finished (or whose
	// attempt finished while the cancel was being made).
	ErrNotCancellable = errors.New("intent can no longer be cancelled")
	// ErrNotRetryable: a retry of an intent that has not failed.
	ErrNotRetryable = errors.New("intent cannot be retried")
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
	// Healthy is false for a worker declared dead that still holds its
	// slot (worker_reassignment off).
	Healthy bool `json:"healthy"`
	// HeartbeatAgeMS is how long ago it last answered a heartbeat;
	// MissedHeartbeats how many pings in a row it left unanswered.
	HeartbeatAgeMS   int64 `json:"heartbeat_age_ms"`
	MissedHeartbeats int   `json:"missed_heartbeats"`
	// Host is the machine a remote worker (`grace worker`, backend.kind
	// nats) runs on; empty for the in-process pool's workers.
	Host string `json:"host,omitempty"`
	// State is a remote worker's: "live", "lost" (silent: it was killed or
	// cut off) or "left" (it shut down cleanly). Neither a lost nor a left
	// worker is busy. Empty for the in-process pool's workers.
	State string `json:"state,omitempty"`
	// Instance is a remote worker's process instance (new at each start
	// of `grace worker`), Slots the tasks it runs at once (--slots), and
	// SlotsBusy how many of them run an attempt, by its latest heartbeat
	// (0 unless live). Empty for the in-process pool's workers.
	Instance  string `json:"instance,omitempty"`
	Slots     int    `json:"slots,omitempty"`
	SlotsBusy int    `json:"slots_busy,omitempty"`
}

// The States of a remote worker (WorkerInfo.State).
const (
	RemoteLive = "live"
	RemoteLost = "lost"
	RemoteLeft = "left"
)

// RemoteWorkers lists the workers of other processes (the nats backend's
// `grace worker`s) for Snapshot.
type RemoteWorkers interface {
	// Workers returns the remote workers known at now, each with its Host.
	Workers(now time.Time) []WorkerInfo
}

// Snapshot is the engine's live figures, cheap to take (no store I/O).
type Snapshot struct {
	At time.Time `json:"at"`
	// QueueDepth is the number of intents waiting in the HTM queue;
	// QueueDelayed how many of them are not yet due (scheduled with
	// not_before, or waiting out a retry's backoff).
	QueueDepth    int `json:"queue_depth"`
	QueueDelayed  int `json:"queue_delayed"`
	QueueWarn     int `json:"queue_warn"`
	QueueCritical int `json:"queue_critical"`
	// ByState counts intents per state: non-terminal ones as they stand,
	// terminal ones reached since the engine started.
	ByState          map[intent.State]int `json:"by_state"`
	PendingApprovals int                  `json:"pending_approvals"`
	Workers          []WorkerInfo         `json:"workers"`
	WorkersBusy      int                  `json:"workers_busy"`
	WorkersIdle      int                  `json:"workers_idle"`
	// Remote sums up the remote workers when tasks run on them
	// (backend.kind nats); nil otherwise.
	Remote *RemoteFigures `json:"remote,omitempty"`
	// DispatchRate and CompletionRate are per second over the last 10 s.
	DispatchRate   float64 `json:"dispatch_rate"`
	CompletionRate float64 `json:"completion_rate"`
	Dispatched     uint64  `json:"dispatched"`
	Completed      uint64  `json:"completed"`
	Failed         uint64  `json:"failed"`
	Rejected       uint64  `json:"rejected"`
	// ByType breaks the queue and the finished runs down by intent type:
	// each type the charter lists, and OtherTypes for all the others
	// together (an agent may name any type; the breakdown stays bounded).
	ByType []TypeFigures `json:"by_type,omitempty"`
	// Recent holds the newest decisions, newest first (at most 50).
	Recent []clarity.Record `json:"recent"`
	Ready  bool             `json:"ready"`
	// Layer2 is what the Layer 2 safeguards see and have done (pause,
	// pool bounds, rate limiting, shedding, reroutes, the hub's troubles).
	Layer2 Layer2Facts `json:"layer2"`
	// Health is the watchdog's latest verdict: component statuses and
	// readiness, SLO breaches and burn rates, the alerts firing. Ready
	// above also needs every component ready.
	Health HealthReport `json:"health"`
	// Mesh, Policy, Kernels and Bus are the trigger mesh, the event policy
	// engine, the Layer 1 kernels (in boot order) and the message bus.
	Mesh    MeshStats    `json:"mesh"`
	Policy  PolicyStats  `json:"policy"`
	Kernels []KernelInfo `json:"kernels"`
	Bus     BusStats     `json:"bus"`
}

// TypeFigures are one intent type's share of the engine's figures: its
// intents queued now, and its handler runs completed and failed since
// start.
type TypeFigures struct {
	Type      string `json:"type"`
	Queued    int    `json:"queued"`
	Completed uint64 `json:"completed"`
	Failed    uint64 `json:"failed"`
}

// OtherTypes stands for every intent type the charter does not list in
// Snapshot.ByType and the per-type metrics.
const OtherTypes = "_other"

// Event is pushed to subscribers when an intent changes state, and by the
// watchdog with each telemetry snapshot and alert change.
type Event struct {
	// Seq numbers the engine's events from 1 in each run (see
	// Engine.EventEpoch); a subscriber that sees a number skipped missed
	// events. Zero on an event no engine numbered.
	Seq    uint64        `json:"seq,omitempty"`
	Kind   string        `json:"kind"` // "intent", "telemetry" (EventTelemetry), "alert" (EventAlert), "chaos" (EventChaos) or "reset" (EventReset)
	Intent intent.Intent `json:"intent"`
	// Telemetry is the watchdog's snapshot (kind "telemetry").
	Telemetry *watchdog.Telemetry `json:"telemetry,omitempty"`
	// Alert is an alert raised, escalated, de-escalated or resolved (kind
	// "alert").
	Alert *watchdog.AlertEvent `json:"alert,omitempty"`
	// Chaos is a chaos run's progress (kind "chaos", EventChaos).
	Chaos *ChaosProgress `json:"chaos,omitempty"`
}

// Canceller withdraws intents that have not finished. *Engine and the
// HTTP client implement it.
type Canceller interface {
	// Cancel moves a pending, queued or running intent to cancelled on
	// by's authority, with a reason (a running one's handler is told to
	// stop and its result discarded); a finished one is refused with
	// ErrNotCancellable.
	Cancel(ctx context.Context, id, by, reason string) (intent.Intent, error)
}

// Retrier submits a failed intent again, as a new intent. *Engine and the
// HTTP client implement it.
type Retrier interface {
	// Retry submits the type, payload, context and priority of the failed
	// intent id again, as a new intent whose actor is by (who asked, with
	// a reason), governed like any submission; anything but a failed
	// intent is refused with ErrNotRetryable.
	Retry(ctx context.Context, id, by, reason string) (SubmitResult, error)
}

// AtomicSubmitter submits a batch all or none. *Engine and the HTTP client
// implement it.
type AtomicSubmitter interface {
	// SubmitAtomic stores every submission of subs, each governed as
	// alone, or none of them and a *BatchRefusedError naming those at
	// fault.
	SubmitAtomic(ctx context.Context, subs []intent.Submission) ([]SubmitResult, error)
}

// Waiter blocks until an intent has finished. *Engine and the HTTP client
// implement it.
type Waiter interface {
	// WaitFinished returns the intent once it is in a terminal state, or
	// as it stands when ctx ends first.
	WaitFinished(ctx context.Context, id string) (intent.Intent, error)
}

// Reviewer takes the after-the-fact review of Tier 1 intents. It is part
// of OperatorAPI; *Engine implements it.
type Reviewer interface {
	// Review marks a finished Tier 1 intent reviewed, or flags it with a
	// note, on operator's authority.
	Review(ctx context.Context, id, operator, note string, flag bool) (intent.Intent, error)
}

// AuditReport is the outcome of verifying the audit chain.
type AuditReport struct {
	// OK is true when the chain, every entry's narrative and clarity rows,
	// and every signed checkpoint agree.
	OK bool `json:"ok"`
	// Entries is the number of audit entries checked.
	Entries int64 `json:"entries"`
	// HeadSeq and HeadHash are the newest entry's position and hash.
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	// Checkpoints is the number of signed checkpoints checked.
	Checkpoints int `json:"checkpoints"`
	// FirstBroken is the seq of the first entry found wrong (0 when OK).
	FirstBroken int64 `json:"first_broken,omitempty"`
	// Problem says in one sentence what is wrong; empty when OK.
	Problem string `json:"problem,omitempty"`
}

// Auditor verifies the tamper-evident audit chain. The store provides it
// (Deps.Auditor); *Engine passes the call through.
type Auditor interface {
	// VerifyAudit recomputes the chain from its first entry. A broken
	// chain is reported in the AuditReport (OK false, naming the first
	// broken entry); the error is for failing to read at all.
	VerifyAudit(ctx context.Context) (AuditReport, error)
}

// OperatorAPI is everything the console and the HTTP API may ask of the
// engine. The console reaches the engine only through it, so the same
// screens can attach to a remote engine.
type OperatorAPI interface {
	// Reviewer marks finished Tier 1 intents reviewed or flagged.
	Reviewer
	// Auditor verifies the audit chain on demand.
	Auditor
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
