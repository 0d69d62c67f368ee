package dist_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"grace/engine"
	"grace/engine/dist"
	"grace/engine/intent"
	"grace/engine/worker"
)

// fakeWorker speaks the worker protocol by hand over its own connection,
// so that a test decides when it beats, what it says it runs, and which
// cancels it heeds.
type fakeWorker struct {
	t        *testing.T
	nc       *nats.Conn
	name     string
	instance string
	cancels  chan map[string]any
}

func newFakeWorker(t *testing.T, url, name string) *fakeWorker {
	t.Helper()
	f := &fakeWorker{t: t, nc: connect(t, url), name: name, instance: name + "-process", cancels: make(chan map[string]any, 64)}
	if _, err := f.nc.Subscribe("grace.ctl.cancel", func(m *nats.Msg) {
		var c map[string]any
		if json.Unmarshal(m.Data, &c) == nil {
			f.cancels <- c
		}
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

// beat sends a heartbeat listing running (attempt keys).
func (f *fakeWorker) beat(running ...string) {
	f.t.Helper()
	b, _ := json.Marshal(map[string]any{"worker": f.name, "host": "host-" + f.name, "pid": 4242, "instance": f.instance,
		"slots": 1, "running": running, "at": time.Now()})
	if err := f.nc.Publish("grace.workers.heartbeat", b); err != nil {
		f.t.Fatal(err)
	}
	if err := f.nc.Flush(); err != nil {
		f.t.Fatal(err)
	}
}

// claimReply is the control plane's answer to a claim.
type claimReply struct {
	Granted bool   `json:"granted"`
	Stale   bool   `json:"stale"`
	Token   uint64 `json:"token"`
	Reason  string `json:"reason"`
}

// ask claims attempt 1 of id once.
func (f *fakeWorker) ask(id string) (claimReply, error) {
	body, _ := json.Marshal(map[string]any{"id": id, "attempt": 1, "worker": f.name, "host": "host-" + f.name, "instance": f.instance, "delivered": 1})
	var r claimReply
	m, err := f.nc.Request("grace.ctl.claim", body, 2*time.Second)
	if err == nil {
		err = json.Unmarshal(m.Data, &r)
	}
	return r, err
}

// claim beats and asks for attempt 1 of id until the claim is granted,
// and returns its fencing token.
func (f *fakeWorker) claim(id string) uint64 {
	f.t.Helper()
	var token uint64
	waitFor(f.t, 10*time.Second, f.name+"'s claim granted", func() bool {
		f.beat()
		r, err := f.ask(id)
		token = r.Token
		return err == nil && r.Granted
	})
	return token
}

// nextCancel returns the next cancel f hears for id, failing after d.
func (f *fakeWorker) nextCancel(id string, d time.Duration) map[string]any {
	f.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case c := <-f.cancels:
			if c["id"] == id {
				return c
			}
		case <-deadline:
			f.t.Fatalf("%s heard no cancel for %s within %v", f.name, id, d)
			return nil
		}
	}
}

// A worker declared lost while it still ran an attempt (it stalled; it
// was not dead) comes back after the claim moved to another worker: its
// heartbeats list the attempt, so it is told to stop it, in its process
// alone, and that is on the record; the new holder runs on and its
// result stands.
func TestWorkerBackFromLostIsToldToStopWhatMovedOn(t *testing.T) {
	b := setup(t)
	stalled := newFakeWorker(t, b.url, "stalled")
	ids := b.submitN(t, "query_knowledge", 1)
	id, key := ids[0], ids[0]+"#1"
	stalled.claim(id)
	// stalled says no more: it is lost after two heartbeat intervals, and
	// the task the stream holds goes to the rescuer once that is so.
	started, release := make(chan string, 1), make(chan struct{})
	startWorker(t, b.url, "rescuer", catalog{worker.HandlerFunc(func(ctx context.Context, in intent.Intent) error {
		started <- in.ID
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})}, b.cfg)
	select {
	case <-started:
	case <-time.After(15 * time.Second):
		t.Fatal("the rescuer never started the task")
	}
	waitFor(t, 5*time.Second, "the redelivery on the record", func() bool { return b.count(id, dist.WhatRemoteRedelivered) == 1 })

	stalled.beat(key) // back, still running it
	c := stalled.nextCancel(id, 5*time.Second)
	if c["instance"] != stalled.instance || c["attempt"] != float64(1) {
		t.Fatalf("cancel %v, want attempt 1 addressed to instance %s alone", c, stalled.instance)
	}
	if n := b.count(id, dist.WhatRemoteStaleStopped); n != 0 {
		t.Fatalf("%d %s records after one heartbeat, want 0 (a heartbeat may cross a settled result)", n, dist.WhatRemoteStaleStopped)
	}
	stalled.beat(key)
	stalled.nextCancel(id, 5*time.Second)
	waitFor(t, 5*time.Second, "the stale attempt on the record", func() bool { return b.count(id, dist.WhatRemoteStaleStopped) == 1 })
	for _, r := range b.store.RecordsFor(id) {
		if r.What == dist.WhatRemoteStaleStopped && (r.Context["worker"] != "stalled" || r.Where != "host-stalled") {
			t.Errorf("stale record %+v, want it to name stalled on host-stalled", r)
		}
	}
	stalled.beat(key)
	stalled.nextCancel(id, 5*time.Second)
	close(release)
	waitFor(t, 10*time.Second, "the rescuer's result", func() bool { return b.allIn(ids, intent.StateCompleted) })
	in, err := b.eng.Get(context.Background(), id)
	if err != nil || in.Attempts != 1 || in.Worker != "rescuer" {
		t.Fatalf("completed as %+v, %v; want attempt 1 by rescuer, whose handler the cancels did not reach", in, err)
	}
	if n := b.count(id, dist.WhatRemoteStaleStopped); n != 1 {
		t.Errorf("%d %s records, want 1: it is recorded once", n, dist.WhatRemoteStaleStopped)
	}
}

// A cancel is plain NATS, delivered at most once: a holder whose
// heartbeats still list a cancelled attempt is told again at each of
// them, until its handler returns.
func TestCancelIsSentAgainWhileTheHolderStillRunsIt(t *testing.T) {
	b := setup(t)
	holder := newFakeWorker(t, b.url, "deaf")
	ids := b.submitN(t, "query_knowledge", 1)
	id, key := ids[0], ids[0]+"#1"
	holder.claim(id)
	holder.beat(key)
	if _, err := b.eng.Cancel(t.Context(), id, "alice", "wrong target"); err != nil {
		t.Fatal(err)
	}
	holder.nextCancel(id, 5*time.Second) // the first, which this holder does not heed
	for range 2 {
		holder.beat(key)
		if c := holder.nextCancel(id, 5*time.Second); c["instance"] != holder.instance {
			t.Fatalf("cancel %v sent again, want it addressed to %s", c, holder.instance)
		}
	}
	if n := b.count(id, dist.WhatRemoteStaleStopped); n != 0 {
		t.Errorf("%d %s records for an attempt the control plane is stopping, want 0: its cancel is on the record", n, dist.WhatRemoteStaleStopped)
	}
	holder.beat() // its handler returned
	if in, err := b.eng.Get(context.Background(), id); err != nil || in.State != intent.StateCancelled {
		t.Fatalf("after: %+v, %v; want cancelled", in, err)
	}
}

// A worker whose claim was granted but never heard the answer (its
// request timed out) asks again: it runs nothing, so the claim is granted
// to it again with a new token, instead of being refused as held by a
// live worker (itself) until the attempt times out. Once its heartbeats
// list the attempt running, a claim from it is refused.
func TestClaimWhoseAnswerWasLostIsGrantedAgain(t *testing.T) {
	b := setup(t)
	f := newFakeWorker(t, b.url, "deafened")
	ids := b.submitN(t, "query_knowledge", 1)
	id := ids[0]
	first := f.claim(id)
	f.beat()
	r, err := f.ask(id)
	if err != nil || !r.Granted || r.Token <= first {
		t.Fatalf("claim again: %+v, %v; want granted with a token after %d", r, err, first)
	}
	f.beat(id + "#1")
	// Heartbeats and claims come in on subjects of their own, in no set
	// order: ask once the control plane has heard this one.
	waitFor(t, 5*time.Second, "the heartbeat listing the attempt heard", func() bool {
		return slices.Equal(b.disp.Running("deafened"), []string{id + "#1"})
	})
	if r, err := f.ask(id); err != nil || r.Granted || r.Stale {
		t.Fatalf("claim while running it: %+v, %v; want refused for now (it holds and runs it)", r, err)
	}
	waitFor(t, 5*time.Second, "the second claim on the record", func() bool { return b.count(id, dist.WhatRemoteClaimed) == 2 })
	again := 0
	for _, rec := range b.store.RecordsFor(id) {
		if rec.What == dist.WhatRemoteClaimed && rec.Context["claimed_again"] == true {
			again++
		}
	}
	if again != 1 || b.count(id, dist.WhatRemoteRedelivered) != 0 {
		t.Errorf("%d claims marked claimed_again and %d redeliveries, want 1 and 0", again, b.count(id, dist.WhatRemoteRedelivered))
	}
}

// A worker that runs an attempt the control plane awaits no result of
// (settled, or published before it started) is listed busy with that
// attempt's intent ID, as for one it awaits: it was listed with the
// attempt key ("<id>#<attempt>") in the intent ID's place.
func TestWorkerRunningAStaleAttemptListsItsIntentID(t *testing.T) {
	b := setup(t)
	f := newFakeWorker(t, b.url, "leftover")
	f.beat("int_01GONEGONEGONEGONEGONEGONE#2")
	waitFor(t, 5*time.Second, "the worker listed busy", func() bool {
		for _, w := range b.disp.Workers(time.Now()) {
			if w.Name == "leftover" && w.Busy {
				if w.IntentID != "int_01GONEGONEGONEGONEGONEGONE" {
					t.Fatalf("leftover is listed running %q, want the intent ID int_01GONEGONEGONEGONEGONEGONE", w.IntentID)
				}
				return true
			}
		}
		return false
	})
}

// beatSeq sends heartbeat number seq listing running.
func (f *fakeWorker) beatSeq(seq uint64, running ...string) {
	f.t.Helper()
	b, _ := json.Marshal(map[string]any{"worker": f.name, "host": "host-" + f.name, "pid": 4242, "instance": f.instance,
		"slots": 1, "running": running, "at": time.Now(), "seq": seq})
	if err := f.nc.Publish("grace.workers.heartbeat", b); err != nil {
		f.t.Fatal(err)
	}
	if err := f.nc.Flush(); err != nil {
		f.t.Fatal(err)
	}
}

// Heartbeats a worker sent while it ran an attempt, heard only after the
// attempt's result (the control plane stalled: a pause, a freeze, a long
// GC, and then took in what had queued up), are no news: the worker is
// not told to stop what it has finished, and no
// remote_stale_attempt_stopped is recorded. Seen with grace serve
// SIGSTOPped for 6s while four workers ran tasks: every task completed,
// and every worker was recorded as still running its finished attempt,
// "not its to run", and told to stop it. A heartbeat sent after the
// result that lists an attempt awaiting no result is still reconciled.
func TestHeartbeatsHeardAfterTheirResultAreNoNews(t *testing.T) {
	b := setup(t)
	f := newFakeWorker(t, b.url, "stalled-plane")
	id := b.submitN(t, "query_knowledge", 1)[0]
	key := id + "#1"
	token := f.claim(id)
	f.beatSeq(1, key)
	body, _ := json.Marshal(map[string]any{"id": id, "attempt": 1, "worker": f.name, "host": "host-" + f.name, "token": token,
		"took_ms": 5, "beat": 3, "instance": f.instance})
	m, err := f.nc.Request("grace.ctl.result", body, 5*time.Second)
	if err != nil || !strings.Contains(string(m.Data), `"accepted":true`) {
		t.Fatalf("result: %s %v, want accepted", replyData(m), err)
	}
	f.beatSeq(2, key) // sent before the result, heard after it
	f.beatSeq(3, key)
	// Later heartbeats, after the result, list another attempt awaiting no
	// result: reconciled (and, heartbeats being handled in order, a cancel
	// for the finished attempt would have come before).
	other := "int_01OTHEROTHEROTHEROTHEROTH#1"
	f.beatSeq(4, other)
	f.beatSeq(5, other)
	for heard := false; !heard; {
		select {
		case c := <-f.cancels:
			if c["id"] == id {
				t.Fatalf("told to stop the attempt it finished: %v", c)
			}
			heard = c["id"] == "int_01OTHEROTHEROTHEROTHEROTH"
		case <-time.After(5 * time.Second): // a hang bound
			t.Fatal("no cancel for the other attempt")
		}
	}
	waitFor(t, 5*time.Second, "the other attempt's stale record", func() bool { return b.store.Count(dist.WhatRemoteStaleStopped) == 1 })
	if n := b.count(id, dist.WhatRemoteStaleStopped); n != 0 {
		t.Errorf("%d %s records for the finished attempt, want 0", n, dist.WhatRemoteStaleStopped)
	}
	waitFor(t, 5*time.Second, "the intent completed", func() bool { return b.allIn([]string{id}, intent.StateCompleted) })
}

// A result sent again because its sender did not hear the answer (its
// request timed out while the control plane, stalled, had yet to take
// it in) is answered accepted again: not refused, not recorded as a
// stale_result_discarded, so the worker acknowledges its task instead of
// terminating it. The intent completes once.
func TestResultSentAgainIsAcceptedAgain(t *testing.T) {
	b := setup(t)
	f := newFakeWorker(t, b.url, "unanswered")
	id := b.submitN(t, "query_knowledge", 1)[0]
	token := f.claim(id)
	f.beatSeq(1, id+"#1")
	body, _ := json.Marshal(map[string]any{"id": id, "attempt": 1, "worker": f.name, "host": "host-" + f.name, "token": token,
		"took_ms": 5, "beat": 1, "instance": f.instance})
	for i := range 2 {
		m, err := f.nc.Request("grace.ctl.result", body, 5*time.Second)
		if err != nil || !strings.Contains(string(m.Data), `"accepted":true`) {
			t.Fatalf("result sent %d times: %s %v, want accepted", i+1, replyData(m), err)
		}
	}
	// Another worker's result with another token is still refused.
	other, _ := json.Marshal(map[string]any{"id": id, "attempt": 1, "worker": "intruder", "host": "host-intruder", "token": token + 1})
	if m, err := f.nc.Request("grace.ctl.result", other, 5*time.Second); err != nil || strings.Contains(string(m.Data), `"accepted":true`) {
		t.Fatalf("another worker's result: %s %v, want refused", replyData(m), err)
	}
	waitFor(t, 5*time.Second, "the intent completed", func() bool { return b.allIn([]string{id}, intent.StateCompleted) })
	waitFor(t, 5*time.Second, "the intruder's result discarded", func() bool { return b.count(id, engine.WhatStaleDiscarded) >= 1 })
	b.store.Flush()
	if n := b.count(id, engine.WhatStaleDiscarded); n != 1 {
		t.Errorf("%d stale_result_discarded records, want 1 (the intruder's): the result sent again is not one", n)
	}
	if n := b.count(id, engine.WhatCompleted); n != 1 {
		t.Errorf("%d completion records, want 1", n)
	}
}

// replyData is a reply's body, "" for none.
func replyData(m *nats.Msg) string {
	if m == nil {
		return ""
	}
	return string(m.Data)
}
