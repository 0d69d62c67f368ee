package watchdog

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"grace/engine/clarity"
	"grace/engine/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var epoch = time.Date(2025, 11, 15, 12, 0, 0, 0, time.UTC)

// journal keeps the records written, like the store would.
type journal struct {
	mu   sync.Mutex
	recs []clarity.Record
}

func (j *journal) Record(_ context.Context, recs ...clarity.Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.recs = append(j.recs, recs...)
	return nil
}

// whats lists the What of every record, in order.
func (j *journal) whats() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]string, len(j.recs))
	for i, r := range j.recs {
		out[i] = r.What
	}
	return out
}

func (j *journal) count(what string) int {
	n := 0
	for _, w := range j.whats() {
		if w == what {
			n++
		}
	}
	return n
}

func (j *journal) last(what string) clarity.Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := len(j.recs) - 1; i >= 0; i-- {
		if j.recs[i].What == what {
			return j.recs[i]
		}
	}
	return clarity.Record{}
}

// history keeps what the watchdog saves, in memory.
type history struct {
	mu     sync.Mutex
	alerts map[string]Alert
	tel    []Telemetry
	cycles int
}

func newHistory() *history { return &history{alerts: map[string]Alert{}} }

func (h *history) SaveCycle(_ context.Context, c CycleRecord) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cycles++
	h.tel = append(h.tel, c.Telemetry)
	for _, a := range c.Alerts {
		h.alerts[a.ID] = a
	}
	return nil
}

func (h *history) Alerts(_ context.Context, q AlertQuery) ([]Alert, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Alert
	for _, a := range h.alerts {
		if !q.Firing || a.Firing() {
			out = append(out, a)
		}
	}
	return out, nil
}

func (h *history) Telemetry(context.Context, TelemetryQuery) ([]Telemetry, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.tel), nil
}

// knob is a component whose verdict a test sets.
type knob struct {
	mu    sync.Mutex
	name  string
	ready bool
	st    Status
	why   string
}

func (k *knob) set(ready bool, st Status, why string) {
	k.mu.Lock()
	k.ready, k.st, k.why = ready, st, why
	k.mu.Unlock()
}

func (k *knob) component() Component {
	return Component{Name: k.name, Check: func(time.Time) Result {
		k.mu.Lock()
		defer k.mu.Unlock()
		r := Result{Ready: k.ready, Metrics: map[string]float64{"level": float64(k.st)}}
		if !k.ready {
			r.NotReadyReason = "still loading"
		}
		r.add("level", k.st, k.why)
		return r
	}}
}

// testBundle is a watchdog over knobs, on a fake clock, with a journal and
// a history.
type testBundle struct {
	w     *Watchdog
	clock *clock.Fake
	j     *journal
	h     *history
	knobs map[string]*knob
	tel   chan Telemetry
}

func testConfig() Config {
	c := Default()
	c.SLO.Period = time.Hour
	return c
}

func setup(t *testing.T, names ...string) *testBundle {
	t.Helper()
	b := &testBundle{clock: clock.NewFake(epoch), j: &journal{}, h: newHistory(), knobs: map[string]*knob{},
		tel: make(chan Telemetry, 64)}
	var comps []Component
	for _, n := range names {
		k := &knob{name: n, ready: true, why: "all good"}
		b.knobs[n] = k
		comps = append(comps, k.component())
	}
	w, err := New(testConfig(), comps, nil, Options{Clock: b.clock, Journal: b.j, History: b.h,
		Publish: func(t Telemetry) { b.tel <- t }})
	if err != nil {
		t.Fatal(err)
	}
	b.w = w
	return b
}

// check advances the clock by one interval and runs one check on the
// test's goroutine.
func (b *testBundle) check(t *testing.T) Report {
	t.Helper()
	b.clock.Advance(b.w.cfg.Interval)
	b.w.cycle(t.Context(), b.clock.Now())
	<-b.tel
	return b.w.Report()
}
