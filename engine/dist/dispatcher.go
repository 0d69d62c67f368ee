package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/intent"
	"grace/engine/worker"
)

// ErrClosed is returned by a Dispatcher's handlers once it is closed.
var ErrClosed = errors.New("nats dispatcher closed")

// Catalog says how long each intent type may run and what kind of handler
// runs it; *worker.Registry built from the same config as the workers' is
// the usual one.
type Catalog interface {
	For(intentType string) (worker.Handler, time.Duration)
	Kind(intentType string) string
}

// DispatcherOptions configure a Dispatcher.
type DispatcherOptions struct {
	// Catalog gives each type's timeout and kind; required.
	Catalog Catalog
	// TaskTimeout is the timeout of a type whose Catalog entry has none
	// (workers.task_timeout).
	TaskTimeout time.Duration
	// HeartbeatInterval is how often workers announce themselves; one
	// silent for two intervals is lost.
	HeartbeatInterval time.Duration
	// Stream shapes the task stream (ack wait, max deliver, replicas).
	Stream StreamOptions
	// KeepLostClaims is the worker_reassignment safeguard switched off:
	// a claim on an attempt whose holder was lost is refused (recorded
	// once as remote_task_held), so the task stays with its dead holder
	// until the control plane's task timeout fails the attempt, as a dead
	// in-process worker keeps its slot. When false (the safeguard on), the
	// redelivered task's claim moves to the live worker that pulled it.
	KeepLostClaims bool
	// Journal records claims, redeliveries, refused results and workers
	// joining and leaving; required.
	Journal clarity.Journal
	// Clock tells the time; clock.Real{} when nil.
	Clock clock.Clock
	// Logger receives operational logs; discarded when nil.
	Logger *slog.Logger
	// Identity is what another control plane starting on the same NATS
	// is told, refused; this process's host and pid by default.
	Identity ControlPlane
}

// Dispatcher is the control plane's side of the nats backend. It is the
// engine's HandlerSource (every handler publishes the attempt to JetStream
// and waits for a remote worker's result) and its RemoteWorkers (the
// workers heard on the heartbeat subject). Create it with NewDispatcher
// and Close it after the engine has stopped.
type Dispatcher struct {
	nc  *nats.Conn
	js  jetstream.JetStream
	str jetstream.Stream
	o   DispatcherOptions
	rec *recorder

	mu      sync.Mutex
	pending map[string]*pending // attempt key → attempt awaiting its result
	workers map[string]*remote  // by worker name
	closed  bool
	// reconnects is nc's reconnect count when last looked at; hearsSince
	// is when the control plane began to hear again after it could not:
	// its reconnect first seen, or its watch loop back from a stall (zero
	// before either): see deafRecentlyLocked.
	reconnects uint64
	hearsSince time.Time
	// accepted are the results accepted lately, by attempt key: the same
	// result sent again (its sender did not hear the answer) is answered
	// accepted again, not refused as stale. Kept forgetAfter heartbeat
	// intervals (watchLoop).
	accepted map[string]acceptedResult

	// lost counts workers declared lost; redelivered the attempts whose
	// claim moved from a lost holder to another worker (RemoteCounts).
	lost, redelivered atomic.Uint64
	// onLive is called when a worker joins, leaves or is lost.
	onLive atomic.Pointer[func()]

	subs   []*nats.Subscription
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// pending is one attempt published and awaiting a result. Its fields but
// in, ctx and done are guarded by Dispatcher.mu.
type pending struct {
	in      intent.Intent
	ctx     context.Context // the engine's handler context: ReportRemoteHolder
	done    chan error      // receives the accepted outcome, once
	holder  string          // the worker whose claim stands; "" when none
	host    string
	inst    string // the holder's process (heartbeat.Instance)
	token   uint64 // the standing claim's fencing token
	settled bool   // an outcome was accepted
	held    bool   // a claim was refused under KeepLostClaims (recorded once)
	claimed bool   // a claim was ever granted
	// published is when the attempt was published.
	published time.Time
	// stopping: the attempt's context ended while a worker held it, and
	// the holder was told to cancel. Its outcome no longer counts, but the
	// attempt waits until the holder's handler has returned (see run).
	stopping bool
}

// acceptedResult is a result accepted: from whom, with which token, when.
type acceptedResult struct {
	worker string
	token  uint64
	at     time.Time
}

// remote is a worker heard on the heartbeat subject.
type remote struct {
	hb       heartbeat
	lastBeat time.Time
	lost     bool // silent for two intervals, recorded
	// conflicts are the other processes heard under this name while it
	// was live (recorded once each).
	conflicts map[string]*conflict
	// stale counts, by attempt key, the heartbeats in a row that listed an
	// attempt running that is no longer this process's to run (see
	// staleRunningLocked).
	stale map[string]int
	// reported holds, by attempt key, the Beat of a result this worker
	// sent: a heartbeat numbered up to it was sent before the result, and
	// its listing the attempt running is no news (see staleRunningLocked).
	reported map[string]uint64
}

var (
	_ engine.RemoteWorkers = (*Dispatcher)(nil)
	_ engine.RemoteFleet   = (*Dispatcher)(nil)
	_ engine.RemoteHolders = (*Dispatcher)(nil)
	_ engine.HandlerSource = (*Dispatcher)(nil)
)

// NewDispatcher creates the task stream and its consumers on nc's server,
// subscribes to the claim, result, release, join and heartbeat subjects,
// and starts the loop that notices lost workers. Its loops stop on Close
// (or when ctx ends). It fails with ErrAnotherControlPlane, naming it,
// when another control plane answers on nc's NATS.
func NewDispatcher(ctx context.Context, nc *nats.Conn, o DispatcherOptions) (*Dispatcher, error) {
	switch {
	case o.Catalog == nil:
		return nil, errors.New("new nats dispatcher: a catalog is required")
	case o.Journal == nil:
		return nil, errors.New("new nats dispatcher: a journal is required")
	case o.HeartbeatInterval <= 0:
		return nil, fmt.Errorf("new nats dispatcher: heartbeat interval %v must be positive", o.HeartbeatInterval)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := askPlane(nc); err != nil {
		return nil, fmt.Errorf("new nats dispatcher: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("new nats dispatcher: %w", err)
	}
	if _, err := EnsureStream(ctx, js, o.Stream); err != nil {
		return nil, fmt.Errorf("new nats dispatcher: %w", noJetStream(ctx, nc, js, err))
	}
	str, err := js.Stream(ctx, StreamName)
	if err != nil {
		return nil, fmt.Errorf("new nats dispatcher: stream %s: %w", StreamName, err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	d := &Dispatcher{nc: nc, js: js, str: str, o: o, pending: map[string]*pending{}, workers: map[string]*remote{}, cancel: cancel,
		accepted:   map[string]acceptedResult{},
		reconnects: nc.Stats().Reconnects}
	d.rec = newRecorder(o.Journal, o.Logger)
	d.wg.Go(func() { d.rec.run(runCtx) })
	id := o.Identity.withDefaults()
	if err := d.answerPlane(planeInfo{Host: id.Host, PID: id.PID, API: id.API, Instance: newInstanceID(), Started: time.Now()}); err != nil {
		d.Close()
		return nil, fmt.Errorf("new nats dispatcher: %w", err)
	}
	for subj, h := range map[string]nats.MsgHandler{
		subjectClaim: d.onClaim, subjectResult: d.onResult, subjectRelease: d.onRelease, subjectHeartbeat: d.onHeartbeat,
		subjectJoin: d.onJoin,
	} {
		s, err := nc.Subscribe(subj, h)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("new nats dispatcher: subscribe %s: %w", subj, err)
		}
		d.subs = append(d.subs, s)
	}
	if err := nc.Flush(); err != nil {
		d.Close()
		return nil, fmt.Errorf("new nats dispatcher: flush subscriptions: %w", err)
	}
	t := o.Clock.NewTicker(o.HeartbeatInterval)
	d.wg.Go(func() { d.watchLoop(runCtx, t) })
	return d, nil
}

// Close unsubscribes, stops the loops, writes the records still queued
// and fails the attempts still waiting with ErrClosed. Safe to call twice.
func (d *Dispatcher) Close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	for key, p := range d.pending {
		if !p.settled {
			p.settled = true
			p.done <- fmt.Errorf("remote attempt %s: %w", key, ErrClosed)
		}
		delete(d.pending, key)
	}
	d.mu.Unlock()
	for _, s := range d.subs {
		_ = s.Unsubscribe()
	}
	d.cancel()
	d.wg.Wait()
}

// For returns the remote handler of intentType, with the timeout the
// catalog gives it.
func (d *Dispatcher) For(intentType string) (worker.Handler, time.Duration) {
	_, timeout := d.o.Catalog.For(intentType)
	return remoteHandler{d: d, timeout: timeout}, timeout
}

// Kind names the handler kind, as run by a remote worker: "sim@nats".
func (d *Dispatcher) Kind(intentType string) string { return d.o.Catalog.Kind(intentType) + "@nats" }

// remoteHandler runs an attempt on whichever remote worker claims it.
type remoteHandler struct {
	d       *Dispatcher
	timeout time.Duration
}

// Handle publishes the attempt and waits for its accepted outcome. When ctx
// ends first (the attempt timed out or was cancelled, or the engine is
// stopping), the attempt is given up: later claims for it are refused, its
// holder is told to cancel, and its message is deleted from the stream.
// With a holder, Handle returns only once the holder's handler has
// returned (its result or release arrives, or the holder leaves, is lost,
// or the dispatcher closes): a retry must not run beside it. A holder
// not live when ctx ends, or lost meanwhile, is given up on: the error
// wraps an *engine.RemoteGivenUp saying it did not answer. A handler
// that ignores the cancel holds Handle as a local handler would hold its
// worker, until the engine's handler_abandonment gives up on it. An
// attempt a worker claimed before its publish heard JetStream's
// acknowledgement is published, whatever the publish returned.
func (h remoteHandler) Handle(ctx context.Context, in intent.Intent) error {
	return h.d.run(ctx, in, h.timeout)
}

func (d *Dispatcher) run(ctx context.Context, in intent.Intent, timeout time.Duration) error {
	key := attemptKey(in.ID, in.Attempts)
	p := &pending{in: in, ctx: ctx, done: make(chan error, 1), published: d.o.Clock.Now()}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	d.pending[key] = p
	d.mu.Unlock()
	if timeout <= 0 {
		timeout = d.o.TaskTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	body, err := json.Marshal(taskMsg{Intent: in, TimeoutMS: max(timeout.Milliseconds(), 1)})
	if err != nil {
		d.forget(key)
		return worker.Permanent(fmt.Errorf("encode task %s: %w", key, err))
	}
	ack, err := d.js.Publish(ctx, TaskSubject(in.Priority), body, jetstream.WithMsgID(key))
	if err != nil && !d.claimedAnyway(key, p) {
		return fmt.Errorf("publish task %s to %s: %w", key, TaskSubject(in.Priority), err)
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
	}
	d.mu.Lock()
	if p.settled { // the outcome was accepted as ctx ended: it stands
		d.mu.Unlock()
		return <-p.done
	}
	holder := p.holder
	// Wait for the holder's handler only while the holder is alive: a
	// lost or departed one runs it no more, or its result will not count.
	now := d.o.Clock.Now()
	wait := holder != "" && d.holderLiveLocked(p, now)
	var givenUp error // the holder does not answer: nobody waits for its handler
	if holder != "" && !wait {
		givenUp = d.unansweredLocked(p, now)
	}
	if wait {
		p.stopping = true
	} else {
		delete(d.pending, key)
	}
	d.mu.Unlock()
	if holder != "" {
		if b, err := json.Marshal(cancelMsg{ID: in.ID, Attempt: in.Attempts}); err == nil {
			_ = d.nc.Publish(subjectCancel, b)
		}
	}
	if ack != nil { // nil when the publish did not hear its acknowledgement (claimedAnyway)
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := d.str.DeleteMsg(dctx, ack.Sequence); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			d.o.Logger.Debug("delete abandoned task message", "attempt", key, "seq", ack.Sequence, "err", err)
		}
	}
	stopped := fmt.Errorf("remote attempt %s (holder %q): %w", key, holder, context.Cause(ctx))
	if holder == "" && !p.claimed {
		now := d.o.Clock.Now()
		stopped = fmt.Errorf("remote attempt %s: no worker claimed it within %v; %d remote workers connected: %w",
			key, now.Sub(p.published).Round(time.Second), d.LiveWorkers(now), context.Cause(ctx))
	}
	if wait {
		if ended := <-p.done; ended != nil {
			return fmt.Errorf("%w; %w", stopped, ended)
		}
	}
	if givenUp != nil {
		return fmt.Errorf("%w; %w", stopped, givenUp)
	}
	return stopped
}

// unansweredLocked returns why p's holder, not live when p's attempt
// ended, is not waited for (an *engine.RemoteGivenUp): it was silent,
// lost or replaced. Nil when it left cleanly: its handlers ended then.
// Called with d.mu held.
func (d *Dispatcher) unansweredLocked(p *pending, now time.Time) error {
	r, ok := d.workers[p.holder]
	switch {
	case !ok:
		return &engine.RemoteGivenUp{Holder: p.holder, Why: "it is no longer heard from at all"}
	case r.hb.Instance != p.inst:
		return &engine.RemoteGivenUp{Holder: p.holder, Why: "another process took its name over"}
	case r.hb.Leaving:
		return nil
	}
	return &engine.RemoteGivenUp{Holder: p.holder,
		Why: fmt.Sprintf("its heartbeats stopped %s before (lost after two %v intervals)", now.Sub(r.lastBeat).Round(time.Millisecond), d.o.HeartbeatInterval)}
}

// endStopping settles the stopping attempts held by the worker called
// name, which left or was lost: its handlers run there no more, or
// (lost) their results will not count. ended is what the waiting handler
// is told: nil when the holder left, the loss otherwise.
func (d *Dispatcher) endStopping(name string, ended error) {
	d.mu.Lock()
	var inst string
	if r, ok := d.workers[name]; ok {
		inst = r.hb.Instance
	}
	done := d.endStoppingLocked(name, inst)
	d.mu.Unlock()
	for _, c := range done {
		c <- ended
	}
}

// endStoppingLocked settles the stopping attempts held by process inst
// of the worker called name and returns their waiters, to be told how
// they ended once d.mu is released.
func (d *Dispatcher) endStoppingLocked(name, inst string) []chan error {
	var done []chan error
	for key, p := range d.pending {
		if p.stopping && !p.settled && p.holder == name && p.inst == inst {
			p.settled = true
			delete(d.pending, key)
			done = append(done, p.done)
		}
	}
	return done
}

// claimedAnyway reports whether p, whose publish failed, was claimed all
// the same: JetStream had stored the message and a worker pulled and
// claimed it before the publisher heard the acknowledgement, whose wait
// ended first (ctx ended, the attempt cancelled or timed out, or the
// acknowledgement was lost). Then the attempt is published, and run goes
// on as for any: its holder is told to stop and waited for, or its result
// awaited. Otherwise p is forgotten, so that a claim on a message stored
// after all is refused as stale.
func (d *Dispatcher) claimedAnyway(key string, p *pending) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p.claimed {
		return true
	}
	delete(d.pending, key)
	return false
}

func (d *Dispatcher) forget(key string) {
	d.mu.Lock()
	delete(d.pending, key)
	d.mu.Unlock()
}

// Holder returns the remote worker whose claim on attempt of intentID
// stands, and its host (engine.RemoteHolders).
func (d *Dispatcher) Holder(intentID string, attempt int) (worker, host string, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p, found := d.pending[attemptKey(intentID, attempt)]; found && p.holder != "" {
		return p.holder, p.host, true
	}
	return "", "", false
}

// InFlight returns how many attempts await a remote result.
func (d *Dispatcher) InFlight() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.pending)
}
