package tui

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"grace/engine/enginetest"
)

// syncBuffer is an io.Writer safe to read while the program writes.
type syncBuffer = enginetest.Buffer

// Alternate-screen sequences: entering it on start, leaving it (restoring
// the operator's terminal) on exit.
const (
	altScreenOn  = "\x1b[?1049h"
	altScreenOff = "\x1b[?1049l"
)

func TestRunReturnsNilWhenOperatorQuits(t *testing.T) {
	api := newFakeAPI()
	api.setSnapshot(fixtureSnapshot())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), api, Options{Operator: "ops", Input: strings.NewReader("q"), Output: out})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after q: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after q")
	}
	s := out.String()
	if !strings.Contains(s, altScreenOn) || !strings.Contains(s, altScreenOff) {
		t.Errorf("terminal not restored: output lacks the alternate-screen enter/leave pair")
	}
}

func TestRunReturnsNilWhenContextEnds(t *testing.T) {
	// Nothing the console started outlives it: the event wait ends with
	// the context, the last tick within one (short) refresh.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	api := newFakeAPI()
	api.setSnapshot(fixtureSnapshot())
	in, inW := io.Pipe()
	defer inW.Close()
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, api, Options{Operator: "ops", Refresh: 20 * time.Millisecond, Input: in, Output: out})
	}()
	// Let the refresh tick take a few snapshots, then stop it from outside.
	snapshots := func() int {
		api.mu.Lock()
		defer api.mu.Unlock()
		return api.snapshots
	}
	deadline := time.Now().Add(5 * time.Second)
	for snapshots() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := snapshots(); n < 3 {
		t.Errorf("%d snapshots in 5s at a 20ms refresh: the tick does not re-arm", n)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if !strings.Contains(out.String(), altScreenOff) {
		t.Error("terminal not restored after cancel")
	}
	if !strings.Contains(out.String(), "Recent decisions") {
		t.Error("the dashboard was never drawn")
	}
}

func TestRunRejectsNilAPI(t *testing.T) {
	if err := Run(context.Background(), nil, Options{}); err == nil {
		t.Fatal("Run with no engine API returned nil")
	}
}
