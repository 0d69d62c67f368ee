package kernel

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func stopCore(t *testing.T, b *testBundle, from string) error {
	t.Helper()
	return b.cp.Bus().Publish(t.Context(), from, TopicControl, map[string]string{"command": CommandStop, "target": "core"})
}

func TestBusACLRefusesCountsAndSuspendsAViolator(t *testing.T) {
	b := setup(t)
	// rogue may publish only kernel.state: its stop command is refused.
	if err := stopCore(t, b, "rogue"); !errors.Is(err, ErrACLDenied) {
		t.Fatalf("rogue's stop command: %v", err)
	}
	b.step(t)
	if k := b.info(t, "core"); k.State != StateRunning {
		t.Fatalf("core obeyed a refused command: %+v", k)
	}
	v := b.records(WhatACLViolation)
	if len(v) != 1 || v[0].Context["sender"] != "rogue" || v[0].Context["topic"] != TopicControl {
		t.Fatalf("violation records = %+v", v)
	}
	// Violations 2 and 3 (the limit) are counted, and the third suspends.
	_ = stopCore(t, b, "rogue")
	_ = stopCore(t, b, "rogue")
	if n := len(b.records(WhatACLViolation)); n != 1 {
		t.Fatalf("%d violation records: one per window is narrated", n)
	}
	if s := b.records(WhatSenderSuspended); len(s) != 1 || s[0].Context["violations"] != 3 {
		t.Fatalf("suspension = %+v", s)
	}
	// Suspended: even what its ACL allows is refused, heartbeats pass.
	if err := b.cp.Bus().Publish(t.Context(), "rogue", TopicState, nil); !errors.Is(err, ErrSuspended) {
		t.Fatalf("suspended sender on an allowed topic: %v", err)
	}
	b.step(t)
	if k := b.info(t, "rogue"); k.State != StateRunning || !k.Suspended || k.ACLViolations != 3 {
		t.Fatalf("rogue = %+v", k)
	}
	st := b.cp.Bus().Stats()
	if !st.ACL || st.Violations != 3 || st.Refused != 4 || len(st.Suspended) != 1 || st.Suspended[0] != "rogue" {
		t.Fatalf("bus stats = %+v", st)
	}
	// The operator kernel may command: its stop is obeyed.
	if err := stopCore(t, b, "operator"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "core to stop", func() bool { return b.info(t, "core").State == StateStopped })
	if c := b.records(WhatCommandObeyed); len(c) != 1 || c[0].Who != "operator" {
		t.Fatalf("command records = %+v", c)
	}
	// After acl_suspend the sender is reinstated.
	b.clock.Advance(time.Minute)
	if err := b.cp.Bus().Publish(t.Context(), "rogue", TopicState, nil); err != nil {
		t.Fatalf("after the suspension: %v", err)
	}
	if r := b.records(WhatSenderReinstated); len(r) != 1 || r[0].Context["refused_while_suspended"] != uint64(1) {
		t.Fatalf("reinstatement = %+v", r)
	}
	if err := b.cp.Bus().Publish(t.Context(), "stranger", TopicState, nil); !errors.Is(err, ErrUnknownSender) {
		t.Fatalf("a sender that is not a kernel: %v", err)
	}
}

func TestWithoutTheBusACLARogueKernelStopsACriticalOne(t *testing.T) {
	// bus_acl off: the failure it prevents happens — a kernel with no
	// business on kernel.control stops a critical kernel.
	b := setup(t, func(_ *Config, o *Options) { o.NoACL = true; o.NoAutoRecovery = true })
	if err := stopCore(t, b, "rogue"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "core to stop", func() bool { return b.info(t, "core").State == StateStopped })
	c := b.records(WhatCommandObeyed)
	if len(c) != 1 || c[0].Who != "rogue" || !strings.Contains(strings.Join(c[0].Why, "\n"), "bus_acl is off") {
		t.Fatalf("command records = %+v", c)
	}
	for range 4 {
		b.step(t, "core")
	}
	miss := b.records(WhatCriticalHeartbeatMiss)
	if len(miss) != 1 {
		t.Fatalf("trigger records = %+v", miss)
	}
	d := miss[0].Context["diagnosis"].(map[string]any)
	if d["cause"] != string(CauseStopCommand) || d["related"] != "rogue" {
		t.Fatalf("diagnosis = %+v", d)
	}
	if n := len(b.records(WhatACLViolation)); n != 0 || b.cp.Bus().Stats().ACL {
		t.Fatal("ACL checks ran with bus_acl off")
	}
}

func TestIsolationLetsOnlyHeartbeatsThrough(t *testing.T) {
	b := setup(t, func(_ *Config, o *Options) { o.NoACL = true })
	b.cp.Bus().isolate("operator", true)
	if err := stopCore(t, b, "operator"); !errors.Is(err, ErrIsolated) {
		t.Fatalf("isolated sender: %v", err)
	}
	before := b.info(t, "operator").Heartbeats
	b.step(t)
	if b.info(t, "operator").Heartbeats <= before {
		t.Fatal("an isolated kernel's heartbeats were refused")
	}
}
