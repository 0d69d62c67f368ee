package main

import (
	"slices"
	"strings"
	"testing"
)

// TestCLIChaosListShowsTheServersLibrary: with a server answering, chaos
// list shows the library chaos run would run there, the server's own
// chaos.scenarios_dir included, and says whose it is; with none, this
// machine's.
func TestCLIChaosListShowsTheServersLibrary(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	url := closedURL(t)
	own := strings.Replace(quickCascade, "id: L2_event_policy_cascade", "id: L2_server_cascade", 1)
	c.env = []string{"GRACE_API_SERVER=" + url, "GRACE_CHAOS_SCENARIOS_DIR=" + c.scenarios(t, map[string]string{"own.yaml": own})}
	startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)

	client := &cli{dir: c.dir, env: []string{"GRACE_API_SERVER=" + url}}
	var got chaosList
	r := client.run(t, "chaos", "list", "--json")
	r.decode(t, &got)
	ids := make([]string, 0, len(got.Scenarios))
	for _, s := range got.Scenarios {
		ids = append(ids, s.ID)
	}
	if r.code != 0 || got.Server != url || !slices.Contains(ids, "L2_server_cascade") || !slices.Contains(ids, "L2_event_policy_cascade") {
		t.Fatalf("chaos list --json with a server: exit %d, server %q, %v\n%s", r.code, got.Server, ids, r.stderr)
	}
	if r := client.run(t, "chaos", "list"); r.code != 0 || !strings.Contains(r.stderr, "the scenarios of the grace serve at "+url) ||
		!strings.Contains(r.stdout, "L2_server_cascade") {
		t.Fatalf("chaos list with a server: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	local := &cli{dir: c.dir, env: []string{"GRACE_API_SERVER=" + closedURL(t)}}
	if r := local.run(t, "chaos", "list"); r.code != 0 || strings.Contains(r.stdout, "L2_server_cascade") || !strings.Contains(r.stdout, "L2_event_policy_cascade") {
		t.Fatalf("chaos list with no server: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
