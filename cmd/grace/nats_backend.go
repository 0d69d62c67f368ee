package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/dist"
	"grace/engine/watchdog"
	"grace/engine/worker"
	"grace/store"
)

// natsBackend is the control plane's side of backend.kind nats: the
// embedded server when backend.nats.url is "embedded", the connection and
// the dispatcher the engine runs its handlers through.
type natsBackend struct {
	srv  *dist.Server
	nc   *nats.Conn
	disp *dist.Dispatcher
	// bridge carries the engine's trigger mesh on grace.mesh.<topic>.
	bridge *dist.MeshBridge
	url    string
}

// startBackend starts the nats backend when cfg asks for it, and returns
// nil for the memory backend. On error whatever it started is stopped.
func startBackend(ctx context.Context, cfg engine.Config, st *store.Store, log *slog.Logger) (_ *natsBackend, err error) {
	if cfg.Backend.Kind != engine.BackendNATS {
		return nil, nil
	}
	b := &natsBackend{url: cfg.Backend.NATS.URL}
	defer func() {
		if err != nil {
			b.stop()
		}
	}()
	if cfg.Backend.NATS.URL == engine.NATSEmbedded {
		if b.srv, err = startEmbeddedNATS(cfg, log); err != nil {
			return nil, err
		}
		b.url = b.srv.ClientURL()
	}
	// The dispatcher's loops (its recorder, the watch for lost workers)
	// run until stop, not until ctx ends: ctx is serve's signal context,
	// and the engine, stopping after the signal, still needs them: a
	// holder lost meanwhile ends its stopping attempt, and what the
	// dispatcher records then reaches the store.
	if err := b.connect(context.WithoutCancel(ctx), cfg, st, log); err != nil {
		return nil, err
	}
	return b, nil
}

// startEmbeddedNATS starts the in-process nats-server of backend.nats.url
// embedded, on backend.nats.listen with its files in
// backend.nats.store_dir (default <data folder>/nats).
func startEmbeddedNATS(cfg engine.Config, log *slog.Logger) (*dist.Server, error) {
	n := cfg.Backend.NATS
	dir := n.StoreDir
	if dir == "" {
		dir = filepath.Join(dataDir(cfg), "nats")
	}
	srv, err := dist.StartServer(dist.ServerOptions{Listen: n.Listen, StoreDir: dir})
	if err != nil {
		return nil, fmt.Errorf("backend.nats.url embedded: %w", err)
	}
	log.Info("embedded nats-server started", "url", srv.ClientURL(), "store_dir", dir)
	return srv, nil
}

// connect dials b.url and creates the dispatcher, which records on st.
// With safeguards.worker_reassignment off, a lost worker keeps its claims
// (dist.DispatcherOptions.KeepLostClaims).
func (b *natsBackend) connect(ctx context.Context, cfg engine.Config, st *store.Store, log *slog.Logger) error {
	n := cfg.Backend.NATS
	var err error
	key := "backend.nats.url"
	if b.srv != nil || cfg.Backend.NATS.URL == engine.NATSEmbedded {
		key = "" // this process's own server: nothing the operator wrote
	}
	if b.nc, err = dialNATS(b.url, key, "grace-control-plane", log); err != nil {
		return err
	}
	reg, err := worker.NewRegistry(cfg.Handlers, worker.Options{Clock: clock.Real{}})
	if err != nil {
		return fmt.Errorf("handlers: %w", err)
	}
	b.disp, err = dist.NewDispatcher(ctx, b.nc, dist.DispatcherOptions{
		Catalog: reg, TaskTimeout: cfg.Workers.TaskTimeout, HeartbeatInterval: n.HeartbeatInterval, Journal: st,
		KeepLostClaims: !cfg.SafeguardEnabled(engine.SafeguardWorkerReassignment),
		Stream:         dist.StreamOptions{AckWait: n.AckWait, MaxDeliver: n.MaxDeliver, Replicas: n.Replicas},
		Clock:          clock.Real{}, Logger: log, Identity: dist.ControlPlane{API: cfg.API.Listen},
	})
	if err != nil {
		return fmt.Errorf("nats backend on %s: %w", shownNATSURL(b.url), err)
	}
	log.Info("nats backend ready", "url", shownNATSURL(b.url), "stream", dist.StreamName, "ack_wait", n.AckWait)
	return nil
}

// dialNATS connects to url (comma-separated for a cluster), reconnecting
// for as long as the process runs. Its error names key, where url comes
// from ("--nats", "backend.nats.url"; "" for a server of this process),
// and shows url and whatever the client quoted of it without the
// password, token, query or fragment of any of its URLs.
func dialNATS(url, key, name string, log *slog.Logger) (*nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", shownNATSURL(c.ConnectedUrl())) }))
	if err != nil {
		from := ""
		if key != "" {
			from = " (" + key + ")"
		}
		return nil, fmt.Errorf("connect to nats at %s%s: %w", shownNATSURL(url), from, maskNATSURLs(err, url))
	}
	return nc, nil
}

// shownNATSURL is url, one NATS URL or several separated by commas, as
// messages and logs show it: each URL's password (or a user alone, often
// a token), query and fragment hidden (engine.MaskURL).
func shownNATSURL(url string) string {
	parts := strings.Split(url, ",")
	for i, p := range parts {
		parts[i] = engine.MaskURL(p)
	}
	return strings.Join(parts, ",")
}

// maskNATSURLs returns err with the NATS URLs of url, wherever its text
// quotes them (the client's own errors quote a URL it cannot parse), shown
// as shownNATSURL shows them; errors.Is and As still see err's chain.
func maskNATSURLs(err error, url string) error {
	msg := err.Error()
	if shown := shownNATSURL(url); shown != url {
		msg = strings.ReplaceAll(msg, url, shown)
	}
	for _, p := range strings.Split(url, ",") {
		if shown := engine.MaskURL(p); shown != p && strings.TrimSpace(p) != "" {
			msg = strings.ReplaceAll(msg, strings.TrimSpace(p), strings.TrimSpace(shown))
		}
	}
	if msg == err.Error() {
		return err
	}
	return maskedError{msg: msg, err: err}
}

// maskedError is err told in msg, which hides what err's text showed.
type maskedError struct {
	msg string
	err error
}

func (e maskedError) Error() string { return e.msg }
func (e maskedError) Unwrap() error { return e.err }

// newEngineOn builds the engine, running its tasks through b and bridging
// its trigger mesh over NATS when the nats backend is on.
func newEngineOn(cfg engine.Config, st *store.Store, log *slog.Logger, b *natsBackend, watched ...watchdog.Component) (*engine.Engine, error) {
	if b == nil {
		return newEngine(cfg, st, log, watched...)
	}
	eng, err := engine.New(cfg, engine.Deps{Store: st, Journal: st, Searcher: st, Auditor: storeAuditor{st}, Clock: clock.Real{},
		Logger: log, Handlers: b.disp, Remote: b.disp, Components: watched})
	if err != nil {
		return nil, err
	}
	if err := b.bridgeMesh(eng, cfg, log); err != nil {
		return nil, err
	}
	return eng, nil
}

// bridgeMesh carries eng's trigger mesh on grace.mesh.<topic>.
func (b *natsBackend) bridgeMesh(eng *engine.Engine, cfg engine.Config, log *slog.Logger) error {
	host, _ := os.Hostname()
	var err error
	b.bridge, err = dist.BridgeMesh(b.nc, eng.Mesh(), dist.BridgeOptions{
		Origin: fmt.Sprintf("control-plane@%s/%d", host, os.Getpid()), Buffer: cfg.Mesh.Buffer, Logger: log})
	if err != nil {
		return fmt.Errorf("trigger mesh on nats: %w", err)
	}
	return nil
}

// stop closes the dispatcher, the connection and the embedded server, in
// that order; call it after the engine has stopped. Nil-safe.
func (b *natsBackend) stop() {
	if b == nil {
		return
	}
	if b.bridge != nil {
		b.bridge.Close()
	}
	if b.disp != nil {
		b.disp.Close()
	}
	if b.nc != nil {
		b.nc.Close()
	}
	if b.srv != nil {
		b.srv.Shutdown()
	}
}
