package engine

import (
	"encoding/json"
	"errors"
	"testing"

	"grace/engine/intent"
)

// TestLayersSubmitOncePerKey: a layer (the kernel trigger, a policy rule)
// that submits again under its key with a payload that moved on (a newer
// diagnosis) gets the intent that holds the key, not a refusal it would
// retry forever; an agent's submission is still refused.
func TestLayersSubmitOncePerKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sub := intent.Submission{Type: "query_knowledge", Actor: "grace_trigger", IdempotencyKey: "kernel-recovery:1-1",
		Payload: json.RawMessage(`{"summary":"missed 3 heartbeats"}`)}
	first, err := b.e.submitFor(t.Context(), sub)
	if err != nil {
		t.Fatal(err)
	}
	sub.Payload = json.RawMessage(`{"summary":"missed 5 heartbeats"}`)
	again, err := b.e.submitFor(t.Context(), sub)
	if err != nil || again != first {
		t.Fatalf("second submission under the key: %q, %v; want %s, nil", again, err, first)
	}
	if _, err := b.e.Submit(t.Context(), sub); !errors.Is(err, ErrIdempotencyConflict) {
		t.Fatalf("the same through Submit: %v, want ErrIdempotencyConflict", err)
	}
	list, err := b.store.List(t.Context(), intent.Filter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("%d intents stored (%v), want 1", len(list), err)
	}
}
