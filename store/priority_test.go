package store

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// TestApplyIsNotHeldBehindAsyncBacklog: a change a caller waits on goes
// into the next batch ahead of a backlog of changes nobody waits on, which
// keep their own order behind it: the submission's record is numbered
// before all but the first asyncMax of the backlog.
func TestApplyIsNotHeldBehindAsyncBacklog(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	const backlog = 2000
	release := pause(t, tb.s)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var order []int
	for i := range backlog {
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
	applied := make(chan error, 1)
	go func() {
		_, err := tb.s.Apply(context.Background(), &intent.Change{Create: newIntent("in_waited"), Records: []clarity.Record{rec("agent", "intent_received")}})
		applied <- err
	}()
	// The Apply is queued once the writer, held, has it waiting.
	eventually(t, "the Apply to be queued", func() bool { return len(tb.s.w.queue) == 1 })
	release()
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	es, err := tb.s.Search(context.Background(), clarity.Query{Actor: "agent", Limit: 10})
	if err != nil || len(es) != 1 {
		t.Fatalf("the submission's record: %d, %v", len(es), err)
	}
	if es[0].Seq > asyncMax+1 {
		t.Fatalf("the submission's record is entry %d: it waited behind %d of the backlog, want at most %d", es[0].Seq, es[0].Seq-1, asyncMax)
	}
	for i, v := range order {
		if v != i {
			t.Fatalf("the backlog's done calls out of order at %d: got change %d", i, v)
		}
	}
}
