package engine

import (
	"context"
	"time"

	"grace/engine/intent"
	"grace/engine/kernel"
	"grace/engine/worker"
)

// recoveryHandlers is the engine's HandlerSource with the recovery
// playbooks in front: an intent whose payload names a playbook and a kernel
// (what the critical-kernel heartbeat trigger submits) runs the playbook;
// every other intent, of any type, runs the configured handler.
type recoveryHandlers struct {
	inner HandlerSource
	cp    *kernel.ControlPlane
}

// For returns a handler that picks the playbook or the configured handler
// per intent, with the configured timeout.
func (r recoveryHandlers) For(intentType string) (worker.Handler, time.Duration) {
	h, timeout := r.inner.For(intentType)
	return worker.HandlerFunc(func(ctx context.Context, in intent.Intent) error {
		if kernel.HandlesRecovery(in) {
			return r.cp.RunRecovery(ctx, in)
		}
		if h == nil {
			return worker.Permanent(errNoHandler(in.Type))
		}
		return h.Handle(ctx, in)
	}), timeout
}

// Kind names the configured handler's kind (a playbook run is narrated
// step by step).
func (r recoveryHandlers) Kind(intentType string) string {
	if k, ok := r.inner.(interface{ Kind(string) string }); ok {
		return k.Kind(intentType)
	}
	return "custom"
}

type errNoHandler string

func (e errNoHandler) Error() string { return "no handler for intent type " + string(e) }
