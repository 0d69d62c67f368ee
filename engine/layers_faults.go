package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"grace/engine/kernel"
	"grace/engine/mesh"
)

// LayerFaults are the fault hooks of the trigger mesh and the Layer 1
// control plane, for the chaos runner: flood the mesh, kill, hang or
// exhaust a kernel, send on the bus as a kernel. Like Faults, each
// injection is recorded (fault_injected) before it takes effect, and the
// safeguards meet it as they would meet the real thing. They return
// ErrStopped on an engine that is not running. *Engine implements it.
type LayerFaults interface {
	// FloodMesh publishes spec.Events events on a topic and reports what
	// became of them.
	FloodMesh(ctx context.Context, spec MeshFlood) (MeshFloodReport, error)
	// KillKernel makes a kernel panic; HangKernel silences it while its
	// goroutine lives on; ExhaustKernel drives its memory past
	// kernels.memory_limit_mb.
	KillKernel(ctx context.Context, name, reason string) error
	HangKernel(ctx context.Context, name, reason string) error
	ExhaustKernel(ctx context.Context, name, reason string) error
	// FloodBus sends spec.Messages messages on the bus as kernel spec.From
	// and reports how the bus treated them.
	FloodBus(ctx context.Context, spec BusFlood) (BusFloodReport, error)
}

var _ LayerFaults = (*Engine)(nil)

// KillKernel makes the kernel called name panic (see LayerFaults).
func (e *Engine) KillKernel(ctx context.Context, name, reason string) error {
	return e.kernelFault(ctx, name, reason, "kill_kernel", "panics at once; its supervisor recovers the panic", e.layers.cp.Kill)
}

// HangKernel silences the kernel called name (see LayerFaults).
func (e *Engine) HangKernel(ctx context.Context, name, reason string) error {
	return e.kernelFault(ctx, name, reason, "hang_kernel", "stops heartbeating while its goroutine lives on", e.layers.cp.Hang)
}

// ExhaustKernel drives the kernel called name out of memory (see
// LayerFaults).
func (e *Engine) ExhaustKernel(ctx context.Context, name, reason string) error {
	return e.kernelFault(ctx, name, reason, "exhaust_kernel", "reports memory past kernels.memory_limit_mb and stops", e.layers.cp.Exhaust)
}

func (e *Engine) kernelFault(ctx context.Context, name, reason, fault, effect string, inject func(string) error) error {
	doing := strings.ReplaceAll(fault, "_", " ")
	if !e.ready.Load() || !e.layers.running.Load() {
		return fmt.Errorf("%s %s: %w", doing, name, ErrStopped)
	}
	info, ok := e.layers.cp.Kernel(name)
	if !ok {
		return fmt.Errorf("%s: %w: %q", doing, kernel.ErrUnknownKernel, name)
	}
	if info.State != kernel.StateRunning && info.State != kernel.StateUnresponsive {
		return fmt.Errorf("%s %s (%s): %w", doing, name, info.State, kernel.ErrNotRunning)
	}
	reason = orDefault(strings.TrimSpace(reason), "fault injection")
	if err := e.recordFault(ctx, "kernel:"+name, fault, reason, name+" "+effect, "kernel", name, "critical", info.Critical); err != nil {
		return fmt.Errorf("%s %s: %w", doing, name, err)
	}
	if err := inject(name); err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	return nil
}

// BusFlood shapes messages sent on the bus as a kernel (the seed's "ACL
// floods").
type BusFlood struct {
	// From is the sending kernel.
	From string `json:"from"`
	// Topic is where it sends (kernel.control to try to command others).
	Topic string `json:"topic"`
	// Messages is how many to send (at least 1).
	Messages int `json:"messages"`
	// Fields are each message's fields ({"command": "stop", "target":
	// "memory"} on kernel.control).
	Fields map[string]string `json:"fields,omitempty"`
	Reason string            `json:"reason,omitempty"`
}

// BusFloodReport counts how the bus treated a flood's messages.
type BusFloodReport struct {
	Sent       int    `json:"sent"`
	Delivered  int    `json:"delivered"`
	ACLDenied  int    `json:"acl_denied"`
	Suspended  int    `json:"suspended"`
	Isolated   int    `json:"isolated"`
	Other      int    `json:"other"`
	FirstError string `json:"first_error,omitempty"`
	// ACL is the bus_acl safeguard.
	ACL bool `json:"acl"`
}

// FloodBus sends spec.Messages messages as spec.From (see LayerFaults).
func (e *Engine) FloodBus(ctx context.Context, spec BusFlood) (BusFloodReport, error) {
	bus := e.layers.cp.Bus()
	rep := BusFloodReport{ACL: bus.ACL()}
	switch {
	case !e.ready.Load() || !e.layers.running.Load():
		return rep, fmt.Errorf("flood bus: %w", ErrStopped)
	case spec.Messages < 1:
		return rep, fmt.Errorf("flood bus: messages (%d) must be at least 1", spec.Messages)
	case !e.layers.mesh.Catalog().Has(spec.Topic):
		return rep, fmt.Errorf("flood bus: %w: %q", mesh.ErrUnknownTopic, spec.Topic)
	}
	reason := orDefault(strings.TrimSpace(spec.Reason), "fault injection")
	if err := e.recordFault(ctx, "kernel:"+spec.From, "flood_bus", reason,
		fmt.Sprintf("%d messages from %s on %s", spec.Messages, spec.From, spec.Topic),
		"from", spec.From, "topic", spec.Topic, "messages", spec.Messages); err != nil {
		return rep, fmt.Errorf("flood bus: %w", err)
	}
	for range spec.Messages {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("flood bus: %w", err)
		}
		rep.Sent++
		err := bus.Publish(ctx, spec.From, spec.Topic, spec.Fields)
		switch {
		case err == nil:
			rep.Delivered++
			continue
		case errors.Is(err, kernel.ErrACLDenied), errors.Is(err, kernel.ErrUnknownSender):
			rep.ACLDenied++
		case errors.Is(err, kernel.ErrSuspended):
			rep.Suspended++
		case errors.Is(err, kernel.ErrIsolated):
			rep.Isolated++
		default:
			rep.Other++
		}
		if rep.FirstError == "" {
			rep.FirstError = err.Error()
		}
	}
	return rep, nil
}
