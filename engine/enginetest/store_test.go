package enginetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"grace/engine/clarity"
	"grace/engine/intent"
)

var now = time.Date(2025, 11, 15, 12, 0, 0, 0, time.UTC)

func rec(what, id string) clarity.Record {
	return clarity.Record{Who: "test", What: what, When: now, IntentID: id}
}

func setup(t *testing.T) *Store {
	t.Helper()
	s := NewStore(4)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestIdempotencyKeyIsTakenOnce(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t), context.Background()
	a := intent.Intent{ID: "a", IdempotencyKey: "k", State: intent.StateQueued}
	if res, err := s.Apply(ctx, &intent.Change{Create: &a, Records: []clarity.Record{rec("intent_received", "a")}}); err != nil || res.Existing != nil {
		t.Fatalf("first create = %+v, %v", res, err)
	}
	b := intent.Intent{ID: "b", IdempotencyKey: "k", State: intent.StateQueued}
	res, err := s.Apply(ctx, &intent.Change{Create: &b, Records: []clarity.Record{rec("intent_received", "b")}})
	if err != nil || res.Existing == nil || res.Existing.ID != "a" {
		t.Fatalf("second create = %+v, %v; want Existing a", res, err)
	}
	if _, err := s.Get(ctx, "b"); !errors.Is(err, intent.ErrNotFound) {
		t.Fatalf("Get b = %v, want ErrNotFound", err)
	}
	if n := len(s.Records()); n != 1 {
		t.Fatalf("records = %d, want 1 (the duplicate wrote nothing)", n)
	}
}

func TestChangeIsAllOrNothing(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t), context.Background()
	in := intent.Intent{ID: "a", State: intent.StateQueued}
	_, err := s.Apply(ctx, &intent.Change{Create: &in, Records: []clarity.Record{rec("ok", "a"), {What: "no_who", When: now}}})
	if err == nil {
		t.Fatal("a record without who was accepted")
	}
	if len(s.Intents()) != 0 || len(s.Records()) != 0 {
		t.Fatal("a failed change left something behind")
	}
	up := intent.Intent{ID: "missing", State: intent.StateRunning}
	if _, err := s.Apply(ctx, &intent.Change{Update: &up}); !errors.Is(err, intent.ErrNotFound) {
		t.Fatalf("update of an unknown intent = %v, want ErrNotFound", err)
	}
}

func TestUpdateKeepsImmutableFields(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t), context.Background()
	in := intent.Intent{ID: "a", Type: "query_knowledge", Priority: 3, Payload: []byte(`{}`), State: intent.StateQueued}
	if _, err := s.Apply(ctx, &intent.Change{Create: &in}); err != nil {
		t.Fatal(err)
	}
	up := intent.Intent{ID: "a", Type: "changed", Priority: 9, State: intent.StateRunning, Worker: "worker_1"}
	if _, err := s.Apply(ctx, &intent.Change{Update: &up}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, "a")
	if got.Type != "query_knowledge" || got.Priority != 3 || got.State != intent.StateRunning || got.Worker != "worker_1" {
		t.Fatalf("after update: %+v", got)
	}
}

func TestApplyAsyncKeepsOrder(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t), context.Background()
	in := intent.Intent{ID: "a", State: intent.StateQueued}
	if _, err := s.Apply(ctx, &intent.Change{Create: &in}); err != nil {
		t.Fatal(err)
	}
	var order []int
	for i := range 50 {
		up := intent.Intent{ID: "a", State: intent.StateRunning, Attempts: i}
		s.ApplyAsync(&intent.Change{Update: &up, Records: []clarity.Record{rec(fmt.Sprint(i), "a")}}, func(_ intent.Result, err error) {
			if err != nil {
				t.Error(err)
			}
			order = append(order, i) // done runs on the single writer goroutine
		})
	}
	s.Flush()
	for i, n := range order {
		if n != i {
			t.Fatalf("done order %v is not the queue order", order)
		}
	}
	if got, _ := s.Get(ctx, "a"); got.Attempts != 49 {
		t.Fatalf("last applied attempts = %d, want 49", got.Attempts)
	}
}

func TestSearchAndList(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t), context.Background()
	for i, typ := range []string{"a", "b", "a"} {
		in := intent.Intent{ID: fmt.Sprint(i), Type: typ, Tier: i, State: intent.StateQueued, CreatedAt: now.Add(time.Duration(i))}
		r := rec("intent_received", in.ID)
		r.Why = []string{"Priority " + fmt.Sprint(i)}
		if _, err := s.Apply(ctx, &intent.Change{Create: &in, Records: []clarity.Record{r}}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.List(ctx, intent.Filter{Type: "a"})
	if len(got) != 2 || got[0].ID != "2" {
		t.Fatalf("List type a = %v, want newest first [2 0]", got)
	}
	got, _ = s.List(ctx, intent.Filter{Tier: 0, HasTier: true})
	if len(got) != 1 || got[0].ID != "0" {
		t.Fatalf("List tier 0 = %v", got)
	}
	es, _ := s.Search(ctx, clarity.Query{Text: "PRIORITY 1"})
	if len(es) != 1 || es[0].IntentID != "1" {
		t.Fatalf("Search = %+v", es)
	}
}

func TestFailAndClose(t *testing.T) {
	t.Parallel()
	s := NewStore(1)
	boom := errors.New("disk full")
	s.Fail(boom)
	if err := s.Record(context.Background(), rec("x", "")); !errors.Is(err, boom) {
		t.Fatalf("Record while failing = %v", err)
	}
	s.Fail(nil)
	_ = s.Close()
	got := make(chan error, 1)
	s.ApplyAsync(&intent.Change{Records: []clarity.Record{rec("x", "")}}, func(_ intent.Result, err error) { got <- err })
	if err := <-got; !errors.Is(err, ErrClosed) {
		t.Fatalf("ApplyAsync after Close = %v, want ErrClosed", err)
	}
}
