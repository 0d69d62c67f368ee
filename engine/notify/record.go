package notify

import (
	"sync/atomic"
	"time"

	"grace/engine"
)

// Recorder puts the notifications that failed for good on the 5W1H
// record: *engine.Engine implements it. The notifier calls it from a
// goroutine of its own, so it may wait on the store.
type Recorder interface {
	RecordNotificationFailure(engine.NotificationFailure)
}

// RecordEvery is how often, at most, a webhook's failures go on the
// record one by one: the first failure is recorded at once, and those that
// follow within RecordEvery of a record are counted and summarised on one
// record (with the count) RecordEvery after it. A receiver that is down
// thus writes one record a minute, however much is sent to it.
const RecordEvery = time.Minute

// recordQueue bounds the failures on their way to the record: past it
// they are counted (engine.NotificationFailure.Unrecorded), so that
// reporting one never waits.
const recordQueue = 256

// recorder writes the failures for the record on one goroutine; the
// webhooks and the dispatcher only hand them over (report), never waiting.
type recorder struct {
	to    Recorder
	clock interface {
		Now() time.Time
		After(time.Duration) <-chan time.Time
	}
	ch      chan engine.NotificationFailure
	lost    atomic.Int64 // failures that found ch full
	handled atomic.Int64 // failures taken from ch and recorded or counted

	// The goroutine's: each webhook's window, and the timer armed for
	// the earliest summary due.
	windows map[string]*window
	armed   time.Time
	due     <-chan time.Time
}

// window is one webhook's: when its last record was written, and the
// failures counted since (nil: none).
type window struct {
	last time.Time
	sum  *engine.NotificationFailure
}

func newRecorder(to Recorder, n *Notifier) *recorder {
	return &recorder{to: to, clock: n.clock, ch: make(chan engine.NotificationFailure, recordQueue),
		windows: map[string]*window{}}
}

// report hands f to the recorder without waiting; r may be nil (nothing
// is recorded).
func (r *recorder) report(f engine.NotificationFailure) {
	if r == nil {
		return
	}
	select {
	case r.ch <- f:
	default:
		r.lost.Add(1)
	}
}

// run records what is reported until stop is closed; then it records
// what is still queued and writes every summary pending.
func (r *recorder) run(stop <-chan struct{}) {
	for {
		select {
		case f := <-r.ch:
			r.failed(f)
		case <-r.due:
			r.armed, r.due = time.Time{}, nil
			r.flush(false)
		case <-stop:
			for {
				select {
				case f := <-r.ch:
					r.failed(f)
					continue
				default:
				}
				break
			}
			r.flush(true)
			return
		}
	}
}

// failed records f on its own when its webhook has had no record for
// RecordEvery, and otherwise counts it for the webhook's summary.
func (r *recorder) failed(f engine.NotificationFailure) {
	defer r.handled.Add(1)
	now := r.clock.Now()
	r.flush(false)
	w := r.windows[f.Webhook]
	if w == nil {
		w = &window{}
		r.windows[f.Webhook] = w
	}
	if w.sum == nil && (w.last.IsZero() || now.Sub(w.last) >= RecordEvery) {
		f.Unrecorded = int(r.lost.Swap(0))
		r.to.RecordNotificationFailure(f)
		w.last = now
		return
	}
	if w.sum == nil {
		w.sum = &engine.NotificationFailure{Webhook: f.Webhook, Host: f.Host, Since: now, ByKind: map[string]int{}}
	}
	s := w.sum
	s.Count++
	s.Until = now
	s.ByKind[f.Kind]++
	if f.Dropped {
		s.DroppedCount++
	}
	s.Kind, s.DeliveryID, s.Subject, s.IntentID = f.Kind, f.DeliveryID, f.Subject, f.IntentID
	s.Reason, s.Status, s.Attempts, s.How, s.Dropped = f.Reason, f.Status, f.Attempts, f.How, f.Dropped
	r.arm(w.last.Add(RecordEvery), now)
}

// flush writes the summaries due (every one pending with force).
func (r *recorder) flush(force bool) {
	now := r.clock.Now()
	var next time.Time
	for _, w := range r.windows {
		if w.sum == nil {
			continue
		}
		if due := w.last.Add(RecordEvery); !force && now.Before(due) {
			if next.IsZero() || due.Before(next) {
				next = due
			}
			continue
		}
		s := *w.sum
		w.sum, w.last = nil, now
		if s.Count == 1 { // one alone reads as itself, not as a summary of one
			s.Count, s.Since, s.Until, s.ByKind, s.DroppedCount = 0, time.Time{}, time.Time{}, nil, 0
		}
		s.Unrecorded = int(r.lost.Swap(0))
		r.to.RecordNotificationFailure(s)
	}
	if !next.IsZero() {
		r.arm(next, now)
	}
}

// arm makes sure a timer fires by at.
func (r *recorder) arm(at, now time.Time) {
	if r.due != nil && !r.armed.After(at) {
		return
	}
	r.armed, r.due = at, r.clock.After(at.Sub(now))
}
