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

// BenchmarkSubmitOverHTTP measures authenticated Tier 2 submissions over
// loopback HTTP from concurrent keep-alive clients into the real engine on
// the in-memory store: the cost of the API layer and the engine without
// SQLite (grace bench --only http measures them with it):
//
//	go test -run '^$' -bench SubmitOverHTTP -benchtime 100000x ./engine/httpapi/
func BenchmarkSubmitOverHTTP(b *testing.B) {
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
	h := NewHandler(e, Options{Identities: []Identity{{Name: "agent.bench", Role: engine.RoleAgent, TokenSHA256: sha256.Sum256([]byte(token))}}})
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	body := []byte(`{"type":"query_knowledge","payload":{"q":"status of kernel 7"},"priority":5}`)
	b.SetParallelism(32) // 32 × GOMAXPROCS concurrent clients
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

// BenchmarkLoopbackFloor is the same load against a handler that reads the
// body and answers 202 with a fixed JSON body, nothing else: what net/http
// on both ends costs on this machine, the floor under SubmitOverHTTP and
// grace bench --only http (which share the machine's cores with it):
//
//	go test -run '^$' -bench LoopbackFloor -benchtime 200000x ./engine/httpapi/
func BenchmarkLoopbackFloor(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"id":"in_01JD0000000000000000000000","state":"queued"}`))
	}))
	defer srv.Close()
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
			req.Header.Set("Authorization", "Bearer bench-token")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("floor: %s", resp.Status)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
