package tui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"grace/engine"
	"grace/engine/intent"
)

// frameWatch drains a program's output and tells when a marker appears in
// it: the renderer writes each frame's changed lines, so the marker shows
// once a frame reflecting the key press has been written.
type frameWatch struct {
	mu     sync.Mutex
	marker []byte
	tail   []byte
	found  chan time.Time
}

// expect arms the watch for marker; found fires once it is written.
func (f *frameWatch) expect(marker string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.marker, f.tail = []byte(marker), nil
}

// run reads r until it ends.
func (f *frameWatch) run(r io.Reader) {
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			at := time.Now()
			f.mu.Lock()
			if f.marker != nil {
				f.tail = append(f.tail, buf[:n]...)
				if bytes.Contains(f.tail, f.marker) {
					f.marker = nil
					f.found <- at
				} else if keep := len(f.marker); len(f.tail) > keep {
					f.tail = f.tail[len(f.tail)-keep:]
				}
			}
			f.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// BenchmarkKeyLatencyUnderLoad measures the time from a key press to the
// first frame the program writes that reflects it, while a goroutine
// offers the console 100,000 intent events per second through its
// subscription (as the engine does: a 256-event buffer, dropping what a
// slow subscriber cannot take). It drives a real tea.Program over pipes at
// 200×60 with the standard renderer at the console's frame rate; each press switches between the
// Dashboard and Approvals, and the frame counts once its header names the
// new screen. Reported: p50-ms and p99-ms of the latency, and the events
// per second offered and taken by the console
// (go test -run '^$' -bench KeyLatency -benchtime 400x ./tui/).
func BenchmarkKeyLatencyUnderLoad(b *testing.B) {
	const rate = 100_000
	api := newFakeAPI()
	api.events = make(chan engine.Event, 256)
	api.setSnapshot(fixtureSnapshot())
	api.setPending(fixturePending())
	api.tier1 = fixtureTier1()
	api.narratives = fixtureNarratives(600)

	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(true)
	m := newModel(ctx, cancel, api, Options{Operator: "ops", Refresh: time.Second}, r)
	p := tea.NewProgram(m, tea.WithInput(inR), tea.WithOutput(outW), tea.WithoutSignalHandler(), tea.WithContext(ctx),
		tea.WithFPS(frameRate))
	watch := &frameWatch{found: make(chan time.Time, 1)}
	go watch.run(outR)
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		done <- err
	}()
	p.Send(tea.WindowSizeMsg{Width: 200, Height: 60})

	// The load: rate events a second, in bursts of rate/1000 each
	// millisecond, never blocking (what does not fit is dropped).
	var offered, dropped atomic.Int64
	feedCtx, stopFeed := context.WithCancel(context.Background())
	var feeders sync.WaitGroup
	feeders.Add(1)
	go func() {
		defer feeders.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		start := time.Now()
		states := []intent.State{intent.StateQueued, intent.StateRunning, intent.StateCompleted}
		for n := int64(0); ; {
			select {
			case <-feedCtx.Done():
				return
			case now := <-tick.C:
				due := int64(now.Sub(start).Seconds() * rate)
				for ; n < due; n++ {
					ev := engine.Event{Kind: "intent", Intent: intent.Intent{ID: fmt.Sprintf("int_LOAD%022d", n), Type: "generate_summary",
						Actor: "svc:cortex", Tier: 2, State: states[n%3]}}
					select {
					case api.events <- ev:
					default:
						dropped.Add(1)
					}
					offered.Add(1)
				}
			}
		}
	}()

	// Wait for the first frame, then press keys.
	watch.expect("[1 Dashboard")
	<-watch.found
	var lat []time.Duration
	keys := []struct{ key, marker string }{{"2", "[2 Approvals"}, {"1", "[1 Dashboard"}}
	start := time.Now()
	i := 0
	rng := rand.New(rand.NewPCG(1, 2))
	frame := time.Second / frameRate
	for b.Loop() {
		k := keys[i%2]
		i++
		// An operator's key lands anywhere within a frame, not just after
		// the frame that showed the last one: wait a random part of two
		// frames (timed outside the measure).
		b.StopTimer()
		time.Sleep(time.Duration(rng.Int64N(int64(2 * frame))))
		b.StartTimer()
		watch.expect(k.marker)
		t0 := time.Now()
		if _, err := inW.Write([]byte(k.key)); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-watch.found:
			lat = append(lat, at.Sub(t0))
		case <-time.After(10 * time.Second):
			b.Fatalf("no frame reflected key %q within 10s", k.key)
		}
	}
	elapsed := time.Since(start) // offered and taken rates are over the whole loop
	stopFeed()
	feeders.Wait()
	p.Quit()
	inW.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	outW.Close()

	slices.Sort(lat)
	pct := func(q float64) float64 {
		return float64(lat[min(int(q*float64(len(lat))), len(lat)-1)]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(offered.Load())/elapsed.Seconds(), "offered-ev/s")
	b.ReportMetric(float64(offered.Load()-dropped.Load())/elapsed.Seconds(), "taken-ev/s")
}
