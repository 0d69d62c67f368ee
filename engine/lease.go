package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"grace/engine/intent"
)

// flight is one dispatched attempt of an intent. The intent is as
// dispatched: running, with Attempts as the attempt's number, which is also
// its lease (see leases).
type flight struct {
	in intent.Intent
	// ctx and cancel are the handler's context, set by the worker when it
	// begins the attempt (guarded by pool.mu until then); the supervisor
	// cancels it when it takes the attempt back from a dead worker.
	ctx    context.Context
	cancel context.CancelCauseFunc
	// started is set (under pool.mu) when the worker begins the attempt;
	// an attempt taken back before it started never runs.
	started bool
	// done is closed once the handler has returned, or at once when the
	// attempt will never run.
	done     chan struct{}
	doneOnce sync.Once
	// err is what the handler returned, set before done is closed.
	err error
	// withdrawn is set (under leases.mu, as the lease is revoked) when an
	// operator or the submitting agent cancels the intent while this
	// attempt holds it; settle then knows why its lease is gone.
	withdrawn *withdrawal
	// holder is the remote worker whose claim on this attempt stands
	// (ReportRemoteHolder), set under leases.mu while the lease holds;
	// zero on the local backend or before a claim.
	holder RemoteHolder
}

// withdrawal is who cancelled a running attempt's intent, why, and when.
type withdrawal struct {
	by, reason string
	at         time.Time
}

// errWithdrawn cancels the handler of an attempt whose intent was
// cancelled.
var errWithdrawn = errors.New("intent cancelled while running")

func newFlight(in intent.Intent) *flight { return &flight{in: in, done: make(chan struct{})} }

// finish closes done, once.
func (f *flight) finish() { f.doneOnce.Do(func() { close(f.done) }) }

// leases fence attempts: each intent that is running holds one lease, the
// number of its current attempt. A worker's outcome counts only if it
// settles the lease it was given; a worker declared dead loses its lease
// when its intent is rerouted, so a late result from it is discarded
// instead of overwriting the rerouted attempt. Exactly one of a settle and
// a revoke of the same lease succeeds.
type leases struct {
	mu sync.Mutex
	by map[string]int // intent ID → attempt holding the lease
}

func newLeases() *leases { return &leases{by: make(map[string]int)} }

// grant gives the lease of id to attempt.
func (l *leases) grant(id string, attempt int) {
	l.mu.Lock()
	l.by[id] = attempt
	l.mu.Unlock()
}

// settle ends attempt's lease on id and reports whether it held it: only
// then may the attempt's outcome be written.
func (l *leases) settle(id string, attempt int) bool { return l.take(id, attempt) }

// revoke takes attempt's lease on id away (its worker is dead) and reports
// whether it held it; false means the attempt has already settled.
func (l *leases) revoke(id string, attempt int) bool { return l.take(id, attempt) }

// withdraw revokes fl's lease for a cancel (see Engine.Cancel) and marks
// fl withdrawn by wd, under the lock settle takes, so that an attempt that
// loses its lease this way always finds out why. It reports false when fl
// no longer holds the lease: it settled first, or its worker was declared
// dead.
func (l *leases) withdraw(fl *flight, wd withdrawal) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a, ok := l.by[fl.in.ID]; !ok || a != fl.in.Attempts {
		return false
	}
	delete(l.by, fl.in.ID)
	fl.withdrawn = &wd
	return true
}

// held reports whether attempt still holds the lease on id.
func (l *leases) held(id string, attempt int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.by[id]
	return ok && a == attempt
}

func (l *leases) take(id string, attempt int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a, ok := l.by[id]; !ok || a != attempt {
		return false
	}
	delete(l.by, id)
	return true
}

// len returns how many attempts hold a lease.
func (l *leases) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.by)
}
