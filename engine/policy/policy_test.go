package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/intent"
	"grace/engine/mesh"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitLimit = 10 * time.Second

var epoch = time.Date(2025, 11, 15, 12, 0, 0, 0, time.UTC)

var intentTopics = []string{"intent.received", "intent.completed", "intent.failed"}

// testTopics are the topics these tests declare: the engine's intent
// topics, the policy's own, and a chain t0..t14.
func testTopics() []string {
	ts := append([]string{"kernel.failed", "loop.a", "loop.b"}, intentTopics...)
	ts = append(ts, Topics...)
	for i := range 15 {
		ts = append(ts, fmt.Sprintf("chain.t%d", i))
	}
	return ts
}

func testEnv(t *testing.T) Env {
	t.Helper()
	cat, err := mesh.NewCatalog(testTopics()...)
	if err != nil {
		t.Fatal(err)
	}
	return Env{Topics: cat, IntentTopics: intentTopics}
}

type testBundle struct {
	mesh   *mesh.Mesh
	pol    *Engine
	clock  *clock.Fake
	mu     sync.Mutex
	recs   []clarity.Record
	subs   []intent.Submission
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func setup(t *testing.T, cfg Config, opts Options) *testBundle {
	t.Helper()
	b := &testBundle{clock: clock.NewFake(epoch)}
	record := func(r clarity.Record) {
		b.mu.Lock()
		b.recs = append(b.recs, r)
		b.mu.Unlock()
	}
	mcfg := mesh.DefaultConfig()
	mcfg.Topics = testTopics()
	m, err := mesh.New(mcfg, mesh.Options{Clock: b.clock, Record: record})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Compile(cfg, testEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	opts.Clock, opts.Record = b.clock, record
	if opts.Submit == nil {
		opts.Submit = func(_ context.Context, sub intent.Submission) (string, error) {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.subs = append(b.subs, sub)
			return fmt.Sprintf("int_%d", len(b.subs)), nil
		}
	}
	pol, err := New(rs, cfg, m, opts)
	if err != nil {
		t.Fatal(err)
	}
	b.mesh, b.pol = m, pol
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.wg.Go(func() { _ = m.Run(ctx) })
	b.wg.Go(func() { pol.Run(ctx) })
	t.Cleanup(b.stop)
	return b
}

func (b *testBundle) stop() {
	b.cancel()
	b.wg.Wait()
}

func (b *testBundle) records(what string) []clarity.Record {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []clarity.Record
	for _, r := range b.recs {
		if r.What == what {
			out = append(out, r)
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func baseConfig(rules map[string]RuleConfig) Config {
	c := DefaultConfig()
	c.Rules = rules
	return c
}

// chainRules makes n rules: step_i listens to chain.t(i-1) and emits chain.ti.
func chainRules(n int) map[string]RuleConfig {
	rules := map[string]RuleConfig{}
	for i := 1; i <= n; i++ {
		rules[fmt.Sprintf("step_%02d", i)] = RuleConfig{Topic: fmt.Sprintf("chain.t%d", i-1), Action: ActionEmit,
			Emit: fmt.Sprintf("chain.t%d", i), Fields: map[string]string{"origin": "{origin}"}}
	}
	return rules
}

// listen counts the events of a topic.
func listen(t *testing.T, m *mesh.Mesh, pattern string) func() []mesh.Event {
	t.Helper()
	var mu sync.Mutex
	var got []mesh.Event
	if _, err := m.Subscribe(mesh.Spec{Name: "listen:" + pattern, Pattern: pattern}, func(_ context.Context, ev mesh.Event) {
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	return func() []mesh.Event {
		mu.Lock()
		defer mu.Unlock()
		return append([]mesh.Event(nil), got...)
	}
}

func TestCascadeDeeperThanTheLimitIsCutAndNarratedWithItsChain(t *testing.T) {
	b := setup(t, baseConfig(chainRules(12)), Options{})
	deep := listen(t, b.mesh, "chain.>")
	if _, err := b.mesh.Publish(t.Context(), mesh.Event{Topic: "chain.t0", Fields: map[string]string{"origin": "test"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cut", func() bool { return len(b.records(WhatCascadeCut)) == 1 })
	waitFor(t, "the cascade to end", func() bool { return len(deep()) == 11 }) // t0 .. t10
	for _, ev := range deep() {
		if ev.Topic == "chain.t11" {
			t.Fatal("the cascade went past depth 10")
		}
		if ev.Depth() > 0 && ev.Field("origin") != "test" {
			t.Fatalf("field not carried by the template: %+v", ev)
		}
	}
	r := b.records(WhatCascadeCut)[0]
	if r.Where != "rule:step_11" || r.Context["reason"] != cutDepth || r.Context["depth"] != 10 ||
		!strings.Contains(r.Why[1], "chain.t0 ⇒ step_01→chain.t1") || !strings.Contains(r.Why[1], "step_10→chain.t10 ⇒ step_11→chain.t11 (cut)") {
		t.Fatalf("cut record = %+v", r)
	}
	st := b.pol.Stats()
	if st.CascadesCut != 1 || st.CutDepth != 1 || st.Fired != 10 || st.DeepestChain != 10 || !st.CascadeLimit {
		t.Fatalf("stats = %+v", st)
	}
	// The cut is announced on policy.cascade_cut with a fresh chain.
	cuts := listen(t, b.mesh, TopicCascadeCut)
	_, _ = b.mesh.Publish(t.Context(), mesh.Event{Topic: "chain.t0"})
	waitFor(t, "the announcement", func() bool { return len(cuts()) == 1 })
	if ev := cuts()[0]; ev.Depth() != 0 || ev.Field("rule") != "step_11" || ev.Field("reason") != cutDepth {
		t.Fatalf("announcement = %+v", ev)
	}
}

func TestWithoutTheCascadeLimitTheCascadeRunsAllTheWay(t *testing.T) {
	b := setup(t, baseConfig(chainRules(12)), Options{NoCascadeLimit: true})
	deep := listen(t, b.mesh, "chain.>")
	_, _ = b.mesh.Publish(t.Context(), mesh.Event{Topic: "chain.t0"})
	waitFor(t, "the cascade", func() bool { return len(deep()) == 13 }) // t0 .. t12
	if n := len(b.records(WhatCascadeCut)); n != 0 || b.pol.Stats().DeepestChain != 12 {
		t.Fatalf("%d cuts, stats %+v", n, b.pol.Stats())
	}
}

// mirror republishes loop.b events on loop.a, keeping their chain: a loop
// through a component the rules cannot see.
func mirror(t *testing.T, m *mesh.Mesh, count *int, mu *sync.Mutex) {
	t.Helper()
	if _, err := m.Subscribe(mesh.Spec{Name: "mirror", Pattern: "loop.b"}, func(ctx context.Context, ev mesh.Event) {
		mu.Lock()
		*count++
		mu.Unlock()
		_, _ = m.Publish(ctx, mesh.Event{Topic: "loop.a", Source: "mirror", Chain: ev.Chain})
	}); err != nil {
		t.Fatal(err)
	}
}

func TestRunTimeCycleIsCut(t *testing.T) {
	rules := map[string]RuleConfig{"echo": {Topic: "loop.a", Action: ActionEmit, Emit: "loop.b"}}
	b := setup(t, baseConfig(rules), Options{})
	var mu sync.Mutex
	var n int
	mirror(t, b.mesh, &n, &mu)
	_, _ = b.mesh.Publish(t.Context(), mesh.Event{Topic: "loop.a"})
	waitFor(t, "the cycle cut", func() bool { return len(b.records(WhatCascadeCut)) == 1 })
	r := b.records(WhatCascadeCut)[0]
	if r.Context["reason"] != cutCycle || !strings.Contains(r.Why[0], "would loop") {
		t.Fatalf("cut record = %+v", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if n != 1 {
		t.Fatalf("the mirror saw %d events, want 1", n)
	}
}

func TestWithoutTheCascadeLimitARunTimeCycleNeverEnds(t *testing.T) {
	rules := map[string]RuleConfig{"echo": {Topic: "loop.a", Action: ActionEmit, Emit: "loop.b"}}
	b := setup(t, baseConfig(rules), Options{NoCascadeLimit: true})
	var mu sync.Mutex
	var n int
	mirror(t, b.mesh, &n, &mu)
	_, _ = b.mesh.Publish(t.Context(), mesh.Event{Topic: "loop.a"})
	waitFor(t, "the cycle to pass 500 rounds", func() bool { mu.Lock(); defer mu.Unlock(); return n > 500 })
	b.stop() // only stopping the mesh ends it
	if st := b.pol.Stats(); st.CascadesCut != 0 || st.DeepestChain < 500 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestSubmitCarriesTheChainIntoTheIntent(t *testing.T) {
	rules := map[string]RuleConfig{
		"page_on_kernel": {Topic: "kernel.failed", Match: map[string]string{"critical": "true"}, Action: ActionSubmit,
			Intent: "critical_incident", Priority: 8, Message: "kernel {kernel} down"},
	}
	b := setup(t, baseConfig(rules), Options{})
	_, _ = b.mesh.Publish(t.Context(), mesh.Event{Topic: "kernel.failed", Fields: map[string]string{"kernel": "memory", "critical": "false"}})
	ev, _ := b.mesh.Publish(t.Context(), mesh.Event{Topic: "kernel.failed", Fields: map[string]string{"kernel": "governance", "critical": "true"}})
	waitFor(t, "the submission", func() bool { return b.pol.Stats().Submitted == 1 })
	b.mu.Lock()
	sub := b.subs[0]
	b.mu.Unlock()
	if sub.Type != "critical_incident" || sub.Actor != "policy.page_on_kernel" || sub.Priority != 8 {
		t.Fatalf("submission = %+v", sub)
	}
	var payload map[string]any
	if err := json.Unmarshal(sub.Payload, &payload); err != nil || payload["message"] != "kernel governance down" {
		t.Fatalf("payload = %s (%v)", sub.Payload, err)
	}
	// Through the store the context becomes JSON; the chain survives.
	raw, _ := json.Marshal(sub.Context)
	var back map[string]any
	_ = json.Unmarshal(raw, &back)
	chain := ChainFromContext(back[ContextCausation])
	if len(chain) != 1 || chain[0] != (mesh.Link{Rule: "page_on_kernel", From: "kernel.failed", Topic: TopicIntentReceived, Event: ev.ID}) {
		t.Fatalf("chain = %+v", chain)
	}
	if st := b.pol.Stats(); st.Evaluated != 2 || st.Fired != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestAlertsAreNarratedOncePerIntervalWithTheRestCounted(t *testing.T) {
	rules := map[string]RuleConfig{"failures": {Topic: "intent.failed", Action: ActionAlert, Severity: "warning", Message: "{type} failed"}}
	b := setup(t, baseConfig(rules), Options{})
	alerts := listen(t, b.mesh, TopicAlert)
	for range 100 {
		_, _ = b.mesh.Publish(t.Context(), mesh.Event{Topic: "intent.failed", Fields: map[string]string{"type": "deploy_model"}})
	}
	waitFor(t, "100 alert events", func() bool { return len(alerts()) == 100 })
	if recs := b.records(WhatAlertRaised); len(recs) != 1 || recs[0].Why[0] != "deploy_model failed" || recs[0].Risk != 0.4 {
		t.Fatalf("records = %+v", recs)
	}
	// Time goes on until the summary is written: the narrating loop may
	// not have made its ticker yet when the first second passes (it is
	// made when the loop starts), so one Advance may not be enough.
	waitFor(t, "the summary", func() bool {
		b.clock.Advance(time.Second)
		return len(b.records(WhatAlertRaised)) == 2
	})
	if r := b.records(WhatAlertRaised)[1]; r.Context["repeats_not_narrated"] != uint64(99) {
		t.Fatalf("summary = %+v", r)
	}
	if st := b.pol.Stats(); st.Alerts != 100 || st.NotNarrated != 99 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestBadRulesAreRefusedNamingTheRule(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	for _, tc := range []struct {
		name  string
		rules map[string]RuleConfig
		want  []string
	}{
		{"unknown topic", map[string]RuleConfig{"r": {Topic: "nope.x", Action: ActionAlert, Severity: "info", Message: "m"}},
			[]string{"policy.rules.r: topic \"nope.x\" matches no known topic"}},
		{"unknown action", map[string]RuleConfig{"r": {Topic: "loop.a", Action: "page"}}, []string{"policy.rules.r: action \"page\" is not known"}},
		{"no action", map[string]RuleConfig{"r": {Topic: "loop.a"}}, []string{"policy.rules.r: action is required"}},
		{"unknown emit topic", map[string]RuleConfig{"r": {Topic: "loop.a", Action: ActionEmit, Emit: "loop.c"}},
			[]string{"emit topic \"loop.c\" is not a known topic"}},
		{"bad severity", map[string]RuleConfig{"r": {Topic: "loop.a", Action: ActionAlert, Severity: "loud", Message: "m"}},
			[]string{"severity (\"loud\") must be one of"}},
		{"bad glob", map[string]RuleConfig{"r": {Topic: "loop.a", Match: map[string]string{"k": "[x"}, Action: ActionAlert, Severity: "info", Message: "m"}},
			[]string{"match.k: bad pattern"}},
		{"bad template", map[string]RuleConfig{"r": {Topic: "loop.a", Action: ActionAlert, Severity: "info", Message: "{oops"}},
			[]string{"message: template"}},
		{"misplaced key", map[string]RuleConfig{"r": {Topic: "loop.a", Action: ActionAlert, Severity: "info", Message: "m", Emit: "loop.b"}},
			[]string{"emit is set, but only the emit action uses it"}},
		{"bad priority", map[string]RuleConfig{"r": {Topic: "loop.a", Action: ActionSubmit, Intent: "x", Priority: 12}},
			[]string{"priority (12) must be between 0 and 9"}},
		{"bad name", map[string]RuleConfig{"R-1": {Topic: "loop.a", Action: ActionAlert, Severity: "info", Message: "m"}},
			[]string{"policy.rules.R-1: the name must be"}},
		{"emit loop", map[string]RuleConfig{
			"ping": {Topic: "loop.a", Action: ActionEmit, Emit: "loop.b"},
			"pong": {Topic: "loop.b", Action: ActionEmit, Emit: "loop.a"}},
			[]string{"would loop through themselves: ping →[loop.b]→ pong →[loop.a]→ ping", "pong (policy.rules.pong)"}},
		{"self loop", map[string]RuleConfig{"again": {Topic: "loop.>", Action: ActionEmit, Emit: "loop.a"}},
			[]string{"again →[loop.a]→ again"}},
		{"loop through an intent", map[string]RuleConfig{"retry_forever": {Topic: "intent.failed", Match: map[string]string{"type": "deploy_*"},
			Action: ActionSubmit, Intent: "deploy_model"}},
			[]string{"retry_forever →[intent.failed]→ retry_forever"}},
		{"loop through alerts", map[string]RuleConfig{"echo_alerts": {Topic: TopicAlert, Action: ActionAlert, Severity: "info", Message: "{message}"}},
			[]string{"echo_alerts →[alert.raised]→ echo_alerts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(baseConfig(tc.rules), env)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestRulesThatCannotLoopAreAccepted(t *testing.T) {
	t.Parallel()
	rules := map[string]RuleConfig{
		// The emitted event's fixed field fails the other rule's match.
		"a": {Topic: "loop.a", Match: map[string]string{"hop": "first"}, Action: ActionEmit, Emit: "loop.b", Fields: map[string]string{"hop": "second"}},
		"b": {Topic: "loop.b", Match: map[string]string{"hop": "second"}, Action: ActionEmit, Emit: "loop.a", Fields: map[string]string{"hop": "third"}},
		// A submitted intent of another type does not fire its rule again.
		"summarise": {Topic: "intent.failed", Match: map[string]string{"type": "deploy_model"}, Action: ActionSubmit, Intent: "generate_summary"},
		// Alerts of another severity.
		"escalate": {Topic: TopicAlert, Match: map[string]string{"severity": "critical"}, Action: ActionAlert, Severity: "warning", Message: "{message}"},
	}
	if _, err := Compile(baseConfig(rules), testEnv(t)); err != nil {
		t.Fatal(err)
	}
}

func TestRulesFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", "rules:\n  kernel_page:\n    topic: kernel.failed\n    action: alert\n    severity: critical\n    message: \"{kernel} down\"\n")
	cfg := baseConfig(map[string]RuleConfig{})
	cfg.RulesFile = good
	rs, err := Compile(cfg, testEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := rs.Rule("kernel_page"); !ok || !strings.Contains(r.Source, "good.yaml") {
		t.Fatalf("rule = %+v", r)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"typo.yaml", "rules:\n  x:\n    topik: kernel.failed\n", "line 3: field topik not found"},
		{"broken.yaml", "rules: [\n", "does not parse"},
		{"dup.yaml", "rules:\n  mine:\n    topic: kernel.failed\n    action: alert\n    severity: info\n    message: m\n", "the name is already used by policy.rules.mine"},
		{"loop.yaml", "rules:\n  loopy:\n    topic: loop.a\n    action: emit\n    emit: loop.a\n", "rule loopy: the rules would loop"},
		{"two.yaml", "rules: {}\n---\nrules:\n  later:\n    topic: kernel.failed\n", "line 2: a second YAML document starts here"},
	} {
		cfg := baseConfig(map[string]RuleConfig{"mine": {Topic: "loop.b", Action: ActionAlert, Severity: "info", Message: "m"}})
		cfg.RulesFile = write(tc.name, tc.body)
		_, err := Compile(cfg, testEnv(t))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s: error %v, want the file and %q", tc.name, err, tc.want)
		}
	}
	cfg.RulesFile = filepath.Join(dir, "missing.yaml")
	if _, err := Compile(cfg, testEnv(t)); err == nil || !strings.Contains(err.Error(), "policy.rules_file (") {
		t.Errorf("missing file: %v", err)
	}
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	ev := mesh.Event{ID: 7, Topic: "intent.failed", Fields: map[string]string{"type": "x", "depth": "field wins"}}
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"{type} on {topic} #{event}", "x on intent.failed #7"},
		{"{depth}", "field wins"},
		{"{missing}|{{literal}", "|{literal}"},
	} {
		tpl, err := parseTemplate(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := tpl.render(ev); got != tc.want {
			t.Errorf("%q rendered %q, want %q", tc.in, got, tc.want)
		}
	}
}
