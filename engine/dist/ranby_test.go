package dist_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/engine/worker"
)

// record returns the one record of what on id, failing the test when
// there is not exactly one.
func (b *testBundle) record(t *testing.T, id, what string) clarity.Record {
	t.Helper()
	var found []clarity.Record
	for _, r := range b.store.RecordsFor(id) {
		if r.What == what {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d %s records, want 1: %+v", id, len(found), what, found)
	}
	return found[0]
}

// get returns intent id as the engine holds it.
func (b *testBundle) get(t *testing.T, id string) intent.Intent {
	t.Helper()
	in, err := b.eng.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// isSlot reports whether name is one of the control plane's dispatch
// slots (the engine's pool names them worker_<n>).
func isSlot(name any) bool {
	s, ok := name.(string)
	return ok && strings.HasPrefix(s, "worker_")
}

// The intent's worker and its outcome records name the remote worker that
// ran it (grace worker --name, on its host), not the control plane's
// dispatch slot the attempt went through (which the records keep as
// context): the one that completed it, the one that failed it, and the one
// whose failure was retried. Its dispatch record says it went to a
// dispatch slot for the live remote workers, naming them, not that a
// "healthy worker" was chosen.
func TestIntentNamesTheRemoteWorkerThatRanIt(t *testing.T) {
	b := setup(t)
	_, stopGood := startWorker(t, b.url, "good", registry(t, b.cfg), b.cfg)
	done := b.submitN(t, "query_knowledge", 1)[0]
	waitFor(t, 10*time.Second, "the intent completed", func() bool { return b.allIn([]string{done}, intent.StateCompleted) })
	b.store.Flush()
	if in := b.get(t, done); in.Worker != "good" {
		t.Errorf("completed intent's worker = %q, want the remote worker good", in.Worker)
	}
	r := b.record(t, done, engine.WhatCompleted)
	if r.Who != "good" || r.Where != "host-good" || r.Context["worker"] != "good" || r.Context["host"] != "host-good" || !isSlot(r.Context["slot"]) {
		t.Errorf("completion record who %q where %q context %v; want good on host-good, its slot as context", r.Who, r.Where, r.Context)
	}
	if why := strings.Join(r.Why, " | "); !strings.Contains(why, "succeeded on remote worker good on host-good") {
		t.Errorf("completion reasons %q do not name the remote worker", why)
	}
	d := b.record(t, done, engine.WhatDispatched)
	why := strings.Join(d.Why, " | ")
	for _, bad := range []string{"healthy worker", "is idle (0 tasks in flight)", "task history", "completed its last"} {
		if strings.Contains(why, bad) {
			t.Errorf("dispatch reasons %q speak of the slot as a worker (%q)", why, bad)
		}
	}
	for _, want := range []string{"is a free dispatch slot of the control plane", "1 remote worker live now: good on host-good"} {
		if !strings.Contains(why, want) {
			t.Errorf("dispatch reasons %q lack %q", why, want)
		}
	}
	if _, ok := d.Context["worker"]; ok || !isSlot(d.Context["slot"]) || d.Context["live_remote_workers"] != 1 || d.How == "least_loaded_worker_selection" {
		t.Errorf("dispatch record how %q context %v; want the slot as slot, 1 live remote worker, no worker", d.How, d.Context)
	}
	stopGood()

	// A worker whose handler fails: permanently for one intent, once for
	// another (retried, then completed by it).
	h := worker.HandlerFunc(func(_ context.Context, in intent.Intent) error {
		if in.Type == "generate_summary" {
			return worker.Permanent(errors.New("bad input"))
		}
		if in.Attempts == 1 {
			return errors.New("flaky")
		}
		return nil
	})
	startWorker(t, b.url, "bad", catalog{h}, b.cfg)
	failed := b.submitN(t, "generate_summary", 1)[0]
	retried := b.submitN(t, "query_knowledge", 1)[0]
	waitFor(t, 15*time.Second, "the outcomes", func() bool {
		return b.allIn([]string{failed}, intent.StateFailed) && b.allIn([]string{retried}, intent.StateCompleted)
	})
	b.store.Flush()
	if in := b.get(t, failed); in.Worker != "bad" {
		t.Errorf("failed intent's worker = %q, want the remote worker bad", in.Worker)
	}
	f := b.record(t, failed, engine.WhatFailed)
	if f.Who != "bad" || f.Where != "host-bad" || f.Context["worker"] != "bad" || !isSlot(f.Context["slot"]) ||
		!strings.Contains(strings.Join(f.Why, " | "), "failed on remote worker bad on host-bad") {
		t.Errorf("failure record who %q where %q why %q context %v; want it on bad, host-bad", f.Who, f.Where, f.Why, f.Context)
	}
	rr := b.record(t, retried, engine.WhatRetryScheduled)
	if rr.Where != "host-bad" || rr.Context["worker"] != "bad" || !strings.Contains(strings.Join(rr.Why, " | "), "Attempt 1 of 3 failed on remote worker bad on host-bad") {
		t.Errorf("retry record where %q why %q context %v; want attempt 1 failed on bad", rr.Where, rr.Why, rr.Context)
	}
	if in := b.get(t, retried); in.Worker != "bad" || in.Attempts != 2 {
		t.Errorf("retried intent: worker %q after %d attempts, want bad after 2", in.Worker, in.Attempts)
	}
}

// While a remote worker runs an attempt the intent's worker names it (the
// claim sets it), and a cancel does not bring it back to running.
func TestRunningIntentNamesItsRemoteWorker(t *testing.T) {
	b := setup(t)
	_, id := b.runningOn(t, "busy")
	waitFor(t, 5*time.Second, "the running intent naming busy", func() bool {
		in := b.get(t, id)
		return in.State == intent.StateRunning && in.Worker == "busy"
	})
	if _, err := b.eng.Cancel(context.Background(), id, "alice", "not needed"); err != nil {
		t.Fatal(err)
	}
	b.store.Flush()
	if in := b.get(t, id); in.State != intent.StateCancelled || in.Worker != "busy" {
		t.Errorf("after the cancel the intent is %s on %q, want cancelled on busy", in.State, in.Worker)
	}
	r := b.record(t, id, engine.WhatCancelled)
	if r.Context["worker"] != "busy" || r.Context["slot"] == nil || !strings.Contains(strings.Join(r.Why, " | "), "on busy was stopped") {
		t.Errorf("the cancel record does not name the remote worker busy (and its slot): %v %v", r.Why, r.Context)
	}
}
