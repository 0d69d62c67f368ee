package store

import (
	"context"
	"testing"
	"time"

	"grace/engine/intent"
)

// TestIdleCatchUpYieldsToChanges checks that a catch-up in a lull stops
// after one step once a change is waiting, and otherwise indexes a whole
// idle chunk.
func TestIdleCatchUpYieldsToChanges(t *testing.T) {
	t.Parallel()
	tb := setup(t, func(o *Options) { o.IndexInterval = time.Hour })
	const backlog = 3*idleStep + 100
	c := &intent.Change{}
	for range backlog {
		c.Records = append(c.Records, rec("w", "x"))
	}
	if _, err := tb.s.Apply(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	// The fake clock stands still, so only these calls index.
	var waiting, free int64
	reply := make(chan outcome, 1)
	err := tb.s.do(context.Background(), func(w *writer) error {
		req, err := newRequest(&intent.Change{Records: c.Records[:1]}, t0)
		if err != nil {
			return err
		}
		req.reply = reply
		w.queue <- req // served by the loop once this call returns
		from := w.hwm.Load()
		w.indexIdle()
		waiting = w.hwm.Load() - from
		<-w.queue
		from = w.hwm.Load()
		w.indexIdle()
		free = w.hwm.Load() - from
		w.queue <- req
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if o := <-reply; o.err != nil {
		t.Fatal(o.err)
	}
	if waiting != idleStep {
		t.Errorf("with a change waiting, a catch-up indexed %d rows, want one step of %d", waiting, idleStep)
	}
	if want := int64(backlog - idleStep); free != want {
		t.Errorf("with nothing waiting, a catch-up indexed %d rows, want the remaining %d", free, want)
	}
}
