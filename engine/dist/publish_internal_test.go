package dist

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/worker"
)

// lateAck is the dispatcher's JetStream, except that a publish hears its
// acknowledgement only after a worker has started the task and the
// attempt was stopped (stop): as under load, when the stored message
// reaches a worker, is claimed and runs before the acknowledgement
// reaches the publisher, and the cancel lands in between.
type lateAck struct {
	jetstream.JetStream
	started <-chan string
	stop    func()
}

func (j lateAck) Publish(ctx context.Context, subj string, data []byte, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	if _, err := j.JetStream.Publish(context.WithoutCancel(ctx), subj, data, opts...); err != nil {
		return nil, err
	}
	<-j.started
	j.stop()
	<-ctx.Done()
	return nil, ctx.Err()
}

// startedStopped is a handler that says when it starts, and when its
// context ends (then it returns).
type startedStopped struct{ started, stopped chan string }

func (h startedStopped) For(string) (worker.Handler, time.Duration) {
	return worker.HandlerFunc(func(ctx context.Context, in intent.Intent) error {
		h.started <- in.ID
		<-ctx.Done()
		h.stopped <- in.ID
		return ctx.Err()
	}), 0
}
func (startedStopped) Kind(string) string { return "started-stopped" }

// An attempt stopped (cancelled, timed out) while its publish still waits
// for JetStream's acknowledgement, the message stored and already claimed
// and running on a worker, is stopped as any claimed attempt: its holder
// is told to stop at once and waited for, so that a retry never runs
// beside it. The dispatcher took the publish's "context canceled" for a
// task never published: it forgot the attempt and returned at once, the
// handler ran on until the worker's next heartbeat was reconciled (before
// there was reconciliation, until its own timeout: the cause of
// TestCancelStopsARemoteAttempt's "the remote handler was not stopped").
func TestAttemptStoppedBeforeItsPublishIsAcknowledged(t *testing.T) {
	srv := natsServer(t)
	cnc, wnc := natsConn(t, srv), natsConn(t, srv)
	// A heartbeat far apart: only the control plane's own cancel can stop
	// the handler within this test, not a heartbeat's reconciliation.
	const beat = time.Minute
	h := startedStopped{started: make(chan string, 1), stopped: make(chan string, 1)}
	store := enginetest.NewStore(64)
	defer store.Close()
	d, err := NewDispatcher(context.Background(), cnc, DispatcherOptions{Catalog: h, TaskTimeout: time.Minute, HeartbeatInterval: beat,
		Journal: store, Stream: StreamOptions{AckWait: 30 * time.Second, MaxDeliver: 5, Replicas: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	w, err := NewWorker(context.Background(), wnc, WorkerOptions{Name: "w", Host: "host-w", Handlers: h, HeartbeatInterval: beat, Drain: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stopWorker := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopWorker()
	wg.Go(func() { _ = w.Run(wctx) })
	pollUntil(t, "the worker joined", func() bool { return d.LiveWorkers(time.Now()) == 1 })

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	errCancelled := errors.New("intent cancelled while running")
	d.js = lateAck{JetStream: d.js, started: h.started, stop: func() { cancel(errCancelled) }}
	handler, _ := d.For("query_knowledge")
	done := make(chan error, 1)
	go func() {
		done <- handler.Handle(ctx, intent.Intent{ID: "int_lateack", Type: "query_knowledge", Attempts: 1})
	}()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second): // a hang bound
		t.Fatal("the stopped attempt's handler never returned")
	}
	select {
	case <-h.stopped:
	default:
		t.Fatalf("Handle returned (%v) while the worker's handler still runs: a retry would run beside it", err)
	}
	if !errors.Is(err, errCancelled) {
		t.Errorf("Handle returned %v, want the attempt stopped for its cause", err)
	}
	if n := d.InFlight(); n != 0 {
		t.Errorf("%d attempts still await a result, want 0", n)
	}
}
