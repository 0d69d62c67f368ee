package kernel

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

func TestKernelsBootInDependencyOrderAndHeartbeat(t *testing.T) {
	b := setup(t)
	ks := b.cp.Kernels()
	if len(ks) != 5 {
		t.Fatalf("%d kernels", len(ks))
	}
	pos := map[string]int{}
	for i, k := range ks {
		pos[k.Name] = i
		if k.State != StateRunning || k.Incarnation != 1 || k.MemMB == 0 {
			t.Fatalf("kernel after boot: %+v", k)
		}
	}
	if pos["db"] > pos["core"] || pos["db"] > pos["worker"] {
		t.Fatalf("boot order %v: db must come before its dependents", ks)
	}
	for range 5 {
		b.step(t)
	}
	for _, k := range b.cp.Kernels() {
		if k.State != StateRunning || k.Heartbeats != 6 || k.MissedChecks > 1 {
			t.Fatalf("after 5 intervals: %+v", k)
		}
	}
	if n := len(b.records(WhatCriticalHeartbeatMiss)) + len(b.records(WhatHeartbeatMissed)); n != 0 {
		t.Fatalf("%d missed-heartbeat records for healthy kernels", n)
	}
	// A clock jump (a suspended laptop) is not an outage.
	b.clock.Advance(time.Hour)
	b.step(t)
	b.step(t)
	if n := len(b.records(WhatCriticalHeartbeatMiss)) + len(b.records(WhatHeartbeatMissed)); n != 0 {
		t.Fatalf("%d missed-heartbeat records after a clock jump", n)
	}
}

func TestKilledCriticalKernelIsRecoveredByThePlaybook(t *testing.T) {
	b := setup(t)
	if err := b.cp.Kill("db"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "the failure record", func() bool { return len(b.records(WhatKernelFailed)) == 1 })
	f := b.records(WhatKernelFailed)[0]
	if f.Context["kernel"] != "db" || !strings.Contains(f.Why[0], "panic") || !strings.Contains(f.Why[0], "injected fault: kernel db killed") {
		t.Fatalf("failure record = %+v", f)
	}
	if k := b.info(t, "db"); k.State != StateFailed || k.RootCause != string(CausePanic) {
		t.Fatalf("db = %+v", k)
	}
	b.waitFor(t, "kernel.failed", func() bool { return len(b.eventsOf(TopicFailed)) == 1 })

	// Three silent checks after its last heartbeat: the trigger fires
	// once and submits the recovery.
	for range 4 {
		b.step(t, "db")
	}
	b.waitFor(t, "the submission", func() bool { return len(b.submissions()) == 1 })
	sub := b.submissions()[0]
	p := payloadOf(t, sub)
	if sub.Type != "emergency_recovery" || sub.Priority != 9 || sub.Actor != actorTrigger ||
		p.Kernel != "db" || p.Playbook != "emergency_critical_kernel_recovery" || p.RootCause != string(CausePanic) ||
		!strings.HasPrefix(sub.IdempotencyKey, "kernel-recovery:") || sub.Context["resilience_impact"] != true {
		t.Fatalf("submission = %+v, payload %+v", sub, p)
	}
	miss := b.records(WhatCriticalHeartbeatMiss)
	if len(miss) != 1 || miss[0].Who != actorTrigger || !strings.Contains(strings.Join(miss[0].Why, "\n"), "Submitted Tier 4 emergency_recovery intent int_1") {
		t.Fatalf("trigger record = %+v", miss)
	}
	b.step(t, "db")
	if n := countFor(t, b, "db"); n != 1 {
		t.Fatalf("%d submissions for db's one incident", n)
	}

	// The worker runs the playbook.
	in := recoveryIntent(t, sub, "int_1")
	if err := b.cp.RunRecovery(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	steps := b.records(WhatStepCompleted)
	var names []string
	for _, s := range steps {
		if s.IntentID != "int_1" {
			t.Fatalf("step record not on the intent's story: %+v", s)
		}
		names = append(names, s.Context["name"].(string))
	}
	if strings.Join(names, ",") != "isolate,capture_state,restart,verify_heartbeat,release" {
		t.Fatalf("steps = %v", names)
	}
	if rec := b.records(WhatKernelRecovered); len(rec) != 1 || rec[0].Context["incarnation"] != 2 {
		t.Fatalf("recovered = %+v", rec)
	}
	k := b.info(t, "db")
	if k.State != StateRunning || k.Incarnation != 2 || k.Restarts != 1 || k.Isolated || k.RecoveryIntent != "" {
		t.Fatalf("db after recovery = %+v", k)
	}
	b.waitFor(t, "kernel.recovered", func() bool { return len(b.eventsOf(TopicRecovered)) == 1 })
	// Healthy again: no new incident for db. (core, which needs db, went
	// down with it and has its own.)
	for range 4 {
		b.step(t, "core")
	}
	if n := countFor(t, b, "db"); n != 1 {
		t.Fatalf("%d submissions for db", n)
	}
	// A second run of the same playbook on a healthy kernel is refused.
	if err := b.cp.RunRecovery(t.Context(), in); err == nil || len(b.records(WhatRecoveryRefused)) != 1 {
		t.Fatalf("recovery of a healthy kernel: %v", err)
	}
}

func TestWithoutAutoRecoveryACriticalKernelStaysDown(t *testing.T) {
	b := setup(t, func(_ *Config, o *Options) { o.NoAutoRecovery = true })
	if err := b.cp.Kill("core"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "core's failure", func() bool { return b.info(t, "core").State == StateFailed })
	for range 6 {
		b.step(t, "core")
	}
	if n := len(b.submissions()); n != 0 {
		t.Fatalf("%d recovery submissions with kernel_auto_recovery off", n)
	}
	miss := b.records(WhatCriticalHeartbeatMiss)
	if len(miss) != 1 || !strings.Contains(strings.Join(miss[0].Why, "\n"), "kernel_auto_recovery is off") {
		t.Fatalf("trigger records = %+v", miss)
	}
	if k := b.info(t, "core"); k.State != StateFailed || k.Incarnation != 1 {
		t.Fatalf("core = %+v", k)
	}
}

func TestHungWorkerIsRestartedBySupervisor(t *testing.T) {
	b := setup(t)
	if err := b.cp.Hang("worker"); err != nil {
		t.Fatal(err)
	}
	b.waitHung(t, "worker")
	for range 4 {
		b.step(t, "worker")
	}
	b.waitFor(t, "the missed-heartbeat record", func() bool { return len(b.records(WhatHeartbeatMissed)) == 1 })
	r := b.records(WhatHeartbeatMissed)[0]
	d := r.Context["diagnosis"].(map[string]any)
	if d["cause"] != string(CauseMissedHeartbeats) || !strings.Contains(d["summary"].(string), "hung") {
		t.Fatalf("diagnosis = %+v", d)
	}
	if k := b.info(t, "worker"); k.State != StateUnresponsive {
		t.Fatalf("worker = %+v", k)
	}
	if n := len(b.submissions()); n != 0 {
		t.Fatal("a non-critical kernel got an emergency intent")
	}
	// The supervisor restarts it after restart_backoff (2 s).
	b.step(t, "worker")
	b.step(t, "worker")
	b.waitFor(t, "the restart", func() bool { return len(b.records(WhatKernelRestarted)) == 1 })
	if k := b.info(t, "worker"); k.State != StateRunning || k.Incarnation != 2 {
		t.Fatalf("worker after restart = %+v", k)
	}
}

func TestWithoutAutoRecoveryAHungWorkerStaysHung(t *testing.T) {
	b := setup(t, func(_ *Config, o *Options) { o.NoAutoRecovery = true })
	if err := b.cp.Hang("worker"); err != nil {
		t.Fatal(err)
	}
	b.waitHung(t, "worker")
	for range 8 {
		b.step(t, "worker")
	}
	if n := len(b.records(WhatKernelRestarted)); n != 0 {
		t.Fatalf("%d restarts", n)
	}
	if k := b.info(t, "worker"); k.State != StateUnresponsive || k.Incarnation != 1 {
		t.Fatalf("worker = %+v", k)
	}
}

func TestExhaustedKernelIsDiagnosedWithItsMemory(t *testing.T) {
	b := setup(t, func(_ *Config, o *Options) { o.NoAutoRecovery = true })
	if err := b.cp.Exhaust("rogue"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "the failure", func() bool { return len(b.records(WhatKernelFailed)) == 1 })
	r := b.records(WhatKernelFailed)[0]
	if !strings.Contains(r.Why[0], string(CauseResourceExhaustion)) || !strings.Contains(strings.Join(r.Why, "\n"), "last reported 640 MB (limit 512 MB)") {
		t.Fatalf("failure = %+v", r.Why)
	}
}

func TestDependentKernelFailsWithItsDependencyNamed(t *testing.T) {
	b := setup(t, func(_ *Config, o *Options) { o.NoAutoRecovery = true })
	if err := b.cp.Kill("db"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "db's failure", func() bool { return b.info(t, "db").State == StateFailed })
	// Once db has been down for twice missed_after intervals its
	// dependents stop.
	for range 7 {
		b.step(t, "db", "core", "worker")
	}
	b.waitFor(t, "the dependents' failures", func() bool { return len(b.records(WhatKernelFailed)) == 3 })
	for _, r := range b.records(WhatKernelFailed) {
		d := r.Context["diagnosis"].(map[string]any)
		want, related := CauseDependencyFailure, "db"
		if r.Context["kernel"] == "db" {
			want, related = CausePanic, ""
		}
		if d["cause"] != string(want) || d["related"] != related {
			t.Fatalf("%s's diagnosis = %+v", r.Context["kernel"], d)
		}
	}
	// Their supervisor would not restart them while db is down either.
	if err := b.cp.Kill("worker"); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("kill of a failed kernel: %v", err)
	}
}

func TestRecoveryEscalatesWhenTheKernelCannotComeBack(t *testing.T) {
	b := setup(t, func(c *Config, _ *Options) { c.MissedAfter = 1 })
	// core needs db; with db down, every new incarnation of core stops at
	// once and never heartbeats.
	if err := b.cp.Kill("db"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "db's failure", func() bool { return b.info(t, "db").State == StateFailed })
	for i := 0; countFor(t, b, "core") == 0; i++ {
		if i == 8 {
			t.Fatalf("no recovery for core after 8 intervals: %+v", b.info(t, "core"))
		}
		b.step(t, "db", "core", "worker")
	}
	b.waitFor(t, "core's failure", func() bool { return b.info(t, "core").State == StateFailed })
	if k := b.info(t, "core"); k.RootCause != string(CauseDependencyFailure) {
		t.Fatalf("core = %+v", k)
	}
	done := make(chan error, 1)
	in := recoveryIntent(t, submissionFor(t, b, "core"), "int_core")
	go func() { done <- b.cp.RunRecovery(context.Background(), in) }()
	// Each attempt's verify_heartbeat waits 5 s of the clock in vain.
	b.advanceUntil(t, "three failed verifications", func() bool { return len(b.records(WhatStepFailed)) == 3 })
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "escalated after 3 failed attempts") {
		t.Fatalf("RunRecovery = %v", err)
	}
	esc := b.records(WhatRecoveryEscalated)
	if len(esc) != 1 || esc[0].IntentID != "int_core" {
		t.Fatalf("escalation = %+v", esc)
	}
	if k := b.info(t, "core"); k.State != StateEscalated || !k.Isolated {
		t.Fatalf("core = %+v", k)
	}
	b.waitFor(t, "kernel.escalated", func() bool { return len(b.eventsOf(TopicEscalated)) == 1 })
}

// submissionFor waits for the trigger's submission about kernel.
func submissionFor(t *testing.T, b *testBundle, kernel string) intent.Submission {
	t.Helper()
	var found intent.Submission
	b.waitFor(t, "a recovery submission for "+kernel, func() bool {
		for _, s := range b.submissions() {
			if payloadOf(t, s).Kernel == kernel {
				found = s
				return true
			}
		}
		return false
	})
	return found
}

func TestFaultsNeedARunningKernel(t *testing.T) {
	b := setup(t)
	if err := b.cp.Kill("nobody"); !errors.Is(err, ErrUnknownKernel) {
		t.Fatalf("unknown kernel: %v", err)
	}
	if err := b.cp.Kill("rogue"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "rogue's failure", func() bool { return b.info(t, "rogue").State == StateFailed })
	if err := b.cp.Hang("rogue"); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("fault into a failed kernel: %v", err)
	}
}

// countFor counts the recovery submissions about kernel.
func countFor(t *testing.T, b *testBundle, kernel string) int {
	t.Helper()
	n := 0
	for _, s := range b.submissions() {
		if payloadOf(t, s).Kernel == kernel {
			n++
		}
	}
	return n
}
