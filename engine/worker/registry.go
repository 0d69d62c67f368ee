package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"sort"
	"strings"
	"time"

	"grace/engine/clock"
	"grace/engine/intent"
)

// Handler executes one intent. Handle returns when the work is done, has
// failed, or ctx is done; in the last case it returns an error wrapping
// ctx.Err() and leaves nothing running behind it. A returned error is
// retried by the pool unless IsPermanent reports it. Handlers are called
// from many workers at once and must be safe for concurrent use.
type Handler interface {
	Handle(ctx context.Context, in intent.Intent) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, in intent.Intent) error

// Handle calls f(ctx, in).
func (f HandlerFunc) Handle(ctx context.Context, in intent.Intent) error { return f(ctx, in) }

// Noop is a Handler that succeeds at once without looking at the intent.
type Noop struct{}

// Handle returns nil.
func (Noop) Handle(context.Context, intent.Intent) error { return nil }

// Options are the outside dependencies of the handlers. Zero fields get
// defaults.
type Options struct {
	// Clock times sim handlers' simulated work; default clock.Real.
	Clock clock.Clock
	// Rand returns a uniform float in [0, 1) for sim jitter and failures.
	// It is called from many goroutines and must be safe for concurrent
	// use; default math/rand/v2's Float64.
	Rand func() float64
	// HTTPClient sends http handlers' webhooks; default a client that does
	// not follow redirects (a 3xx answer is then a permanent failure).
	// Deadlines come from the task's context, not from the client.
	HTTPClient *http.Client
}

// Registry maps intent types to their handlers. It is immutable after
// NewRegistry and safe for concurrent use.
type Registry struct {
	entries  map[string]entry
	fallback entry
}

type entry struct {
	h       Handler
	timeout time.Duration
	kind    string
}

// DefaultType is the handlers key used for intent types without an entry.
const DefaultType = "default"

// NewRegistry validates every entry of cfgs (see HandlerConfig.Validate) and
// builds its handler. The first invalid entry, in sorted key order, fails
// the whole registry with a *ConfigError naming "handlers.<type>.<field>".
// A nil or empty cfgs is valid: every type then runs the noop handler.
func NewRegistry(cfgs map[string]HandlerConfig, opts Options) (*Registry, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	types := make([]string, 0, len(cfgs))
	for typ := range cfgs {
		types = append(types, typ)
	}
	sort.Strings(types)
	r := &Registry{entries: make(map[string]entry, len(cfgs)), fallback: entry{h: Noop{}, kind: KindNoop}}
	for _, typ := range types {
		c := cfgs[typ]
		if err := c.Validate(typ); err != nil {
			return nil, err
		}
		h, err := build(typ, c, opts)
		if err != nil {
			return nil, err
		}
		r.entries[typ] = entry{h: h, timeout: c.Timeout, kind: c.Kind}
	}
	if def, ok := r.entries[DefaultType]; ok {
		r.fallback = def
	}
	return r, nil
}

func build(typ string, c HandlerConfig, opts Options) (Handler, error) {
	switch c.Kind {
	case KindSim:
		return &simHandler{latency: c.Latency, failureRate: c.FailureRate, clock: opts.Clock, rand: opts.Rand}, nil
	case KindNoop:
		return Noop{}, nil
	case KindExec:
		return &execHandler{argv: append([]string(nil), c.Command...)}, nil
	case KindHTTP:
		return newHTTPHandler(typ, c.URL, opts.HTTPClient)
	}
	return nil, &ConfigError{Key: "handlers." + typ + ".kind", Reason: fmt.Sprintf("unknown kind %q", c.Kind)}
}

// For returns the handler of intentType and its timeout. A type without an
// entry gets the "default" entry, or the noop handler when there is no
// default. A zero timeout means the caller's workers.task_timeout applies.
func (r *Registry) For(intentType string) (h Handler, timeout time.Duration) {
	e := r.lookup(intentType)
	return e.h, e.timeout
}

// Kind names the kind of handler For returns for intentType ("sim", "noop",
// "exec", "http"), for narratives and the console.
func (r *Registry) Kind(intentType string) string { return r.lookup(intentType).kind }

func (r *Registry) lookup(intentType string) entry {
	if e, ok := r.entries[intentType]; ok {
		return e
	}
	return r.fallback
}

// CheckPrograms makes sure the program of every exec handler can be
// started here (exec.LookPath: on PATH, or a path to an executable file),
// for the process that runs the handlers to refuse at start what would
// otherwise fail every intent of the type. The *ConfigError names the
// first missing one, in sorted type order. A program written with its
// arguments in one string ("ls -l") is told to be a list.
func (r *Registry) CheckPrograms() error {
	types := make([]string, 0, len(r.entries))
	for typ := range r.entries {
		types = append(types, typ)
	}
	sort.Strings(types)
	for _, typ := range types {
		x, ok := r.entries[typ].h.(*execHandler)
		if !ok {
			continue
		}
		prog := x.argv[0]
		if _, err := exec.LookPath(prog); err != nil {
			reason := fmt.Sprintf("program %q cannot be run here: %v", prog, cmp.Or(errors.Unwrap(err), err))
			if strings.ContainsAny(strings.TrimSpace(prog), " \t") {
				reason += `; the command is a list, program then arguments: [ls, -l], not "ls -l"`
			}
			return &ConfigError{Key: "handlers." + typ + ".command[0]", Reason: reason}
		}
	}
	return nil
}
