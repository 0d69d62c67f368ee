package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// The search benchmarks share one store of fixtureSize narratives, built
// through the store (writer, then full-text catch-up) the first time a
// benchmark asks for it and removed when the test binary exits.
const fixtureSize = 1_000_000

var fixture struct {
	once  sync.Once
	dir   string
	s     *Store
	start time.Time // the first record's time; records are 1ms apart
	err   error
}

var (
	fixtureActors  = []string{"governance_router", "unified_logic_hub", "htm_orchestrator", "scheduler", "worker-01", "worker-02", "worker-03", "worker-04", "approval_expiry", "operator:ada", "agent:cortex-7", "agent:billing", "kernel_watchdog", "chaos_runner", "policy_engine", "trigger_mesh"}
	fixtureActions = []string{"intent_received", "intent_routed", "vote_cast", "intent_dispatched", "intent_completed", "intent_failed", "intent_retry_scheduled", "approval_requested", "intent_approved", "intent_denied", "load_shed", "worker_rerouted", "policy_fired", "alert_raised"}
)

// fixtureWord returns the i-th word of the fixture's vocabulary.
func fixtureWord(i int) string { return fmt.Sprintf("w%x", i) }

// fixtureRecord is narrative i of the fixture: words drawn from a Zipf
// distribution over 20,000 words, so some are in most records and most
// are rare, as in real logs.
func fixtureRecord(i int, z *rand.Zipf, start time.Time) clarity.Record {
	why := []string{
		fmt.Sprintf("%s %s %s", fixtureWord(int(z.Uint64())), fixtureWord(int(z.Uint64())), fixtureWord(int(z.Uint64()))),
		fmt.Sprintf("queue depth %d of 5000", i%5000),
	}
	return clarity.Record{
		Who: fixtureActors[i%len(fixtureActors)], What: fixtureActions[(i/3)%len(fixtureActions)],
		When: start.Add(time.Duration(i) * time.Millisecond), Where: "htm_queue", Why: why,
		How:        fmt.Sprintf("%s via %s", fixtureWord(int(z.Uint64())), fixtureWord(int(z.Uint64()))),
		IntentID:   fmt.Sprintf("int_%010d", i/6),
		Result:     "ok",
		Confidence: 0.9, Risk: 0.2, Transparency: clarity.TransparencyComplete,
	}
}

// searchFixture returns the shared store, building it on first use.
func searchFixture(b *testing.B) *Store {
	b.Helper()
	fixture.once.Do(func() {
		fixture.dir, fixture.err = os.MkdirTemp("", "grace-store-bench-")
		if fixture.err != nil {
			return
		}
		fixture.start = time.Now().Add(-fixtureSize * time.Millisecond)
		fixture.s, fixture.err = Open(context.Background(), filepath.Join(fixture.dir, "grace.db"), Options{})
		if fixture.err != nil {
			return
		}
		t0 := time.Now()
		fixture.err = fillFixture(fixture.s, fixture.start)
		if fixture.err == nil {
			fixture.err = fixture.s.FlushIndex(context.Background())
		}
		b.Logf("built %d-narrative fixture in %v", fixtureSize, time.Since(t0).Round(time.Second))
	})
	if fixture.err != nil {
		b.Fatalf("search fixture: %v", fixture.err)
	}
	return fixture.s
}

func fillFixture(s *Store, start time.Time) error {
	const perChange = 64
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.07, 2, 19_999)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := 0; i < fixtureSize; i += perChange {
		c := &intent.Change{}
		for j := i; j < min(i+perChange, fixtureSize); j++ {
			c.Records = append(c.Records, fixtureRecord(j, z, start))
		}
		wg.Add(1)
		s.ApplyAsync(c, func(_ intent.Result, err error) {
			if err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	return firstErr
}

// closeFixture closes and removes the fixture; TestMain calls it.
func closeFixture() {
	if fixture.s != nil {
		_ = fixture.s.Close()
	}
	if fixture.dir != "" {
		_ = os.RemoveAll(fixture.dir)
	}
}

// BenchmarkSearch reports the median and 95th percentile latency of
// searches over the 1,000,000-narrative fixture, newest first, 50 results.
func BenchmarkSearch(b *testing.B) {
	s := searchFixture(b)
	recent := fixture.start.Add((fixtureSize - 3_600_000/60) * time.Millisecond) // the newest minute
	old := fixture.start.Add(fixtureSize / 2 * time.Millisecond)
	for _, bc := range []struct {
		name    string
		queries []clarity.Query
	}{
		{"text/one-word", wordQueries(1)},
		{"text/two-words", wordQueries(2)},
		{"text/phrase", phraseQueries()},
		// Every record holds both words, none side by side: each search
		// reads maxPhraseCandidates candidates and gives up (10 a round,
		// not 100: each takes a good part of a second).
		{"text/phrase-worst", []clarity.Query{{Text: `"depth queue"`}}},
		{"filter/actor", []clarity.Query{{Actor: "worker-03"}, {Actor: "operator:ada"}, {Actor: "trigger_mesh"}}},
		{"filter/action", []clarity.Query{{Action: "intent_denied"}, {Action: "load_shed"}, {Action: "vote_cast"}}},
		{"filter/intent", []clarity.Query{{IntentID: "int_0000000042"}, {IntentID: "int_0000100000"}}},
		{"filter/since", []clarity.Query{{Since: recent}}},
		{"filter/until", []clarity.Query{{Until: old}}},
		{"filter/window", []clarity.Query{{Since: old.Add(-time.Minute), Until: old}}},
		{"filter/actor+action", []clarity.Query{{Actor: "worker-01", Action: "intent_completed"}}},
		{"mixed/text+actor", []clarity.Query{{Text: fixtureWord(3), Actor: "worker-02"}, {Text: fixtureWord(40), Actor: "scheduler"}}},
		{"mixed/text+window", []clarity.Query{{Text: fixtureWord(3), Since: old.Add(-time.Minute), Until: old}, {Text: fixtureWord(300), Since: old.Add(-time.Hour), Until: old}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			perOp := 100
			if bc.name == "text/phrase-worst" {
				perOp = 10
			}
			lat := make([]time.Duration, 0, perOp*b.N)
			empty := 0
			for range b.N {
				for i := range perOp {
					q := bc.queries[i%len(bc.queries)]
					t := time.Now()
					es, err := s.Search(ctx, q)
					lat = append(lat, time.Since(t))
					var cut *engine.TextError
					if err != nil && !errors.As(err, &cut) {
						b.Fatal(err)
					}
					if len(es) == 0 {
						empty++
					}
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[len(lat)*95/100]), "p95-ms")
			b.ReportMetric(float64(empty)/float64(len(lat)), "empty-frac")
		})
	}
}

// wordQueries returns text queries of n words drawn across the
// vocabulary's ranks: the most common words (in most records), middling
// and rare ones, so the percentiles cover every doclist size.
func wordQueries(n int) []clarity.Query {
	ranks := []int{2, 3, 5, 10, 30, 100, 300, 1000, 3000, 10000}
	var qs []clarity.Query
	for i, r := range ranks {
		text := fixtureWord(r)
		for k := 1; k < n; k++ {
			text += " " + fixtureWord(ranks[(i+3*k)%len(ranks)])
		}
		qs = append(qs, clarity.Query{Text: text})
	}
	return qs
}

// phraseQueries returns quoted phrases of two words drawn as wordQueries
// draws them (most hold their words apart far more often than side by
// side, so the candidates are checked in Go), and a phrase of the
// "queue depth N of 5000" reason that one record in 5000 holds.
func phraseQueries() []clarity.Query {
	qs := wordQueries(2)
	for i := range qs {
		qs[i].Text = `"` + qs[i].Text + `"`
	}
	return append(qs, clarity.Query{Text: `"queue depth 4242"`}, clarity.Query{Text: `"via ` + fixtureWord(3) + `"`})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkIndexCatchUp measures full-text catch-up: records are written
// with indexing held back (a fake clock never ticks), then FlushIndex
// indexes them all.
func BenchmarkIndexCatchUp(b *testing.B) {
	const rows = 100_000
	for range b.N {
		b.StopTimer()
		tb := setup(b)
		z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.07, 2, 19_999)
		for i := 0; i < rows; i += 1024 {
			c := &intent.Change{}
			for j := i; j < min(i+1024, rows); j++ {
				c.Records = append(c.Records, fixtureRecord(j, z, t0))
			}
			if _, err := tb.s.Apply(context.Background(), c); err != nil {
				b.Fatal(err)
			}
		}
		if lag := tb.s.IndexLag(); lag != rows {
			b.Fatalf("index lag before catch-up = %d, want %d", lag, rows)
		}
		b.StartTimer()
		t := time.Now()
		if err := tb.s.FlushIndex(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(rows/time.Since(t).Seconds(), "rows/s")
		b.StopTimer()
		_ = tb.s.Close()
		b.StartTimer()
	}
}

// BenchmarkVerifyAudit measures VerifyAudit over the 1,000,000-entry
// fixture: the whole chain, every digest, every checkpoint.
func BenchmarkVerifyAudit(b *testing.B) {
	s := searchFixture(b)
	b.ResetTimer()
	for range b.N {
		rep, err := s.VerifyAudit(context.Background())
		if err != nil || !rep.OK || rep.Entries != fixtureSize {
			b.Fatalf("VerifyAudit: %+v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(fixtureSize*b.N)/b.Elapsed().Seconds(), "entries/s")
}
