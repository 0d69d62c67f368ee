package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestBenchHTTPMeasures runs the HTTP bench small with each load
// generator: it must submit through the real stack and report its seven
// figures (their values are not asserted).
func TestBenchHTTPMeasures(t *testing.T) {
	t.Parallel()
	for _, raw := range []bool{true, false} {
		t.Run(map[bool]string{true: "raw", false: "go"}[raw], func(t *testing.T) {
			t.Parallel()
			var got []benchResult
			err := benchHTTP(t.Context(), t.TempDir(), httpBenchPlan{n: 300, clients: 16, raw: raw, rate: 200, intakeRate: 300, paceFor: 250 * time.Millisecond},
				func(r benchResult) { got = append(got, r) })
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"http_submit", "http_submit_p99_at_200", "http_submit_batch", "http_submit_batch_atomic",
				"http_submit_intake", "http_submit_intake_p99_at_300", "http_submit_batch_intake", "http_submit_batch_atomic_intake"}
			if len(got) != len(want) {
				t.Fatalf("results = %+v", got)
			}
			for i, name := range want {
				if got[i].Name != name || got[i].Value <= 0 {
					t.Fatalf("result %d = %+v, want %s with a value", i, got[i], name)
				}
			}
		})
	}
}

// TestRawSubmitter: the raw load generator sends the submission whole with
// its token, reads a 202 however its body comes (a length, chunks), says
// which other status came back, and dials again when the server closes
// the connection.
func TestRawSubmitter(t *testing.T) {
	t.Parallel()
	const body = `{"type":"query_knowledge"}`
	var mode atomic.Value
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/intents" || r.Header.Get("Authorization") != "Bearer tok" || string(got) != body {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		switch mode.Load() {
		case "chunked":
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"id":"a"`)
			w.(http.Flusher).Flush()
			io.WriteString(w, `}`)
		case "close":
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"id":"b"}`)
		case "refuse":
			http.Error(w, `{"error":{}}`, http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"id":"c"}`)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	b := &httpBench{url: srv.URL + "/v1/intents", token: "tok", body: []byte(body)}
	s, err := b.newRawSubmitter(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	for _, m := range []string{"length", "chunked", "length", "close", "length"} {
		mode.Store(m)
		if err := s.submit(); err != nil {
			t.Fatalf("a 202 (%s): %v", m, err)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2: one kept alive, one more after the server closed it", n)
	}
	mode.Store("refuse")
	if err := s.submit(); err == nil || !strings.Contains(err.Error(), "HTTP status 503") {
		t.Fatalf("a 503: %v", err)
	}
}
