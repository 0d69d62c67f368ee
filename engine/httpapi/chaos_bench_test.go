package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/worker"
)

// BenchmarkChaosMeterCost measures what the chaos metrics cost a busy
// server: with a chaos service the handler subscribes to the engine's
// events (the engine then masks and publishes every intent change), so
// it compares authenticated Tier 2 submissions over loopback HTTP into
// the real engine on the in-memory store without and with one:
//
//	go test -run '^$' -bench ChaosMeterCost -benchtime 50000x -count 3 ./engine/httpapi/
func BenchmarkChaosMeterCost(b *testing.B) {
	b.Run("without", func(b *testing.B) { benchSubmits(b, nil) })
	b.Run("with", func(b *testing.B) { benchSubmits(b, &fakeChaos{}) })
}

func benchSubmits(b *testing.B, chaos engine.ChaosAPI) {
	cfg := engine.Default()
	cfg.DB = "bench.db"
	cfg.Cortex.Enabled = false
	cfg.HTM.Capacity, cfg.HTM.WarnDepth, cfg.HTM.CriticalDepth = 1<<22, 1<<20, 1<<21
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	cfg.Safeguards[engine.SafeguardRateLimit] = engine.SafeguardConfig{Enabled: false}
	st := enginetest.NewStore(4096)
	defer st.Close()
	e, err := engine.New(cfg, engine.Deps{Store: st, Clock: clock.Real{}})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer e.Stop()
	const token = "bench-token"
	opts := Options{Identities: []Identity{{Name: "agent.bench", Role: engine.RoleAgent, TokenSHA256: sha256.Sum256([]byte(token))}}}
	if chaos != nil {
		opts.Chaos = chaos
	}
	h := NewHandler(e, opts)
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	body := []byte(`{"type":"query_knowledge","payload":{"q":"status of kernel 7"},"priority":5}`)
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/intents", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("submit: %s", resp.Status)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submits/s")
}
