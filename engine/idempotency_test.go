package engine_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/worker"
	"grace/store"
)

// idemBundle is an engine on a real SQLite store on disk, not started,
// with a fake clock.
type idemBundle struct {
	e   *engine.Engine
	st  *store.Store
	clk *clock.Fake
}

var idemEpoch = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func idemConfig(edit ...func(*engine.Config)) engine.Config {
	cfg := engine.Default()
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	cfg.Safeguards[engine.SafeguardRateLimit] = engine.SafeguardConfig{Enabled: false}
	for _, f := range edit {
		f(&cfg)
	}
	return cfg
}

func setupIdem(t *testing.T, edit ...func(*engine.Config)) *idemBundle {
	t.Helper()
	cfg := idemConfig(edit...)
	cfg.DB = filepath.Join(t.TempDir(), "grace.db")
	st, err := store.Open(t.Context(), cfg.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	clk := clock.NewFake(idemEpoch)
	e, err := engine.New(cfg, engine.Deps{Store: st, Journal: st, Searcher: st, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop) // before the store closes
	return &idemBundle{e: e, st: st, clk: clk}
}

// intents is how many intents the store holds.
func (b *idemBundle) intents(t *testing.T) int {
	t.Helper()
	list, err := b.e.List(t.Context(), intent.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// records returns the records named what, newest first.
func (b *idemBundle) records(t *testing.T, what string) []clarity.Entry {
	t.Helper()
	es, err := b.e.Search(t.Context(), clarity.Query{Action: what, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// conflictOf asserts err is an idempotency conflict and returns it.
func conflictOf(t *testing.T, err error) *engine.IdempotencyConflictError {
	t.Helper()
	var c *engine.IdempotencyConflictError
	if !errors.Is(err, engine.ErrIdempotencyConflict) || !errors.As(err, &c) {
		t.Fatalf("err = %v, want an *IdempotencyConflictError", err)
	}
	return c
}

// original is the submission the tests retry, in variants.
func original() intent.Submission {
	return intent.Submission{
		Type: "query_knowledge", Actor: "agent.seven", Priority: 7, IdempotencyKey: "req-42",
		Payload: json.RawMessage(`{"b":[1,2.50,{"x":null}],"a":"é","n":9007199254740993}`),
		Context: map[string]any{"revenue_impact": true, "score": 0.8, "tries": 3},
	}
}

func TestIdempotencySameSubmissionGetsTheOriginal(t *testing.T) {
	t.Parallel()
	b := setupIdem(t)
	first, err := b.e.Submit(t.Context(), original())
	if err != nil || first.Existing {
		t.Fatalf("first = %+v, %v", first, err)
	}
	for name, edit := range map[string]func(*intent.Submission){
		"as sent":      func(*intent.Submission) {},
		"actor padded": func(s *intent.Submission) { s.Actor = "  agent.seven " },
		"keys reordered": func(s *intent.Submission) {
			s.Payload = json.RawMessage(`{"n":9007199254740993,"a":"é","b":[1,2.50,{"x":null}]}`)
		},
		"whitespace": func(s *intent.Submission) {
			s.Payload = json.RawMessage("{ \"b\" : [ 1 , 2.50 , { \"x\" : null } ] ,\n\t\"a\" : \"é\", \"n\": 9007199254740993 }")
		},
		"escapes and numbers": func(s *intent.Submission) {
			s.Payload = json.RawMessage(`{"b":[1.0,25e-1,{"x":null}],"a":"\u00e9","n":9007199254740993}`)
		},
		"context decoded JSON": func(s *intent.Submission) {
			s.Context = map[string]any{"tries": 3.0, "score": 0.8, "revenue_impact": true}
		},
	} {
		sub := original()
		edit(&sub)
		again, err := b.e.Submit(t.Context(), sub)
		if err != nil || !again.Existing || again.Intent.ID != first.Intent.ID {
			t.Errorf("%s: %+v, %v; want the original %s", name, again, err, first.Intent.ID)
		}
	}
	if n := b.intents(t); n != 1 {
		t.Errorf("%d intents stored, want 1", n)
	}
	if n := len(b.records(t, engine.WhatReceived)); n != 1 {
		t.Errorf("%d %s records, want 1", n, engine.WhatReceived)
	}
	if n := len(b.records(t, engine.WhatIdempotencyConflict)); n != 0 {
		t.Errorf("%d conflict records for retries of the same submission", n)
	}
}

func TestIdempotencyConflictNamesEachDifferingField(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		edit   func(*intent.Submission)
		fields []string
	}{
		{"type", func(s *intent.Submission) { s.Type = "schedule_task" }, []string{"type"}},
		{"payload value", func(s *intent.Submission) {
			s.Payload = json.RawMessage(`{"b":[1,2.50,{"x":null}],"a":"e","n":9007199254740993}`)
		}, []string{"payload"}},
		{"payload number past float64", func(s *intent.Submission) {
			s.Payload = json.RawMessage(`{"b":[1,2.50,{"x":null}],"a":"é","n":9007199254740992}`)
		}, []string{"payload"}},
		{"payload key added", func(s *intent.Submission) {
			s.Payload = json.RawMessage(`{"b":[1,2.50,{"x":null}],"a":"é","n":9007199254740993,"more":1}`)
		}, []string{"payload"}},
		{"payload array order", func(s *intent.Submission) {
			s.Payload = json.RawMessage(`{"b":[2.50,1,{"x":null}],"a":"é","n":9007199254740993}`)
		}, []string{"payload"}},
		{"payload left out", func(s *intent.Submission) { s.Payload = nil }, []string{"payload"}},
		{"context value", func(s *intent.Submission) { s.Context["score"] = 0.9 }, []string{"context"}},
		{"context left out", func(s *intent.Submission) { s.Context = nil }, []string{"context"}},
		{"priority", func(s *intent.Submission) { s.Priority = 5 }, []string{"priority"}},
		{"all four", func(s *intent.Submission) {
			s.Type, s.Payload, s.Context, s.Priority = "schedule_task", json.RawMessage(`{}`), map[string]any{"x": 1}, 0
		}, []string{"type", "payload", "context", "priority"}},
	}
	b := setupIdem(t)
	first, err := b.e.Submit(t.Context(), original())
	if err != nil {
		t.Fatal(err)
	}
	id := first.Intent.ID
	for i, c := range cases {
		sub := original()
		c.edit(&sub)
		res, err := b.e.Submit(t.Context(), sub)
		if err == nil {
			t.Errorf("%s: accepted (%+v), want a conflict", c.name, res)
			continue
		}
		conflict := conflictOf(t, err)
		if conflict.ExistingID != id || conflict.Key != "req-42" || conflict.Actor != "agent.seven" || !slices.Equal(conflict.Fields, c.fields) {
			t.Errorf("%s: conflict = %+v, want holder %s, key req-42, fields %v", c.name, conflict, id, c.fields)
		}
		msg := err.Error()
		if !strings.Contains(msg, id) || !strings.Contains(msg, `"req-42"`) {
			t.Errorf("%s: message %q does not name the holder and the key", c.name, msg)
		}
		for _, f := range c.fields {
			if !strings.Contains(msg, f) {
				t.Errorf("%s: message %q does not name %s", c.name, msg, f)
			}
		}
		if n := len(b.records(t, engine.WhatIdempotencyConflict)); n != i+1 {
			t.Errorf("%s: %d conflict records, want %d", c.name, n, i+1)
		}
	}
	if n := b.intents(t); n != 1 {
		t.Fatalf("%d intents stored, want 1: a refused submission wrote one", n)
	}
	if n := len(b.records(t, engine.WhatReceived)); n != 1 {
		t.Fatalf("%d %s records, want 1", n, engine.WhatReceived)
	}
	r := b.records(t, engine.WhatIdempotencyConflict)[0] // the newest: "all four"
	if r.Who != "agent.seven" || r.IntentID != id || r.Result != "refused" || len(r.Why) < 2 {
		t.Fatalf("conflict record = %+v", r.Record)
	}
	fields, _ := r.Context["fields"].([]any)
	if len(fields) != 4 || r.Context["idempotency_key"] != "req-42" || r.Context["type"] != "schedule_task" {
		t.Fatalf("conflict record context = %v", r.Context)
	}
}

func TestIdempotencyConflictKeepsMaskedValuesOut(t *testing.T) {
	t.Parallel()
	b := setupIdem(t) // masking.fields defaults include password
	sub := intent.Submission{Type: "query_knowledge", Actor: "agent.m", IdempotencyKey: "k1",
		Payload: json.RawMessage(`{"q":"depth","db":{"password":"hunter2"}}`)}
	first, err := b.e.Submit(t.Context(), sub)
	if err != nil {
		t.Fatal(err)
	}
	// The same submission: the original comes back masked.
	again, err := b.e.Submit(t.Context(), sub)
	if err != nil || !again.Existing || strings.Contains(string(again.Intent.Payload), "hunter2") ||
		!strings.Contains(string(again.Intent.Payload), engine.MaskedValue) {
		t.Fatalf("retry = %s, %v; want the original, masked", again.Intent.Payload, err)
	}
	// Only the masked value differs: still a conflict, which shows neither.
	sub.Payload = json.RawMessage(`{"q":"depth","db":{"password":"swordfish"}}`)
	_, err = b.e.Submit(t.Context(), sub)
	if c := conflictOf(t, err); c.ExistingID != first.Intent.ID || !slices.Equal(c.Fields, []string{"payload"}) {
		t.Fatalf("conflict = %+v", c)
	}
	recs := b.records(t, engine.WhatIdempotencyConflict)
	if len(recs) != 1 {
		t.Fatalf("%d conflict records, want 1", len(recs))
	}
	text, _ := json.Marshal(recs[0])
	for _, secret := range []string{"hunter2", "swordfish"} {
		if strings.Contains(err.Error(), secret) || strings.Contains(string(text), secret) {
			t.Fatalf("a masked value reached the error or the record: %v / %s", err, text)
		}
	}
}

func TestIdempotencyKeysOfTwoActorsAreIndependent(t *testing.T) {
	t.Parallel()
	b := setupIdem(t)
	subA := intent.Submission{Type: "query_knowledge", Actor: "agent.a", IdempotencyKey: "nightly", Payload: json.RawMessage(`{"who":"a"}`)}
	subB := intent.Submission{Type: "schedule_task", Actor: "agent.b", IdempotencyKey: "nightly", Payload: json.RawMessage(`{"who":"b"}`), Priority: 3}
	a, errA := b.e.Submit(t.Context(), subA)
	bb, errB := b.e.Submit(t.Context(), subB)
	if errA != nil || errB != nil || a.Existing || bb.Existing || a.Intent.ID == bb.Intent.ID {
		t.Fatalf("two actors, one key: %+v, %v / %+v, %v; want two new intents", a, errA, bb, errB)
	}
	if again, err := b.e.Submit(t.Context(), subB); err != nil || !again.Existing || again.Intent.ID != bb.Intent.ID {
		t.Fatalf("agent.b's retry: %+v, %v; want %s", again, err, bb.Intent.ID)
	}
	subA.Payload = subB.Payload
	_, err := b.e.Submit(t.Context(), subA)
	if c := conflictOf(t, err); c.ExistingID != a.Intent.ID || c.Actor != "agent.a" {
		t.Fatalf("agent.a with agent.b's payload: %+v; want agent.a's own %s named", c, a.Intent.ID)
	}
}

// TestIdempotencyConflictWhileQueueFull: with the queue full, a retry
// under a taken key is answered from the store (the original, or the
// conflict), not with queue_full.
func TestIdempotencyConflictWhileQueueFull(t *testing.T) {
	t.Parallel()
	b := setupIdem(t, func(c *engine.Config) { c.HTM.Capacity, c.HTM.WarnDepth, c.HTM.CriticalDepth = 2, 1, 2 })
	sub := intent.Submission{Type: "query_knowledge", Actor: "agent.q", IdempotencyKey: "job-1", Payload: json.RawMessage(`{"n":1}`)}
	first, err := b.e.Submit(t.Context(), sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.e.Submit(t.Context(), intent.Submission{Type: "query_knowledge", Actor: "agent.q"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.e.Submit(t.Context(), intent.Submission{Type: "query_knowledge", Actor: "agent.q"}); !errors.Is(err, engine.ErrQueueFull) {
		t.Fatalf("third submission = %v, want ErrQueueFull", err)
	}
	if again, err := b.e.Submit(t.Context(), sub); err != nil || !again.Existing || again.Intent.ID != first.Intent.ID {
		t.Fatalf("retry while full = %+v, %v; want the original", again, err)
	}
	sub.Payload = json.RawMessage(`{"n":2}`)
	_, err = b.e.Submit(t.Context(), sub)
	if c := conflictOf(t, err); c.ExistingID != first.Intent.ID || errors.Is(err, engine.ErrQueueFull) {
		t.Fatalf("different submission while full = %v; want the conflict naming %s", err, first.Intent.ID)
	}
	if n := b.intents(t); n != 2 {
		t.Fatalf("%d intents stored, want 2", n)
	}
}

// TestIdempotencyConflictUnderConcurrentSubmissions: submissions under one
// key race into the store's group commit (the key may be taken in the
// same batch or an earlier one): one wins, those that match it get it
// back, the others are refused naming it.
func TestIdempotencyConflictUnderConcurrentSubmissions(t *testing.T) {
	t.Parallel()
	b := setupIdem(t)
	if err := b.e.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	const n = 24
	payloads := []json.RawMessage{json.RawMessage(`{"side":"a"}`), json.RawMessage(`{"side":"b"}`)}
	type result struct {
		res engine.SubmitResult
		err error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			res, err := b.e.Submit(t.Context(), intent.Submission{Type: "query_knowledge", Actor: "agent.race",
				IdempotencyKey: "once", Payload: payloads[i%2]})
			results[i] = result{res, err}
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, r := range results {
		if r.err == nil && !r.res.Existing {
			if winner >= 0 {
				t.Fatalf("two new intents under one key: %s and %s", results[winner].res.Intent.ID, r.res.Intent.ID)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no submission won: %+v", results)
	}
	id := results[winner].res.Intent.ID
	refused := 0
	for i, r := range results {
		switch {
		case i == winner:
		case i%2 == winner%2:
			if r.err != nil || !r.res.Existing || r.res.Intent.ID != id {
				t.Errorf("submission %d, same as the winner: %+v, %v; want %s back", i, r.res, r.err, id)
			}
		default:
			refused++
			if c := conflictOf(t, r.err); c.ExistingID != id || !slices.Equal(c.Fields, []string{"payload"}) {
				t.Errorf("submission %d, different: %+v; want the conflict naming %s", i, c, id)
			}
		}
	}
	if got := b.intents(t); got != 1 {
		t.Fatalf("%d intents stored, want 1", got)
	}
	if got := len(b.records(t, engine.WhatIdempotencyConflict)); got != refused {
		t.Fatalf("%d conflict records, want %d", got, refused)
	}
}

// TestIdempotencyConflictRecordsAreThrottled: a storm of conflicting
// retries is recorded like refusals, up to the actor's burst (1000 at once), then
// counted on the next record.
func TestIdempotencyConflictRecordsAreThrottled(t *testing.T) {
	t.Parallel()
	const burst, extra = 1000, 7 // burst: refusalbudget.go's identityRefusalBurst
	st := enginetest.NewStore(64)
	t.Cleanup(func() { _ = st.Close() })
	clk := clock.NewFake(idemEpoch)
	e, err := engine.New(idemConfig(), engine.Deps{Store: st, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	sub := intent.Submission{Type: "query_knowledge", Actor: "agent.storm", IdempotencyKey: "k", Payload: json.RawMessage(`{"try":0}`)}
	if _, err := e.Submit(t.Context(), sub); err != nil {
		t.Fatal(err)
	}
	sub.Payload = json.RawMessage(`{"try":1}`)
	for range burst + extra {
		if _, err := e.Submit(t.Context(), sub); !errors.Is(err, engine.ErrIdempotencyConflict) {
			t.Fatalf("storm: %v, want a conflict", err)
		}
	}
	if n := st.Count(engine.WhatIdempotencyConflict); n != burst {
		t.Fatalf("%d conflict records after %d conflicts at one instant, want %d", n, burst+extra, burst)
	}
	clk.Advance(time.Second)
	if _, err := e.Submit(t.Context(), sub); !errors.Is(err, engine.ErrIdempotencyConflict) {
		t.Fatalf("after a second: %v, want a conflict", err)
	}
	recs := st.Records()
	last := recs[len(recs)-1]
	if last.What != engine.WhatIdempotencyConflict || last.Context["unrecorded_refusals"] != extra {
		t.Fatalf("last record = %s %v; want the conflict counting %d left out", last.What, last.Context, extra)
	}
	if n := len(st.Intents()); n != 1 {
		t.Fatalf("%d intents stored, want 1", n)
	}
}
