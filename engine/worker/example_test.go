package worker_test

import (
	"context"
	"fmt"
	"time"

	"grace/engine/intent"
	"grace/engine/worker"
)

// A registry built from config: an exec handler for sandboxes, simulated
// work for everything else. For falls back to the "default" entry.
func ExampleRegistry_For() {
	reg, err := worker.NewRegistry(map[string]worker.HandlerConfig{
		"default":         {Kind: "sim", Latency: 0, FailureRate: 0},
		"execute_sandbox": {Kind: "exec", Command: []string{"/bin/sh", "-c", "cat >/dev/null"}, Timeout: 2 * time.Minute},
	}, worker.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, typ := range []string{"execute_sandbox", "query_knowledge"} {
		h, timeout := reg.For(typ)
		err := h.Handle(context.Background(), intent.Intent{ID: "int-1", Type: typ, Payload: []byte(`{}`)})
		fmt.Println(typ, reg.Kind(typ), timeout, err)
	}
	// Output:
	// execute_sandbox exec 2m0s <nil>
	// query_knowledge sim 0s <nil>
}

// A mistyped kind names its config key.
func ExampleNewRegistry() {
	_, err := worker.NewRegistry(map[string]worker.HandlerConfig{"deploy_model": {Kind: "simulated"}}, worker.Options{})
	fmt.Println(err)
	// Output:
	// handlers.deploy_model.kind: unknown kind "simulated" (want sim, noop, exec or http)
}
