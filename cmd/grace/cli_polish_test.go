package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// chaos history of a path where there is no database (a folder that does
// not exist, a file not made yet) says so, naming the path, and exits 1,
// as narratives search and audit verify do: it said "no chaos runs yet"
// and exited 0, so a slip in --db read as a clean record.
func TestChaosHistoryNamesAMissingDatabase(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, db := range []string{
		filepath.Join(c.dir, "nosuchfolder", "grace.db"),
		filepath.Join(c.dir, "grace.db"),
	} {
		want := "open store " + db + ": no database there"
		c.run(t, "chaos", "history", "--db", db).wantFail(t, exitFailure, want)
		if r := c.run(t, "chaos", "history", "--json", "--db", db); r.code != exitFailure || !strings.Contains(r.stdout, want) {
			t.Fatalf("chaos history --json --db %s: exit %d\n%s%s", db, r.code, r.stdout, r.stderr)
		}
		c.run(t, "narratives", "search", "--db", db, "x").wantFail(t, exitFailure, want)
	}
}

// --operator's help names its default once: it read "who decides
// (default $USER); … (default "root")", pflag adding the value $USER had.
func TestOperatorHelpNamesItsDefaultOnce(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env = append(c.env, "USER=alice")
	for _, verb := range []string{"approve", "deny", "cancel", "retry"} {
		r := c.run(t, "intent", verb, "--help")
		var line string
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.Contains(l, "--operator") {
				line = l
			}
		}
		if r.code != 0 || strings.Count(line, "(default") != 1 || !strings.Contains(line, "(default $USER)") || strings.Contains(line, "alice") {
			t.Errorf("grace intent %s --help: exit %d, --operator's line %q; want its default named once, as $USER", verb, r.code, line)
		}
	}
	// --actor of submit (and route): cli:$USER, not this machine's user.
	for _, verb := range []string{"submit", "route"} {
		r := c.run(t, "intent", verb, "--help")
		var line string
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.Contains(l, "--actor") {
				line = l
			}
		}
		if r.code != 0 || strings.Count(line, "(default") != 1 || !strings.Contains(line, "cli:$USER") || strings.Contains(line, "alice") {
			t.Errorf("grace intent %s --help: exit %d, --actor's line %q; want its default named once, as cli:$USER", verb, r.code, line)
		}
	}
}

// scheduler pause and resume --type with a slip of case or separators
// name the charter's type meant, as intent cancel --type does: the
// refusal listed the fourteen types and left the operator to find it.
// A type near none gets no guess, and nothing is paused.
func TestSchedulerTypeSlipNamesTheType(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)
	const hint = "types are matched exactly: did you mean --type schedule_task?"
	c.run(t, "scheduler", "pause", "--type", "Schedule_task", "--reason", "r").wantFail(t, exitFailure,
		`not an intent type of the charter: "Schedule_task"`)
	c.run(t, "scheduler", "pause", "--type", "Schedule_task", "--reason", "r").wantFail(t, exitFailure, hint)
	c.run(t, "scheduler", "resume", "--type", "schedule-task").wantFail(t, exitFailure, "it is not paused; "+hint)
	r := c.run(t, "scheduler", "pause", "--type", "nope", "--reason", "r")
	r.wantFail(t, exitFailure, `not an intent type of the charter: "nope"`)
	if strings.Contains(r.stderr, "did you mean") {
		t.Errorf("a guess for --type nope: %s", r.stderr)
	}
	if r := c.run(t, "scheduler"); r.code != 0 || r.stdout != "running: dispatching; 0 queued\n" {
		t.Fatalf("scheduler after refused pauses: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// config show says which server the CLI talks to: with api.listen moved
// and api.server left at its default, the CLI follows api.listen
// (serverURL), and api.server's line said the default it did not use.
// --json keeps api.server's own value and source, and adds what is used.
func TestConfigShowNamesTheServerUsed(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env = []string{"GRACE_API_LISTEN=127.0.0.1:7555"}
	line := func(r result, key string) string {
		for _, l := range strings.Split(r.stdout, "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == key {
				return l
			}
		}
		return ""
	}
	r := c.run(t, "config", "show")
	if l := line(r, "api.server"); r.code != 0 || !strings.Contains(l, "http://127.0.0.1:7555") || !strings.Contains(l, "from api.listen") {
		t.Fatalf("config show with api.listen moved: exit %d, api.server's line %q\n%s", r.code, l, r.stderr)
	}
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	c.run(t, "config", "show", "--json").decode(t, &doc)
	var server map[string]string
	for _, k := range doc.Keys {
		if k["key"] == "api.server" {
			server = k
		}
	}
	if server["value"] != "http://127.0.0.1:7420" || server["source"] != "default" || server["effective"] != "http://127.0.0.1:7555" || server["effective_from"] != "api.listen" {
		t.Fatalf("config show --json's api.server: %v", server)
	}
	// api.server set: it is what is used, and said as before.
	c.env = append(c.env, "GRACE_API_SERVER=http://127.0.0.1:7600")
	r = c.run(t, "config", "show")
	if l := line(r, "api.server"); !strings.Contains(l, "http://127.0.0.1:7600") || !strings.HasSuffix(strings.TrimSpace(l), "GRACE_API_SERVER") {
		t.Fatalf("config show with api.server set: api.server's line %q", l)
	}
}
