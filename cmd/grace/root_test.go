package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"grace/engine"
)

func TestPanicIsOneLineAndLogged(t *testing.T) {
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb}
	root := a.rootCommand()
	root.AddCommand(&cobra.Command{Use: "boom", RunE: func(*cobra.Command, []string) error {
		a.logFile = filepath.Join(t.TempDir(), "grace.log")
		panic("kaboom\nsecond line")
	}})
	code := a.execute(root, []string{"boom"})
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	if code != exitFailure || len(lines) != 1 || !strings.HasPrefix(lines[0], "grace: internal error: kaboom second line (details in ") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	logged, err := os.ReadFile(a.logFile)
	if err != nil || !bytes.Contains(logged, []byte("PANIC kaboom")) || !bytes.Contains(logged, []byte("goroutine")) {
		t.Fatalf("the panic's trace is not in the log file: %v\n%s", err, logged)
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{errors.New("x"), exitFailure},
		{usageErrorf("x"), exitUsage},
		{&exitError{code: exitUsage, err: errors.New("x")}, exitUsage},
		{&engine.ValidationError{Problems: []engine.Problem{{Field: "a", Reason: "b"}}}, exitFailure},
	} {
		if got := exitCode(tc.err); got != tc.code {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
}

func TestJSONErrorDocument(t *testing.T) {
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb}
	root := a.rootCommand()
	code := a.execute(root, []string{"chaos", "history", "--json", "--limit", "0"})
	var doc struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || code != exitUsage || !strings.Contains(doc.Error.Message, "--limit (0)") {
		t.Fatalf("exit %d, stdout %q (%v)", code, out.String(), err)
	}
	if !strings.HasPrefix(errb.String(), "grace: chaos history: --limit (0)") {
		t.Fatalf("stderr %q", errb.String())
	}
}

func TestHelpExitsZero(t *testing.T) {
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb}
	if code := a.execute(a.rootCommand(), []string{"--help"}); code != exitOK || !strings.Contains(out.String(), "serve") {
		t.Fatalf("help: exit %d\n%s%s", code, out.String(), errb.String())
	}
}
