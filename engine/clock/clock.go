// Package clock abstracts time so that anything that waits, ages or schedules
// can be driven by a fake clock in tests and chaos scenarios.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time and makes timers. Real is the wall clock; Fake is
// advanced by hand.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	After(d time.Duration) <-chan time.Time
	// NewTicker returns a ticker firing every d. d must be positive.
	NewTicker(d time.Duration) Ticker
}

// Ticker is the part of time.Ticker that callers use.
type Ticker interface {
	// C returns the channel on which ticks are delivered.
	C() <-chan time.Time
	// Stop turns the ticker off; no more ticks are sent after it returns.
	Stop()
}

// Real is the system clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// After wraps time.After.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// NewTicker wraps time.NewTicker.
func (Real) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time { return r.t.C }
func (r realTicker) Stop()               { r.t.Stop() }

// Fake is a manually advanced clock. Timers and tickers fire only when
// Advance moves the time past their deadline. The zero value is not usable;
// call NewFake.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*fakeWaiter
}

type fakeWaiter struct {
	at     time.Time
	every  time.Duration // zero for one-shot
	ch     chan time.Time
	closed bool
}

// NewFake returns a fake clock set to start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// After returns a channel that receives once Advance has moved the clock by d.
func (f *Fake) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &fakeWaiter{at: f.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		w.ch <- f.now
		return w.ch
	}
	f.waiters = append(f.waiters, w)
	return w.ch
}

// NewTicker returns a ticker that fires each time Advance crosses a multiple
// of d. Like time.Ticker it drops ticks when the receiver is slow.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &fakeWaiter{at: f.now.Add(d), every: d, ch: make(chan time.Time, 1)}
	f.waiters = append(f.waiters, w)
	return &fakeTicker{f: f, w: w}
}

// Waiters reports how many timers and tickers are pending; tests use it to
// know that a loop has reached its wait before they advance the clock.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// TimersAt reports how many one-shot timers (After) are pending with
// their deadline exactly d from now: a test uses it to know that one
// particular wait has begun, where Waiters counts every loop's.
func (f *Fake) TimersAt(d time.Duration) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	at, n := f.now.Add(d), 0
	for _, w := range f.waiters {
		if !w.closed && w.every == 0 && w.at.Equal(at) {
			n++
		}
	}
	return n
}

// Advance moves the clock forward by d, firing every timer and ticker whose
// deadline is reached.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if w.closed {
			continue
		}
		if !w.at.After(f.now) {
			select {
			case w.ch <- f.now:
			default:
			}
			if w.every > 0 {
				for !w.at.After(f.now) {
					w.at = w.at.Add(w.every)
				}
				kept = append(kept, w)
			}
			continue
		}
		kept = append(kept, w)
	}
	f.waiters = kept
}

type fakeTicker struct {
	f *Fake
	w *fakeWaiter
}

func (t *fakeTicker) C() <-chan time.Time { return t.w.ch }
func (t *fakeTicker) Stop() {
	t.f.mu.Lock()
	t.w.closed = true
	t.f.mu.Unlock()
}
