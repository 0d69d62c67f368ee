package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// benchRecord is a record shaped like the engine's: a routing decision.
func benchRecord(i int) clarity.Record {
	return clarity.Record{
		Who: "governance", What: "routed", Where: "router",
		Why:      []string{"type query_knowledge is tier 2", fmt.Sprintf("alignment 0.%02d above 0.5", i%100)},
		How:      "autonomy tier table and charter weights",
		Context:  map[string]any{"tier": 2, "alignment": 0.73, "routed_to": "htm"},
		IntentID: fmt.Sprintf("in_%08d", i), Result: "approved",
		Confidence: 0.92, Risk: 0.08, Transparency: clarity.TransparencyComplete,
	}
}

// benchRound is how many records one benchmark iteration writes, so that
// `-benchtime 3x` still measures thousands of records.
const benchRound = 16384

// BenchmarkWriter measures durable records per second through the writer
// (synchronous=FULL), for different ways of submitting.
func BenchmarkWriter(b *testing.B) {
	for _, bc := range []struct {
		name       string
		submitters int
		perChange  int
		async      bool
	}{
		{"apply/16x1rec", 16, 1, false},
		{"apply/64x1rec", 64, 1, false},
		{"apply/16x8rec", 16, 8, false},
		{"apply/16x64rec", 16, 64, false},
		{"async/1rec", 1, 1, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tb := setup(b, func(o *Options) { o.Clock = nil })
			ctx := context.Background()
			changes := benchRound / bc.perChange
			b.ResetTimer()
			start, cpu := time.Now(), processCPU()
			for range b.N {
				var next atomic.Int64
				var wg sync.WaitGroup
				for range bc.submitters {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var pending sync.WaitGroup
						for {
							i := int(next.Add(1))
							if i > changes {
								break
							}
							c := &intent.Change{Records: make([]clarity.Record, bc.perChange)}
							for j := range c.Records {
								c.Records[j] = benchRecord(i*bc.perChange + j)
							}
							if bc.async {
								pending.Add(1)
								tb.s.ApplyAsync(c, func(_ intent.Result, err error) {
									if err != nil {
										b.Error(err)
									}
									pending.Done()
								})
								continue
							}
							if _, err := tb.s.Apply(ctx, c); err != nil {
								b.Error(err)
								return
							}
						}
						pending.Wait()
					}()
				}
				wg.Wait()
			}
			elapsed, cpu := time.Since(start), processCPU()-cpu
			b.StopTimer()
			b.ReportMetric(float64(b.N*benchRound)/elapsed.Seconds(), "records/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*benchRound), "cpu-µs/record")
			st := tb.s.Stats()
			b.ReportMetric(float64(st.Changes)/float64(st.Batches), "changes/batch")
		})
	}
}
