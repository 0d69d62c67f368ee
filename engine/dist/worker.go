package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"grace/engine/intent"
	"grace/engine/worker"
)

// requestTimeout bounds one claim, result or release request.
const requestTimeout = 2 * time.Second

// idlePoll is how often an idle worker looks at the bands without being
// rung: redeliveries after ack wait ring no bell.
const idlePoll = 100 * time.Millisecond

// WorkerOptions configure a remote worker.
type WorkerOptions struct {
	// Name identifies the worker (unique among workers); Host is the
	// machine it runs on, shown in the console's worker list.
	Name, Host string
	// Handlers run the intents; the registry built from the same config
	// as the control plane's. Required.
	Handlers Catalog
	// Slots is how many tasks it runs at once (1 when 0).
	Slots int
	// HeartbeatInterval is how often it announces itself.
	HeartbeatInterval time.Duration
	// Drain is how long a shutdown waits for running tasks to finish
	// before cancelling them and giving them back, and for the results of
	// finished tasks to be delivered: past it, a result the control plane
	// has not answered (NATS is down) is given up, and its task delivered
	// again after the ack wait.
	Drain time.Duration
	// AbandonAfter is how long a handler told to stop (its timeout ran
	// out, the control plane cancelled it, or the worker is shutting down)
	// may take to return before its slot stops waiting for it
	// (workers.abandon_after, when the handler_abandonment safeguard is
	// on). Its slot then takes other tasks, and the handler runs on,
	// unreported, until it returns: the control plane, which told it to
	// stop, gives up on it too, and fails its intent without a retry. Zero
	// waits for the handler however long it takes.
	AbandonAfter time.Duration
	// Scrub, when set, rewrites a handler's error before it goes anywhere
	// (the log, the result sent to the control plane, which may record it as
	// a late result): engine.ErrorScrubber(masking.fields) hides the
	// masked values of the intent that the handler may have quoted.
	Scrub func(intent.Intent, error) error
	// Logger receives operational logs, which do not name the worker
	// (give it a logger that does); discarded when nil.
	Logger *slog.Logger
}

// Worker pulls released tasks from the stream and runs them. Create it
// with NewWorker and call Run.
type Worker struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	cons [Bands]jetstream.Consumer
	o    WorkerOptions
	// instance tells this process apart from any other using its name.
	instance string
	// stopRun ends Run, with the cause Run returns (the name is taken).
	stopRun context.CancelCauseFunc
	// bell is rung by every task published, so an idle worker looks at
	// once; hints counts the rings per band since a fetch found the band
	// empty, so that busy slots ask only bands likely to hold work.
	bell  chan struct{}
	hints [Bands]atomic.Int64
	// lastFull is when a slot last asked every band (UnixNano): at least
	// every idlePoll, for redeliveries, which ring no bell.
	lastFull atomic.Int64

	beatMu   sync.Mutex // one heartbeat published at a time
	mu       sync.Mutex
	running  map[string]*task // attempt key → task (runaway handlers too)
	claiming map[string]bool  // attempt keys whose claim awaits its answer
	// stopped are the attempts of claiming the control plane told to stop
	// before their claim's answer came: granted, they do not start.
	stopped map[string]bool
	// beats numbers the heartbeats (heartbeat.Seq), under mu with the
	// running list they carry.
	beats     uint64
	completed atomic.Uint64
	failed    atomic.Uint64
	// runaways counts the handlers abandoned that have not returned.
	runaways atomic.Int64
}

// task is one attempt this worker holds.
type task struct {
	cancel context.CancelCauseFunc
}

// errCancelled is the cause of a task the control plane cancelled.
var errCancelled = errors.New("cancelled by the control plane (the attempt timed out or was abandoned)")

// ErrNameInUse is returned by Run when another live worker process runs
// under the worker's name.
var ErrNameInUse = errors.New("worker name in use")

// nameInUse is ErrNameInUse with the control plane's reason.
type nameInUse struct{ reason string }

func (e nameInUse) Error() string        { return e.reason }
func (e nameInUse) Is(target error) bool { return target == ErrNameInUse }

// errShutdown is the cause of a task cut short by the worker's shutdown.
var errShutdown = errors.New("worker shutting down")

// NewWorker binds to the band consumers the control plane created on nc's
// server. It fails when the stream does not exist yet, and with
// ErrNoJetStream when the server does not run JetStream.
func NewWorker(ctx context.Context, nc *nats.Conn, o WorkerOptions) (*Worker, error) {
	switch {
	case o.Name == "":
		return nil, errors.New("new worker: a name is required")
	case o.Handlers == nil:
		return nil, errors.New("new worker: handlers are required")
	case o.HeartbeatInterval <= 0:
		return nil, fmt.Errorf("new worker %s: heartbeat interval %v must be positive", o.Name, o.HeartbeatInterval)
	}
	if o.Slots < 1 {
		o.Slots = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("new worker %s: %w", o.Name, err)
	}
	cons, err := bindConsumers(ctx, js)
	if err != nil {
		return nil, fmt.Errorf("new worker %s: %w", o.Name, noJetStream(ctx, nc, js, err))
	}
	return &Worker{nc: nc, js: js, cons: cons, o: o, instance: newInstanceID(), stopRun: func(error) {},
		bell: make(chan struct{}, 1), running: map[string]*task{}, claiming: map[string]bool{}, stopped: map[string]bool{}}, nil
}

// Run asks the control plane to join under its name (waiting for a
// control plane to answer), then heartbeats and runs tasks on its slots
// until ctx ends; then it stops pulling, lets running tasks finish for up
// to Drain (cancelling and giving back those that do not), sends a leaving
// heartbeat and returns. It returns nil after a shutdown (one while NATS
// is unreachable is logged as such, the worker left unannounced), and
// ErrNameInUse, taking no task, when another live worker process holds
// its name (or, should two run at once, when the control plane says so).
func (w *Worker) Run(ctx context.Context) error {
	if joined, err := w.join(ctx); !joined {
		return err // nil when ctx ended first
	}
	ctx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	w.stopRun = stopRun
	bell, err := w.nc.Subscribe(subjectTasks+">", func(m *nats.Msg) {
		if b, ok := bandOf(m.Subject); ok {
			w.hints[b].Add(1)
		}
		select {
		case w.bell <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return fmt.Errorf("worker %s: subscribe to task bell: %w", w.o.Name, err)
	}
	defer func() { _ = bell.Unsubscribe() }()
	cancelSub, err := w.nc.Subscribe(subjectCancel, w.onCancel)
	if err != nil {
		return fmt.Errorf("worker %s: subscribe %s: %w", w.o.Name, subjectCancel, err)
	}
	defer func() { _ = cancelSub.Unsubscribe() }()
	w.beat(false)
	// Tasks run under taskCtx, which outlives ctx by the drain.
	taskCtx, cancelTasks := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelTasks(nil)
	var slots sync.WaitGroup
	for range w.o.Slots {
		slots.Go(func() { w.slotLoop(ctx, taskCtx) })
	}
	hbDone := make(chan struct{})
	var hb sync.WaitGroup
	hb.Go(func() {
		t := time.NewTicker(w.o.HeartbeatInterval)
		defer t.Stop()
		for {
			select {
			case <-hbDone:
				return
			case <-t.C:
				w.beat(false)
			}
		}
	})
	<-ctx.Done()
	drained := make(chan struct{})
	go func() { slots.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(w.o.Drain):
		w.o.Logger.Warn("drain time over: cancelling running tasks and giving them back", "drain", w.o.Drain)
		cancelTasks(errShutdown)
		<-drained
	}
	close(hbDone)
	hb.Wait()
	if cause := context.Cause(ctx); errors.Is(cause, ErrNameInUse) {
		return cause // no leaving heartbeat: the name is not ours
	}
	if !w.nc.IsConnected() {
		w.o.Logger.Warn("stopped while NATS is unreachable: the control plane will record this worker as lost, not as left",
			"nats_status", w.nc.Status().String())
		return nil
	}
	w.beat(true)
	if err := w.nc.FlushTimeout(requestTimeout); err != nil {
		w.o.Logger.Warn("stopped, but NATS did not confirm the leaving heartbeat: the control plane may record this worker as lost, not as left",
			"waited", requestTimeout, "err", err)
	}
	return nil
}

// slotLoop pulls and runs one task at a time until ctx ends.
func (w *Worker) slotLoop(ctx, taskCtx context.Context) {
	for ctx.Err() == nil {
		msg := w.next(ctx)
		if msg == nil {
			continue
		}
		w.handle(taskCtx, msg)
	}
}

// next returns the first message found asking the bands from p9 down to
// p0, or waits for the bell (or idlePoll) and returns nil. It asks only
// the bands rung since they were last found empty, except that every
// idlePoll some slot asks them all (redeliveries and returned tasks ring
// no bell).
func (w *Worker) next(ctx context.Context) jetstream.Msg {
	now := time.Now().UnixNano()
	last := w.lastFull.Load()
	full := now-last >= int64(idlePoll) && w.lastFull.CompareAndSwap(last, now)
	for b := Bands - 1; b >= 0 && w.nc.IsConnected(); b-- { // disconnected, a fetch waits out its timeout
		h := w.hints[b].Load()
		if !full && h == 0 {
			continue
		}
		batch, err := w.cons[b].FetchNoWait(1)
		if err != nil {
			if ctx.Err() == nil {
				w.o.Logger.Debug("fetch", "band", b, "err", err)
			}
			continue
		}
		for m := range batch.Messages() {
			return m
		}
		w.hints[b].CompareAndSwap(h, 0) // empty, unless rung meanwhile
	}
	t := time.NewTimer(idlePoll)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.bell:
	case <-t.C:
	}
	return nil
}

// bandOf returns the band of a task subject.
func bandOf(subject string) (int, bool) {
	if len(subject) != len(subjectTasks)+2 || subject[len(subjectTasks)] != 'p' {
		return 0, false
	}
	b := int(subject[len(subject)-1] - '0')
	return b, b >= 0 && b < Bands
}

// handle claims msg's attempt, runs it with progress acks, reports the
// result and acknowledges the message once the control plane accepted it.
func (w *Worker) handle(ctx context.Context, msg jetstream.Msg) {
	var tm taskMsg
	if err := json.Unmarshal(msg.Data(), &tm); err != nil || tm.Intent.ID == "" {
		w.o.Logger.Error("undecodable task message: terminated", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	in := tm.Intent
	key := attemptKey(in.ID, in.Attempts)
	var delivered uint64
	if md, err := msg.Metadata(); err == nil {
		delivered = md.NumDelivered
	}
	w.mu.Lock()
	_, busy := w.running[key]
	busy = busy || w.claiming[key]
	if !busy {
		w.claiming[key] = true
	}
	w.mu.Unlock()
	if busy {
		// Delivered again while this process claims or runs it (a stall
		// let its ack wait pass): the first delivery answers for it.
		w.o.Logger.Info("task delivered again while this worker has it: left to the first delivery", "attempt", key, "delivered", delivered)
		return
	}
	tctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var cr claimReply
	err := w.request(subjectClaim, claimReq{ID: in.ID, Attempt: in.Attempts, Worker: w.o.Name, Host: w.o.Host, Instance: w.instance, Delivered: delivered}, &cr)
	w.mu.Lock()
	delete(w.claiming, key)
	stopped := w.stopped[key]
	delete(w.stopped, key)
	if err == nil && cr.Granted && !stopped {
		w.running[key] = &task{cancel: cancel}
	}
	w.mu.Unlock()
	if err != nil {
		w.o.Logger.Warn("claim failed; task returned", "attempt", key, "err", err)
		_ = msg.NakWithDelay(w.o.HeartbeatInterval)
		return
	}
	switch {
	case cr.NameTaken:
		_ = msg.Nak()
		w.stopRun(nameInUse{cr.Reason})
		return
	case cr.Stale:
		w.o.Logger.Info("stale task terminated", "attempt", key, "reason", cr.Reason)
		_ = msg.Term()
		return
	case !cr.Granted:
		_ = msg.NakWithDelay(w.o.HeartbeatInterval)
		return
	case stopped:
		// Told to stop as the claim was granted (the cancel overtook the
		// answer): the handler does not start; the control plane hears
		// that the attempt ended, as from a handler that returned at once.
		w.o.Logger.Info("attempt stopped by the control plane before it started: not run", "attempt", key)
		w.report(ctx, msg, resultReq{ID: in.ID, Attempt: in.Attempts, Worker: w.o.Name, Host: w.o.Host, Token: cr.Token,
			Error: fmt.Sprintf("not started on %s: %v", w.o.Name, errCancelled), Instance: w.instance})
		return
	}
	w.beat(false)
	stopProgress := w.progress(msg)
	start := time.Now()
	late, err := w.runHandler(tctx, in, time.Duration(tm.TimeoutMS)*time.Millisecond)
	stopProgress()
	res := resultReq{ID: in.ID, Attempt: in.Attempts, Worker: w.o.Name, Host: w.o.Host, Token: cr.Token, TookMS: time.Since(start).Milliseconds(),
		Instance: w.instance}
	if late != nil {
		w.abandon(tctx, msg, key, res, start, late)
		return
	}
	w.mu.Lock()
	delete(w.running, key)
	res.Beat = w.beats
	w.mu.Unlock()
	if errors.Is(context.Cause(tctx), errShutdown) {
		var rr resultReply
		_ = w.request(subjectRelease, res, &rr)
		_ = msg.Nak()
		return
	}
	if err != nil {
		res.Error, res.Permanent = clip(err.Error(), 1000), worker.IsPermanent(err)
	}
	w.report(ctx, msg, res)
}

// report sends res until the control plane answers (retrying while the
// message's progress keeps it ours), then acknowledges or terminates msg.
// It stops retrying when ctx ends (a shutdown's drain is over): a worker
// that cannot reach the control plane, NATS being down, stops as it
// would with the task unfinished, and the task is delivered again.
func (w *Worker) report(ctx context.Context, msg jetstream.Msg, res resultReq) {
	var rr resultReply
	for i := 0; ; i++ {
		err := w.request(subjectResult, res, &rr)
		if err == nil {
			break
		}
		if i >= 10 {
			w.o.Logger.Error("result not delivered; the task will be redelivered", "intent_id", res.ID, "attempt", res.Attempt, "err", err)
			return
		}
		_ = msg.InProgress()
		t := time.NewTimer(w.o.HeartbeatInterval / 2) // a retry pace, not a settle wait
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			w.o.Logger.Error("result not delivered before the shutdown's drain was over; the task will be redelivered",
				"intent_id", res.ID, "attempt", res.Attempt, "err", err)
			return
		}
	}
	if !rr.Accepted {
		w.o.Logger.Info("result refused; task terminated", "intent_id", res.ID, "attempt", res.Attempt, "reason", rr.Reason)
		_ = msg.Term()
		return
	}
	if res.Error == "" {
		w.completed.Add(1)
	} else {
		w.failed.Add(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	if err := msg.DoubleAck(ctx); err != nil {
		w.o.Logger.Warn("ack after accepted result failed; a redelivery will be refused as stale", "intent_id", res.ID, "err", err)
	}
}

// progress sends InProgress every third of the consumer's ack wait until
// the returned stop is called.
func (w *Worker) progress(msg jetstream.Msg) (stop func()) {
	every := time.Second
	if info := w.cons[0].CachedInfo(); info != nil && info.Config.AckWait > 0 {
		every = info.Config.AckWait / 3
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// runHandler runs in's handler with timeout; a panic is a permanent error.
// When the handler has not returned AbandonAfter after it was told to stop
// (ctx ended or its timeout ran out), runHandler returns without it, with
// late, which receives the handler's error when it returns at last.
func (w *Worker) runHandler(ctx context.Context, in intent.Intent, timeout time.Duration) (late <-chan error, err error) {
	h, _ := w.o.Handlers.For(in.Type)
	if h == nil {
		return nil, worker.Permanent(fmt.Errorf("no handler for intent type %q on %s", in.Type, w.o.Name))
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	done := make(chan error, 1)
	go func() { // ends when the handler returns, however late
		defer cancel()
		err := w.call(tctx, h, in, timeout)
		if err != nil && w.o.Scrub != nil {
			err = w.o.Scrub(in, err)
		}
		done <- err
	}()
	select {
	case err := <-done:
		return nil, err
	case <-tctx.Done():
	}
	if w.o.AbandonAfter <= 0 {
		return nil, <-done
	}
	t := time.NewTimer(w.o.AbandonAfter)
	defer t.Stop()
	select {
	case err := <-done:
		return nil, err
	case <-t.C:
		return done, nil
	}
}

// call runs h on in, turning a panic into a permanent error.
func (w *Worker) call(ctx context.Context, h worker.Handler, in intent.Intent, timeout time.Duration) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = worker.Permanent(fmt.Errorf("handler panicked on %s: %v", w.o.Name, v))
		}
	}()
	err = h.Handle(ctx, in)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %v on %s: %w", timeout, w.o.Name, err)
	}
	return err
}

// abandon frees the slot of the attempt key, whose handler was told to
// stop (tctx ended) and has not returned within AbandonAfter. The task
// message is terminated (the control plane stopped the attempt and will
// not take it back), except in a shutdown, when it is given back as any
// unfinished task is. The attempt stays in the heartbeat's running list
// until the handler returns; then its result is sent, for the control
// plane to settle the attempt and discard what it did.
func (w *Worker) abandon(tctx context.Context, msg jetstream.Msg, key string, res resultReq, start time.Time, late <-chan error) {
	cause := context.Cause(tctx) // cancelled, or the worker shutting down
	if cause == nil {
		cause = errors.New("its timeout ran out")
	}
	w.runaways.Add(1)
	w.o.Logger.Warn("handler abandoned: it has not returned since it was told to stop; its slot takes other tasks, and it runs on",
		"attempt", key, "told", cause, "abandon_after", w.o.AbandonAfter)
	if errors.Is(cause, errShutdown) {
		var rr resultReply
		_ = w.request(subjectRelease, res, &rr)
		_ = msg.Nak()
	} else {
		_ = msg.Term()
	}
	go func() { // ends when the handler returns
		err := <-late
		w.runaways.Add(-1)
		w.mu.Lock()
		delete(w.running, key)
		res.Beat = w.beats
		w.mu.Unlock()
		res.TookMS = time.Since(start).Milliseconds()
		if err != nil {
			res.Error, res.Permanent = clip(err.Error(), 1000), worker.IsPermanent(err)
		}
		var rr resultReply
		if err := w.request(subjectResult, res, &rr); err != nil {
			w.o.Logger.Warn("an abandoned handler returned; its result was not delivered", "attempt", key, "err", err)
			return
		}
		w.o.Logger.Info("an abandoned handler returned; its result was sent", "attempt", key, "took", time.Since(start), "accepted", rr.Accepted)
	}()
}

// Runaways is how many abandoned handlers have not returned yet.
func (w *Worker) Runaways() int { return int(w.runaways.Load()) }

// onCancel cancels a running attempt the control plane abandoned, or one
// whose claim awaits its answer before it starts.
func (w *Worker) onCancel(m *nats.Msg) {
	var c cancelMsg
	if json.Unmarshal(m.Data, &c) != nil || (c.Instance != "" && c.Instance != w.instance) {
		return
	}
	key := attemptKey(c.ID, c.Attempt)
	w.mu.Lock()
	t, ok := w.running[key]
	if !ok && w.claiming[key] {
		w.stopped[key] = true // its claim's answer is on its way
	}
	w.mu.Unlock()
	if ok {
		t.cancel(errCancelled)
	}
}

// beat publishes a heartbeat with the attempts running now.
func (w *Worker) beat(leaving bool) {
	w.beatMu.Lock() // published in the order numbered
	defer w.beatMu.Unlock()
	w.mu.Lock()
	running := make([]string, 0, len(w.running))
	for k := range w.running {
		running = append(running, k)
	}
	w.beats++
	seq := w.beats
	w.mu.Unlock()
	sort.Strings(running)
	b, err := json.Marshal(heartbeat{Worker: w.o.Name, Host: w.o.Host, PID: os.Getpid(), Instance: w.instance, Slots: w.o.Slots, Running: running,
		Completed: w.completed.Load(), Failed: w.failed.Load(), Leaving: leaving, At: time.Now(), Seq: seq})
	if err != nil {
		return
	}
	if err := w.nc.Publish(subjectHeartbeat, b); err != nil {
		w.o.Logger.Warn("heartbeat", "err", err)
	}
}

// join asks the control plane to run under w's name before any task is
// taken, and returns true once granted (then Run goes on, to leave
// cleanly, even if ctx has ended), false when ctx ends first. While no
// control plane answers it asks again every heartbeat interval. Refused
// (another process holds the name), it asks again until the holder would
// have gone silent for the control plane's liveness window: a worker
// restarted after a kill takes its name back once the dead process's
// heartbeats are stale; a live holder keeps it, and join returns
// ErrNameInUse.
func (w *Worker) join(ctx context.Context) (bool, error) {
	req := joinReq{Worker: w.o.Name, Host: w.o.Host, PID: os.Getpid(), Slots: w.o.Slots, Instance: w.instance}
	var refusedUntil time.Time
	waiting := false
	for {
		pace := w.o.HeartbeatInterval
		var rep joinReply
		err := w.request(subjectJoin, req, &rep)
		switch {
		case err == nil && rep.Granted:
			if waiting {
				w.o.Logger.Info("the control plane answered: joined")
			}
			return true, nil
		case err == nil:
			window := time.Duration(rep.WindowMS) * time.Millisecond
			if refusedUntil.IsZero() {
				refusedUntil = time.Now().Add(window + window/4)
				w.o.Logger.Info("name held by another process: waiting to see whether it is alive", "reason", rep.Reason, "window", window)
			}
			if time.Now().After(refusedUntil) || window <= 0 {
				return false, nameInUse{rep.Reason}
			}
			pace = max(window/4, 10*time.Millisecond)
		case !waiting:
			waiting = true
			w.o.Logger.Warn("no control plane answers yet: waiting for one before taking tasks", "err", err)
		}
		t := time.NewTimer(pace) // a retry pace, not a settle wait
		select {
		case <-ctx.Done():
			t.Stop()
			return false, nil
		case <-t.C:
		}
	}
}

// request sends v to subj and decodes the reply into out.
func (w *Worker) request(subj string, v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s request: %w", subj, err)
	}
	m, err := w.nc.Request(subj, b, requestTimeout)
	if err != nil {
		return fmt.Errorf("request %s: %w", subj, err)
	}
	if err := json.Unmarshal(m.Data, out); err != nil {
		return fmt.Errorf("decode %s reply: %w", subj, err)
	}
	return nil
}

// clip shortens s to at most n bytes.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
