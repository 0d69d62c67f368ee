package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"grace/engine/clarity"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/kernel"
	"grace/engine/mesh"
	"grace/engine/policy"
	"grace/engine/watchdog"
)

// smallKernels: db (critical), api (critical, needs db), cache and rogue.
func smallKernels(c *Config) {
	c.Kernels.Kernels = map[string]kernel.Spec{
		"db":    {Critical: true, Publishes: []string{kernel.TopicState}},
		"api":   {Critical: true, Publishes: []string{kernel.TopicState, kernel.TopicControl}, DependsOn: []string{"db"}},
		"cache": {Publishes: []string{kernel.TopicState}},
		"rogue": {Publishes: []string{kernel.TopicState}},
	}
}

// layerStep moves the clock one heartbeat interval (workers answering as
// the heartbeat helper makes sure) and waits for the kernels' check.
func (b *testBundle) layerStep(t *testing.T) {
	t.Helper()
	n := b.e.layers.cp.Checks()
	b.heartbeat(t)
	eventually(t, "the kernels' heartbeat check", func() bool { return b.e.layers.cp.Checks() > n })
}

// meshLog collects the events of a pattern from the engine's mesh.
type meshLog struct {
	mu  sync.Mutex
	evs []mesh.Event
}

func (b *testBundle) listenMesh(t *testing.T, pattern string) *meshLog {
	t.Helper()
	l := &meshLog{}
	if _, err := b.e.layers.mesh.Subscribe(mesh.Spec{Name: "test:" + pattern, Pattern: pattern}, func(_ context.Context, ev mesh.Event) {
		l.mu.Lock()
		l.evs = append(l.evs, ev)
		l.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *meshLog) find(topic string, match func(mesh.Event) bool) (mesh.Event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range l.evs {
		if ev.Topic == topic && (match == nil || match(ev)) {
			return ev, true
		}
	}
	return mesh.Event{}, false
}

func (l *meshLog) wait(t *testing.T, topic string, match func(mesh.Event) bool) mesh.Event {
	t.Helper()
	var found mesh.Event
	eventually(t, "an event on "+topic, func() bool {
		ev, ok := l.find(topic, match)
		found = ev
		return ok
	})
	return found
}

func ofIntent(id string) func(mesh.Event) bool {
	return func(ev mesh.Event) bool { return ev.Field("id") == id }
}

func TestIntentChangesAreAnnouncedOnTheMesh(t *testing.T) {
	t.Parallel()
	b := setup(t, smallKernels, func(c *Config) {
		c.Policy.Rules = map[string]policy.RuleConfig{
			"summarise_schedules": {Topic: TopicIntentCompleted, Match: map[string]string{"type": "schedule_task"},
				Action: policy.ActionSubmit, Intent: "generate_summary", Priority: 3, Message: "summarise {id}"},
		}
	})
	log := b.listenMesh(t, ">")
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "schedule_task", Priority: 4})
	got := log.wait(t, TopicIntentReceived, ofIntent(in.ID))
	if got.Field("type") != "schedule_task" || got.Field("tier") != "2" || got.Field("priority") != "4" || got.Source != "engine" {
		t.Fatalf("intent.received = %+v", got)
	}
	log.wait(t, TopicIntentDispatched, ofIntent(in.ID))
	if done := log.wait(t, TopicIntentCompleted, ofIntent(in.ID)); done.Field("worker") == "" || done.Field("attempts") != "1" {
		t.Fatalf("intent.completed = %+v", done)
	}

	// The rule submitted a summary; the events of that intent carry the
	// chain that caused it.
	summary := log.wait(t, TopicIntentReceived, func(ev mesh.Event) bool { return ev.Field("actor") == "policy.summarise_schedules" })
	if summary.Depth() != 1 || summary.Chain[0].Rule != "summarise_schedules" || summary.Chain[0].From != TopicIntentCompleted {
		t.Fatalf("summary's chain = %+v", summary.Chain)
	}
	stored := b.stored(t, summary.Field("id"))
	if stored.Type != "generate_summary" || len(policy.ChainFromContext(stored.Context[policy.ContextCausation])) != 1 {
		t.Fatalf("summary intent = %+v", stored)
	}
	log.wait(t, TopicIntentCompleted, ofIntent(stored.ID))

	tier0 := b.submit(t, intent.Submission{Type: "change_charter"})
	if ev := log.wait(t, TopicApprovalRequired, ofIntent(tier0.ID)); ev.Field("state") != string(intent.StatePendingApproval) {
		t.Fatalf("approval.requested = %+v", ev)
	}
	if _, err := b.e.Deny(t.Context(), tier0.ID, "alice", "no"); err != nil {
		t.Fatal(err)
	}
	log.wait(t, TopicIntentDenied, ofIntent(tier0.ID))
}

func TestKilledCriticalKernelIsRecoveredThroughATier4Intent(t *testing.T) {
	t.Parallel()
	b := setup(t, smallKernels)
	log := b.listenMesh(t, "intent.*")
	b.start(t)
	if err := b.e.KillKernel(t.Context(), "db", "chaos"); err != nil {
		t.Fatal(err)
	}
	if f := b.waitRecord(t, WhatFaultInjected, nil); f.Context["fault"] != "kill_kernel" || f.Where != "kernel:db" {
		t.Fatalf("fault record = %+v", f)
	}
	b.waitRecord(t, kernel.WhatKernelFailed, nil)
	for i := 0; b.store.Count(kernel.WhatCriticalHeartbeatMiss) == 0; i++ {
		if i == 10 {
			t.Fatal("db's silence not noticed after 10 heartbeat checks")
		}
		b.layerStep(t)
	}
	rec := log.wait(t, TopicIntentReceived, func(ev mesh.Event) bool { return ev.Field("type") == "emergency_recovery" })
	if rec.Field("tier") != "4" || rec.Field("actor") != "critical_kernel_heartbeat_trigger" || rec.Field("priority") != "9" {
		t.Fatalf("recovery intent = %+v", rec)
	}
	log.wait(t, TopicIntentCompleted, ofIntent(rec.Field("id")))
	r := b.waitRecord(t, kernel.WhatKernelRecovered, nil)
	if r.IntentID != rec.Field("id") {
		t.Fatalf("recovered record = %+v", r)
	}
	// The emergency intent's story holds the trigger's evidence and each step.
	var steps []string
	for _, x := range b.store.RecordsFor(rec.Field("id")) {
		if x.What == kernel.WhatStepCompleted {
			steps = append(steps, x.Context["name"].(string))
		}
	}
	if strings.Join(steps, ",") != "isolate,capture_state,restart,verify_heartbeat,release" {
		t.Fatalf("steps on the intent's story: %v", steps)
	}
	if b.store.Count(WhatEmergencyLogged) == 0 {
		t.Fatal("the Tier 4 intent was not heavily logged")
	}
	// The default recovery_summary rule asks for a post-incident summary.
	log.wait(t, TopicIntentReceived, func(ev mesh.Event) bool {
		return ev.Field("actor") == "policy.recovery_summary" && ev.Field("type") == "generate_summary"
	})
	snap := b.e.Snapshot()
	for _, k := range snap.Kernels {
		if k.Name == "db" && (k.State != kernel.StateRunning || k.Incarnation != 2 || k.RootCause != string(kernel.CausePanic)) {
			t.Fatalf("db in the snapshot = %+v", k)
		}
	}
	if snap.Policy.Fired == 0 || snap.Mesh.Published == 0 || len(snap.Kernels) != 4 {
		t.Fatalf("snapshot layers: policy %+v, mesh published %d, %d kernels", snap.Policy, snap.Mesh.Published, len(snap.Kernels))
	}
}

func TestWithoutKernelAutoRecoveryNoEmergencyIntentIsSubmitted(t *testing.T) {
	t.Parallel()
	b := setup(t, smallKernels, func(c *Config) { c.Safeguards[SafeguardKernelAutoRecovery] = SafeguardConfig{Enabled: false} })
	b.start(t)
	if err := b.e.KillKernel(t.Context(), "db", "chaos"); err != nil {
		t.Fatal(err)
	}
	b.waitRecord(t, kernel.WhatKernelFailed, nil)
	// kernels.missed_after (3) checks in a row without a heartbeat; a
	// heartbeat the bus delivers late starts the count again, so step
	// until the trigger has spoken, within bounds.
	for i := 0; i < 20 && b.store.Count(kernel.WhatCriticalHeartbeatMiss) == 0; i++ {
		b.layerStep(t)
	}
	miss := b.waitRecord(t, kernel.WhatCriticalHeartbeatMiss, nil)
	if !strings.Contains(strings.Join(miss.Why, " "), "kernel_auto_recovery is off") {
		t.Fatalf("trigger record = %+v", miss)
	}
	for _, in := range b.store.Intents() {
		if in.Type == "emergency_recovery" {
			t.Fatalf("emergency intent submitted with kernel_auto_recovery off: %+v", in)
		}
	}
	if k, _ := b.e.layers.cp.Kernel("db"); k.State != kernel.StateFailed {
		t.Fatalf("db = %+v", k)
	}
}

func TestFloodMeshCountsEveryDropAndNarratesTheEpisode(t *testing.T) {
	t.Parallel()
	for _, bounded := range []bool{true, false} {
		t.Run(map[bool]string{true: "backpressure", false: "no_backpressure"}[bounded], func(t *testing.T) {
			t.Parallel()
			b := setup(t, smallKernels, func(c *Config) {
				c.Mesh.Buffer = 16
				c.Safeguards[SafeguardMeshBackpressure] = SafeguardConfig{Enabled: bounded}
			})
			b.start(t)
			rep, err := b.e.FloodMesh(t.Context(), MeshFlood{Events: 1000, StallSubscriber: true, Backpressure: "drop_newest"})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Published != 1000 || len(rep.Subscriptions) != 1 || rep.Bounded != bounded {
				t.Fatalf("report = %+v", rep)
			}
			s := rep.Subscriptions[0]
			if s.Offered != s.Delivered+s.Dropped+uint64(s.Queued) || s.Offered != 1000 {
				t.Fatalf("accounting: %+v", s)
			}
			if !bounded {
				if s.Dropped != 0 || s.Delivered != 1000 || b.store.Count(mesh.WhatSheddingEpisode) != 0 {
					t.Fatalf("without backpressure: %+v", s)
				}
				return
			}
			// The stalled consumer took at most one batch (64) off the
			// buffer of 16; everything else was dropped, and counted.
			if s.Dropped < 1000-16-64 || rep.Dropped != s.Dropped {
				t.Fatalf("with backpressure: %+v", s)
			}
			ep := b.waitRecord(t, mesh.WhatSheddingEpisode, nil)
			if ep.Context["dropped"] != s.Dropped {
				t.Fatalf("episode = %+v", ep)
			}
			// mesh.shedding fires the default mesh_shedding_alert rule.
			a := b.waitRecord(t, policy.WhatAlertRaised, func(r clarity.Record) bool { return r.Context["rule"] == "mesh_shedding_alert" })
			if !strings.Contains(a.Why[0], fmt.Sprintf("dropped %d events (drop_newest)", s.Dropped)) {
				t.Fatalf("alert = %+v", a)
			}
			if f := b.waitRecord(t, WhatFaultInjected, nil); f.Context["fault"] != "flood_mesh" {
				t.Fatalf("fault record = %+v", f)
			}
		})
	}
}

func TestFloodBusMeetsTheACL(t *testing.T) {
	t.Parallel()
	stop := map[string]string{"command": kernel.CommandStop, "target": "db"}
	for _, acl := range []bool{true, false} {
		t.Run(map[bool]string{true: "acl", false: "no_acl"}[acl], func(t *testing.T) {
			t.Parallel()
			b := setup(t, smallKernels, func(c *Config) {
				c.Safeguards[SafeguardBusACL] = SafeguardConfig{Enabled: acl}
				c.Safeguards[SafeguardKernelAutoRecovery] = SafeguardConfig{Enabled: false}
			})
			b.start(t)
			rep, err := b.e.FloodBus(t.Context(), BusFlood{From: "rogue", Topic: kernel.TopicControl, Messages: 20, Fields: stop})
			if err != nil {
				t.Fatal(err)
			}
			if !acl {
				if rep.Delivered != 20 {
					t.Fatalf("without the ACL: %+v", rep)
				}
				eventually(t, "db stopped by rogue", func() bool {
					k, _ := b.e.layers.cp.Kernel("db")
					return k.State == kernel.StateStopped
				})
				return
			}
			if rep.Delivered != 0 || rep.ACLDenied != 10 || rep.Suspended != 10 || !rep.ACL {
				t.Fatalf("with the ACL: %+v", rep)
			}
			b.waitRecord(t, kernel.WhatSenderSuspended, nil)
			if k, _ := b.e.layers.cp.Kernel("db"); k.State != kernel.StateRunning {
				t.Fatalf("db = %+v", k)
			}
			if snap := b.e.Snapshot(); snap.Bus.Violations != 10 || len(snap.Bus.Suspended) != 1 {
				t.Fatalf("bus in the snapshot = %+v", snap.Bus)
			}
		})
	}
}

func TestLayersAreWatchedAndReady(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	snap := b.e.Snapshot()
	if !snap.Ready || len(snap.Kernels) != 20 || snap.Mesh.Subscriptions < 5 || !snap.Mesh.SubscriptionsOK || !snap.Policy.Loaded {
		t.Fatalf("snapshot: ready %v, %d kernels, mesh %+v, policy loaded %v", snap.Ready, len(snap.Kernels), snap.Mesh.Subscriptions, snap.Policy.Loaded)
	}
	names := map[string]bool{}
	for _, c := range snap.Health.Components {
		names[c.Name] = c.Ready
	}
	if !names[watchdog.NameMesh] || !names[watchdog.NamePolicy] {
		t.Fatalf("watched components: %v", names)
	}
	if err := b.e.KillKernel(t.Context(), "nobody", ""); !errors.Is(err, kernel.ErrUnknownKernel) {
		t.Fatalf("kill of an unknown kernel: %v", err)
	}
	if _, err := b.e.FloodMesh(t.Context(), MeshFlood{Topic: "no.such.topic", Events: 1}); !errors.Is(err, mesh.ErrUnknownTopic) {
		t.Fatalf("flood of an unknown topic: %v", err)
	}
}

func TestLayerFaultHooksNeedARunningEngine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := b.e.HangKernel(t.Context(), "memory", ""); !errors.Is(err, ErrStopped) {
		t.Fatalf("hang before start: %v", err)
	}
	if _, err := b.e.FloodMesh(t.Context(), MeshFlood{Events: 1}); !errors.Is(err, ErrStopped) {
		t.Fatalf("flood before start: %v", err)
	}
}

func TestBadRulesAndPlaybooksStopTheEngineAtStart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"unknown topic", func(c *Config) {
			c.Policy.Rules["typo"] = policy.RuleConfig{Topic: "intent.complete", Action: policy.ActionAlert, Severity: "info", Message: "m"}
		}, `policy.rules.typo: topic "intent.complete" matches no known topic`},
		{"loop", func(c *Config) {
			c.Policy.Rules["again"] = policy.RuleConfig{Topic: TopicIntentFailed, Action: policy.ActionSubmit, Intent: "deploy_model"}
		}, "policy.rules.again: the rules would loop through themselves: again →[intent.failed]→ again"},
		{"playbook folder", func(c *Config) { c.Kernels.PlaybooksDir = "/nonexistent" }, "kernels.playbooks_dir (/nonexistent)"},
		{"recovery playbook", func(c *Config) { c.Kernels.RecoveryPlaybook = "nope" }, `kernels.recovery_playbook ("nope")`},
		{"mesh key", func(c *Config) { c.Mesh.Backpressure = "sometimes" }, "mesh.backpressure"},
		{"non-Tier-4 playbook", func(c *Config) { c.Governance.Tiers["tier_4"] = []string{"critical_incident"} },
			"intent.type: emergency_recovery is Tier 0; a playbook runs as a Tier 4 intent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.Policy.Rules = map[string]policy.RuleConfig{}
			for k, v := range Default().Policy.Rules {
				cfg.Policy.Rules[k] = v
			}
			cfg.Governance.Tiers = map[string][]string{}
			for k, v := range Default().Governance.Tiers {
				cfg.Governance.Tiers[k] = v
			}
			tc.edit(&cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			}
			st := enginetest.NewStore(8)
			t.Cleanup(func() { _ = st.Close() })
			if _, err := New(cfg, Deps{Store: st}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPacedFloodFollowsTheEngineClock(t *testing.T) {
	t.Parallel()
	b := setup(t, smallKernels)
	log := b.listenMesh(t, TopicChaosFlood)
	b.start(t)
	type result struct {
		rep MeshFloodReport
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := b.e.FloodMesh(t.Context(), MeshFlood{Events: 50, PerSecond: 1000})
		done <- result{rep, err}
	}()
	// 1000/s in 10 ms batches: ten events per tick of the clock.
	for {
		select {
		case r := <-done:
			if r.err != nil || r.rep.Published != 50 || r.rep.Dropped != 0 {
				t.Fatalf("paced flood: %+v, %v", r.rep, r.err)
			}
			log.wait(t, TopicChaosFlood, func(ev mesh.Event) bool { return ev.Field("seq") == "50" })
			return
		default:
			b.clock.Advance(10 * time.Millisecond)
			runtime.Gosched()
		}
	}
}

func TestHungCriticalKernelIsDiagnosedAndRestarted(t *testing.T) {
	t.Parallel()
	b := setup(t, smallKernels)
	b.start(t)
	if err := b.e.HangKernel(t.Context(), "api", "chaos"); err != nil {
		t.Fatal(err)
	}
	for i := 0; b.store.Count(kernel.WhatCriticalHeartbeatMiss) == 0; i++ {
		if i == 10 {
			t.Fatal("api's silence not noticed after 10 heartbeat checks")
		}
		b.layerStep(t)
	}
	b.waitRecord(t, kernel.WhatKernelRecovered, nil)
	miss := b.waitRecord(t, kernel.WhatCriticalHeartbeatMiss, nil)
	if d := miss.Context["diagnosis"].(map[string]any); d["cause"] != string(kernel.CauseMissedHeartbeats) {
		t.Fatalf("diagnosis of a hang = %+v", d)
	}
	if k, _ := b.e.layers.cp.Kernel("api"); k.State != kernel.StateRunning || k.Incarnation != 2 {
		t.Fatalf("api = %+v", k)
	}
}
