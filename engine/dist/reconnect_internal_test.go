package dist

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
)

// natsServer starts an embedded nats-server, shut down when the test ends.
func natsServer(t *testing.T) *Server {
	t.Helper()
	srv, err := StartServer(ServerOptions{Listen: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

// natsConn connects to srv, closed when the test ends.
func natsConn(t *testing.T, srv *Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(srv.ClientURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// beat is the heartbeat interval of fakeClockDispatcher.
const beat = time.Second

// fakeClockDispatcher is a dispatcher on nc whose time is the fake clock
// it returns, closed when the test ends.
func fakeClockDispatcher(t *testing.T, nc *nats.Conn) (*Dispatcher, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Unix(1_800_000_000, 0))
	store := enginetest.NewStore(64)
	t.Cleanup(func() { _ = store.Close() })
	d, err := NewDispatcher(context.Background(), nc, DispatcherOptions{Catalog: startedStopped{}, TaskTimeout: time.Minute,
		HeartbeatInterval: beat, Journal: store, Clock: clk, Stream: StreamOptions{AckWait: 30 * time.Second, MaxDeliver: 5, Replicas: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d, clk
}

// pollUntil polls cond every 10ms until it holds, failing after a hang
// bound of 10s.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A brief NATS outage silences every worker to the control plane, whose
// own connection broke too: the holder of a running attempt is not taken
// for dead when, back, another worker claims the task JetStream delivers
// again (its ack wait ran out meanwhile) before the holder's first
// heartbeat is heard. The claim stays with the holder for two heartbeat
// intervals after the reconnect; past them, a holder still silent is
// taken for dead and the claim moves. The claim moved at once: the
// attempt ran again from the start on the idle worker, beside the holder
// until a heartbeat's reconciliation stopped it, or the holder's
// finished work was thrown away and done again.
func TestClaimStaysWithAHolderUnheardWhileTheControlPlaneWasCutOff(t *testing.T) {
	srv := natsServer(t)
	cnc := natsConn(t, srv, nats.MaxReconnects(-1), nats.ReconnectWait(10*time.Millisecond))
	wnc := natsConn(t, srv)
	d, clk := fakeClockDispatcher(t, cnc)

	send := func(hb heartbeat) {
		t.Helper()
		b, _ := json.Marshal(hb)
		if err := wnc.Publish(subjectHeartbeat, b); err != nil {
			t.Fatal(err)
		}
	}
	claim := func(worker string) claimReply {
		t.Helper()
		b, _ := json.Marshal(claimReq{ID: "int_outage", Attempt: 1, Worker: worker, Host: "host-" + worker, Instance: worker + "-1", Delivered: 2})
		var r claimReply
		pollUntil(t, worker+"'s claim answered", func() bool {
			m, err := wnc.Request(subjectClaim, b, 2*time.Second)
			if errors.Is(err, nats.ErrNoResponders) { // the control plane's subscriptions not yet back
				return false
			}
			if err != nil {
				t.Fatal(err)
			}
			return json.Unmarshal(m.Data, &r) == nil
		})
		return r
	}
	send(heartbeat{Worker: "holder", Host: "host-holder", Instance: "holder-1", Slots: 1})
	pollUntil(t, "the holder live", func() bool { return d.LiveWorkers(clk.Now()) == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	handler, _ := d.For("query_knowledge")
	done := make(chan error, 1)
	go func() {
		done <- handler.Handle(ctx, intent.Intent{ID: "int_outage", Type: "query_knowledge", Attempts: 1})
	}()
	defer func() { cancel(); <-done }()
	pollUntil(t, "the attempt published", func() bool { return d.InFlight() == 1 })
	if r := claim("holder"); !r.Granted {
		t.Fatalf("the holder's claim: %+v, want granted", r)
	}
	send(heartbeat{Worker: "holder", Host: "host-holder", Instance: "holder-1", Slots: 1, Running: []string{"int_outage#1"}})
	pollUntil(t, "the holder's heartbeat listing the attempt", func() bool { return len(d.Running("holder")) == 1 })

	// The control plane's connection breaks and comes back; the holder was
	// not heard for three intervals meanwhile.
	before := cnc.Stats().Reconnects
	if err := cnc.ForceReconnect(); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "the control plane reconnected", func() bool { return cnc.Stats().Reconnects > before && cnc.IsConnected() })
	clk.Advance(3 * beat)
	r := claim("rescuer")
	if r.Granted || r.Stale || !strings.Contains(r.Reason, "not heard while the control plane could not hear") {
		t.Fatalf("a claim just after the control plane reconnected: %+v; want it refused: the holder is not known to be dead", r)
	}
	if w, _, _ := d.Holder("int_outage", 1); w != "holder" {
		t.Fatalf("the attempt's holder is %q, want holder", w)
	}
	// Two intervals after the reconnect, the holder still silent: dead.
	clk.Advance(2 * beat)
	if r := claim("rescuer"); !r.Granted {
		t.Fatalf("a claim two intervals after the reconnect, the holder silent: %+v; want granted", r)
	}
	if w, _, _ := d.Holder("int_outage", 1); w != "rescuer" {
		t.Fatalf("the attempt's holder is %q, want rescuer", w)
	}
}

// A control plane that stalled (paused, frozen, starved: its watch loop
// did not run for over two heartbeat intervals) does not take its workers for
// lost on its first look back, their heartbeats queued up and not yet
// taken in: a worker is lost only once it has stayed silent two intervals
// after the control plane hears again. With grace serve SIGSTOPped for
// 6s, every worker was recorded lost and joined again at once, and a
// stopping attempt's holder taken for lost ended the attempt while its
// handler still ran.
func TestStalledControlPlaneTakesNoWorkerForLost(t *testing.T) {
	srv := natsServer(t)
	cnc, wnc := natsConn(t, srv), natsConn(t, srv)
	d, clk := fakeClockDispatcher(t, cnc)
	b, _ := json.Marshal(heartbeat{Worker: "steady", Host: "host-steady", Instance: "steady-1", Slots: 1})
	if err := wnc.Publish(subjectHeartbeat, b); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "the worker live", func() bool { return d.LiveWorkers(clk.Now()) == 1 })
	state := func() (lost, hearing bool) {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.workers["steady"].lost, !d.hearsSince.IsZero()
	}
	// The watch loop's first look in six intervals (one tick: the loop
	// was stalled).
	clk.Advance(6 * beat)
	pollUntil(t, "the watch loop's look", func() bool { l, h := state(); return l || h })
	if l, _ := state(); l {
		t.Fatal("the worker was taken for lost on the stalled control plane's first look back")
	}
	// Silent two intervals after the control plane hears again: lost.
	clk.Advance(2 * beat)
	pollUntil(t, "the silent worker taken for lost", func() bool { l, _ := state(); return l })
}
