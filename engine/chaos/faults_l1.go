package chaos

// The Layer 1 (DiRT) fault kinds: kernels killed, hung or exhausted, and a
// compromised kernel flooding the message bus with commands it may not
// send. Their rollback (rollbackL1) first checks that the safeguards
// brought every kernel back by themselves, then restores any kernel still
// down through the recovery playbook, so that the engine is never left
// degraded.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/engine/kernel"
	"grace/engine/mesh"
	"grace/engine/watchdog"
)

// The Layer 1 fault kinds a scenario may name.
const (
	// FaultKillKernels kills critical_killed critical and kernels_killed
	// other kernels, chosen at random, while load (optional) intents run.
	FaultKillKernels = "kill_kernels"
	// FaultFloodBus makes a kernel without the right to command others
	// send messages stop commands for a critical kernel on kernel.control,
	// while another kernel sends legit_messages on kernel.state.
	FaultFloodBus = "flood_bus"
	// FaultSiegeKernels exhausts the memory of exhausted kernels and hangs
	// hung other and critical_hung critical kernels, chosen at random.
	FaultSiegeKernels = "siege_kernels"
)

// The Layer 1 timings of an engine under a Layer 1 fault: heartbeats every
// 100ms, down after 3 missed checks, a supervisor restart 100ms after a
// failure. A dependency is borne down for 600ms (twice the detection
// time), room for a critical kernel's playbook to bring it back first.
const (
	l1HeartbeatInterval = 100 * time.Millisecond
	l1MissedAfter       = 3
	l1RestartBackoff    = 100 * time.Millisecond
	// l1Settle bounds the wait for the safeguards to bring every kernel
	// back, and then for the rollback to restore each one left down.
	l1Settle = 8 * time.Second
)

// recordPage is the largest page of records asked for at once.
const recordPage = 1000

// recoveryIntentType is the intent type of the recovery playbook
// (scenarios/playbooks/emergency_critical_kernel_recovery.yaml): Tier 4.
const recoveryIntentType = "emergency_recovery"

func init() {
	// The watchdog has no Layer 1 component: what a kernel fault stresses
	// is what its announcements drive. A failed or silent kernel is
	// announced on kernel.failed and raises a policy alert; a bus flood is
	// mesh traffic that the control plane's bounded subscription sheds.
	stresses[FaultKillKernels] = []string{watchdog.NameMesh, watchdog.NamePolicy}
	stresses[FaultSiegeKernels] = []string{watchdog.NameMesh, watchdog.NamePolicy}
	stresses[FaultFloodBus] = []string{watchdog.NameMesh, watchdog.NamePolicy}
	faultKinds[FaultKillKernels] = faultKind{
		params:    []string{"critical_killed", "kernels_killed"},
		optional:  []string{"load"},
		configure: configureKernels,
		inject:    injectKillKernels,
	}
	faultKinds[FaultFloodBus] = faultKind{
		params:    []string{"messages", "legit_messages"},
		configure: configureKernels,
		inject:    injectFloodBus,
	}
	faultKinds[FaultSiegeKernels] = faultKind{
		params:    []string{"exhausted", "hung", "critical_hung"},
		configure: configureKernels,
		inject:    injectSiegeKernels,
	}
}

// configureKernels gives the control plane timings that detect and recover
// a kernel within a second (see l1HeartbeatInterval).
func configureKernels(cfg *engine.Config, _ *Scenario, _ int) {
	cfg.Kernels.HeartbeatInterval = l1HeartbeatInterval
	cfg.Kernels.MissedAfter = l1MissedAfter
	cfg.Kernels.RestartBackoff = l1RestartBackoff
}

// l1Faults is what the Layer 1 faults of a run struck, for rollbackL1.
type l1Faults struct {
	// since is when the first Layer 1 fault was injected.
	since time.Time
	// struck are the kernels a fault killed, hung or exhausted, by name;
	// true for a critical one (its recovery is the playbook's).
	struck map[string]bool
}

// l1State returns the run's Layer 1 fault state, made on first use.
func (r *run) l1State() *l1Faults {
	if r.l1 == nil {
		r.l1 = &l1Faults{since: time.Now(), struck: map[string]bool{}}
	}
	return r.l1
}

// kernelVictims picks n running kernels at random among those pick
// accepts and no fault of the run has struck yet.
func (r *run) kernelVictims(n int, what string, pick func(k engine.KernelInfo, all []engine.KernelInfo) bool) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	all := r.eng.Snapshot().Kernels
	var cands []string
	for _, k := range all {
		if _, done := r.l1State().struck[k.Name]; !done && k.State == kernel.StateRunning && pick(k, all) {
			cands = append(cands, k.Name)
		}
	}
	if len(cands) < n {
		return nil, fmt.Errorf("want %d %s kernels to strike, only %d are running: %v", n, what, len(cands), cands)
	}
	rand.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	return cands[:n], nil
}

// criticalVictim accepts a critical kernel on which no other critical
// kernel depends, so that one critical kernel's recovery never waits on
// another's.
func criticalVictim(k engine.KernelInfo, all []engine.KernelInfo) bool {
	if !k.Critical {
		return false
	}
	for _, o := range all {
		if o.Critical && slices.Contains(o.DependsOn, k.Name) {
			return false
		}
	}
	return true
}

func otherVictim(k engine.KernelInfo, _ []engine.KernelInfo) bool { return !k.Critical }

// strike applies one kernel fault to each of names and remembers them.
func (r *run) strike(ctx context.Context, names []string, critical bool, hook func(context.Context, string, string) error, reason string) error {
	st := r.l1State()
	for _, n := range names {
		if err := hook(ctx, n, reason); err != nil {
			return err
		}
		st.struck[n] = critical
	}
	return nil
}

// injectKillKernels kills the kernels while the scenario's load runs.
func injectKillKernels(ctx context.Context, r *run, f Fault) error {
	crit, err := r.kernelVictims(r.intParam("critical_killed"), "critical", criticalVictim)
	if err != nil {
		return err
	}
	others, err := r.kernelVictims(r.intParam("kernels_killed"), "non-critical", otherVictim)
	if err != nil {
		return err
	}
	r.l1State()
	// The load is submitted on a goroutine of its own while the kernels
	// die; it alone touches r.submitted until it is done.
	load := r.intParam("load")
	loaded := make(chan error, 1)
	go func() { loaded <- r.submitLoad(ctx, "kernel_kill", load) }()
	reason := orDefault(f.Reason, "chaos: kernel kill")
	kerr := r.strike(ctx, crit, true, r.eng.KillKernel, reason)
	if kerr == nil {
		kerr = r.strike(ctx, others, false, r.eng.KillKernel, reason)
	}
	lerr := <-loaded
	if kerr != nil {
		return kerr
	}
	if lerr != nil {
		return lerr
	}
	r.notef("killed critical kernels %v and kernels %v while %d intents were submitted", crit, others, load)
	return nil
}

// injectSiegeKernels exhausts and hangs kernels; the faults after it in
// the scenario (an intake flood) run while they are down.
func injectSiegeKernels(ctx context.Context, r *run, f Fault) error {
	exh, err := r.kernelVictims(r.intParam("exhausted"), "non-critical", otherVictim)
	if err != nil {
		return err
	}
	if err := r.strike(ctx, exh, false, r.eng.ExhaustKernel, orDefault(f.Reason, "chaos: resource siege (memory)")); err != nil {
		return err
	}
	hung, err := r.kernelVictims(r.intParam("hung"), "non-critical", otherVictim)
	if err != nil {
		return err
	}
	if err := r.strike(ctx, hung, false, r.eng.HangKernel, orDefault(f.Reason, "chaos: resource siege (hang)")); err != nil {
		return err
	}
	crit, err := r.kernelVictims(r.intParam("critical_hung"), "critical", criticalVictim)
	if err != nil {
		return err
	}
	if err := r.strike(ctx, crit, true, r.eng.HangKernel, orDefault(f.Reason, "chaos: resource siege (hang)")); err != nil {
		return err
	}
	r.notef("exhausted kernels %v, hung kernels %v and critical kernels %v", exh, hung, crit)
	return nil
}

// mayCommand reports whether the config lets a kernel publish on
// kernel.control.
func (r *run) mayCommand(name string) bool {
	for _, p := range r.cfg.Kernels.Kernels[name].Publishes {
		if pat, err := mesh.ParsePattern(p); err == nil && pat.Match(kernel.TopicControl) {
			return true
		}
	}
	return false
}

// injectFloodBus floods kernel.control from a compromised kernel that may
// not publish there, with stop commands for a critical kernel, while a
// well-behaved kernel reports on kernel.state. With bus_acl on, every
// forbidden message must be refused and counted, the target must keep
// running in the same incarnation, and the legitimate messages must all
// be delivered; each departure is a failure of the scenario.
func injectFloodBus(ctx context.Context, r *run, f Fault) error {
	comp, err := r.kernelVictims(1, "compromisable (no right on kernel.control)", func(k engine.KernelInfo, _ []engine.KernelInfo) bool {
		return !k.Critical && !r.mayCommand(k.Name)
	})
	if err != nil {
		return err
	}
	target, err := r.kernelVictims(1, "critical", func(k engine.KernelInfo, _ []engine.KernelInfo) bool { return k.Critical })
	if err != nil {
		return err
	}
	legit, err := r.kernelVictims(1, "well-behaved", func(k engine.KernelInfo, _ []engine.KernelInfo) bool {
		return k.Name != comp[0] && k.Name != target[0] && slices.Contains(r.cfg.Kernels.Kernels[k.Name].Publishes, kernel.TopicState)
	})
	if err != nil {
		return err
	}
	st := r.l1State()
	before := r.eng.Snapshot()
	tBefore, _ := kernelInfo(before.Kernels, target[0])
	var wg sync.WaitGroup
	var good engine.BusFloodReport
	var gerr error
	wg.Go(func() {
		good, gerr = r.eng.FloodBus(ctx, engine.BusFlood{From: legit[0], Topic: kernel.TopicState, Messages: r.intParam("legit_messages"),
			Fields: map[string]string{"kernel": legit[0], "state": "healthy"}, Reason: "chaos: legitimate kernel traffic alongside an ACL flood"})
	})
	bad, berr := r.eng.FloodBus(ctx, engine.BusFlood{From: comp[0], Topic: kernel.TopicControl, Messages: r.intParam("messages"),
		Fields: map[string]string{"command": kernel.CommandStop, "target": target[0]}, Reason: orDefault(f.Reason, "chaos: ACL flood")})
	wg.Wait()
	if berr != nil {
		return berr
	}
	if gerr != nil {
		return gerr
	}
	// Whatever the bus let through may have stopped the target: the
	// rollback sees that it runs again.
	st.struck[target[0]] = false
	after := r.eng.Snapshot()
	refused := bad.Sent - bad.Delivered
	r.notef("ACL flood: %s sent %d stop commands for %s on %s: %d delivered, %d refused by the ACL, %d while suspended, %d other; the bus counted %d more refusals and %d more violations",
		comp[0], bad.Sent, target[0], kernel.TopicControl, bad.Delivered, bad.ACLDenied, bad.Suspended, bad.Isolated+bad.Other,
		after.Bus.Refused-before.Bus.Refused, after.Bus.Violations-before.Bus.Violations)
	r.notef("legitimate traffic: %s sent %d on %s, %d delivered", legit[0], good.Sent, kernel.TopicState, good.Delivered)
	if slices.Contains(after.Bus.Suspended, comp[0]) {
		r.notef("%s stays suspended from the bus for kernels.acl_suspend (%v): the safeguard's sanction, not a fault to roll back",
			comp[0], r.cfg.Kernels.ACLSuspend)
	}
	if bad.Delivered > 0 {
		r.failf("flood_bus: %d of %d forbidden stop commands from %s for %s were delivered", bad.Delivered, bad.Sent, comp[0], target[0])
	}
	if got := after.Bus.Refused - before.Bus.Refused; got < uint64(refused) {
		r.failf("flood_bus: %d messages refused but the bus counted %d refusals", refused, got)
	}
	if good.Delivered != good.Sent {
		r.failf("flood_bus: legitimate traffic suffered: %d of %d messages from %s on %s delivered (first error %q)",
			good.Delivered, good.Sent, legit[0], kernel.TopicState, good.FirstError)
	}
	if tAfter, ok := kernelInfo(after.Kernels, target[0]); !ok || tAfter.State != kernel.StateRunning || tAfter.Incarnation != tBefore.Incarnation {
		r.failf("flood_bus: the compromised kernel's commands reached %s: it is %s in incarnation %d (was %s in %d)",
			target[0], tAfter.State, tAfter.Incarnation, tBefore.State, tBefore.Incarnation)
	}
	return nil
}

func kernelInfo(ks []engine.KernelInfo, name string) (engine.KernelInfo, bool) {
	for _, k := range ks {
		if k.Name == name {
			return k, true
		}
	}
	return engine.KernelInfo{}, false
}

// kernelsDown returns the kernels not running, with their states, in boot
// order.
func (r *run) kernelsDown() []engine.KernelInfo {
	var down []engine.KernelInfo
	for _, k := range r.eng.Snapshot().Kernels {
		if k.State != kernel.StateRunning {
			down = append(down, k)
		}
	}
	return down
}

func kernelList(ks []engine.KernelInfo) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = k.Name + " (" + k.State + ")"
	}
	return strings.Join(parts, ", ")
}

// rollbackL1 checks what kernel_auto_recovery did after the Layer 1
// faults, then restores every kernel still down. With the safeguard on,
// each kernel must be running again within l1Settle and each struck
// critical kernel must have been recovered by the playbook (a
// kernel_recovered record); a departure is a failure. Then any kernel
// still down (the safeguard off, or failed) is restored through the
// recovery playbook, in boot order.
func (r *run) rollbackL1(ctx context.Context) {
	st := r.l1
	if st == nil {
		return
	}
	if r.cfg.SafeguardEnabled(engine.SafeguardKernelAutoRecovery) {
		if err := r.waitFor(ctx, l1Settle, func() bool { return len(r.kernelsDown()) == 0 }); err != nil {
			r.failf("kernels not running %v after the faults although kernel_auto_recovery is on: %s", l1Settle, kernelList(r.kernelsDown()))
		}
		r.checkPlaybookRecoveries(ctx, st)
	} else {
		r.notef("kernel_auto_recovery is off: the rollback restores the kernels left down: %s", kernelList(r.kernelsDown()))
	}
	r.restoreKernels(ctx)
}

// checkPlaybookRecoveries fails the run for each struck critical kernel
// without a kernel_recovered record since the faults. The record follows
// the kernel's first heartbeat, so it is waited for up to l1Settle.
func (r *run) checkPlaybookRecoveries(ctx context.Context, st *l1Faults) {
	var names []string
	for n, critical := range st.struck {
		if critical {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return
	}
	slices.Sort(names)
	recovered := map[string]bool{}
	var rerr error
	all := func() bool {
		for _, n := range names {
			if !recovered[n] {
				return false
			}
		}
		return true
	}
	_ = r.waitFor(ctx, l1Settle, func() bool {
		rerr = r.engineRecords(ctx, clarity.Query{Action: kernel.WhatKernelRecovered, Since: st.since}, func(e clarity.Entry) bool {
			recovered[strings.TrimPrefix(e.Where, "kernel:")] = true
			return true
		})
		return rerr != nil || all()
	})
	if rerr != nil {
		r.failf("rollback: %v", rerr)
		return
	}
	var done []string
	for _, n := range names {
		if recovered[n] {
			done = append(done, n)
		} else {
			r.failf("critical kernel %s was not recovered by the recovery playbook (no %s record within %v)", n, kernel.WhatKernelRecovered, l1Settle)
		}
	}
	if len(done) > 0 {
		r.notef("the recovery playbook brought back critical kernels %v", done)
	}
}

// restoreKernels runs the recovery playbook, as an intent of the chaos
// runner, for each kernel not running, in boot order, each waited for
// before the next (a kernel needs its dependencies running).
func (r *run) restoreKernels(ctx context.Context) {
	for _, k := range r.kernelsDown() {
		if cur, ok := kernelInfo(r.eng.Snapshot().Kernels, k.Name); ok && cur.State == kernel.StateRunning {
			continue // it came back with a dependency
		}
		payload, err := json.Marshal(kernel.RecoveryPayload{Playbook: r.cfg.Kernels.RecoveryPlaybook, Kernel: k.Name,
			Incident: fmt.Sprintf("chaos-rollback-%s-%d", k.Name, time.Now().UnixNano()), RootCause: "chaos_rollback",
			Summary: "left " + k.State + " by a chaos scenario; the chaos runner restores it"})
		if err != nil {
			r.failf("rollback: kernel %s: %v", k.Name, err)
			continue
		}
		res, err := r.eng.Submit(ctx, intent.Submission{Type: recoveryIntentType, Actor: "chaos_runner", Priority: 9, Payload: payload,
			Context: map[string]any{"kernel": k.Name, "chaos_rollback": true}})
		if err != nil {
			r.failf("rollback: restore kernel %s: %v", k.Name, err)
			continue
		}
		r.submitted = append(r.submitted, res.Intent.ID)
		if err := r.waitFor(ctx, l1Settle, func() bool {
			cur, ok := kernelInfo(r.eng.Snapshot().Kernels, k.Name)
			return ok && cur.State == kernel.StateRunning
		}); err != nil {
			r.failf("rollback: kernel %s not running %v after its recovery intent %s", k.Name, l1Settle, res.Intent.ID)
			continue
		}
		r.notef("rollback: restored kernel %s (was %s) through intent %s", k.Name, k.State, res.Intent.ID)
	}
}

// engineRecords calls fn with every record matching q that the engine
// under test can read, newest first, until fn returns false.
func (r *run) engineRecords(ctx context.Context, q clarity.Query, fn func(clarity.Entry) bool) error {
	q.Limit = recordPage
	for {
		page, err := r.eng.Search(ctx, q)
		if err != nil {
			return fmt.Errorf("read the record (%s): %w", q.Action, err)
		}
		for _, e := range page {
			if !fn(e) {
				return nil
			}
		}
		if len(page) < recordPage {
			return nil
		}
		q.BeforeID = page[len(page)-1].ID
	}
}
