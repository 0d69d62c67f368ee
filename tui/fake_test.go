package tui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/engine/watchdog"
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
	cancels    []decisionCall
	retries    []decisionCall
	schedules  []decisionCall // pauses (ID "pause") and resumes (ID "resume")
	approveErr error
	denyErr    error
	pendingErr error
	snapshots  int
	// readBudget, when set, is the most records a search page reads
	// before it stops early (as the store's phrase budget).
	readBudget int

	// tier1 holds Tier 1 intents (finished or running, reviewed or not);
	// reviews records every Review call.
	tier1     []intent.Intent
	reviews   []reviewCall
	reviewErr error
	// narratives are the stored records, newest first; searches records
	// every query.
	narratives []clarity.Entry
	searches   []clarity.Query
	searchErr  error
	// audit is what VerifyAudit reports; verifies counts the calls.
	audit    engine.AuditReport
	auditErr error
	verifies int
}

// decisionCall is one Approve or Deny the console made.
type decisionCall struct{ ID, Operator, Reason string }

// reviewCall is one Review the console made.
type reviewCall struct {
	ID, Operator, Note string
	Flag               bool
}

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
	for _, it := range append(append([]intent.Intent(nil), f.pending...), f.tier1...) {
		if it.ID == id {
			return it, nil
		}
	}
	return intent.Intent{}, fmt.Errorf("get %s: %w", id, engine.ErrNotFound)
}

// List answers the review list's query (Tier 1, unreviewed) from tier1;
// other filters get nothing.
func (f *fakeAPI) List(_ context.Context, flt intent.Filter) ([]intent.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !flt.HasTier || flt.Tier != 1 {
		return nil, nil
	}
	var out []intent.Intent
	for _, it := range f.tier1 {
		if flt.Unreviewed && it.Reviewed {
			continue
		}
		out = append(out, it)
	}
	return out, nil
}

func (f *fakeAPI) Review(_ context.Context, id, operator, note string, flag bool) (intent.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reviews = append(f.reviews, reviewCall{ID: id, Operator: operator, Note: note, Flag: flag})
	if f.reviewErr != nil {
		return intent.Intent{}, f.reviewErr
	}
	for i, it := range f.tier1 {
		if it.ID == id && it.State.Terminal() && !it.Reviewed {
			f.tier1[i].Reviewed = true
			return f.tier1[i], nil
		}
	}
	return intent.Intent{}, fmt.Errorf("review %s: %w", id, engine.ErrNotReviewable)
}

func (f *fakeAPI) reviewCalls() []reviewCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]reviewCall(nil), f.reviews...)
}

func (f *fakeAPI) VerifyAudit(context.Context) (engine.AuditReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verifies++
	return f.audit, f.auditErr
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

// Cancel withdraws a pending intent, or a Tier 1 intent that has not
// finished; a finished one is refused as the engine refuses it.
func (f *fakeAPI) Cancel(_ context.Context, id, by, reason string) (intent.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancels = append(f.cancels, decisionCall{ID: id, Operator: by, Reason: reason})
	for i, it := range f.pending {
		if it.ID == id {
			f.pending = append(f.pending[:i], f.pending[i+1:]...)
			it.State, it.DecidedBy, it.DecisionReason = intent.StateCancelled, by, reason
			return it, nil
		}
	}
	for i, it := range f.tier1 {
		if it.ID != id {
			continue
		}
		if it.State.Terminal() {
			return it, fmt.Errorf("cancel intent %s: %w (it is %s)", id, engine.ErrNotCancellable, it.State)
		}
		it.State, it.DecidedBy, it.DecisionReason = intent.StateCancelled, by, reason
		f.tier1[i] = it
		return it, nil
	}
	return intent.Intent{}, fmt.Errorf("cancel intent %s: %w", id, engine.ErrNotFound)
}

// Retry answers a retry of a failed intent in tier1 (the fake's finished
// intents) with a new queued intent; the second for the same one answers
// the first, Existing set.
func (f *fakeAPI) Retry(_ context.Context, id, by, reason string) (engine.SubmitResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.retries = append(f.retries, decisionCall{ID: id, Operator: by, Reason: reason})
	for _, it := range f.tier1 {
		if it.ID != id {
			continue
		}
		if it.State != intent.StateFailed {
			return engine.SubmitResult{}, fmt.Errorf("retry intent %s: %w (it is %s; only a failed intent can be retried)", id, engine.ErrNotRetryable, it.State)
		}
		next := intent.Intent{ID: "int_01JPB9RETRY00000000000001", Type: it.Type, Actor: by, State: intent.StateQueued, Tier: it.Tier}
		return engine.SubmitResult{Intent: next, Existing: len(f.retries) > 1}, nil
	}
	return engine.SubmitResult{}, fmt.Errorf("retry intent %s: %w", id, engine.ErrNotFound)
}

func (f *fakeAPI) PauseScheduler(_ context.Context, operator, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.schedules = append(f.schedules, decisionCall{ID: "pause", Operator: operator, Reason: reason})
	if p := f.snap.Layer2.Pause; f.snap.Layer2.Paused && p != nil {
		return fmt.Errorf("pause scheduler: %w (by %s: %s)", engine.ErrAlreadyPaused, p.By, p.Reason)
	}
	f.snap.Layer2.Paused, f.snap.Layer2.Pause = true, &engine.PauseInfo{By: operator, Reason: reason}
	return nil
}

func (f *fakeAPI) ResumeScheduler(_ context.Context, operator, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.schedules = append(f.schedules, decisionCall{ID: "resume", Operator: operator, Reason: reason})
	if !f.snap.Layer2.Paused {
		return fmt.Errorf("resume scheduler: %w", engine.ErrNotPaused)
	}
	f.snap.Layer2.Paused, f.snap.Layer2.Pause = false, nil
	return nil
}

func (f *fakeAPI) PauseType(_ context.Context, operator, typ, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.schedules = append(f.schedules, decisionCall{ID: "pause type:" + typ, Operator: operator, Reason: reason})
	for _, t := range f.snap.Layer2.PausedTypes {
		if t.Type == typ {
			return fmt.Errorf("pause type %s: %w (type %s by %s: %s)", typ, engine.ErrAlreadyPaused, typ, t.By, t.Reason)
		}
	}
	f.snap.Layer2.PausedTypes = append(f.snap.Layer2.PausedTypes, engine.TypePause{Type: typ, PauseInfo: engine.PauseInfo{By: operator, Reason: reason, Since: f.snap.At}})
	return nil
}

func (f *fakeAPI) ResumeType(_ context.Context, operator, typ, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.schedules = append(f.schedules, decisionCall{ID: "resume type:" + typ, Operator: operator, Reason: reason})
	for i, t := range f.snap.Layer2.PausedTypes {
		if t.Type == typ {
			f.snap.Layer2.PausedTypes = append(f.snap.Layer2.PausedTypes[:i:i], f.snap.Layer2.PausedTypes[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("resume type %s: %w (type %s is not paused)", typ, engine.ErrNotPaused, typ)
}

func (f *fakeAPI) PauseActor(_ context.Context, operator, actor, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.schedules = append(f.schedules, decisionCall{ID: "pause actor:" + actor, Operator: operator, Reason: reason})
	for _, a := range f.snap.Layer2.PausedActors {
		if a.Actor == actor {
			return fmt.Errorf("pause actor %s: %w (by %s: %s)", actor, engine.ErrAlreadyPaused, a.By, a.Reason)
		}
	}
	f.snap.Layer2.PausedActors = append(f.snap.Layer2.PausedActors, engine.ActorPause{Actor: actor, PauseInfo: engine.PauseInfo{By: operator, Reason: reason, Since: f.snap.At}})
	return nil
}

func (f *fakeAPI) ResumeActor(_ context.Context, operator, actor, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.schedules = append(f.schedules, decisionCall{ID: "resume actor:" + actor, Operator: operator, Reason: reason})
	for i, a := range f.snap.Layer2.PausedActors {
		if a.Actor == actor {
			f.snap.Layer2.PausedActors = append(f.snap.Layer2.PausedActors[:i:i], f.snap.Layer2.PausedActors[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("resume actor %s: %w", actor, engine.ErrNotPaused)
}

func (f *fakeAPI) scheduleCalls() []decisionCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]decisionCall(nil), f.schedules...)
}

func (f *fakeAPI) retryCalls() []decisionCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]decisionCall(nil), f.retries...)
}

func (f *fakeAPI) cancelCalls() []decisionCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]decisionCall(nil), f.cancels...)
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

// Search filters narratives like the store does: words (every one, in any
// field, case-insensitive), exact actor, action and intent, the time range
// and BeforeID; newest first, at most Limit (50 when zero).
func (f *fakeAPI) Search(ctx context.Context, q clarity.Query) ([]clarity.Entry, error) {
	p, err := f.SearchPage(ctx, q)
	return p.Entries, err
}

// SearchPage is Search, stopping early as the store does when readBudget
// is set: after reading that many records of the id range with the page
// not full, it says where it stopped.
func (f *fakeAPI) SearchPage(_ context.Context, q clarity.Query) (clarity.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.searches = append(f.searches, q)
	if f.searchErr != nil {
		return clarity.Page{}, f.searchErr
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	words := strings.Fields(strings.ToLower(q.Text))
	var out []clarity.Entry
	read, last := 0, int64(0)
	for _, e := range f.narratives {
		if q.BeforeID > 0 && e.ID >= q.BeforeID || q.AfterID > 0 && e.ID <= q.AfterID {
			continue
		}
		if f.readBudget > 0 && read == f.readBudget {
			return clarity.Page{Entries: out, ResumeBefore: last}, nil
		}
		read, last = read+1, e.ID
		text := strings.ToLower(e.Who + " " + e.What + " " + e.Where + " " + e.How + " " + strings.Join(e.Why, " "))
		switch {
		case q.Actor != "" && e.Who != q.Actor,
			q.Action != "" && e.What != q.Action,
			q.IntentID != "" && e.IntentID != q.IntentID,
			!q.Since.IsZero() && e.When.Before(q.Since),
			!q.Until.IsZero() && !e.When.Before(q.Until),
			!matchesAll(text, words):
			continue
		}
		out = append(out, e)
		if len(out) == limit {
			break
		}
	}
	return clarity.Page{Entries: out}, nil
}

func (f *fakeAPI) searchCalls() []clarity.Query {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]clarity.Query(nil), f.searches...)
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

// tier1Intent is a Tier 1 intent in state, finished age ago.
func tier1Intent(id, typ, actor string, state intent.State, age time.Duration) intent.Intent {
	ended := fixedNow.Add(-age)
	it := intent.Intent{
		ID: id, Type: typ, Actor: actor,
		Payload:  json.RawMessage(`{"model":"ranker-v7","replicas":3}`),
		Priority: 5, State: state, Tier: 1, Attempts: 1, Worker: "worker-03",
		Decision: intent.Decision{Approved: true, AutonomyTier: 1, Alignment: 0.7, RoutedTo: "scheduler",
			Reasoning: []string{"type " + typ + " is Tier 1: runs now, reviewed after the fact"}},
		CreatedAt: ended.Add(-40 * time.Second), UpdatedAt: ended,
	}
	if state == intent.StateFailed {
		it.Attempts, it.LastError = 3, "handler timeout after 30s"
	}
	return it
}

// fixtureTier1 is the review list the goldens show, plus one still running.
func fixtureTier1() []intent.Intent {
	return []intent.Intent{
		tier1Intent("int_01JPB8A1REVIEW0000000000AA", "deploy_model", "agent:ml-ops", intent.StateCompleted, 2*time.Minute),
		tier1Intent("int_01JPB8A2REVIEW0000000000BB", "modify_config", "agent:tuner", intent.StateFailed, 9*time.Minute),
		tier1Intent("int_01JPB8A3REVIEW0000000000CC", "execute_sandbox", "agent:researcher", intent.StateCompleted, 31*time.Minute),
		tier1Intent("int_01JPB8A4RUNNING000000000DD", "deploy_model", "agent:ml-ops", intent.StateRunning, 0),
	}
}

// storyIntent is the intent whose story the narrative fixtures tell in
// full.
const storyIntent = "int_01JPB7Q4Z8XK3M2N5R6T7V8W9A"

// fixtureNarratives is a history of n records, one every 3 s back from
// fixedNow, newest first. The newest intent (storyIntent) has the last five
// records: received → routed → approved → dispatched → completed; older
// intents cycle through a failure and a denial.
func fixtureNarratives(n int) []clarity.Entry {
	type step struct{ who, what, where, how, result, why string }
	stories := [][]step{
		{{"agent:release-bot", "intent_received", "api", "submit", "received", "deploy_production submitted over HTTP by agent:release-bot"},
			{"governance", "intent_routed", "router", "autonomy_tiers", "pending_approval", "type deploy_production is Tier 0: a human must approve"},
			{"ops", "intent_approved", "console", "operator_decision", "approved", "Operator ops approved it: approved in console"},
			{"scheduler", "intent_dispatched", "worker-04", "least_loaded", "dispatched", "least-loaded healthy worker (0 of 1 slots busy)"},
			{"worker-04", "intent_completed", "worker-04", "handler", "completed", "handler simulated:deploy finished in 412ms"}},
		{{"agent:summarizer", "intent_received", "cortex", "submit", "received", "generate_summary submitted by the demo cortex"},
			{"governance", "intent_routed", "router", "autonomy_tiers", "routed", "type generate_summary is Tier 2: direct"},
			{"scheduler", "intent_dispatched", "worker-02", "least_loaded", "dispatched", "least-loaded healthy worker (0 of 1 slots busy)"},
			{"worker-02", "intent_failed", "worker-02", "handler", "failed", "handler timeout after 5s (attempt 3 of 3)"}},
		{{"agent:architect", "intent_received", "api", "submit", "received", "change_charter submitted over HTTP by agent:architect"},
			{"governance", "intent_routed", "router", "autonomy_tiers", "pending_approval", "type change_charter is Tier 0: a human must approve"},
			{"ops", "intent_denied", "console", "operator_decision", "denied", "Operator ops denied it: change freeze until Monday"}},
	}
	// Newest intent first, each story in order; then lay them out in time.
	var chunks [][]clarity.Entry
	count := 0
	for i := 0; count < n; i++ {
		id := storyIntent
		if i > 0 {
			id = fmt.Sprintf("int_01JPB6%020d", i)
		}
		var chunk []clarity.Entry
		for _, st := range stories[i%len(stories)] {
			risk, conf := 0.1, 0.95
			if st.result == "failed" || st.result == "denied" {
				risk, conf = 0.55, 0.8
			}
			chunk = append(chunk, clarity.Entry{Record: clarity.Record{
				Who: st.who, What: st.what, Where: st.where, How: st.how, Result: st.result, Why: []string{st.why},
				IntentID: id, Context: map[string]any{"type": strings.SplitN(st.why, " ", 2)[0], "priority": 7},
				Confidence: conf, Risk: risk, Transparency: clarity.TransparencyComplete,
			}})
		}
		chunks = append(chunks, chunk)
		count += len(chunk)
	}
	var chrono []clarity.Entry
	for i := len(chunks) - 1; i >= 0; i-- {
		chrono = append(chrono, chunks[i]...)
	}
	chrono = chrono[len(chrono)-n:]
	out := make([]clarity.Entry, n)
	for i, e := range chrono {
		e.ID = int64(i + 1)
		e.Seq = e.ID + 1000
		sum := sha256.Sum256([]byte(fmt.Sprint(e.Seq)))
		e.Hash = hex.EncodeToString(sum[:])
		e.When = fixedNow.Add(-time.Duration(n-i)*3*time.Second + time.Second)
		out[n-1-i] = e
	}
	return out
}

// fixtureAudit is an intact chain whose head is the newest narrative's
// entry.
func fixtureAudit() engine.AuditReport {
	return engine.AuditReport{OK: true, Entries: 1600, HeadSeq: 1600,
		HeadHash: "9f2c4e1a7b3d5f6e8a0c2b4d6f8e0a1c3b5d7f9e1a3c5b7d9f0e2a4c6b8d0f1e", Checkpoints: 3}
}

// fixtureHealth is a watchdog verdict with the queue past its warn depth
// and one alert firing for it.
func fixtureHealth() engine.HealthReport {
	checked := fixedNow.Add(-4 * time.Second)
	return engine.HealthReport{
		CheckedAt: checked, Interval: 15 * time.Second, Checks: 240, Status: watchdog.Warn, Ready: true,
		Readiness: watchdog.Readiness{State: watchdog.ReadinessReady},
		Components: []watchdog.ComponentReport{
			{Name: watchdog.NameHTM, Status: watchdog.Warn, Ready: true, SLOBreaches: 7,
				Reason: "Queue depth 1234/1000 (above warning threshold)"},
			{Name: watchdog.NameScheduler, Status: watchdog.OK, Ready: true,
				Reason: "Dispatching 48.6/s; 4 of 6 workers busy"},
		},
		Alerts: []watchdog.Alert{{
			ID: "alr_20250314T150220_3f9a1c", Key: "htm_orchestrator/queue_depth", Component: watchdog.NameHTM,
			Condition: "queue_depth", Severity: watchdog.Warn, Peak: watchdog.Warn,
			Summary:   "Queue depth 1234/1000 (above warning threshold)",
			FirstSeen: fixedNow.Add(-7 * time.Minute), LastSeen: checked, Count: 28,
		}},
		SLOBreaches: 7,
	}
}

// fixtureLayer2 is the safeguards' facts of a healthy pool.
func fixtureLayer2() engine.Layer2Facts {
	return engine.Layer2Facts{PoolTarget: 6, PoolMin: 6, PoolMax: 32, WorkersHealthy: 6, RateLimited: 12, Shed: 0, Rerouted: 1,
		Safeguards: map[string]bool{"htm_rate_limit": true, "htm_load_shedding": true}}
}
