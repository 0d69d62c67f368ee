package main

import (
	"testing"
	"time"
)

// TestBenchHTTPMeasures runs the HTTP bench small: it must submit through
// the real stack and report its seven figures (their values are not
// asserted).
func TestBenchHTTPMeasures(t *testing.T) {
	t.Parallel()
	var got []benchResult
	err := benchHTTP(t.Context(), t.TempDir(), httpBenchPlan{n: 300, clients: 16, rate: 200, paceFor: 250 * time.Millisecond},
		func(r benchResult) { got = append(got, r) })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http_submit", "http_submit_p99_at_200", "http_submit_batch", "http_submit_batch_atomic",
		"http_submit_intake", "http_submit_batch_intake", "http_submit_batch_atomic_intake"}
	if len(got) != len(want) {
		t.Fatalf("results = %+v", got)
	}
	for i, name := range want {
		if got[i].Name != name || got[i].Value <= 0 {
			t.Fatalf("result %d = %+v, want %s with a value", i, got[i], name)
		}
	}
}
