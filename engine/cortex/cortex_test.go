package cortex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/intent"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeAPI validates like the engine (actor and priority) and remembers
// every submission. Only Submit is implemented.
type fakeAPI struct {
	engine.OperatorAPI
	mu   sync.Mutex
	subs []intent.Submission
	keys map[string]bool
	// failEvery makes every n-th submission fail with ErrQueueFull.
	failEvery int
	// block makes Submit wait for ctx to end.
	block bool
	// clock, when set, stamps each submission's time into times.
	clock clock.Clock
	times []time.Time
}

func (f *fakeAPI) Submit(ctx context.Context, sub intent.Submission) (engine.SubmitResult, error) {
	if f.block {
		<-ctx.Done()
		return engine.SubmitResult{}, ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs = append(f.subs, sub)
	if f.clock != nil {
		f.times = append(f.times, f.clock.Now())
	}
	var probs []engine.Problem
	if strings.TrimSpace(sub.Actor) == "" {
		probs = append(probs, engine.Problem{Field: "actor", Reason: "is required"})
	}
	if sub.Priority < 0 || sub.Priority > 9 {
		probs = append(probs, engine.Problem{Field: "priority", Reason: "must be between 0 and 9"})
	}
	if probs != nil {
		return engine.SubmitResult{}, &engine.ValidationError{Problems: probs}
	}
	if f.failEvery > 0 && len(f.subs)%f.failEvery == 0 {
		return engine.SubmitResult{}, engine.ErrQueueFull
	}
	if f.keys == nil {
		f.keys = map[string]bool{}
	}
	in := intent.Intent{ID: fmt.Sprintf("int-%d", len(f.subs)), Type: sub.Type}
	if f.keys[sub.IdempotencyKey] {
		return engine.SubmitResult{Intent: in, Existing: true}, nil
	}
	f.keys[sub.IdempotencyKey] = true
	return engine.SubmitResult{Intent: in}, nil
}

func (f *fakeAPI) submissions() []intent.Submission {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]intent.Submission(nil), f.subs...)
}

// bundle is a cortex on a fake clock with a seeded Rand, running in the
// background.
type bundle struct {
	clock  *clock.Fake
	api    *fakeAPI
	cx     *Cortex
	cancel context.CancelFunc
	done   chan error
	logs   *logCounter
}

func setup(t *testing.T, cfg engine.CortexConfig, api *fakeAPI) *bundle {
	t.Helper()
	b := &bundle{
		clock: clock.NewFake(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)),
		api:   api,
		done:  make(chan error, 1),
		logs:  &logCounter{},
	}
	if api.clock == nil {
		api.clock = b.clock
	}
	b.cx = New(cfg, api, Options{Clock: b.clock, Rand: rand.New(rand.NewPCG(7, 11)), Logger: slog.New(b.logs)})
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	go func() { b.done <- b.cx.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-b.done
	})
	return b
}

// waitBlocked returns once Run waits on the fake clock.
func (b *bundle) waitBlocked(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.clock.Waiters() == 0 {
		select {
		case err := <-b.done:
			t.Fatalf("Run returned early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("Run never waited on the clock")
		}
		runtime.Gosched()
	}
}

// run advances the fake clock by total in steps, letting Run reach its
// wait before each step.
func (b *bundle) run(t *testing.T, total, step time.Duration) {
	t.Helper()
	for elapsed := time.Duration(0); elapsed < total; elapsed += step {
		b.waitBlocked(t)
		b.clock.Advance(step)
	}
	b.waitBlocked(t)
}

// stop cancels Run and returns its result.
func (b *bundle) stop(t *testing.T) error {
	t.Helper()
	b.cancel()
	select {
	case err := <-b.done:
		b.done <- err // for the cleanup
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
		return nil
	}
}

// logCounter is a slog handler counting records by level.
type logCounter struct {
	mu     sync.Mutex
	counts map[slog.Level]int
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil {
		l.counts = map[slog.Level]int{}
	}
	l.counts[r.Level]++
	return nil
}
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCounter) WithGroup(string) slog.Handler      { return l }
func (l *logCounter) count(level slog.Level) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[level]
}

func TestRunHonoursRate(t *testing.T) {
	t.Parallel()
	for _, rate := range []float64{0.5, 4, 50} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			t.Parallel()
			b := setup(t, engine.CortexConfig{Rate: rate, Mix: map[string]float64{"query_knowledge": 1}}, &fakeAPI{})
			b.waitBlocked(t)
			if n := len(b.api.submissions()); n != 0 {
				t.Fatalf("%d submissions before the clock moved", n)
			}
			const want = 2000
			mean := time.Duration(float64(time.Second) / rate)
			b.run(t, want*mean, mean/10)
			got := len(b.api.submissions())
			if math.Abs(float64(got-want)) > 0.07*want {
				t.Errorf("rate %v/s over %v: %d submissions, want %d ± 7%%", rate, want*mean, got, want)
			}
			if err := b.stop(t); err != nil {
				t.Errorf("Run after cancel = %v, want nil", err)
			}
			// Poisson arrivals: exponential gaps, whose standard deviation
			// equals their mean.
			if cv := gapVariation(b.api.times); cv < 0.85 || cv > 1.15 {
				t.Errorf("gaps vary with a coefficient of variation of %.2f, want about 1 (Poisson arrivals)", cv)
			}
		})
	}
}

// gapVariation returns the coefficient of variation of the gaps between
// successive times.
func gapVariation(times []time.Time) float64 {
	var sum, sumSq float64
	n := float64(len(times) - 1)
	for i := 1; i < len(times); i++ {
		g := times[i].Sub(times[i-1]).Seconds()
		sum += g
		sumSq += g * g
	}
	mean := sum / n
	return math.Sqrt(sumSq/n-mean*mean) / mean
}

func TestRunCountsOutcomesAndKeepsGoing(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{failEvery: 9}
	b := setup(t, engine.CortexConfig{Rate: 100, Mix: engine.Default().Cortex.Mix}, api)
	b.run(t, 60*time.Second, 5*time.Millisecond)
	if err := b.stop(t); err != nil {
		t.Fatalf("Run = %v", err)
	}
	subs := api.submissions()
	var invalid, failed int
	for i, s := range subs {
		if strings.TrimSpace(s.Actor) == "" || s.Priority < 0 || s.Priority > 9 {
			invalid++
		} else if (i+1)%9 == 0 {
			failed++
		}
	}
	st := b.cx.Stats()
	if st.Submitted != uint64(len(subs)) || st.Rejected != uint64(invalid) || st.Invalid != uint64(invalid) || st.Errors != uint64(failed) {
		t.Errorf("stats = %+v; the API saw %d submissions, %d invalid, %d failed", st, len(subs), invalid, failed)
	}
	if st.Accepted+st.Rejected+st.Errors != st.Submitted {
		t.Errorf("stats = %+v: accepted + rejected + errors != submitted", st)
	}
	if st.Errors == 0 || st.Accepted < st.Errors {
		t.Errorf("stats = %+v: want the cortex to keep submitting past failures", st)
	}
	if st.Duplicates == 0 {
		t.Errorf("stats = %+v: want some deliberate retries answered with the existing intent", st)
	}
	if warns := b.logs.count(slog.LevelWarn); warns == 0 || warns >= int(st.Errors) {
		t.Errorf("%d warnings for %d failures: want failures logged, but not each one", warns, st.Errors)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	defer goleak.VerifyNone(t)
	tests := []struct {
		name string
		api  *fakeAPI
	}{
		{"while waiting", &fakeAPI{}},
		{"during a submit", &fakeAPI{block: true}},
	}
	for _, tt := range tests {
		clk := clock.NewFake(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
		cx := New(engine.CortexConfig{Rate: 1000, Mix: map[string]float64{"schedule_task": 1}}, tt.api, Options{Clock: clk})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- cx.Run(ctx) }()
		for clk.Waiters() == 0 {
			runtime.Gosched()
		}
		clk.Advance(time.Second) // the "during a submit" case now blocks in Submit
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: Run = %v, want nil on cancel", tt.name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Run did not return after cancel", tt.name)
		}
		if st := cx.Stats(); st.Errors != 0 {
			t.Errorf("%s: a cancelled submission counted as an error: %+v", tt.name, st)
		}
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  engine.CortexConfig
		api  engine.OperatorAPI
		want string
	}{
		{"zero rate", engine.CortexConfig{Rate: 0, Mix: map[string]float64{"a": 1}}, &fakeAPI{}, "cortex.rate"},
		{"NaN rate", engine.CortexConfig{Rate: math.NaN(), Mix: map[string]float64{"a": 1}}, &fakeAPI{}, "cortex.rate"},
		{"empty mix", engine.CortexConfig{Rate: 1}, &fakeAPI{}, "cortex.mix"},
		{"all zero weights", engine.CortexConfig{Rate: 1, Mix: map[string]float64{"a": 0}}, &fakeAPI{}, "cortex.mix"},
		{"negative weight", engine.CortexConfig{Rate: 1, Mix: map[string]float64{"a": 1, "b": -2}}, &fakeAPI{}, "cortex.mix.b"},
		{"no API", engine.CortexConfig{Rate: 1, Mix: map[string]float64{"a": 1}}, nil, "no operator API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := New(tt.cfg, tt.api, Options{}).Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestRunTwiceAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, engine.CortexConfig{Rate: 1, Mix: map[string]float64{"a": 1}}, &fakeAPI{})
	b.waitBlocked(t)
	if err := b.cx.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
}
