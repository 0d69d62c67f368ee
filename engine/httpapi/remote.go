package httpapi

import (
	"context"
	"sync"
	"time"

	"grace/engine"
)

// snapshotTimeout bounds Remote.Snapshot's request.
const snapshotTimeout = 5 * time.Second

// Remote is a remote engine as an engine.OperatorAPI and an
// engine.ChaosAPI: the Client's methods and a Snapshot that cannot fail.
// The console attaches to a running "grace serve" through it. Its chaos
// methods answer engine.ErrChaosUnavailable when the server has no chaos
// service; its Subscribe carries the server's chaos progress events
// (Event.Chaos) with the intent, telemetry and alert events.
type Remote struct {
	*Client

	mu      sync.Mutex
	last    engine.Snapshot
	lastErr error
}

var (
	_ engine.OperatorAPI = (*Remote)(nil)
	_ engine.ChaosAPI    = (*Remote)(nil)
)

// NewRemote wraps c.
func NewRemote(c *Client) *Remote { return &Remote{Client: c} }

// Snapshot asks GET /v1/telemetry (for at most 5 s). When the server does
// not answer, it returns the last snapshot it got with Ready false and At
// unchanged, so a console shows the figures as stale and the engine as not
// ready; LastError says why.
func (r *Remote) Snapshot() engine.Snapshot {
	ctx, cancel := context.WithTimeout(context.Background(), snapshotTimeout)
	defer cancel()
	snap, err := r.Client.Snapshot(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastErr = err
	if err != nil {
		stale := r.last
		stale.Ready = false
		return stale
	}
	r.last = snap
	return snap
}

// LastError returns the error of the last Snapshot, nil when it succeeded.
func (r *Remote) LastError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}
