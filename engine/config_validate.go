package engine

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"grace/engine/clock"
	"grace/engine/governance"
	"grace/engine/worker"
)

// Safeguards lists the safeguard names a config may switch
// (safeguards.<name>.enabled).
var Safeguards = []string{
	"htm_rate_limit", "htm_load_shedding", "mesh_backpressure", "policy_cascade_limit",
	"worker_reassignment", "scheduler_auto_resume", "kernel_auto_recovery", "bus_acl",
	"crash_recovery", "handler_abandonment",
}

// Validate checks every key of c and returns all the problems found, each
// naming its key ("workers.count must be at least 1"), joined with
// errors.Join; nil when c is usable. It also builds the governance router
// and the handler registry, and compiles the policy rules and playbooks
// (validateLayers), so that their errors surface here too, and checks the
// chaos loop's playbooks folder (validateChaosFolders).
func (c Config) Validate() error {
	errs := []error{c.validateOwn()}
	if _, err := governance.NewRouter(c.Governance); err != nil {
		errs = append(errs, err)
	}
	if _, err := worker.NewRegistry(c.Handlers, worker.Options{Clock: clock.Real{}}); err != nil {
		errs = append(errs, fmt.Errorf("handlers: %w", err))
	}
	errs = append(errs, c.validateLayers(), c.validateChaosFolders())
	return errors.Join(errs...)
}

// validateOwn checks the keys the engine itself interprets (everything but
// the governance charter and the handlers).
func (c Config) validateOwn() error {
	var v problems
	v.check(strings.TrimSpace(c.DB) != "", "db must not be empty")
	v.check(slices.Contains([]string{"debug", "info", "warn", "error"}, strings.ToLower(c.Log.Level)),
		"log.level (%q) must be one of debug, info, warn, error", c.Log.Level)

	if t := strings.TrimSpace(c.API.Token); t != "" && !ValidToken(t) {
		v.add("api.token: %s", TokenRule)
	}
	if c.API.Listen != "" {
		if err := checkHostPort(c.API.Listen); err != nil {
			v.add("api.listen (%q) must be host:port or empty: %v", c.API.Listen, err)
		}
	}
	v.check(c.API.MaxBodyBytes > 0, "api.max_body_bytes (%d) must be positive", c.API.MaxBodyBytes)
	v.positive("api.read_header_timeout", c.API.ReadHeaderTimeout)
	v.positive("api.read_timeout", c.API.ReadTimeout)
	v.positive("api.write_timeout", c.API.WriteTimeout)
	v.positive("api.idle_timeout", c.API.IdleTimeout)
	v.check(c.API.MaxConnections > 0, "api.max_connections (%d) must be positive", c.API.MaxConnections)
	v.check(c.API.MaxStreams > 0, "api.max_streams (%d) must be positive", c.API.MaxStreams)
	v.check(c.API.MaxStreamsPerIdentity > 0, "api.max_streams_per_identity (%d) must be positive", c.API.MaxStreamsPerIdentity)
	v.check(c.API.MaxStreams < c.API.MaxConnections || c.API.MaxConnections <= 0,
		"api.max_streams (%d) must be below api.max_connections (%d): each stream holds a connection, and other requests need some",
		c.API.MaxStreams, c.API.MaxConnections)
	v.check(c.API.MaxStreamsPerIdentity <= c.API.MaxStreams || c.API.MaxStreams <= 0,
		"api.max_streams_per_identity (%d) must not be above api.max_streams (%d)", c.API.MaxStreamsPerIdentity, c.API.MaxStreams)
	v = append(v, c.validateAccess()...)
	if c.API.Server != "" {
		u, err := url.Parse(c.API.Server)
		// The API's paths are appended to it: after a "?" or a "#" they
		// would be its query or fragment, every request the server's root.
		v.check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
			u.RawQuery == "" && !u.ForceQuery && !strings.Contains(c.API.Server, "#") && validPort(u.Port()),
			"api.server (%q) must be an http:// or https:// URL with no query or fragment (and a port, if any, in 0..65535)", MaskURL(c.API.Server))
	}

	v.check(strings.EqualFold(c.Store.Synchronous, "FULL") || strings.EqualFold(c.Store.Synchronous, "NORMAL"),
		"store.synchronous (%q) must be FULL or NORMAL", c.Store.Synchronous)
	v.check(c.Store.BatchMax >= 1, "store.batch_max (%d) must be at least 1", c.Store.BatchMax)
	v.check(c.Store.BatchMax <= maxStoreBatch, "store.batch_max (%d) must be at most %d", c.Store.BatchMax, maxStoreBatch)
	v.positive("store.batch_wait", c.Store.BatchWait)
	v.check(c.Store.UpdateWait >= 0 && c.Store.UpdateWait <= maxUpdateWait,
		"store.update_wait (%v) must be from 0 (off) to %v: an update held longer shows late on the record and in events", c.Store.UpdateWait, maxUpdateWait)
	v.tick("store.index_interval", c.Store.IndexInterval)
	v.tick("store.checkpoint_interval", c.Store.CheckpointInterval)

	v.check(c.Intake.MaxPayloadBytes > 0, "intake.max_payload_bytes (%d) must be positive", c.Intake.MaxPayloadBytes)
	v.positive("approvals.timeout", c.Approvals.Timeout)

	h := c.HTM
	v.check(h.Capacity >= 1, "htm.capacity (%d) must be at least 1", h.Capacity)
	v.check(h.WarnDepth >= 1, "htm.warn_depth (%d) must be at least 1", h.WarnDepth)
	v.check(h.WarnDepth < h.CriticalDepth, "htm.warn_depth (%d) must be below htm.critical_depth (%d)", h.WarnDepth, h.CriticalDepth)
	v.check(h.CriticalDepth <= h.Capacity, "htm.critical_depth (%d) must not exceed htm.capacity (%d)", h.CriticalDepth, h.Capacity)

	w := c.Workers
	v.check(w.Count >= 1, "workers.count must be at least 1 (got %d)", w.Count)
	v.positive("workers.task_timeout", w.TaskTimeout)
	v.check(w.MaxAttempts >= 1, "workers.max_attempts must be at least 1 (got %d)", w.MaxAttempts)
	v.positive("workers.backoff_base", w.BackoffBase)
	v.positive("workers.abandon_after", w.AbandonAfter)
	v.check(w.BackoffMax >= w.BackoffBase, "workers.backoff_max (%v) must not be below workers.backoff_base (%v)", w.BackoffMax, w.BackoffBase)
	c.validateLayer2(&v)
	c.validateBackend(&v)
	c.validateNotify(&v)
	c.validateRetention(&v)
	if err := c.Watchdog.Validate(); err != nil {
		v = append(v, err)
	}
	// The loop periods of the Layer 1 and 2 packages, whose Validate
	// checks only that they are positive: a 1ns kernel heartbeat or
	// readiness poll spun cores.
	v.minTick("watchdog.readiness_poll", c.Watchdog.ReadinessPoll)
	v.minTick("mesh.episode_quiet", c.Mesh.EpisodeQuiet)
	v.minTick("policy.alert_interval", c.Policy.AlertInterval)
	v.minTick("kernels.heartbeat_interval", c.Kernels.HeartbeatInterval)

	v.check(c.Chaos.KeepRuns >= 1, "chaos.keep_runs (%d) must be at least 1", c.Chaos.KeepRuns)
	v.check(c.Chaos.Loop.EscalateAfter >= 1, "chaos.loop.escalate_after (%d) must be at least 1", c.Chaos.Loop.EscalateAfter)
	v.check(c.Chaos.Loop.MaxDifficulty >= 1, "chaos.loop.max_difficulty (%d) must be at least 1", c.Chaos.Loop.MaxDifficulty)
	v.check(c.Chaos.Loop.DeniedHold >= 0, "chaos.loop.denied_hold (%v) must not be negative", c.Chaos.Loop.DeniedHold)
	v.check(!math.IsNaN(c.Cortex.Rate) && !math.IsInf(c.Cortex.Rate, 0) && c.Cortex.Rate >= 0,
		"cortex.rate (%v) must be zero or positive", c.Cortex.Rate)
	total := 0.0
	for _, typ := range sortedKeys(c.Cortex.Mix) {
		wt := c.Cortex.Mix[typ]
		if math.IsNaN(wt) || math.IsInf(wt, 0) || wt < 0 {
			v.add("cortex.mix.%s (%v) must be a weight of zero or more", typ, wt)
			continue
		}
		total += wt
	}
	if c.Cortex.Enabled {
		v.check(c.Cortex.Rate > 0, "cortex.rate must be positive when cortex.enabled is true")
		v.check(total > 0, "cortex.mix must give some intent type a positive weight when cortex.enabled is true")
	}

	for _, name := range sortedKeys(c.Safeguards) {
		if !slices.Contains(Safeguards, name) {
			v.add("safeguards.%s is not a known safeguard (known: %s)", name, strings.Join(Safeguards, ", "))
		}
	}
	v.tick("console.refresh", c.Console.Refresh)
	v.checkConsoleKeys(c.Console.Keys)
	return errors.Join(v...)
}

// problems collects config errors.
type problems []error

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Errorf(format, args...)) }

func (p *problems) check(ok bool, format string, args ...any) {
	if !ok {
		p.add(format, args...)
	}
}

func (p *problems) positive(key string, d time.Duration) {
	p.check(d > 0, "%s (%v) must be positive", key, d)
}

// maxStoreBatch is the most changes the store takes in one group commit
// (store.Options.BatchMax): checked here so that a larger store.batch_max
// is refused with the other keys, not only once the store opens.
const maxStoreBatch = 1 << 16

// maxUpdateWait bounds store.update_wait.
const maxUpdateWait = time.Second

// MinTick is the shortest period of a loop that a config key sets (an
// index catch-up, a heartbeat, a refresh): "1ns" for "1s" spun a core,
// and a 1ns worker heartbeat wrote 150 MB of narratives in 4 seconds.
const MinTick = 10 * time.Millisecond

// tick checks a loop's period: positive and at least MinTick.
func (p *problems) tick(key string, d time.Duration) {
	p.check(d > 0, "%s (%v) must be positive", key, d)
	p.minTick(key, d)
}

// minTick checks that a positive loop period is at least MinTick, for the
// periods whose sign their own package's Validate checks.
func (p *problems) minTick(key string, d time.Duration) {
	p.check(d <= 0 || d >= MinTick, "%s (%v) must be at least %v (it is how often a loop runs)", key, d, MinTick)
}

// checkHostPort accepts "host:port" and ":port" with a port in 0..65535.
func checkHostPort(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number in 0..65535", port)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TokenRule says what an API token may hold; ValidToken checks it.
const TokenRule = "a token must be printable ASCII without spaces (it is sent in an HTTP header)"

// ValidToken reports whether tok can be sent as a bearer token: visible
// ASCII only. An empty token is valid (none is configured).
func ValidToken(tok string) bool {
	for i := 0; i < len(tok); i++ {
		if tok[i] <= ' ' || tok[i] > '~' {
			return false
		}
	}
	return true
}

// validPort reports whether a URL's port (u.Port()) is none or 0..65535.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	_, err := strconv.ParseUint(p, 10, 16)
	return err == nil
}
