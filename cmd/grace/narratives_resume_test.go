package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"grace/engine/httpapi"
)

// TestSearchSaysWhereAPageStopped: when the server's page stopped early at
// its read budget (resume_before), the CLI says so on standard error with
// the --before that reads on, and --json passes resume_before through; a
// page that did not stop early says nothing of it. --before is sent on as
// the API's before=.
func TestSearchSaysWhereAPageStopped(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var asked string // the last query the server was asked
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = r.URL.RawQuery
		mu.Unlock()
		resp := httpapi.NarrativesResponse{Narratives: nil, ResumeBefore: 0}
		if r.URL.Query().Get("before") == "" {
			resp.ResumeBefore = 4242
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	}))
	defer srv.Close()
	c := newCLI(t)
	c.env = append(c.env, "GRACE_API_TOKEN=whatever")
	r := c.run(t, "narratives", "search", "--server", srv.URL, `"disk full"`)
	if r.code != 0 || !strings.Contains(r.stderr, "stopped early") || !strings.Contains(r.stderr, "--before 4242") {
		t.Fatalf("stopped page: exit %d, stderr %q; want exit 0 saying --before 4242 reads on", r.code, r.stderr)
	}
	r = c.run(t, "narratives", "search", "--server", srv.URL, "--json", `"disk full"`)
	var got httpapi.NarrativesResponse
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.ResumeBefore != 4242 || got.Narratives == nil {
		t.Fatalf("--json: %v, %+v from %q; want resume_before 4242 and narratives []", err, got, r.stdout)
	}
	r = c.run(t, "narratives", "search", "--server", srv.URL, "--before", "4242", `"disk full"`)
	mu.Lock()
	last := asked
	mu.Unlock()
	if r.code != 0 || strings.Contains(r.stderr, "stopped early") || !strings.Contains(last, "before=4242") {
		t.Fatalf("--before 4242: exit %d, stderr %q, asked %q; want before=4242 sent and no stop hint", r.code, r.stderr, last)
	}
	if r := c.run(t, "narratives", "search", "--before", "-3", "x"); r.code != 2 || !strings.Contains(r.stderr, "--before -3") {
		t.Fatalf("--before -3: exit %d, stderr %q; want a usage error naming it", r.code, r.stderr)
	}
	if r := c.run(t, "narratives", "search", "--before", "7", "-f"); r.code != 2 || !strings.Contains(r.stderr, "--before") {
		t.Fatalf("--before with --follow: exit %d, stderr %q; want a usage error", r.code, r.stderr)
	}
}
