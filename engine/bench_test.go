package engine

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/worker"
)

// BenchmarkEndToEnd measures Tier 2 intents from Submit to a durable
// "completed" with a noop handler, against the in-memory store (so it
// measures the engine, not SQLite): go test -run '^$' -bench EndToEnd ./engine/
func BenchmarkEndToEnd(b *testing.B) {
	cfg := testConfig()
	cfg.Workers.Count = 8
	cfg.HTM.Capacity, cfg.HTM.WarnDepth, cfg.HTM.CriticalDepth = 1<<22, 1000, 5000
	st := enginetest.NewStore(4096)
	defer st.Close()

	var ran atomic.Int64
	all := make(chan struct{})
	target := int64(b.N)
	handlers := newTestHandlers()
	handlers.set("query_knowledge", func(context.Context, intent.Intent) error {
		if ran.Add(1) == target {
			close(all)
		}
		return nil
	})
	e, err := New(cfg, Deps{Store: st, Clock: clock.Real{}, Handlers: handlers})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	const submitters = 8
	payload := []byte(`{"q":"status of kernel 7"}`)
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for s := range submitters {
		wg.Go(func() {
			for i := s; i < b.N; i += submitters {
				_, err := e.Submit(context.Background(), intent.Submission{
					Type: "query_knowledge", Actor: "bench", Payload: payload, Priority: i % 10,
				})
				if err != nil {
					panic(fmt.Sprintf("submit %d: %v", i, err)) // b.Fatal may not be called off the benchmark goroutine
				}
			}
		})
	}
	wg.Wait()
	<-all
	e.Stop()   // waits for the last completions to be handed to the store
	st.Flush() // and for them to be durable
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "intents/s")
	if got := e.Snapshot().Completed; got != uint64(b.N) {
		b.Fatalf("%d completed, want %d", got, b.N)
	}
}

var _ worker.Handler = worker.Noop{}
