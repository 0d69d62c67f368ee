//go:build unix

package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A QA sweep of the CLI as a script uses it: a variable that came out
// empty, a shell name mistyped, a name that YAML reads as something else,
// an ID given twice. Each case failed before its fix.

// submitted submits an intent of typ on c's database directly and returns
// its ID.
func submitted(t *testing.T, c *cli, typ string) string {
	t.Helper()
	r := c.run(t, "intent", "submit", "--type", typ)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" {
		t.Fatalf("submit %s: exit %d %s", typ, r.code, r.stderr)
	}
	return id
}

// wantUsage runs args and wants a usage error with want in its one line,
// and nothing on standard output.
func (c *cli) wantUsage(t *testing.T, want string, args ...string) {
	t.Helper()
	r := c.run(t, args...)
	r.wantFail(t, exitUsage, want)
	if r.stdout != "" {
		t.Errorf("grace %q printed on stdout: %.80q", args, r.stdout)
	}
}

// An empty value for a flag that selects or names something is refused,
// naming the flag, and changes nothing: an empty --actor beside --type
// cancelled every actor's intents of that type, and an empty backup
// folder was the current one.
func TestCLISweepEmptyValues(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	id := submitted(t, c, "change_charter")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"intent", "cancel", "--type", "change_charter", "--actor", "", "--reason", "x"}, "cancel: --actor is empty"},
		{[]string{"intent", "cancel", "--all", "--state", " ", "--reason", "x"}, "cancel: --state is empty"},
		{[]string{"intent", "cancel", "--all", "--type", "", "--reason", "x", "--dry-run"}, "cancel: --type is empty"},
		{[]string{"intent", "retry", "--all", "--since", "", "--state", "cancelled", "--reason", "x"}, "retry: --since is empty"},
		{[]string{"intent", "retry", "--all", "--actor", "", "--reason", "x"}, "retry: --actor is empty"},
		{[]string{"intent", "batch", ""}, "intent batch: the file name is empty"},
	} {
		c.wantUsage(t, tc.want, tc.args...)
	}
	// A reason the engine refuses is refused once, before any request (a
	// bulk cancel made one refused request per intent, a line each).
	for _, verb := range []string{"cancel", "retry"} {
		c.wantUsage(t, verb+": --reason holds a control character (U+001B)", "intent", verb, "--all", "--reason", "\x1b[2J")
		c.wantUsage(t, verb+": --reason is 2001 bytes; the limit is 2000", "intent", verb, id, "--reason", strings.Repeat("r", 2001))
	}
	if got := listIntents(t, c); len(got) != 1 || got[id] != "pending_approval" {
		t.Fatalf("refused commands changed the intents: %v", got)
	}

	// "grace backup $DIR" with DIR unset, run in an empty folder, wrote
	// the backup there.
	here := &cli{dir: t.TempDir(), env: c.env}
	here.run(t, "backup", "", "--db", filepath.Join(c.dir, dataDirName(t, c), "grace.db")).
		wantFail(t, exitUsage, "backup: the folder name is empty")
	wantNothingIn(t, here.dir)
}

// An empty --actor is an invalid intent on a server as on the database
// (as an empty --type is): the server took it as "the caller" and stored
// the intent under the CLI's name, where the database refused it.
func TestCLISweepEmptyActor(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)
	for _, actor := range []string{"", "  "} {
		c.run(t, "intent", "submit", "--type", "query_knowledge", "--actor", actor).
			wantFail(t, exitFailure, "invalid intent: actor: is required")
	}
	if got := listIntents(t, c); len(got) != 0 {
		t.Fatalf("a refused submission was stored: %v", got)
	}
	c.run(t, "intent", "route", "--type", "query_knowledge", "--actor", "").
		wantFail(t, exitFailure, "invalid intent: actor: is required")
	// Left out, the actor is the caller's, as before.
	if r := c.run(t, "intent", "submit", "--type", "query_knowledge"); r.code != 0 {
		t.Fatalf("submit without --actor: exit %d %s", r.code, r.stderr)
	}
}

// dataDirName is the data folder newCLI's commands use under c.dir.
func dataDirName(t *testing.T, c *cli) string {
	t.Helper()
	entries, err := os.ReadDir(c.dir)
	if err != nil || len(entries) != 1 || !entries[0].IsDir() {
		t.Fatalf("want one data folder in %s: %v %v", c.dir, entries, err)
	}
	return entries[0].Name()
}

// --dry-run --json of a selection that matches nothing is an empty list
// (it was null), as text it prints no table header over nothing, and an intent named twice is cancelled once and counted
// once (it was "cancelled 1 of 2 intents; 1 had finished").
func TestCLISweepSelection(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	id := submitted(t, c, "change_charter")
	for _, args := range [][]string{
		{"intent", "cancel", "--actor", "nobody", "--reason", "x", "--dry-run", "--json"},
		{"intent", "retry", "--actor", "nobody", "--reason", "x", "--dry-run", "--json"},
	} {
		r := c.run(t, args...)
		var out map[string]any
		r.decode(t, &out)
		for k, v := range out {
			if list, ok := v.([]any); !ok || len(list) != 0 {
				t.Errorf("grace %q: %s is %#v, want []\n%s", args, k, v, r.stdout)
			}
		}
		if r.code != 0 || len(out) != 1 {
			t.Fatalf("grace %q: exit %d %s %s", args, r.code, r.stdout, r.stderr)
		}
		// As text: the summary alone, not a table header over nothing.
		r = c.run(t, args[:len(args)-1]...)
		if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "would "+args[1]+" 0 intents") {
			t.Fatalf("grace %q: exit %d %q %q; want the summary alone", args[:len(args)-1], r.code, r.stdout, r.stderr)
		}
	}

	r := c.run(t, "intent", "cancel", id, strings.ToLower(id), "--reason", "raised twice", "--json")
	var out cancelOutcome
	r.decode(t, &out)
	if r.code != 0 || len(out.Cancelled) != 1 || out.Cancelled[0] != id || len(out.Finished) != 0 || len(out.Failed) != 0 {
		t.Fatalf("cancel one intent named twice: exit %d %+v %s", r.code, out, r.stderr)
	}
	r = c.run(t, "intent", "retry", id, strings.ToLower(id), "--reason", "raised twice")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 1 || !strings.Contains(r.stderr, "retried 1 of 1 intents") {
		t.Fatalf("retry one intent named twice: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// "grace completion" without a shell, or with one it does not know,
// printed the help on standard output and exited 0: "source <(grace
// completion bsh)" then ran the help text.
func TestCLISweepCompletionShell(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.wantUsage(t, `"grace completion" needs a command: one of bash, fish, powershell, zsh`, "completion")
	c.wantUsage(t, `unknown command "bsh" for "grace completion": did you mean bash? (want one of: bash, fish, powershell, zsh)`, "completion", "bsh")
	if r := c.run(t, "completion", "--help"); r.code != 0 || !strings.Contains(r.stdout, "bash") {
		t.Fatalf("completion --help: exit %d %s", r.code, r.stderr)
	}
}

// The identities entry "token new" prints loads back as the name it was
// given: a name YAML reads as null or a bool is quoted (the pasted entry
// stopped Grace: identities[0].name ("") must be 1 to 64 characters), and
// a refused --name is said of the flag, not of identities[0].
func TestCLISweepTokenNewEntry(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, name := range []string{"null", "True", "no", "alice"} {
		r := c.run(t, "token", "new", "--name", name, "--role", "viewer")
		_, entry, ok := strings.Cut(r.stdout, "identities:\n")
		if r.code != 0 || !ok {
			t.Fatalf("token new --name %s: exit %d %s %s", name, r.code, r.stdout, r.stderr)
		}
		cfg := filepath.Join(c.dir, name+".yaml")
		if err := os.WriteFile(cfg, []byte("identities:\n"+entry), 0o600); err != nil {
			t.Fatal(err)
		}
		r = c.run(t, "token", "list", "--config", cfg, "--json")
		var out struct {
			Identities []struct{ Name, Role string } `json:"identities"`
		}
		if r.code != 0 {
			t.Fatalf("the entry for %q does not load: exit %d %s\n%s", name, r.code, r.stderr, entry)
		}
		r.decode(t, &out)
		if len(out.Identities) != 1 || out.Identities[0].Name != name || out.Identities[0].Role != "viewer" {
			t.Fatalf("the entry for %q loads as %+v\n%s", name, out.Identities, entry)
		}
	}
	r := c.run(t, "token", "new", "--name", "", "--role", "agent")
	r.wantFail(t, exitUsage, `--name "" must be 1 to 64 characters`)
	if strings.Contains(r.stderr, "identities[") {
		t.Fatalf("--name's error names a config entry: %s", r.stderr)
	}
}

// Without a terminal, console --attach says so as the embedded console
// does, once the server has taken the token (it failed in the terminal
// library: "console: run console: could not open a new TTY").
func TestCLISweepAttachWithoutTerminal(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/whoami" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"name":"alice","role":"operator"}`))
	}))
	defer srv.Close()
	c := newCLI(t).as("tok-alice")
	r := c.runFor(t, &syscall.SysProcAttr{Setsid: true}, "console", "--attach", srv.URL)
	r.wantFail(t, exitFailure, "the console needs a terminal")
	wantNothingIn(t, c.dir)
}

// A halt reason the server would refuse (too long, or a terminal escape)
// is refused before anything is halted: the local runs were interrupted
// with it, and it reached their record unchecked, while the server's
// runs went on.
func TestCLISweepChaosHaltBadReason(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	dir := filepath.Join(c.dir, "grace-data", "chaos", "running")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sleeper := startSleeper(t)
	ann := announce(t, dir, sleeper.Process.Pid, "chaos-run-1")
	for _, reason := range []string{"\x1b[2Jall clear", strings.Repeat("r", 2001)} {
		c.wantUsage(t, "chaos halt: --reason ", "chaos", "halt", "--reason", reason)
	}
	if _, err := os.Stat(ann); err != nil {
		t.Fatalf("the run's announcement: %v", err)
	}
	if _, err := os.Stat(ann + haltNoteSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused halt left a note for the run (%v)", err)
	}
	if err := sleeper.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("a refused halt interrupted the run: %v", err)
	}
}

// An ID that is no intent is echoed in its error as typed when it could
// be an ID, else quoted and cut: a pasted screenful came back whole, and
// a terminal escape reached the terminal.
func TestCLISweepUnknownIDShown(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	submitted(t, c, "query_knowledge")
	long := strings.Repeat("a", 5000)
	c.run(t, "intent", "get", "int_nope").wantFail(t, exitFailure, "intent int_nope: no such intent")
	c.run(t, "intent", "get", "\x1b[31mred").wantFail(t, exitFailure, `intent "\x1b[31mred": no such intent`)
	for _, args := range [][]string{{"intent", "get", long}, {"intent", "list", "--before", long}} {
		r := c.run(t, args...)
		r.wantFail(t, exitFailure, `"`+strings.Repeat("a", maxShownID)+`"…: no such intent`)
		if len(r.stderr) > 200 {
			t.Errorf("grace %.20q: a %d-byte error", args, len(r.stderr))
		}
	}
}

// An archive file that is not there, or a folder, is said before the
// chain is verified: it printed "audit chain intact" first, and failed
// after the whole verification.
func TestCLISweepAuditArchiveMissing(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	submitted(t, c, "query_knowledge")
	missing := filepath.Join(c.dir, "grace-audit-1-9.jsonl.gz")
	c.wantUsage(t, `audit verify: --archive "`+missing+`": no such file or directory`, "audit", "verify", "--archive", missing)
	c.wantUsage(t, `audit verify: --archive "`+c.dir+`" is a folder`, "audit", "verify", "--archive", c.dir, "--json=false")
}
