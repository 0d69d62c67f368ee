package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIPayloadFromFile: --payload @FILE and --context @- carry JSON from
// a file and from standard input (a payload too big for one argument, or
// one kept in a file, needs no shell quoting), and what they read is what
// is stored.
func TestCLIPayloadFromFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	query := strings.Repeat("q", 150<<10) // over Linux's 128 KiB limit on one argument
	payload := `{"query":"` + query + `","n":[1,2]}`
	if err := os.WriteFile(filepath.Join(c.dir, "p.json"), []byte(payload+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(graceBin, "--set", "intake.max_payload_bytes=262144",
		"intent", "submit", "--type", "query_knowledge", "--payload", "@p.json", "--context", "@-")
	cmd.Dir, cmd.Env = c.dir, append(os.Environ(), c.env...)
	cmd.Stdin = strings.NewReader(`{"revenue_impact": false}`)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("submit with @p.json and @-: %v\n%s", err, errb.String())
	}
	id := strings.TrimSpace(out.String())

	r := c.run(t, "--set", "intake.max_payload_bytes=262144", "intent", "list", "--json")
	var list struct {
		Intents []struct {
			ID      string
			Payload struct {
				Query string
				N     []int
			}
			Context map[string]any
		}
	}
	r.decode(t, &list)
	if len(list.Intents) != 1 || list.Intents[0].ID != id {
		t.Fatalf("want the one intent %s, got %s", id, r.stdout)
	}
	got := list.Intents[0]
	if got.Payload.Query != query || len(got.Payload.N) != 2 || got.Context["revenue_impact"] != false {
		t.Fatalf("stored payload or context differ from the file and stdin: query %d bytes, n %v, context %v",
			len(got.Payload.Query), got.Payload.N, got.Context)
	}
}

// TestCLIPayloadFileRefused: a file that cannot be read as JSON is a usage
// error naming the flag and the file, and nothing is created.
func TestCLIPayloadFileRefused(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if err := os.WriteFile(filepath.Join(c.dir, "empty.json"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(c.dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ flag, value, want string }{
		{"--payload", "@missing.json", "--payload @missing.json: no such file or directory"},
		{"--context", "@sub", "--context @sub: sub is a directory"},
		{"--payload", "@", "--payload @: name a file after @"},
		{"--payload", "@empty.json", "--payload @empty.json: empty"},
	} {
		r := c.runFor(t, nil, "intent", "submit", "--type", "query_knowledge", tc.flag, tc.value)
		r.wantFail(t, exitUsage, tc.want)
		wantNothingIn(t, c.dir, "empty.json", "sub")
	}
}

// TestCLIPayloadAndContextBothStdin: --payload @- with --context @- is
// refused at once naming both flags, nothing read or created; it used to
// read the payload from all of standard input and then refuse "--context
// @-: empty", as if the context had been left out.
func TestCLIPayloadAndContextBothStdin(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, cmdline := range [][]string{
		{"intent", "submit", "--type", "query_knowledge", "--payload", "@-", "--context", "@-"},
		{"intent", "route", "--type", "query_knowledge", "--payload", "@-", "--context", "@-"},
	} {
		cmd := exec.Command(graceBin, cmdline...)
		cmd.Dir, cmd.Env = c.dir, append(os.Environ(), c.env...)
		cmd.Stdin = strings.NewReader(`{"q":1}`)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		_ = cmd.Run()
		r := result{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
		r.wantFail(t, exitUsage, "--payload @- and --context @-: standard input is read once")
		wantNothingIn(t, c.dir)
	}
}
