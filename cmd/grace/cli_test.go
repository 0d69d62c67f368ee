package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// graceBin is the real binary, built once by TestMain.
var graceBin string

func TestMain(m *testing.M) {
	// The tests decide every GRACE_* variable themselves.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, envPrefix+"_") {
			os.Unsetenv(k)
		}
	}
	dir, err := os.MkdirTemp("", "grace-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	graceBin = filepath.Join(dir, "grace")
	build := exec.Command("go", "build", "-o", graceBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build grace:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

// cli runs the binary in its own folder, with no server to be found unless
// the test's env names one.
type cli struct {
	dir string
	env []string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	return &cli{dir: t.TempDir(), env: []string{"GRACE_API_SERVER=" + closedURL(t), "GRACE_CORTEX_ENABLED=false"}}
}

// closedURL is an http URL on a loopback port where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func (c *cli) run(t *testing.T, args ...string) result {
	t.Helper()
	return c.exec(t, nil, 0, args...)
}

// exec runs the binary with attr (nil: as this process) and, when limit
// is above 0, fails the test if it has not finished within limit.
func (c *cli) exec(t *testing.T, attr *syscall.SysProcAttr, limit time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if limit > 0 {
		ctx, cancel = context.WithTimeout(ctx, limit)
	}
	defer cancel()
	cmd := exec.CommandContext(ctx, graceBin, args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), c.env...)
	cmd.SysProcAttr = attr
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("grace %q did not finish within %v (blocked?); stderr:\n%s", args, limit, errb.String())
	}
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run grace %q: %v", args, err)
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic:") {
		t.Fatalf("grace %q printed a trace:\n%s", args, r.stderr)
	}
	return r
}

// stderrLines are the non-empty lines on stderr.
func (r result) stderrLines() []string {
	var lines []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// wantFail checks the exit code and that stderr is exactly one "grace: "
// line containing want.
func (r result) wantFail(t *testing.T, code int, want string) {
	t.Helper()
	lines := r.stderrLines()
	if r.code != code || len(lines) != 1 || !strings.HasPrefix(lines[0], "grace: ") || !strings.Contains(lines[0], want) {
		t.Fatalf("exit %d, stderr %q; want exit %d and one line with %q", r.code, r.stderr, code, want)
	}
}

func (r result) decode(t *testing.T, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	var extra any
	if err := dec.Decode(&extra); err == nil {
		t.Fatalf("stdout has more than one JSON document:\n%s", r.stdout)
	}
}

func TestCLIUsageErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"intent", "submit", "--type", "x", "--bogus", "1"}, "unknown flag: --bogus"},
		{[]string{"intent", "route", "--type", "x", "--priority", "3"}, "unknown flag: --priority"},
		{[]string{"intent", "submit", "--type", "x", "--priority", "high"}, `invalid argument "high" for "--priority"`},
		{[]string{"nosuchcommand"}, `unknown command "nosuchcommand"`},
		// A command's flag before the command: said so, with the line put right.
		{[]string{"--json", "intent", "list"}, "--json is not a flag of grace itself; it goes after the command: grace intent list --json"},
		{[]string{"--db", "x.db", "--json", "intent", "list"}, "--json is not a flag of grace itself; it goes after the command: grace --db x.db intent list --json"},
		{[]string{"intent", "route"}, `required flag(s) "type" not set`},
		{[]string{"intent", "approve"}, "grace intent approve needs an intent ID"},
		{[]string{"intent", "deny", "some-id"}, "deny needs --reason"},
		{[]string{"intent", "list", "--state", "sleeping"}, `--state "sleeping"`},
		{[]string{"narratives", "search", "--since", "yesterday"}, `since "yesterday"`},
		{[]string{"narratives", "search", "--limit", "5000"}, "--limit 5000: want 1 to 1000"},
		{[]string{"narratives", "search", "--interval", "1s"}, "--interval is for --follow"},
		{[]string{"narratives", "search", "-f", "--interval", "1ms"}, "--interval 1ms: want 10ms to 1h"},
		{[]string{"--set", "novalue", "intent", "route", "--type", "x"}, "expected key=value"},
		{[]string{"console", "--attach", "localhost:7420"}, "want the server's URL"},
		{[]string{"chaos", "history", "--limit", "0"}, "--limit (0) must be at least 1"},
		{[]string{"chaos", "run"}, "give scenario IDs, --all or --category"},
		{[]string{"chaos", "run", "--all", "--category", "fit"}, "only one of them"},
		{[]string{"chaos", "run", "--category", "nope"}, `--category "nope"`},
		{[]string{"chaos", "run", "--difficulty", "-1", "--all"}, "--difficulty (-1)"},
		{[]string{"chaos", "run", "NoSuchScenario"}, `no scenario "NoSuchScenario"`},
		{[]string{"chaos", "run", "--live", "--server", "http://127.0.0.1:1", "L2_trigger_mesh_storm"}, "chaos run --live: no grace serve with chaos answered"},
		{[]string{"bench", "--only", "http", "--http-submits", "0"}, "--http-submits 0: want 1 to 100000000"},
		{[]string{"bench", "--only", "http", "--http-clients", "-3"}, "--http-clients -3: want 1 to 10000"},
		{[]string{"bench", "--only", "http", "--http-clients", "9999999999999"}, "--http-clients 9999999999999: want 1 to 10000"},
		{[]string{"bench", "--only", "http", "--http-rate", "NaN"}, "--http-rate NaN"},
		{[]string{"bench", "--only", "http", "--http-rate", "1e12"}, "--http-rate 1e+12"},
		{[]string{"bench", "--only", "http", "--http-intake-rate", "0"}, "--http-intake-rate 0: want a number of submissions a second above 0"},
		{[]string{"bench", "--only", "store", "--records", "7"}, "--records 7: want 1000 to 100000000"},
		{[]string{"bench", "--only", "route", "--route-runs", "0"}, "--route-runs 0"},
		{[]string{"bench", "--only", "bogus"}, `--only "bogus"`},
	} {
		r := c.run(t, tc.args...)
		r.wantFail(t, exitUsage, tc.want)
		if r.stdout != "" {
			t.Errorf("grace %q printed on stdout: %q", tc.args, r.stdout)
		}
	}
	if entries, _ := os.ReadDir(c.dir); len(entries) != 0 {
		t.Fatalf("usage errors left files behind: %v", entries)
	}
}

func TestCLIBadConfig(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	write := func(name, body string) string {
		if err := os.WriteFile(filepath.Join(c.dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return name
	}
	route := []string{"intent", "route", "--type", "query_knowledge"}
	f := write("typo.yaml", "htm:\n  warn_dept: 5\n")
	c.run(t, append([]string{"--config", f}, route...)...).wantFail(t, exitFailure, `grace: typo.yaml: unknown key "htm.warn_dept"`)
	f = write("type.yaml", "htm:\n  warn_depth: lots\n")
	c.run(t, append([]string{"--config", f}, route...)...).wantFail(t, exitFailure, `grace: type.yaml: htm.warn_depth: expected an integer, got "lots"`)
	f = write("syntax.yaml", "htm:\n  warn_depth: 5\n bad: [\n")
	c.run(t, append([]string{"--config", f}, route...)...).wantFail(t, exitFailure, "grace: syntax.yaml: line 2")
	c.run(t, append([]string{"--config", "missing.yaml"}, route...)...).wantFail(t, exitFailure, "missing.yaml: no such file or directory")

	// ./config.yaml is read by default; the environment is checked too.
	write("config.yaml", "workers:\n  count: many\n")
	c.run(t, route...).wantFail(t, exitFailure, `grace: config.yaml: workers.count: expected an integer, got "many"`)
	os.Remove(filepath.Join(c.dir, "config.yaml"))
	env := &cli{dir: c.dir, env: append(c.env, "GRACE_HTM_WARN_DEPTH=lots")}
	env.run(t, route...).wantFail(t, exitFailure, `grace: GRACE_HTM_WARN_DEPTH: htm.warn_depth: expected an integer, got "lots"`)
	c.run(t, append([]string{"--set", "workers.count=0"}, route...)...).wantFail(t, exitFailure, "workers.count must be at least 1")
}

// decision is intent route's JSON with the seed's field names.
type decision struct {
	Approved      *bool    `json:"approved"`
	AutonomyTier  *int     `json:"autonomy_tier"`
	RequiresVote  *bool    `json:"requires_vote"`
	RequiresHuman *bool    `json:"requires_human"`
	Alignment     *float64 `json:"alignment"`
	Reasoning     []string `json:"reasoning"`
	RoutedTo      string   `json:"routed_to"`
}

func TestCLIRoute(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	r := c.run(t, "intent", "route", "--type", "extend_grace", "--context", `{"revenue_impact":true}`, "--json")
	if r.code != 0 {
		t.Fatalf("route: exit %d: %s", r.code, r.stderr)
	}
	var d decision
	r.decode(t, &d)
	if d.Approved == nil || !*d.Approved || d.AutonomyTier == nil || *d.AutonomyTier != 3 || d.RequiresVote == nil || !*d.RequiresVote ||
		d.Alignment == nil || *d.Alignment != 0.8 || d.RoutedTo != "unified_logic_hub" || len(d.Reasoning) == 0 {
		t.Fatalf("extend_grace with revenue impact: %s", r.stdout)
	}

	r = c.run(t, "intent", "route", "--type", "no_such_type", "--json")
	var u decision
	r.decode(t, &u)
	if r.code != 0 || u.AutonomyTier == nil || *u.AutonomyTier != 0 || u.RequiresHuman == nil || !*u.RequiresHuman {
		t.Fatalf("unknown type must be Tier 0 needing a human: exit %d %s", r.code, r.stdout)
	}

	r = c.run(t, "intent", "route", "--type", "query_knowledge")
	if r.code != 0 || !strings.Contains(r.stdout, "autonomy_tier") || !strings.Contains(r.stdout, "routed_to") {
		t.Fatalf("route table: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if entries, _ := os.ReadDir(c.dir); len(entries) != 0 {
		t.Fatalf("intent route wrote files: %v", entries)
	}
}

func TestCLISubmitInvalid(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--payload", "{bad", "--context", "[1]")
	lines := r.stderrLines()
	if r.code != exitFailure || len(lines) != 2 || r.stdout != "" ||
		!strings.Contains(lines[0], "payload: is not valid JSON") || !strings.Contains(lines[1], "context: must be a JSON object") {
		t.Fatalf("unparseable JSON: exit %d\n%s", r.code, r.stderr)
	}

	r = c.run(t, "intent", "submit", "--type", "query_knowledge", "--actor", strings.Repeat("a", 200), "--payload", "[1]", "--priority", "12")
	lines = r.stderrLines()
	for _, field := range []string{"actor", "payload", "priority"} {
		found := false
		for _, l := range lines {
			found = found || strings.HasPrefix(l, "grace: invalid intent: "+field+": ")
		}
		if !found {
			t.Errorf("no line for %s in:\n%s", field, r.stderr)
		}
	}
	if r.code != exitFailure || r.stdout != "" {
		t.Fatalf("invalid intent: exit %d, stdout %q", r.code, r.stdout)
	}

	r = c.run(t, "intent", "submit", "--type", "", "--json")
	var er struct {
		Error    struct{ Code string } `json:"error"`
		Problems []struct{ Field string }
	}
	r.decode(t, &er)
	if r.code != exitFailure || er.Error.Code != "invalid_intent" || len(er.Problems) == 0 {
		t.Fatalf("invalid intent --json: exit %d\n%s", r.code, r.stdout)
	}
}

func TestCLIBadDatabase(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	dirDB := filepath.Join(c.dir, "adir")
	if err := os.Mkdir(dirDB, 0o700); err != nil {
		t.Fatal(err)
	}
	notOurs := filepath.Join(c.dir, "notes", "notes.txt")
	if err := os.Mkdir(filepath.Dir(notOurs), 0o700); err != nil {
		t.Fatal(err)
	}
	content := []byte("these are my notes, not a database\n")
	if err := os.WriteFile(notOurs, content, 0o644); err != nil {
		t.Fatal(err)
	}
	c.env = append(c.env, "GRACE_API_LISTEN=127.0.0.1:0")
	for _, db := range []string{dirDB, notOurs} {
		for _, args := range [][]string{
			{"audit", "verify"},
			{"narratives", "search", "x"},
			{"health"},
			{"intent", "list"},
			{"intent", "submit", "--type", "query_knowledge"},
			{"serve"},
		} {
			r := c.run(t, append(args, "--db", db)...)
			r.wantFail(t, exitFailure, db)
		}
	}
	if got, _ := os.ReadFile(notOurs); !bytes.Equal(got, content) {
		t.Fatalf("a file that is not ours was modified: %q", got)
	}
	if entries, _ := os.ReadDir(filepath.Dir(notOurs)); len(entries) != 1 {
		t.Fatalf("files were written beside a database that is not ours: %v", entries)
	}
	if entries, _ := os.ReadDir(dirDB); len(entries) != 0 {
		t.Fatalf("files were written into a directory given as the database: %v", entries)
	}
}

// TestCLIDecideHelp: each of approve and deny says of its own --reason
// whether it is required; approve's help said "why (required to deny)",
// though approve runs without one.
func TestCLIDecideHelp(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for verb, want := range map[string]string{"approve": "--reason string     why: it goes on the record\n",
		"deny": "--reason string     why: it goes on the record (required)\n"} {
		r := c.run(t, "intent", verb, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "required to deny") {
			t.Errorf("intent %s --help: exit %d, want %q:\n%s%s", verb, r.code, want, r.stdout, r.stderr)
		}
	}
}
