package policy

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/intent"
	"grace/engine/mesh"
)

// benchRules is a realistic rule set: alerts on failures, a two-step
// escalation chain, a filtered submit and a catch-all counter.
func benchRules() map[string]RuleConfig {
	return map[string]RuleConfig{
		"failed_alert":    {Topic: "intent.failed", Action: ActionAlert, Severity: "warning", Message: "{type} intent {id} failed"},
		"deploy_failures": {Topic: "intent.failed", Match: map[string]string{"type": "deploy_*"}, Action: ActionEmit, Emit: "chain.t1", Fields: map[string]string{"id": "{id}"}},
		"escalate":        {Topic: "chain.t1", Action: ActionEmit, Emit: "chain.t2", Fields: map[string]string{"id": "{id}", "level": "2"}},
		"page":            {Topic: "chain.t2", Match: map[string]string{"level": "2"}, Action: ActionAlert, Severity: "critical", Message: "page for {id}"},
		"kernel_incident": {Topic: "kernel.failed", Match: map[string]string{"critical": "true"}, Action: ActionSubmit, Intent: "critical_incident", Priority: 9},
		"completed_count": {Topic: "intent.completed", Match: map[string]string{"tier": "[34]"}, Action: ActionEmit, Emit: "chain.t5"},
	}
}

// BenchmarkMeshPolicy publishes a mixed storm through the mesh with the
// policy engine evaluating every event, plus a fast and a deliberately
// slow plain subscriber (drop_oldest, 256 events), from two publishers.
// It reports events published per second (input events, not counting what
// the rules derive), deliveries per second, the drops of the slow
// subscriber, and the process's peak resident memory; it fails unless
// every subscription's offered = delivered + dropped + queued and the
// offers add up to the events published times their subscribers.
//
//	go test -run '^$' -bench MeshPolicy -benchtime 2000000x -cpu 2 ./engine/policy/
func BenchmarkMeshPolicy(b *testing.B) {
	mcfg := mesh.DefaultConfig()
	mcfg.Topics = testTopics()
	var recs atomic.Uint64
	record := func(clarity.Record) { recs.Add(1) }
	m, err := mesh.New(mcfg, mesh.Options{Clock: clock.Real{}, Record: record})
	if err != nil {
		b.Fatal(err)
	}
	cat, _ := mesh.NewCatalog(testTopics()...)
	cfg := baseConfig(benchRules())
	rs, err := Compile(cfg, Env{Topics: cat, IntentTopics: intentTopics})
	if err != nil {
		b.Fatal(err)
	}
	var submitted atomic.Uint64
	pol, err := New(rs, cfg, m, Options{Clock: clock.Real{}, Record: record, Submit: func(context.Context, intent.Submission) (string, error) {
		submitted.Add(1)
		return "int_x", nil
	}})
	if err != nil {
		b.Fatal(err)
	}
	var fast atomic.Uint64
	if _, err := m.Subscribe(mesh.Spec{Name: "fast", Pattern: ">"}, func(context.Context, mesh.Event) { fast.Add(1) }); err != nil {
		b.Fatal(err)
	}
	var slowSink uint64
	if _, err := m.Subscribe(mesh.Spec{Name: "slow", Pattern: "intent.*", Buffer: 256, Backpressure: mesh.DropOldest},
		func(_ context.Context, ev mesh.Event) {
			for i := range 200 { // a subscriber that cannot keep up
				slowSink += uint64(i) ^ ev.ID
			}
		}); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = m.Run(ctx) })
	wg.Go(func() { pol.Run(ctx) })

	// The storm: a mix of topics and fields, built once (events share
	// their field maps, as publishers may).
	kinds := []mesh.Event{
		{Topic: "intent.received", Fields: map[string]string{"id": "int_1", "type": "query_knowledge", "tier": "2"}},
		{Topic: "intent.completed", Fields: map[string]string{"id": "int_2", "type": "extend_grace", "tier": "3"}},
		{Topic: "intent.completed", Fields: map[string]string{"id": "int_3", "type": "generate_summary", "tier": "2"}},
		{Topic: "intent.failed", Fields: map[string]string{"id": "int_4", "type": "deploy_model", "tier": "1"}},
		{Topic: "intent.failed", Fields: map[string]string{"id": "int_5", "type": "query_knowledge", "tier": "2"}},
		{Topic: "kernel.failed", Fields: map[string]string{"kernel": "memory", "critical": "false"}},
		{Topic: "loop.a", Fields: map[string]string{"k": "v"}},
	}
	const publishers = 2
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var pub sync.WaitGroup
	for p := range publishers {
		pub.Go(func() {
			for i := p; i < b.N; i += publishers {
				if _, err := m.Publish(ctx, kinds[i%len(kinds)]); err != nil {
					panic(err)
				}
			}
		})
	}
	pub.Wait()
	// Wait for every queue to drain: the rate counts handled events.
	for {
		st := m.Stats()
		if st.Queued == 0 && st.Offered == st.Delivered+st.Dropped {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	wg.Wait()

	st := m.Stats()
	var wantOffered uint64
	for _, ts := range st.Topics {
		wantOffered += ts.Published * uint64(ts.Subscribers)
	}
	for _, ss := range st.PerSubscription {
		if ss.Offered != ss.Delivered+ss.Dropped+uint64(ss.Queued) {
			b.Fatalf("%s: offered %d != delivered %d + dropped %d + queued %d", ss.Name, ss.Offered, ss.Delivered, ss.Dropped, ss.Queued)
		}
	}
	if st.Offered != wantOffered {
		b.Fatalf("offered %d, but published × subscribers = %d", st.Offered, wantOffered)
	}
	slow, _ := m.Subscription("slow")
	ps := pol.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(st.Delivered)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(ps.Fired)/elapsed.Seconds(), "actions/s")
	fastSub, _ := m.Subscription("fast")
	b.ReportMetric(float64(slow.Dropped), "slow_drops")
	b.ReportMetric(float64(fastSub.Dropped), "fast_drops")
	b.ReportMetric(float64(st.Dropped-slow.Dropped-fastSub.Dropped), "policy_drops")
	if rss := peakRSS(); rss > 0 {
		b.ReportMetric(rss, "peak_rss_MB")
	}
	_ = slowSink
}

// peakRSS reads the process's peak resident set (VmHWM) in MB on Linux; 0
// elsewhere.
func peakRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}

// Example of the accounting a caller can check at any moment.
func ExampleEngine_Stats() {
	mcfg := mesh.DefaultConfig()
	mcfg.Topics = []string{"intent.failed", "alert.raised"}
	m, _ := mesh.New(mcfg, mesh.Options{})
	cat := m.Catalog()
	cfg := DefaultConfig()
	cfg.Rules = map[string]RuleConfig{"failed": {Topic: "intent.failed", Action: ActionAlert, Severity: "warning", Message: "{type} failed"}}
	rs, err := Compile(cfg, Env{Topics: cat})
	if err != nil {
		fmt.Println(err)
		return
	}
	pol, _ := New(rs, cfg, m, Options{})
	fmt.Println(pol.Stats().Rules, pol.Stats().Subscriptions, m.Stats().Subscriptions)
	// Output: 1 1 1
}
