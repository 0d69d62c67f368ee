package main

import (
	"errors"
	"strings"
	"testing"
)

// hostile is agent-sent text a terminal would act on: an SGR and a
// title change (ESC), an 8-bit CSI (U+009B), an OSC 52 clipboard write
// ended by BEL, a carriage return, a backspace, and a right-to-left
// override; around them, printable text of several scripts.
const hostile = "café \x1b[31mred\x1b]0;owned\x07 \u009b2J\x1b]52;c;aGk=\x07 line\rover\bx \u202eevil 日本 🚀"

// rawTerminal returns the characters of s a terminal acts on.
func rawTerminal(s string) []string {
	var found []string
	for _, r := range s {
		if r == '\n' {
			continue
		}
		if unsafeRune(r) {
			found = append(found, string(r))
		}
	}
	return found
}

func TestTerminalSafeShowsWhatATerminalWouldActOn(t *testing.T) {
	got := terminalSafe(hostile)
	if raw := rawTerminal(got); len(raw) > 0 {
		t.Fatalf("terminalSafe left %q raw in %q", raw, got)
	}
	for _, want := range []string{`\u001b[31mred`, `\u009b2J`, `\u0007`, `\u000d`, `\u0008`, `\u202eevil`, "café", "日本 🚀"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminalSafe(%q) = %q, want it to show %q", hostile, got, want)
		}
	}
	if got := terminalSafe("bad \xff byte"); got != `bad \xff byte` {
		t.Errorf("invalid UTF-8 shown as %q", got)
	}
	if s := "plain text, intent int_01 — ok ✓"; terminalSafe(s) != s {
		t.Errorf("printable text changed: %q", terminalSafe(s))
	}
}

// TestCLIIntentGetShowsHostilePayloadSafely: a payload an agent sent with
// characters a terminal acts on (valid JSON: C1 controls and bidi
// overrides may stand raw in a JSON string) is printed by intent get
// with those characters escaped, not sent to the operator's terminal.
func TestCLIIntentGetShowsHostilePayloadSafely(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	payload := "{\"note\":\"\u009b2J\u009b31mapproved by admin \u202etxt.exe\"}"
	r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--payload", payload)
	if r.code != 0 {
		t.Fatalf("submit: exit %d\n%s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	r = c.run(t, "intent", "get", id)
	if r.code != 0 || !strings.Contains(r.stdout, `\u009b2J`) || !strings.Contains(r.stdout, `\u202etxt.exe`) {
		t.Fatalf("intent get: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if raw := rawTerminal(r.stdout); len(raw) > 0 {
		t.Fatalf("intent get sent %q raw to the terminal:\n%s", raw, r.stdout)
	}
	r = c.run(t, "intent", "list")
	if raw := rawTerminal(r.stdout); r.code != 0 || len(raw) > 0 {
		t.Fatalf("intent list: exit %d, raw %q:\n%s", r.code, raw, r.stdout)
	}
}

// An error line is printed terminal-safe: it may quote what someone else
// wrote.
func TestErrorLinesAreTerminalSafe(t *testing.T) {
	var b strings.Builder
	printError(&b, errors.New("silence sil_1 was ended by bob: \u202eevil \x1b[2J"))
	if raw := rawTerminal(b.String()); len(raw) > 0 || !strings.Contains(b.String(), `\u202eevil`) {
		t.Fatalf("printError wrote %q", b.String())
	}
}
