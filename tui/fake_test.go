package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// fakeAPI is an engine.OperatorAPI for tests: a settable snapshot, a
// pending list and an events channel, and a record of every decision.
type fakeAPI struct {
	mu         sync.Mutex
	snap       engine.Snapshot
	pending    []intent.Intent
	events     chan engine.Event
	approves   []decisionCall
	denies     []decisionCall
	approveErr error
	denyErr    error
	pendingErr error
	snapshots  int
}

// decisionCall is one Approve or Deny the console made.
type decisionCall struct{ ID, Operator, Reason string }

var _ engine.OperatorAPI = (*fakeAPI)(nil)

func newFakeAPI() *fakeAPI {
	return &fakeAPI{events: make(chan engine.Event, 64)}
}

func (f *fakeAPI) setSnapshot(s engine.Snapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap = s
}

func (f *fakeAPI) setPending(items []intent.Intent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append([]intent.Intent(nil), items...)
}

func (f *fakeAPI) calls() (approves, denies []decisionCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]decisionCall(nil), f.approves...), append([]decisionCall(nil), f.denies...)
}

func (f *fakeAPI) Submit(context.Context, intent.Submission) (engine.SubmitResult, error) {
	return engine.SubmitResult{}, errors.New("fake: submit not supported")
}

func (f *fakeAPI) Route(context.Context, intent.Submission) (intent.Decision, error) {
	return intent.Decision{}, errors.New("fake: route not supported")
}

func (f *fakeAPI) Get(_ context.Context, id string) (intent.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, it := range f.pending {
		if it.ID == id {
			return it, nil
		}
	}
	return intent.Intent{}, fmt.Errorf("get %s: %w", id, engine.ErrNotFound)
}

func (f *fakeAPI) List(context.Context, intent.Filter) ([]intent.Intent, error) {
	return nil, nil
}

func (f *fakeAPI) Pending(context.Context) ([]intent.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pendingErr != nil {
		return nil, f.pendingErr
	}
	return append([]intent.Intent(nil), f.pending...), nil
}

func (f *fakeAPI) Approve(_ context.Context, id, operator, reason string) (intent.Intent, error) {
	return f.decide(&f.approves, f.approveErr, intent.StateQueued, id, operator, reason)
}

func (f *fakeAPI) Deny(_ context.Context, id, operator, reason string) (intent.Intent, error) {
	return f.decide(&f.denies, f.denyErr, intent.StateDenied, id, operator, reason)
}

func (f *fakeAPI) decide(log *[]decisionCall, fail error, to intent.State, id, operator, reason string) (intent.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*log = append(*log, decisionCall{ID: id, Operator: operator, Reason: reason})
	if fail != nil {
		return intent.Intent{}, fail
	}
	for i, it := range f.pending {
		if it.ID == id {
			f.pending = append(f.pending[:i], f.pending[i+1:]...)
			it.State, it.DecidedBy, it.DecisionReason = to, operator, reason
			return it, nil
		}
	}
	return intent.Intent{}, fmt.Errorf("decide %s: %w", id, engine.ErrNotPending)
}

func (f *fakeAPI) Snapshot() engine.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snapshots++
	return f.snap
}

func (f *fakeAPI) Search(context.Context, clarity.Query) ([]clarity.Entry, error) {
	return nil, nil
}

func (f *fakeAPI) Subscribe(context.Context) <-chan engine.Event { return f.events }

// Fixtures. Times are fixed so that golden files are stable.

var fixedNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// pendingIntent is a Tier 0 intent waiting for a human.
func pendingIntent(id, typ, actor string, age time.Duration) intent.Intent {
	created := fixedNow.Add(-age)
	return intent.Intent{
		ID:       id,
		Type:     typ,
		Actor:    actor,
		Payload:  json.RawMessage(`{"service":"billing-api","version":"2.14.0","regions":["eu-west-1","us-east-1"],"canary":{"percent":10,"minutes":15}}`),
		Context:  map[string]any{"mission": "extend_grace"},
		Priority: 7,
		State:    intent.StatePendingApproval,
		Tier:     0,
		Decision: intent.Decision{
			AutonomyTier:  0,
			RequiresHuman: true,
			Alignment:     0.8,
			RoutedTo:      "human",
			Reasoning: []string{
				"type " + typ + " is Tier 0: a human must approve",
				"mission alignment 0.80 from charter weights (extend_grace 0.5, revenue 0.3)",
				"actor " + actor + " has no standing approval for this type",
			},
		},
		CreatedAt: created,
		UpdatedAt: created,
		Deadline:  created.Add(time.Hour),
	}
}

// fixturePending is the approvals list the goldens show.
func fixturePending() []intent.Intent {
	return []intent.Intent{
		pendingIntent("int_01JPB7Q4Z8XK3M2N5R6T7V8W9A", "deploy_production", "agent:release-bot", 12*time.Minute),
		pendingIntent("int_01JPB7R2C3D4E5F6G7H8J9K0LM", "delete_dataset", "agent:janitor", 4*time.Minute+30*time.Second),
		pendingIntent("int_01JPB7S9N8P7Q6R5S4T3U2V1WX", "unknown_type", "svc:cortex", 58*time.Minute),
	}
}

// fixtureSnapshot is a busy engine with the queue past its warn depth.
func fixtureSnapshot() engine.Snapshot {
	workers := []engine.WorkerInfo{
		{Name: "worker-01", Busy: true, IntentID: "int_01JPB7T1AAAAAAAAAAAAAAAAAA", Completed: 1204, Failed: 3},
		{Name: "worker-02", Busy: true, IntentID: "int_01JPB7T2BBBBBBBBBBBBBBBBBB", Completed: 1187, Failed: 0},
		{Name: "worker-03", Busy: false, Completed: 1250, Failed: 1},
		{Name: "worker-04", Busy: true, IntentID: "int_01JPB7T4DDDDDDDDDDDDDDDDDD", Completed: 1199, Failed: 2},
		{Name: "worker-05", Busy: false, Completed: 1222, Failed: 0},
		{Name: "worker-06", Busy: true, IntentID: "int_01JPB7T6FFFFFFFFFFFFFFFFFF", Completed: 1176, Failed: 4},
	}
	recent := []struct{ who, what, where, result, why, id string }{
		{"scheduler", "intent.dispatched", "worker-04", "dispatched", "least-loaded healthy worker (0 of 1 slots busy)", "int_01JPB7T4DDDDDDDDDDDDDDDDDD"},
		{"governance", "intent.routed", "router", "pending_approval", "type deploy_production is Tier 0: a human must approve", "int_01JPB7Q4Z8XK3M2N5R6T7V8W9A"},
		{"worker-02", "intent.completed", "worker-02", "completed", "handler simulated:report finished in 41ms", "int_01JPB7T9ZZZZZZZZZZZZZZZZZZ"},
		{"ops", "intent.approved", "console", "approved", "approved in console", "int_01JPB7P0YYYYYYYYYYYYYYYYYY"},
		{"worker-06", "intent.failed", "worker-06", "failed", "handler timeout after 5s (attempt 3 of 3)", "int_01JPB7N5XXXXXXXXXXXXXXXXXX"},
		{"intake", "intent.rejected", "api", "rejected", "payload: must be a JSON object", ""},
		{"hub", "vote.cast", "unified_logic_hub", "approved", "health ok, alignment 0.72, high-impact rate normal", "int_01JPB7M4WWWWWWWWWWWWWWWWWW"},
		{"governance", "intent.routed", "router", "routed", "type send_report is Tier 2: direct", "int_01JPB7M1VVVVVVVVVVVVVVVVVV"},
		{"scheduler", "intent.dispatched", "worker-01", "dispatched", "least-loaded healthy worker (0 of 1 slots busy)", "int_01JPB7T1AAAAAAAAAAAAAAAAAA"},
		{"htm", "queue.retried", "htm", "retried", "backoff 400ms after handler error", "int_01JPB7L7UUUUUUUUUUUUUUUUUU"},
		{"worker-01", "intent.completed", "worker-01", "completed", "handler simulated:sync finished in 12ms", "int_01JPB7L2TTTTTTTTTTTTTTTTTT"},
		{"governance", "intent.expired", "router", "expired", "approval deadline passed after 1h", "int_01JPB7K9SSSSSSSSSSSSSSSSSS"},
	}
	recs := make([]clarity.Record, len(recent))
	for i, r := range recent {
		recs[i] = clarity.Record{
			Who: r.who, What: r.what, Where: r.where, Result: r.result, Why: []string{r.why},
			IntentID: r.id, When: fixedNow.Add(-time.Duration(i*7+2) * time.Second),
		}
	}
	return engine.Snapshot{
		At:            fixedNow,
		QueueDepth:    1234,
		QueueWarn:     1000,
		QueueCritical: 5000,
		ByState: map[intent.State]int{
			intent.StatePendingApproval: 3, intent.StateQueued: 1234, intent.StateRunning: 4,
			intent.StateCompleted: 7238, intent.StateFailed: 10, intent.StateDenied: 2,
			intent.StateExpired: 1, intent.StateShed: 0,
		},
		PendingApprovals: 3,
		Workers:          workers,
		WorkersBusy:      4,
		WorkersIdle:      2,
		DispatchRate:     48.6,
		CompletionRate:   47.9,
		Dispatched:       7252,
		Completed:        7238,
		Failed:           10,
		Rejected:         5,
		Recent:           recs,
		Ready:            true,
	}
}

// depthHistory is a wavy queue-depth history that climbs past the warn
// line.
func depthHistory(n int) []int {
	out := make([]int, n)
	for i := range out {
		v := 60 + float64(i)*1250/float64(n) + 240*math.Sin(float64(i)/5)
		out[i] = max(int(v), 0)
	}
	return out
}

// seedDepth records vals as one sample a second, the last one at fixedNow.
func seedDepth(m *model, vals []int) {
	for i, v := range vals {
		m.dash.record(engine.Snapshot{QueueDepth: v}, fixedNow.Add(-time.Duration(len(vals)-i)*time.Second))
	}
}
