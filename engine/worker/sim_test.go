package worker

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"grace/engine/clock"
	"grace/engine/intent"
)

// simBundle is a sim handler on a fake clock whose random numbers come from
// a fixed list.
type simBundle struct {
	clock *clock.Fake
	h     Handler
}

func setupSim(t *testing.T, cfg HandlerConfig, draws ...float64) *simBundle {
	t.Helper()
	fake := clock.NewFake(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	next := 0
	rnd := func() float64 {
		mu.Lock()
		defer mu.Unlock()
		v := draws[next%len(draws)]
		next++
		return v
	}
	cfg.Kind = KindSim
	r, err := NewRegistry(map[string]HandlerConfig{"work": cfg}, Options{Clock: fake, Rand: rnd})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := r.For("work")
	return &simBundle{clock: fake, h: h}
}

// start runs the handler in the background and returns its result channel
// once it is waiting on the fake clock.
func (b *simBundle) start(t *testing.T, ctx context.Context) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- b.h.Handle(ctx, intent.Intent{ID: "i-1", Type: "work"}) }()
	deadline := time.Now().Add(5 * time.Second)
	for b.clock.Waiters() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("sim handler never waited on the clock")
		}
		runtime.Gosched()
	}
	return done
}

// recv returns the handler's result, failing the test if none comes: a
// guard against a hung handler, not a wait for anything to settle.
func recv(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("handler did not return")
		return nil
	}
}

func TestSimWaitsJitteredLatencyOnClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		draw float64
		want time.Duration
	}{
		{0, 75 * time.Millisecond},
		{0.5, 100 * time.Millisecond},
		{0.999, 124950 * time.Microsecond},
	}
	for _, tt := range tests {
		b := setupSim(t, HandlerConfig{Latency: 100 * time.Millisecond}, tt.draw)
		done := b.start(t, context.Background())
		b.clock.Advance(tt.want - time.Microsecond)
		select {
		case err := <-done:
			t.Fatalf("draw %v: returned %v before %v had passed", tt.draw, err, tt.want)
		default:
		}
		b.clock.Advance(time.Microsecond)
		if err := recv(t, done); err != nil {
			t.Errorf("draw %v: %v", tt.draw, err)
		}
	}
}

func TestSimFailsAtItsFailureRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rate     float64
		draw     float64
		wantFail bool
	}{
		{"draw under rate fails", 0.3, 0.29, true},
		{"draw at rate succeeds", 0.3, 0.3, false},
		{"zero rate never fails", 0, 0, false},
		{"rate one always fails", 1, 0.999, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// No latency: the first draw is the failure draw.
			b := setupSim(t, HandlerConfig{FailureRate: tt.rate}, tt.draw)
			err := b.h.Handle(context.Background(), intent.Intent{ID: "i-9", Type: "work"})
			if tt.wantFail {
				if !errors.Is(err, ErrSimulated) || IsPermanent(err) {
					t.Errorf("err = %v; want a retryable simulated failure", err)
				}
				return
			}
			if err != nil {
				t.Errorf("err = %v, want success", err)
			}
		})
	}
}

func TestSimReturnsOnCancel(t *testing.T) {
	t.Parallel()
	b := setupSim(t, HandlerConfig{Latency: time.Hour}, 0.5)
	ctx, cancel := context.WithCancel(context.Background())
	done := b.start(t, ctx)
	cancel()
	if err := recv(t, done); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled without the clock moving", err)
	}
}
