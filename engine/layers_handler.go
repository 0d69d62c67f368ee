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
		if mayNameRecovery(in.Payload) && kernel.HandlesRecovery(in) {
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

// mayNameRecovery reports whether payload could hold the non-empty
// "playbook" and "kernel" fields kernel.HandlesRecovery looks for, without
// decoding it: false only when it is plain ASCII without escapes (so every
// key is spelled as it reads) and lacks either name in any letter case
// (encoding/json matches keys case-insensitively). Every other payload is
// left to HandlesRecovery, which decides exactly; this only spares the
// decoding of every ordinary payload on every run.
func mayNameRecovery(payload []byte) bool {
	for _, c := range payload {
		if c == '\\' || c >= 0x80 {
			return true
		}
	}
	return containsFoldASCII(payload, "playbook") && containsFoldASCII(payload, "kernel")
}

// containsFoldASCII reports whether s holds word (lower-case ASCII letters)
// in any letter case. For a letter, b|0x20 is the letter exactly when b is
// that letter in either case.
func containsFoldASCII(s []byte, word string) bool {
	for i := 0; i+len(word) <= len(s); i++ {
		j := 0
		for j < len(word) && s[i+j]|0x20 == word[j] {
			j++
		}
		if j == len(word) {
			return true
		}
	}
	return false
}
