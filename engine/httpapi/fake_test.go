package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// fakeAPI is a small in-memory OperatorAPI: enough validation, idempotency
// and approval logic to tell whether the HTTP layer passed calls through
// faithfully and refused bad ones before they arrived.
type fakeAPI struct {
	mu        sync.Mutex
	intents   map[string]intent.Intent
	keys      map[string]string
	next      int
	full      bool
	limited   bool // Submit answers a rate limit
	ready     bool
	lastQuery clarity.Query
	lastList  intent.Filter
	lastOp    string
	calls     int // calls that reached the engine and could change it
	subs      map[chan engine.Event]bool
}

func newFake() *fakeAPI {
	return &fakeAPI{intents: map[string]intent.Intent{}, keys: map[string]string{}, ready: true}
}

var fakeEpoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// state returns a copy of everything the fake holds, to compare before and
// after a refused request.
func (f *fakeAPI) state() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := json.Marshal(struct {
		I map[string]intent.Intent
		K map[string]string
		N int
	}{f.intents, f.keys, f.next})
	return string(b)
}

func (f *fakeAPI) Submit(_ context.Context, sub intent.Submission) (engine.SubmitResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	var probs []engine.Problem
	if sub.Type == "" {
		probs = append(probs, engine.Problem{Field: "type", Reason: "is required"})
	}
	if sub.Actor == "" {
		probs = append(probs, engine.Problem{Field: "actor", Reason: "is required"})
	}
	if sub.Priority < 0 || sub.Priority > 9 {
		probs = append(probs, engine.Problem{Field: "priority", Reason: "must be 0..9"})
	}
	if len(sub.Payload) > 0 {
		var m map[string]any
		if json.Unmarshal(sub.Payload, &m) != nil {
			probs = append(probs, engine.Problem{Field: "payload", Reason: "must be a JSON object"})
		}
	}
	if probs != nil {
		return engine.SubmitResult{}, &engine.ValidationError{Problems: probs}
	}
	if id, ok := f.keys[sub.IdempotencyKey]; ok && sub.IdempotencyKey != "" {
		return engine.SubmitResult{Intent: f.intents[id], Existing: true}, nil
	}
	if f.full {
		return engine.SubmitResult{}, engine.ErrQueueFull
	}
	if f.limited {
		return engine.SubmitResult{}, fmt.Errorf("submit: %w", &engine.RateLimitError{Scope: "actor", Actor: sub.Actor, Rate: 1, Burst: 1, RetryAfter: 1500 * time.Millisecond})
	}
	f.next++
	in := intent.Intent{
		ID: fmt.Sprintf("in-%03d", f.next), Type: sub.Type, Actor: sub.Actor, Payload: sub.Payload,
		Context: sub.Context, Priority: sub.Priority, IdempotencyKey: sub.IdempotencyKey,
		State: intent.StateQueued, Tier: 2, CreatedAt: fakeEpoch.Add(time.Duration(f.next) * time.Second),
		Decision: intent.Decision{Approved: true, AutonomyTier: 2, RoutedTo: "direct", Reasoning: []string{"tier 2"}},
	}
	if sub.Type == "change_charter" {
		in.State, in.Tier = intent.StatePendingApproval, 0
		in.Decision = intent.Decision{AutonomyTier: 0, RequiresHuman: true, RoutedTo: "human"}
	}
	f.intents[in.ID] = in
	if sub.IdempotencyKey != "" {
		f.keys[sub.IdempotencyKey] = in.ID
	}
	return engine.SubmitResult{Intent: in}, nil
}

func (f *fakeAPI) Route(_ context.Context, sub intent.Submission) (intent.Decision, error) {
	return intent.Decision{AutonomyTier: 2}, nil
}

func (f *fakeAPI) Get(_ context.Context, id string) (intent.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in, ok := f.intents[id]
	if !ok {
		return intent.Intent{}, fmt.Errorf("get %s: %w", id, engine.ErrNotFound)
	}
	return in, nil
}

func (f *fakeAPI) List(_ context.Context, flt intent.Filter) ([]intent.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastList = flt
	var out []intent.Intent
	for _, in := range f.intents {
		if (flt.State == "" || in.State == flt.State) && (flt.Actor == "" || in.Actor == flt.Actor) {
			out = append(out, in)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	if flt.Limit > 0 && len(out) > flt.Limit {
		out = out[:flt.Limit]
	}
	return out, nil
}

func (f *fakeAPI) Pending(ctx context.Context) ([]intent.Intent, error) {
	list, err := f.List(ctx, intent.Filter{State: intent.StatePendingApproval})
	sort.Slice(list, func(i, j int) bool { return list[i].CreatedAt.Before(list[j].CreatedAt) })
	return list, err
}

func (f *fakeAPI) decide(id, operator, reason string, approve bool) (intent.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	in, ok := f.intents[id]
	if !ok {
		return intent.Intent{}, fmt.Errorf("decide %s: %w", id, engine.ErrNotFound)
	}
	if in.State != intent.StatePendingApproval {
		return intent.Intent{}, fmt.Errorf("decide %s: %w", id, engine.ErrNotPending)
	}
	if !approve && reason == "" {
		return intent.Intent{}, engine.ErrReasonRequired
	}
	in.State = intent.StateQueued
	if !approve {
		in.State = intent.StateDenied
	}
	in.DecidedBy, in.DecisionReason = operator, reason
	f.lastOp = operator
	f.intents[id] = in
	return in, nil
}

func (f *fakeAPI) Approve(_ context.Context, id, operator, reason string) (intent.Intent, error) {
	return f.decide(id, operator, reason, true)
}

func (f *fakeAPI) Deny(_ context.Context, id, operator, reason string) (intent.Intent, error) {
	return f.decide(id, operator, reason, false)
}

func (f *fakeAPI) Snapshot() engine.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return engine.Snapshot{At: fakeEpoch, QueueDepth: len(f.intents), QueueWarn: 1000, Ready: f.ready}
}

func (f *fakeAPI) Search(_ context.Context, q clarity.Query) ([]clarity.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastQuery = q
	return []clarity.Entry{
		{ID: 2, Record: clarity.Record{Who: "governance", What: "routed", When: fakeEpoch}},
		{ID: 1, Record: clarity.Record{Who: "intake", What: "received", When: fakeEpoch}},
	}, nil
}

// Subscribe registers a subscriber that publish feeds until ctx ends.
func (f *fakeAPI) Subscribe(ctx context.Context) <-chan engine.Event {
	ch := make(chan engine.Event, 16)
	f.mu.Lock()
	if f.subs == nil {
		f.subs = map[chan engine.Event]bool{}
	}
	f.subs[ch] = true
	f.mu.Unlock()
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.subs[ch] {
			delete(f.subs, ch)
			close(ch)
		}
	})
	return ch
}

// publish offers ev to every subscriber; subscribers reports how many
// there are.
func (f *fakeAPI) publish(ev engine.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

func (f *fakeAPI) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}
