package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A slip of the keys in a flag or a subcommand is answered with what was
// meant, a missing argument says what it is, and a narratives QUERY word
// that begins with - (taken for a flag) says how to write it: cobra's
// "accepts 1 arg(s), received 0" and "unknown shorthand flag: 'd' in
// -denied" left a newcomer to guess.
func TestCLISlipsNamed(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"intent", "list", "--stat", "queued"}, "unknown flag: --stat; did you mean --state?"},
		{[]string{"intent", "cancel", "--all", "--reason", "r", "--dryrun"}, "unknown flag: --dryrun; did you mean --dry-run?"},
		{[]string{"narratives", "search", "--actr", "agent.x"}, "unknown flag: --actr; did you mean --actor?"},
		{[]string{"narratives", "search", "-denied"}, "a QUERY that begins with - needs -- before it: grace narratives search -- -denied"},
		{[]string{"intent", "lst"}, `unknown command "lst" for "grace intent": did you mean list?`},
		{[]string{"chaos", "histroy"}, `unknown command "histroy" for "grace chaos": did you mean history?`},
		{[]string{"alerts", "silense", "x"}, `unknown command "silense" for "grace alerts": did you mean silence?`},
		{[]string{"intent", "get"}, "grace intent get needs an intent ID (grace intent list shows them"},
		{[]string{"intent", "get", "int_a", "int_b"}, `grace intent get takes one argument, an intent ID; got 2: "int_a int_b"`},
		{[]string{"intent", "deny"}, "grace intent deny needs an intent ID"},
		{[]string{"intent", "batch"}, "grace intent batch needs FILE: a JSON Lines file of submissions, or - for standard input"},
		{[]string{"backup"}, "grace backup needs the folder DIR to write the backup into"},
		{[]string{"audit", "verify", "--archive"}, "audit verify --archive needs the archive files, oldest first: grace audit verify --archive grace-data/audit-archive/*.jsonl.gz"},
		{[]string{"audit", "verify", "x.jsonl.gz"}, `audit verify takes no arguments, got "x.jsonl.gz": to verify archive files, add --archive`},
	} {
		c.wantUsage(t, tc.want, tc.args...)
	}
	// Nothing near: no guess.
	r := c.run(t, "intent", "list", "--zzzz")
	r.wantFail(t, exitUsage, "unknown flag: --zzzz")
	if strings.Contains(r.stderr, "did you mean") {
		t.Errorf("a guess for --zzzz: %s", r.stderr)
	}
}

// A server that asks for a token the CLI does not have (its data folder
// holds no api.token: the server is another folder's, as when the
// console's port was taken by another grace) is named as such, with the
// token file looked for, not as a token "refused"; a wrong token is still
// "refused". And token whoami with no server answering says so, not
// "dial tcp …: connection refused".
func TestCLIMissingTokenNamed(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)

	other := &cli{dir: t.TempDir(), env: []string{"GRACE_API_SERVER=" + url}}
	want := "server at " + url + " wants an API token and the CLI has none: api.token is not set and there is no readable token file " +
		filepath.Join("grace-data", tokenFileName)
	other.run(t, "intent", "submit", "--type", "query_knowledge").wantFail(t, exitFailure, want)
	other.run(t, "intent", "list").wantFail(t, exitFailure, want)
	other.run(t, "token", "whoami").wantFail(t, exitFailure, want)
	other.run(t, "scheduler").wantFail(t, exitFailure, want)

	other.as("grace_wrong").run(t, "intent", "list").wantFail(t, exitFailure, "server at "+url+" refused the API token")
	other.as("grace_wrong").run(t, "token", "whoami").wantFail(t, exitFailure, "server at "+url+" refused the API token")
	if r := c.run(t, "token", "whoami"); r.code != 0 || !strings.Contains(r.stdout, "local (operator)") {
		t.Fatalf("token whoami with the server's own data folder: exit %d %q %q", r.code, r.stdout, r.stderr)
	}

	gone := closedURL(t)
	other.run(t, "token", "whoami", "--server", gone).wantFail(t, exitFailure,
		"no server answers at "+gone+": token whoami asks a running grace serve or console; start one, or name it with --server")
}
