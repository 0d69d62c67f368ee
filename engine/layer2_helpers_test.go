package engine

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// eventually waits until cond holds, yielding to the engine's goroutines
// in between; it fails the test after waitLimit. It waits for a state the
// engine reaches on its own goroutines (a record written, a worker's
// answer), never for time to pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

// waitRecord waits until a record named what (and matching match, if
// given) has been written, and returns the first such.
func (b *testBundle) waitRecord(t *testing.T, what string, match func(clarity.Record) bool) clarity.Record {
	t.Helper()
	var found clarity.Record
	eventually(t, "a "+what+" record", func() bool {
		for _, r := range b.store.Records() {
			if r.What == what && (match == nil || match(r)) {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

// allRecords returns every record named what, oldest first.
func (b *testBundle) allRecords(what string) []clarity.Record {
	var out []clarity.Record
	for _, r := range b.store.Records() {
		if r.What == what {
			out = append(out, r)
		}
	}
	return out
}

// heartbeat advances the clock by one heartbeat interval and waits until
// the supervisor has run the round and every live worker that is not hung
// has answered it, so that a healthy worker never looks dead to a test
// that moves the clock fast.
func (b *testBundle) heartbeat(t *testing.T) {
	t.Helper()
	round := b.e.super.round.Load()
	b.clock.Advance(b.e.cfg.Workers.HeartbeatInterval)
	b.answered(t, round)
}

// answered waits until the supervisor has run a heartbeat round after
// round and every live worker that is not hung has answered it.
func (b *testBundle) answered(t *testing.T, round uint64) {
	t.Helper()
	eventually(t, "heartbeat round", func() bool { return b.e.super.round.Load() > round })
	eventually(t, "healthy workers to answer the heartbeat", func() bool {
		now := b.e.super.round.Load()
		b.e.pool.mu.Lock()
		defer b.e.pool.mu.Unlock()
		for _, w := range b.e.pool.workers {
			if !w.dead && !w.retiring && !w.hung && w.answered < now {
				return false
			}
		}
		return true
	})
}

// protectTick advances the clock by one shedding interval and waits until
// the protection loop has handled the tick.
func (b *testBundle) protectTick(t *testing.T) {
	t.Helper()
	n := b.e.shed.ticks.Load()
	b.clock.Advance(b.e.cfg.HTM.Shedding.Interval)
	eventually(t, "the protection loop's tick", func() bool { return b.e.shed.ticks.Load() > n })
}

// advance moves the clock by d in heartbeat-sized steps (see heartbeat).
func (b *testBundle) advance(t *testing.T, d time.Duration) {
	t.Helper()
	for step := b.e.cfg.Workers.HeartbeatInterval; d > 0; d -= step {
		b.heartbeat(t)
	}
}

// runTracker is a handler that records which worker ran which attempt,
// how many attempts of an intent ran at once at most, and lets a test hold
// an attempt until it says so.
type runTracker struct {
	mu      sync.Mutex
	running map[string]int // intent ID → attempts running now
	most    int            // the most attempts of one intent ever running at once
	started chan intent.Intent
	hold    func(in intent.Intent) bool // whether to hold this attempt
	release chan struct{}               // closed to end held attempts
}

func newRunTracker(hold func(intent.Intent) bool) *runTracker {
	return &runTracker{running: map[string]int{}, started: make(chan intent.Intent, 16), hold: hold, release: make(chan struct{})}
}

func (r *runTracker) handle(ctx context.Context, in intent.Intent) error {
	r.mu.Lock()
	r.running[in.ID]++
	r.most = max(r.most, r.running[in.ID])
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running[in.ID]--
		r.mu.Unlock()
	}()
	r.started <- in
	if r.hold == nil || !r.hold(in) {
		return nil
	}
	select {
	case <-r.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *runTracker) mostAtOnce() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.most
}

// nextStart waits for the handler to start an attempt.
func (r *runTracker) nextStart(t *testing.T) intent.Intent {
	t.Helper()
	return nextOf(t, r.started)
}

// nextOf waits for a handler to announce on started that it runs.
func nextOf(t *testing.T, started <-chan intent.Intent) intent.Intent {
	t.Helper()
	select {
	case in := <-started:
		return in
	case <-time.After(waitLimit):
		t.Fatal("no handler started")
		return intent.Intent{}
	}
}
