package tui

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"grace/engine"
	"grace/engine/clarity"
)

// benchModel is the console at 200×60 over a busy engine: 64 workers, 50
// recent decisions, a full queue-depth history and 40 pending approvals.
func benchModel(b *testing.B, colour bool) *model {
	b.Helper()
	api := newFakeAPI()
	snap := fixtureSnapshot()
	for i := len(snap.Workers); i < 64; i++ {
		snap.Workers = append(snap.Workers, engine.WorkerInfo{Name: fmt.Sprintf("worker-%02d", i+1), Busy: i%3 == 0, Completed: uint64(1000 + i)})
	}
	for len(snap.Recent) < 50 {
		snap.Recent = append(snap.Recent, snap.Recent[len(snap.Recent)%12])
	}
	// The busiest dashboard: the watchdog's verdict with alerts firing.
	snap.Health, snap.Layer2 = fixtureHealth(), fixtureLayer2()
	for len(snap.Health.Alerts) < 6 {
		snap.Health.Alerts = append(snap.Health.Alerts, snap.Health.Alerts[0])
	}
	api.setSnapshot(snap)
	api.narratives = fixtureNarratives(2000)
	api.tier1 = fixtureTier1()
	api.audit = fixtureAudit()
	pending := fixturePending()
	for i := 0; len(pending) < 40; i++ {
		p := fixturePending()[i%3]
		p.ID = fmt.Sprintf("int_01JPBBENCH%018d", i)
		pending = append(pending, p)
	}
	r := lipgloss.DefaultRenderer() // ASCII, set in TestMain
	if colour {
		r = lipgloss.NewRenderer(io.Discard)
		r.SetColorProfile(termenv.TrueColor)
		r.SetHasDarkBackground(true)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	cf := newChaosFake(api)
	m := newModel(ctx, cancel, cf, Options{Operator: "ops", Refresh: time.Hour, Now: func() time.Time { return fixedNow }}, r)
	seedDepth(m, depthHistory(depthSamples))
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	m.Update(snapshotMsg{snap: snap})
	// The chaos service with a run in progress: the dashboard's chaos
	// panel and the Chaos screen are at their fullest.
	scen := fixtureScenarios()
	for i := 0; len(scen) < 40; i++ {
		sc := fixtureScenarios()[i%6]
		sc.ID = fmt.Sprintf("%s_%02d", sc.ID, i)
		scen = append(scen, sc)
	}
	m.Update(chaosStatusMsg{status: fixtureChaosStatus(), at: fixedNow})
	m.Update(chaosScenariosMsg{items: scen})
	m.Update(chaosHistoryMsg{runs: fixtureChaosRuns()})
	m.Update(eventsMsg{events: []engine.Event{progressEvent("chr_01JPBRUN0001", "L2_htm_queue_flood", 2, 3, engine.ChaosPhaseWatch,
		[]string{"intake_flood"}, []string{"htm_rate_limit"})}})
	m.Update(pendingMsg{owner: screenApprovals, items: pending})
	ents, _ := api.Search(ctx, clarity.Query{Limit: narrPage})
	m.narratives.query, m.narratives.seq = narrQuery{}, 1
	m.Update(searchMsg{owner: screenNarratives, seq: 1, limit: narrPage, entries: ents, at: fixedNow})
	m.Update(verifyMsg{owner: screenNarratives, rep: fixtureAudit(), at: fixedNow})
	return m
}

// BenchmarkView measures rendering one frame at 200×60 of each screen
// (go test -run '^$' -bench View ./tui/). The dashboard is the busiest.
func BenchmarkView(b *testing.B) {
	for _, s := range []struct {
		name   string
		keys   []string
		colour bool
	}{
		{"dashboard", nil, false},
		{"dashboard_truecolor", nil, true},
		{"approvals", []string{"2"}, false},
		{"approvals_truecolor", []string{"2"}, true},
		{"popup_truecolor", []string{"1"}, true},
		{"narratives", []string{"4", "j"}, false},
		{"narratives_truecolor", []string{"4", "j"}, true},
		{"help_truecolor", []string{"4", "?"}, true},
		{"chaos", []string{"3"}, false},
		{"chaos_truecolor", []string{"3"}, true},
		{"chaos_run_detail_truecolor", []string{"3", "l", "<enter>"}, true},
	} {
		b.Run(s.name, func(b *testing.B) {
			m := benchModel(b, s.colour)
			for _, k := range s.keys {
				m.Update(keyMsg(k))
			}
			if s.name == "popup_truecolor" {
				m.Update(eventsMsg{events: []engine.Event{{Kind: "intent", Intent: pendingIntent(tier0ID, "deploy_production", "agent:x", time.Minute)}}})
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = m.draw()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
		})
	}
}
