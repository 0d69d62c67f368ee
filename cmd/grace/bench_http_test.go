package main

import (
	"strings"
	"testing"
	"time"
)

// TestBenchHTTPMeasures runs the HTTP bench small: it must submit through
// the real stack and report its three figures (their values are not
// asserted).
func TestBenchHTTPMeasures(t *testing.T) {
	t.Parallel()
	var got []benchResult
	err := benchHTTP(t.Context(), t.TempDir(), httpBenchPlan{n: 300, clients: 16, rate: 200, paceFor: 250 * time.Millisecond},
		func(r benchResult) { got = append(got, r) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Name != "http_submit" || got[0].Value <= 0 ||
		!strings.HasPrefix(got[1].Name, "http_submit_p99_at_200") || got[1].Value <= 0 ||
		got[2].Name != "http_submit_intake" || got[2].Value <= 0 {
		t.Fatalf("results = %+v", got)
	}
}
