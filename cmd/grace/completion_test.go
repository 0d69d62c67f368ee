package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// completions runs "grace __complete args..." as the shell's completion
// script does and returns the offered words (without descriptions) and the
// whole lines.
func completions(t *testing.T, c *cli, args ...string) (words []string, lines []string) {
	t.Helper()
	r := c.run(t, append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		t.Fatalf("grace __complete %q: exit %d\n%s", args, r.code, r.stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if line == "" || strings.HasPrefix(line, ":") { // the directive
			continue
		}
		lines = append(lines, line)
		w, _, _ := strings.Cut(line, "\t")
		words = append(words, w)
	}
	return words, lines
}

func has(list []string, want string) bool {
	for _, s := range list {
		if s == want {
			return true
		}
	}
	return false
}

// The shell completes what an operator would otherwise look up: the
// scenario IDs of chaos run (from the library the config names, without
// the ones already typed), intent types with their tier, states, config
// keys for --set; and grace completion writes the script for each shell.
func TestShellCompletion(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	// A scenario of the operator's own folder is offered with the library's.
	dir := filepath.Join(c.dir, "scenarios")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	lib, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "FIT_handler_latency.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	own := strings.Replace(string(lib), "id: FIT_handler_latency", "id: OWN_slow_handlers", 1)
	if err := os.WriteFile(filepath.Join(dir, "own.yaml"), []byte(own), 0o644); err != nil {
		t.Fatal(err)
	}
	c.env = append(c.env, "GRACE_CHAOS_SCENARIOS_DIR="+dir)

	words, lines := completions(t, c, "chaos", "run", "L2_HTM_queue_flood_stress", "")
	if has(words, "L2_HTM_queue_flood_stress") {
		t.Errorf("chaos run offers a scenario already on the line: %v", words)
	}
	if !has(words, "DIRT_kernel_kill") || !has(words, "JEPSEN_crash_restart") {
		t.Errorf("chaos run does not offer the library's scenarios: %v", words)
	}
	if !has(words, "OWN_slow_handlers") {
		t.Errorf("chaos run does not offer the scenario of chaos.scenarios_dir: %v", words)
	}
	for _, l := range lines {
		if _, desc, _ := strings.Cut(l, "\t"); len([]rune(desc)) > 100 {
			t.Errorf("a scenario's description is %d characters, too long for one line: %q", len([]rune(desc)), l)
		}
	}

	_, lines = completions(t, c, "intent", "submit", "--type", "")
	if !has(lines, "change_charter\tTier 0") || !has(lines, "query_knowledge\tTier 2") {
		t.Errorf("--type does not offer the governance tiers' types: %v", lines)
	}
	if words, _ := completions(t, c, "intent", "list", "--state", ""); !has(words, "pending_approval") || !has(words, "completed") {
		t.Errorf("--state does not offer the states: %v", words)
	}
	if words, _ := completions(t, c, "--set", "htm."); !has(words, "htm.warn_depth=") || has(words, "htm=") {
		t.Errorf("--set does not offer the config keys: %v", words)
	}

	// A config that does not load still completes the built-in scenarios,
	// and nothing but completions reaches standard output.
	broken := newCLI(t)
	if err := os.WriteFile(filepath.Join(broken.dir, "config.yaml"), []byte("htm:\n  capacity: big\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if words, _ := completions(t, broken, "chaos", "run", ""); !has(words, "DIRT_kernel_kill") || has(words, "OWN_slow_handlers") {
		t.Errorf("chaos run with a broken config offers %v, want the built-in library", words)
	}

	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		r := c.run(t, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, "__complete") {
			t.Errorf("grace completion %s: exit %d, %d bytes, no call back to grace __complete\n%s", shell, r.code, len(r.stdout), r.stderr)
		}
	}
}
