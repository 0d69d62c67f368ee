package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/intent"
	"grace/engine/watchdog"
)

// Defaults of Options.
const (
	DefaultQueueSize     = 256
	DefaultMaxAttempts   = 5
	DefaultBackoffBase   = 2 * time.Second // 2, 4, 8, 16 s between 5 attempts: 30 s
	DefaultShutdownGrace = 2 * time.Second
	// DefaultReannounceMax is how many of the intents left waiting for
	// approval by a previous run are announced again at start, the
	// newest; past it one approvals_pending message gives the total.
	DefaultReannounceMax = 50
	// MaxRetryAfter bounds how long a receiver's Retry-After makes a
	// webhook wait: its later notifications wait too.
	MaxRetryAfter = time.Minute
)

// Source is the engine's event stream: *engine.Engine implements it.
type Source interface {
	// Subscribe streams the engine's events until ctx ends or the engine
	// stops (then the channel is closed).
	Subscribe(ctx context.Context) <-chan engine.Event
	// EventsBetween returns the events numbered after after and below
	// before that the engine still holds: those a subscriber that fell
	// behind missed.
	EventsBetween(after, before uint64) ([]engine.Event, bool)
}

// Options are a Notifier's collaborators and limits; zero values take the
// defaults.
type Options struct {
	// Clock times the backoff, the shutdown grace and the signature
	// timestamps; nil: the wall clock.
	Clock clock.Clock
	// Logger receives warnings (a failed delivery, a full queue, a plain
	// http URL beyond loopback); nil discards them.
	Logger *slog.Logger
	// Metrics counts the outcomes; nil: DefaultMetrics.
	Metrics *Metrics
	// Client sends the requests; nil: one that honours the proxy
	// environment and follows no redirect (a 3xx fails the delivery).
	Client *http.Client
	// LookupEnv reads the secret_env variables; nil: os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// QueueSize bounds each webhook's queue (256).
	QueueSize int
	// MaxAttempts bounds the attempts of one delivery (5).
	MaxAttempts int
	// BackoffBase is the wait after the first failed attempt, doubled
	// after each next one (2s).
	BackoffBase time.Duration
	// ShutdownGrace is how long a request in flight may finish once the
	// notifier stops (2s).
	ShutdownGrace time.Duration
	// ReannounceMax bounds the approval requests announced again at start
	// (50; at most the queue size).
	ReannounceMax int
}

// Waiting lists the intents waiting for approval, before the engine
// starts: *engine.Engine implements it.
type Waiting interface {
	// WaitingApprovals returns the newest limit intents pending approval,
	// oldest first, and how many are pending in all.
	WaitingApprovals(ctx context.Context, limit int) (newest []intent.Intent, total int, err error)
}

// Notifier sends the engine's alerts and approval requests to webhooks.
// Start runs it; it is not restartable.
type Notifier struct {
	opts  Options
	clock clock.Clock
	log   *slog.Logger
	m     *Metrics
	hooks []*hook

	// announced holds the intents announced as waiting for approval that
	// have not left pending_approval; it belongs to the dispatcher.
	announced map[string]struct{}
	lastSeq   uint64 // the newest event's number seen; the dispatcher's

	// rec puts failures on the record when the source is a Recorder (nil:
	// they are not recorded).
	rec *recorder
	// acks keeps the approval requests the webhooks acknowledged when the
	// source is an Acknowledgements that keeps them (nil: not kept).
	acks *acker

	done chan struct{} // closed when every goroutine has returned
}

// maxAnnounced bounds the announced set: past it the set starts again
// (an intent pending that long is not announced twice by any event the
// engine sends today; the set is a second guard).
const maxAnnounced = 1 << 16

// New checks the webhooks and makes a Notifier for them: each webhook's
// defaults are filled (engine.WebhookConfig.WithDefaults) and the
// variable its secret_env names must be set and not empty, or New fails
// naming the key. A plain http URL beyond loopback is allowed and logged as
// a warning (what is sent can be read and changed on the way). The configs
// are expected to have passed engine.Config.Validate.
func New(webhooks []engine.WebhookConfig, opts Options) (*Notifier, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = DefaultMetrics
	}
	if opts.Client == nil {
		opts.Client = defaultClient()
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = DefaultBackoffBase
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = DefaultShutdownGrace
	}
	if opts.ReannounceMax <= 0 {
		opts.ReannounceMax = DefaultReannounceMax
	}
	opts.ReannounceMax = min(opts.ReannounceMax, opts.QueueSize-1) // room for the summary
	n := &Notifier{opts: opts, clock: opts.Clock, log: opts.Logger, m: opts.Metrics,
		announced: map[string]struct{}{}, done: make(chan struct{})}
	var errs []error
	for i, w := range webhooks {
		key := fmt.Sprintf("notify.webhooks[%d]", i)
		w = w.WithDefaults()
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			// Not url.Error's text: it escapes the URL and shows its password.
			errs = append(errs, fmt.Errorf("%s.url (%q) of webhook %q must be an http:// or https:// URL with a host",
				key, engine.MaskURL(w.URL), w.Name))
			continue
		}
		minSev, err := watchdog.ParseStatus(w.MinSeverity)
		if err != nil || minSev == watchdog.OK {
			errs = append(errs, fmt.Errorf("%s.min_severity (%q) of webhook %q must be warn or critical (in any case), or left out for warn",
				key, w.MinSeverity, w.Name))
			continue
		}
		var secret []byte
		if w.SecretEnv != "" {
			v, ok := opts.LookupEnv(w.SecretEnv)
			if !ok || v == "" {
				errs = append(errs, fmt.Errorf("%s.secret_env (webhook %q): the environment variable %s holds no signing key (it is unset or empty); set it, or remove secret_env to send unsigned",
					key, w.Name, w.SecretEnv))
				continue
			}
			secret = []byte(v)
		}
		if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
			n.log.Warn("notify: webhook URL is plain http beyond this machine: notifications can be read and changed on the way (use https)",
				"webhook", w.Name, "host", u.Host)
		}
		h := &hook{n: n, cfg: w, url: u.String(), host: u.Host, minSev: minSev, secret: secret,
			queue: make(chan delivery, opts.QueueSize), stop: make(chan struct{})}
		h.reqCtx, h.cancelReq = context.WithCancel(context.Background())
		for _, kind := range h.kinds() {
			for _, r := range Results {
				n.m.counter(w.Name, kind, r) // the series exist from the start, at zero
			}
		}
		n.hooks = append(n.hooks, h)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return n, nil
}

// defaultClient follows no redirect: a webhook that moved is a
// misconfiguration to fix, and a POST redirected would become a GET.
func defaultClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 2
	return &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// loopbackHost reports whether host is "localhost" or a loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Webhooks returns how many webhooks n sends to.
func (n *Notifier) Webhooks() int { return len(n.hooks) }

// Start subscribes to src at once (events from then on are seen: call it
// before the engine starts, to miss none) and runs the notifier until ctx
// is cancelled or src's stream ends (the engine stopped). Then each
// webhook's request in flight gets ShutdownGrace to finish, no new attempt
// starts, and what is left undelivered is logged as a count per webhook
// and counted as dropped. Wait waits for all of it.
//
// When src is also an Acknowledgements (the engine is) whose store keeps
// them, each approval request a webhook acknowledges (2xx) is remembered,
// and the intents it already holds pending approval (a previous run left
// them: call Start before the engine starts) are announced again first,
// to each webhook that wants approval requests, as far as that webhook
// has not acknowledged them: the newest ReannounceMax, each marked
// reannounced, after one approvals_pending message with how many it has
// not acknowledged when there are more. Where none are kept, when src is
// a Waiting, the newest ReannounceMax intents pending approval are
// announced again so to every such webhook, after one approvals_pending
// message with the total when there are more. One whose deadline has
// passed is not (it expires as the engine starts). When src is also a
// Recorder (the engine is), each notification that fails for good goes on
// the 5W1H record (RecordEvery says how often).
func (n *Notifier) Start(ctx context.Context, src Source) {
	events := src.Subscribe(ctx)
	plans, acked := n.pendingAtStart(ctx, src) // before the webhooks' goroutines, which report to n.acks
	ackStop, ackDone := make(chan struct{}), make(chan struct{})
	if n.acks != nil {
		go func() {
			defer close(ackDone)
			n.acks.run(ackStop)
		}()
	} else {
		close(ackDone)
	}
	recStop, recDone := make(chan struct{}), make(chan struct{})
	if r, ok := src.(Recorder); ok {
		n.rec = newRecorder(r, n) // before the webhooks' goroutines, which report to it
		go func() {
			defer close(recDone)
			n.rec.run(recStop)
		}()
	} else {
		close(recDone)
	}
	var workers sync.WaitGroup
	for _, h := range n.hooks {
		workers.Go(h.run)
	}
	go func() {
		defer close(n.done)
		n.reannounce(plans, acked)
		n.dispatch(ctx, src, events)
		n.shutdown(&workers)
		close(recStop) // after the webhooks: their last failures are reported
		close(ackStop) // and their last acknowledgements kept
		<-recDone
		<-ackDone
	}()
}

// Wait blocks until the notifier started by Start has stopped: every
// goroutine it started has returned.
func (n *Notifier) Wait() { <-n.done }

// dispatch reads the event stream until ctx ends or the stream closes,
// turning each alert change and approval request into deliveries. It only
// filters and enqueues: it never waits on a webhook. When ctx ends, the
// events already waiting in the stream are taken too (the engine stops
// before the notifier, and its last events are in the stream): what they
// mean is then counted and logged as undelivered with the rest, never
// lost without a trace.
func (n *Notifier) dispatch(ctx context.Context, src Source, events <-chan engine.Event) {
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case ev, ok := <-events:
					if !ok {
						return
					}
					n.catchUp(src, ev.Seq)
					n.handle(ev)
					continue
				default:
				}
				return
			}
		case ev, ok := <-events:
			if !ok {
				return
			}
			n.catchUp(src, ev.Seq)
			n.handle(ev)
		}
	}
}

// catchUp handles the events numbered between the last one seen and seq
// that the subscription missed (it fell behind), as far as the engine
// still holds them.
func (n *Notifier) catchUp(src Source, seq uint64) {
	if seq == 0 {
		return
	}
	last := n.lastSeq
	n.lastSeq = seq
	if last == 0 || seq <= last+1 {
		return
	}
	missed, complete := src.EventsBetween(last, seq)
	if !complete {
		n.log.Warn("notify: fell behind the engine's events and some are no longer held: their alerts or approval requests are not sent",
			"after", last, "before", seq)
	}
	for _, ev := range missed {
		n.handle(ev)
	}
}

// handle enqueues what ev means for each webhook.
func (n *Notifier) handle(ev engine.Event) {
	switch ev.Kind {
	case engine.EventAlert:
		if ev.Alert == nil || ev.Alert.Change == watchdog.Continued {
			return
		}
		if s := ev.Alert.Alert.Silenced; s != nil { // muted: the engine announces it again when the silence ends
			n.log.Debug("notify: alert silenced, not sent", "key", ev.Alert.Alert.Key, "change", ev.Alert.Change.String(), "silence_id", s.ID)
			return
		}
		msg := alertMessage(n.clock.Now(), *ev.Alert)
		for _, h := range n.hooks {
			if h.wantsAlert(*ev.Alert) {
				h.enqueue(msg, ev.Alert.Alert.Key)
			}
		}
	case "intent":
		in := ev.Intent
		if in.State != intent.StatePendingApproval {
			delete(n.announced, in.ID)
			return
		}
		// Once per intent: a first approval of two (two_person_types)
		// leaves it pending and is no new request.
		if _, seen := n.announced[in.ID]; seen || in.FirstApprover() != "" {
			return
		}
		if len(n.announced) >= maxAnnounced {
			clear(n.announced)
		}
		n.announced[in.ID] = struct{}{}
		msg := approvalMessage(n.clock.Now(), in)
		for _, h := range n.hooks {
			if h.cfg.Wants(engine.NotifyApproval) {
				h.enqueue(msg, in.ID)
			}
		}
	}
}

// shutdown stops every webhook's goroutine: none starts a new attempt,
// and requests in flight are cancelled after ShutdownGrace.
func (n *Notifier) shutdown(workers *sync.WaitGroup) {
	for _, h := range n.hooks {
		close(h.stop)
	}
	stopped := make(chan struct{})
	go func() {
		workers.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-n.clock.After(n.opts.ShutdownGrace):
		for _, h := range n.hooks {
			h.cancelReq()
		}
		<-stopped
	}
	for _, h := range n.hooks {
		h.cancelReq()
	}
	n.opts.Client.CloseIdleConnections()
}
