package store

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

func TestApplyCreateRoundTrip(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	in := newIntent("int_01")
	in.Context = map[string]any{"mission": "extend_grace", "revenue": 0.8}
	in.IdempotencyKey = "key-1"
	in.Decision.Votes = []intent.Vote{{Voter: "health", Approve: true, Reason: "ok"}}
	in.NotBefore = t0.Add(time.Second)
	in.Deadline = t0.Add(time.Hour)
	res, err := tb.s.Apply(ctx, &intent.Change{Create: in, Records: []clarity.Record{rec("intake", "intent_received")}})
	if err != nil || res.Existing != nil {
		t.Fatalf("Apply: %+v, %v", res, err)
	}
	got, err := tb.s.Get(ctx, "int_01")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, *in) {
		t.Errorf("Get returned\n%+v\nwant\n%+v", got, *in)
	}
}

func TestApplyIdempotencyKey(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	first := newIntent("int_a")
	first.IdempotencyKey = "retry-me"
	if _, err := tb.s.Apply(ctx, &intent.Change{Create: first, Records: []clarity.Record{rec("intake", "intent_received")}}); err != nil {
		t.Fatal(err)
	}
	again := newIntent("int_b")
	again.IdempotencyKey = "retry-me"
	res, err := tb.s.Apply(ctx, &intent.Change{Create: again, Records: []clarity.Record{rec("intake", "intent_received")}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Existing == nil || res.Existing.ID != "int_a" {
		t.Fatalf("Existing = %+v, want int_a", res.Existing)
	}
	if _, err := tb.s.Get(ctx, "int_b"); !errors.Is(err, intent.ErrNotFound) {
		t.Errorf("the second intent was stored: %v", err)
	}
	if es, _ := tb.s.Search(ctx, searchAll); len(es) != 1 {
		t.Errorf("%d narratives, want 1: the duplicate's records were written", len(es))
	}
}

// TestBatchIsolatesFailedChanges queues changes that fail on their own
// beside good ones into one batch: only the bad ones fail.
func TestBatchIsolatesFailedChanges(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	if _, err := tb.s.Apply(ctx, &intent.Change{Create: newIntent("int_old")}); err != nil {
		t.Fatal(err)
	}
	keyed := func(id, key string) *intent.Intent {
		in := newIntent(id)
		in.IdempotencyKey = key
		return in
	}
	changes := []*intent.Change{
		{Create: keyed("int_1", "k1"), Records: []clarity.Record{rec("intake", "received 1")}},
		{Create: keyed("int_2", "k1"), Records: []clarity.Record{rec("intake", "received 2")}}, // key taken in this batch
		{Update: newIntent("int_missing"), Records: []clarity.Record{rec("worker", "done?")}},  // unknown ID
		{Create: newIntent("int_old"), Records: []clarity.Record{rec("intake", "dup id")}},     // ID taken
		{Records: []clarity.Record{rec("hub", "vote_cast")}},
	}
	type result struct {
		res intent.Result
		err error
	}
	results := make([]result, len(changes))
	var wg sync.WaitGroup
	release := pause(t, tb.s)
	for i, c := range changes {
		wg.Add(1)
		tb.s.ApplyAsync(c, func(r intent.Result, err error) {
			results[i] = result{r, err}
			wg.Done()
		})
	}
	release()
	wg.Wait()
	if st := tb.s.Stats(); st.Batches != 2 {
		t.Fatalf("%d batches, want 2 (the first Apply and one for the rest)", st.Batches)
	}
	if results[0].err != nil || results[0].res.Existing != nil {
		t.Errorf("change 0: %+v", results[0])
	}
	if results[1].err != nil || results[1].res.Existing == nil || results[1].res.Existing.ID != "int_1" {
		t.Errorf("change 1 (key taken in the batch): %+v, want Existing int_1", results[1])
	}
	if !errors.Is(results[2].err, intent.ErrNotFound) {
		t.Errorf("change 2 (unknown ID): %v, want ErrNotFound", results[2].err)
	}
	if results[3].err == nil {
		t.Error("change 3 (duplicate ID) succeeded")
	}
	if results[4].err != nil {
		t.Errorf("change 4: %v", results[4].err)
	}
	es, err := tb.s.Search(ctx, searchAll)
	if err != nil {
		t.Fatal(err)
	}
	var whats []string
	for _, e := range es {
		whats = append(whats, e.What)
	}
	if want := []string{"vote_cast", "received 1"}; !reflect.DeepEqual(whats, want) {
		t.Errorf("records written: %q, want %q", whats, want)
	}
	if rep, err := tb.s.VerifyAudit(ctx); err != nil || !rep.OK {
		t.Errorf("VerifyAudit: %+v, %v", rep, err)
	}
}

func TestApplyRejectsInvalidChanges(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	nan := rec("x", "y")
	nan.Risk = nan.Risk / 0 * 0 // NaN
	for _, tc := range []struct {
		name string
		c    *intent.Change
		want error
	}{
		{"nil change", nil, ErrInvalidChange},
		{"create and update", &intent.Change{Create: newIntent("a"), Update: newIntent("a")}, ErrInvalidChange},
		{"intent without ID", &intent.Change{Create: &intent.Intent{Type: "t"}}, ErrInvalidChange},
		{"record without who", &intent.Change{Records: []clarity.Record{rec("", "y")}}, ErrInvalidRecord},
		{"record without what", &intent.Change{Records: []clarity.Record{rec("x", " ")}}, ErrInvalidRecord},
		{"NaN risk", &intent.Change{Records: []clarity.Record{nan}}, ErrInvalidRecord},
		{"time out of range", &intent.Change{Records: []clarity.Record{{Who: "x", What: "y", When: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}}}, ErrInvalidRecord},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tb.s.Apply(ctx, tc.c); !errors.Is(err, tc.want) {
				t.Errorf("Apply: %v, want %v", err, tc.want)
			}
			var got error
			tb.s.ApplyAsync(tc.c, func(_ intent.Result, err error) { got = err })
			if !errors.Is(got, tc.want) {
				t.Errorf("ApplyAsync: %v, want %v", got, tc.want)
			}
		})
	}
	if es, _ := tb.s.Search(ctx, searchAll); len(es) != 0 {
		t.Errorf("%d narratives written", len(es))
	}
}

func TestUpdateWritesOnlyMutableFields(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	orig := newIntent("int_u")
	orig.IdempotencyKey = "k"
	if _, err := tb.s.Apply(ctx, &intent.Change{Create: orig}); err != nil {
		t.Fatal(err)
	}
	upd := *orig
	// immutable: must not change
	upd.Type, upd.Actor, upd.Priority, upd.IdempotencyKey = "changed", "mallory", 9, "other"
	upd.Payload = json.RawMessage(`{"evil":true}`)
	upd.Context = map[string]any{"x": 1.0}
	upd.CreatedAt = t0.Add(time.Hour)
	// mutable
	upd.State, upd.Tier, upd.Attempts, upd.LastError, upd.Worker = intent.StateCompleted, 3, 2, "timeout", "w-2"
	upd.UpdatedAt, upd.NotBefore, upd.Deadline = t0.Add(time.Minute), t0.Add(2*time.Minute), t0.Add(3*time.Minute)
	upd.DecidedBy, upd.DecisionReason, upd.Reviewed = "ada", "looks fine", true
	upd.Decision = intent.Decision{Approved: true, AutonomyTier: 3, RequiresVote: true, RoutedTo: "unified_logic_hub"}
	if _, err := tb.s.Apply(ctx, &intent.Change{Update: &upd}); err != nil {
		t.Fatal(err)
	}
	got, err := tb.s.Get(ctx, "int_u")
	if err != nil {
		t.Fatal(err)
	}
	want := upd
	want.Type, want.Actor, want.Priority, want.IdempotencyKey = orig.Type, orig.Actor, orig.Priority, orig.IdempotencyKey
	want.Payload, want.Context, want.CreatedAt = orig.Payload, orig.Context, orig.CreatedAt
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after Update:\n%+v\nwant\n%+v", got, want)
	}
}

func TestRecordFillsWhenAndKeepsFields(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	r := clarity.Record{Who: "governance_router", What: "intent_routed", Where: "router",
		Why: []string{"tier 2", "alignment 0.8"}, How: "table", IntentID: "int_9",
		Context: map[string]any{"tier": 2.0, "flags": []any{"a", true}}, Result: "approved",
		Confidence: 0.75, Risk: 0.25, Transparency: clarity.TransparencyPartial}
	given := r
	given.When = t0.Add(-time.Hour)
	if err := tb.s.Record(ctx, r, given); err != nil {
		t.Fatal(err)
	}
	es, err := tb.s.Search(ctx, searchAll)
	if err != nil || len(es) != 2 {
		t.Fatalf("Search: %d, %v", len(es), err)
	}
	r.When = t0 // from the fake clock
	for i, want := range []clarity.Record{given, r} {
		if !reflect.DeepEqual(es[i].Record, want) {
			t.Errorf("entry %d:\n%+v\nwant\n%+v", i, es[i].Record, want)
		}
	}
	if es[0].ID != 2 || es[0].Seq != 2 || len(es[0].Hash) != 64 {
		t.Errorf("newest entry: id %d seq %d hash %q", es[0].ID, es[0].Seq, es[0].Hash)
	}
}

// TestApplyAsyncKeepsOrder checks that changes are applied in the order
// they were queued, and that done runs once each.
func TestApplyAsyncKeepsOrder(t *testing.T) {
	t.Parallel()
	tb := setup(t, func(o *Options) { o.BatchMax = 7 })
	const n = 500
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		r := rec("scheduler", "intent_dispatched")
		r.IntentID = "int_" + strconv.Itoa(i)
		tb.s.ApplyAsync(&intent.Change{Records: []clarity.Record{r}}, func(_ intent.Result, err error) {
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			wg.Done()
		})
	}
	wg.Wait()
	for i, v := range order {
		if v != i {
			t.Fatalf("done calls out of order at %d: got change %d", i, v)
		}
	}
	es, err := tb.s.Search(context.Background(), clarity.Query{Limit: n})
	if err != nil || len(es) != n {
		t.Fatalf("Search: %d, %v", len(es), err)
	}
	for k, e := range es { // newest first
		i := n - 1 - k
		if want := "int_" + strconv.Itoa(i); e.IntentID != want || e.Seq != int64(i+1) {
			t.Fatalf("entry %d: intent %q seq %d, want %q seq %d", k, e.IntentID, e.Seq, want, i+1)
		}
	}
	if st := tb.s.Stats(); st.Changes != n || st.Records != n {
		t.Errorf("stats: %+v", st)
	}
}

// TestEmptyChangeIsABarrier: an empty change writes nothing and is
// answered only once every change queued before it is.
func TestEmptyChangeIsABarrier(t *testing.T) {
	t.Parallel()
	tb := setup(t, func(o *Options) { o.BatchMax = 3 })
	const n = 40
	var done atomic.Int32
	for i := range n {
		r := rec("scheduler", "intent_dispatched")
		r.IntentID = "int_" + strconv.Itoa(i)
		tb.s.ApplyAsync(&intent.Change{Records: []clarity.Record{r}}, func(_ intent.Result, err error) {
			if err != nil {
				t.Error(err)
			}
			done.Add(1)
		})
	}
	got := make(chan int32, 1)
	tb.s.ApplyAsync(&intent.Change{}, func(_ intent.Result, err error) {
		if err != nil {
			t.Error(err)
		}
		got <- done.Load()
	})
	if before := <-got; before != n {
		t.Fatalf("the barrier was answered after %d of the %d changes before it", before, n)
	}
	es, err := tb.s.Search(context.Background(), clarity.Query{Limit: 2 * n})
	if err != nil || len(es) != n {
		t.Fatalf("Search: %d records, %v; want %d (the barrier writes none)", len(es), err, n)
	}
}

func TestConcurrentApplyIsDurableAndChained(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	const workers, each = 16, 40
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := rec("worker", "intent_completed")
				r.IntentID = strconv.Itoa(w*each + i)
				if err := tb.s.Record(ctx, r); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	tb.reopen(t)
	rep, err := tb.s.VerifyAudit(ctx)
	if err != nil || !rep.OK || rep.Entries != workers*each {
		t.Fatalf("VerifyAudit: %+v, %v", rep, err)
	}
}

func TestApplyContextCancelled(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tb.s.Apply(ctx, &intent.Change{Records: []clarity.Record{rec("a", "b")}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply with a cancelled context: %v", err)
	}
}

// FileSizes names each of the store's files with its size: the database
// and its log, and once the index has caught up, the index's.
func TestFileSizes(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	writeRecords(t, tb.s, 20, "alice")
	if err := tb.s.FlushIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	sizes := tb.s.FileSizes()
	for _, name := range []string{"db", "wal", "search"} {
		if sizes[name] <= 0 {
			t.Fatalf("FileSizes() = %v: no %s", sizes, name)
		}
	}
	if st := tb.s.Stats(); st.Records != 20 || st.Batches < 1 || st.FailedBatches != 0 {
		t.Fatalf("Stats() = %+v", st)
	}
}
