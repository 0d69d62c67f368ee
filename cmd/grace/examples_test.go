package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// exampled are the commands that must show an Example section.
var exampled = []string{
	"intent submit", "intent list", "intent get", "intent approve", "intent deny", "intent cancel", "intent batch",
	"chaos run", "chaos halt", "chaos history", "narratives search", "alerts silence", "scheduler pause",
	"backup", "audit verify", "token new", "health", "serve", "console",
}

// Every command an operator reaches for first shows examples in its
// help, and every example names a command there is.
func TestCommandsHaveExamples(t *testing.T) {
	t.Parallel()
	root := (&app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}).rootCommand()
	for _, path := range exampled {
		cmd, rest, err := root.Find(strings.Fields(path))
		if err != nil || len(rest) != 0 || cmd.CommandPath() != "grace "+path {
			t.Fatalf("no command grace %s: %v %q", path, err, rest)
		}
		if lines := strings.Split(cmd.Example, "\n"); cmd.Example == "" || len(lines) > 4 {
			t.Errorf("grace %s: Example %q; want 1 to 4 lines", path, cmd.Example)
		}
	}
	for path := range examples {
		if cmd, rest, err := root.Find(strings.Fields(path)[1:]); err != nil || len(rest) != 0 || cmd.Example == "" {
			t.Errorf("examples names %q, which is no command", path)
		}
	}
	c := newCLI(t)
	if r := c.run(t, "intent", "cancel", "--help"); r.code != 0 || !strings.Contains(r.stdout, "Examples:\n  grace intent cancel \"$ID\" --reason") {
		t.Errorf("grace intent cancel --help shows no examples:\n%s", r.stdout)
	}
}

// exampleCalls are the argument lists an operator's shell gives grace for
// an example line, with ID set: the line is run by sh with grace a
// function that records its arguments.
func exampleCalls(t *testing.T, line string) [][]string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "args")
	script := `grace() { for a in "$@"; do printf '%s\n' "$a"; done >> "$OUT"; printf '\036\n' >> "$OUT"; }` + "\n" + line + "\n"
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(cmd.Dir, "submissions.jsonl"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "OUT="+out, "ID=int_example")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sh ran %q: %v: %s", line, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("%q calls no grace: %v", line, err)
	}
	var calls [][]string
	for _, rec := range strings.Split(strings.TrimSuffix(string(b), "\036\n"), "\036\n") {
		calls = append(calls, strings.Split(strings.TrimSuffix(rec, "\n"), "\n"))
	}
	return calls
}

// Every example's command line is one grace takes: its command, flags and
// arguments are accepted (no unknown flag or command, no missing
// argument or required flag), as the shell splits it.
func TestExamplesParse(t *testing.T) {
	t.Parallel()
	for path, lines := range examples {
		for _, line := range lines {
			for _, args := range exampleCalls(t, line) {
				a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
				root := a.rootCommand()
				cmd, rest, err := root.Find(args)
				if err == nil {
					err = cmd.ParseFlags(rest)
				}
				if err == nil {
					err = cmd.ValidateArgs(cmd.Flags().Args())
				}
				if err == nil {
					err = cmd.ValidateRequiredFlags()
				}
				if err == nil {
					err = cmd.ValidateFlagGroups()
				}
				if err == nil && cmd.HasSubCommands() && len(cmd.Flags().Args()) > 0 {
					err = fmt.Errorf("no command %q in %s", cmd.Flags().Arg(0), cmd.CommandPath())
				}
				if err != nil {
					t.Errorf("%s's example %q: grace %q: %v", path, line, args, err)
				}
			}
		}
	}
}

// The examples run: each line of these commands', as an operator pastes
// it into a shell (grace on the PATH, $ID an intent of the state the
// command wants), against grace serve, exits 0. Left out: lines that
// need another machine or never end (--follow), archives not made.
func TestExamplesRun(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)
	submit := func(typ string, wait ...string) string {
		r := c.run(t, append([]string{"intent", "submit", "--type", typ}, wait...)...)
		if r.code != 0 {
			t.Fatalf("submit %s: exit %d %q", typ, r.code, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	done := submit("query_knowledge", "--wait")
	ids := map[string]string{
		"grace intent approve": submit("modify_governance"),
		"grace intent deny":    submit("modify_governance"),
		"grace intent cancel":  submit("modify_governance"),
	}
	for name, body := range map[string]string{
		"request.json":      `{"text":"q3"}`,
		"submissions.jsonl": "{\"type\":\"query_knowledge\"}\n{\"type\":\"schedule_task\"}\n",
	} {
		if err := os.WriteFile(filepath.Join(c.dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{
		"grace intent submit", "grace intent list", "grace intent get", "grace intent approve", "grace intent deny",
		"grace intent cancel", "grace intent batch", "grace scheduler pause", "grace alerts silence",
		"grace narratives search", "grace chaos history", "grace audit verify", "grace token new", "grace health",
	} {
		id := ids[path]
		if id == "" {
			id = done
		}
		for _, line := range examples[path] {
			if strings.Contains(line, "10.0.4.17") || strings.Contains(line, " -f ") || strings.Contains(line, "--archive") {
				continue
			}
			cmd := exec.Command("sh", "-c", line)
			cmd.Dir = c.dir
			cmd.Env = append(os.Environ(), append(c.env, "ID="+id, "PATH="+filepath.Dir(graceBin)+string(os.PathListSeparator)+os.Getenv("PATH"))...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s's example %q (ID %s): %v\n%s", path, line, id, err, out)
			}
		}
	}
}
