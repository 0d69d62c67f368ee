package store

import (
	"os"
	"context"
	"testing"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

func TestDebugBatchTiming(t *testing.T) {
	tb := setup(t, func(o *Options) { o.Clock = nil; o.IndexInterval = time.Hour })
	ctx := context.Background()
	for _, n := range []int{1, 16, 64, 256, 1024} {
		recs := make([]clarity.Record, n)
		for i := range recs {
			recs[i] = benchRecord(i)
		}
		var total time.Duration
		const rounds = 20
		for r := 0; r < rounds; r++ {
			st := time.Now()
			if _, err := tb.s.Apply(ctx, &intent.Change{Records: recs}); err != nil {
				t.Fatal(err)
			}
			total += time.Since(st)
		}
		per := total / rounds
		t.Logf("batch %5d records: %v per commit, %.0f records/s", n, per, float64(n)/per.Seconds())
	}
	st := time.Now()
	if err := tb.s.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("index %d rows: %v", tb.s.lastID.Load(), time.Since(st))
}

func BenchmarkDebugBig(b *testing.B) {
	tb := setup(b, func(o *Options) { o.Clock = nil; o.IndexInterval = time.Hour; o.Synchronous = os.Getenv("SYNC") })
	ctx := context.Background()
	recs := make([]clarity.Record, 1024)
	for i := range recs {
		recs[i] = benchRecord(i)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := tb.s.Apply(ctx, &intent.Change{Records: recs}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1024)/b.Elapsed().Seconds(), "records/s")

}

func TestDebugSize(t *testing.T) {
	tb := setup(t, func(o *Options) { o.Clock = nil; o.IndexInterval = time.Hour })
	ctx := context.Background()
	recs := make([]clarity.Record, 1024)
	for i := range recs {
		recs[i] = benchRecord(i)
	}
	for range 20 {
		if _, err := tb.s.Apply(ctx, &intent.Change{Records: recs}); err != nil {
			t.Fatal(err)
		}
	}
	tb.s.Close()
	db := tb.rawDB(t)
	rows, _ := db.Query("SELECT name, sum(pgsize), count(*) FROM dbstat GROUP BY name")
	for rows.Next() {
		var name string
		var sz, n int64
		rows.Scan(&name, &sz, &n)
		t.Logf("%-30s %8d bytes %5d pages  %6.0f B/rec", name, sz, n, float64(sz)/20480)
	}
}
