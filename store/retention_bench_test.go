package store

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
)

// benchPruneEntries is how many old entries each iteration prunes.
const benchPruneEntries = 20_000

// BenchmarkPrune measures PruneRecords: entries pruned a second (index and
// record deletes, the prune's record, with or without the archive), and
// how long one-record commits submitted meanwhile took (p50, p99, max):
// the chunked deletes keep them flowing. "baseline" is the same submitter
// for a second with no prune, for comparison.
func BenchmarkPrune(b *testing.B) {
	for _, name := range []string{"baseline", "no-archive", "archive"} {
		archive := name == "archive"
		b.Run(name, func(b *testing.B) {
			var pruned int64
			var took time.Duration
			var lat []time.Duration
			for range b.N {
				b.StopTimer()
				tb := setup(b)
				ctx := context.Background()
				recs := make([]clarity.Record, 0, 1000)
				for i := range benchPruneEntries {
					recs = append(recs, benchRecord(i))
					if len(recs) == cap(recs) {
						if err := tb.s.Record(ctx, recs...); err != nil {
							b.Fatal(err)
						}
						recs = recs[:0]
					}
				}
				if err := tb.s.FlushIndex(ctx); err != nil {
					b.Fatal(err)
				}
				tb.clock.Advance(48 * time.Hour)
				dir := ""
				if archive {
					dir = filepath.Join(b.TempDir(), "archive")
				}
				// A submitter keeps committing one record at a time.
				stop := make(chan struct{})
				var wg sync.WaitGroup
				var mine []time.Duration
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						t := time.Now()
						if err := tb.s.Record(ctx, benchRecord(i)); err != nil {
							b.Error(err)
							return
						}
						mine = append(mine, time.Since(t))
					}
				})
				b.StartTimer()
				start := time.Now()
				res, err := engine.PruneResult{FromSeq: 1, ToSeq: benchPruneEntries}, error(nil)
				if name == "baseline" {
					time.Sleep(time.Second)
				} else {
					res, err = tb.s.PruneRecords(ctx, engine.PruneRequest{Before: tb.clock.Now().Add(-time.Hour), ArchiveDir: dir})
				}
				took += time.Since(start)
				b.StopTimer()
				close(stop)
				wg.Wait()
				if err != nil || res.Entries() != benchPruneEntries {
					b.Fatalf("PruneRecords: %+v, %v", res, err)
				}
				pruned += res.Entries()
				lat = append(lat, mine...)
				_ = tb.s.Close()
			}
			slices.Sort(lat)
			ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
			if name != "baseline" {
				b.ReportMetric(float64(pruned)/took.Seconds(), "entries/s")
			}
			b.ReportMetric(ms(0.5), "p50-commit-ms")
			b.ReportMetric(ms(0.99), "p99-commit-ms")
			b.ReportMetric(ms(1), "max-commit-ms")
		})
	}
}
