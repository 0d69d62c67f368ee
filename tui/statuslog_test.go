package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// panelText is the text inside the body panel of view, its lines joined
// by spaces, runs of spaces made one: a wrapped message reads whole.
func panelText(view string) string {
	var parts []string
	for _, l := range strings.Split(ansi.Strip(view), "\n") {
		if strings.HasPrefix(l, "│") {
			parts = append(parts, strings.Trim(l, "│ "))
		}
	}
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}

// TestMessagesShowCutErrorWhole: an error too long for the status line is
// cut there, the key hints name :messages, and :messages shows it whole,
// wrapped, with the time it was said by the console's clock, newest first;
// esc goes back to the screen.
func TestMessagesShowCutErrorWhole(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const id = "int_01JPB7Q4Z8XK3M2N5R6T7V8W9A"
	reason := "agent:release-bot submitted it and may not approve it: the two-person rule " +
		"holds for deploy_production, so a second operator who did not submit it must approve"
	b.api.approveErr = fmt.Errorf("approve intent %s: %w", id, errors.New(reason))
	b.run(t, b.press(t, "2", "a", "y"))
	b.run(t, b.press(t, "1"))
	v := b.view()
	if row := statusRow(v); !strings.Contains(row, "…") || strings.Contains(row, "second operator") {
		t.Fatalf("the error fits the status line; the test needs one that is cut: %q", row)
	}
	if f := footer(v); !strings.Contains(f, ":messages full text") {
		t.Errorf("the key hints do not name :messages while the status line is cut: %q", f)
	}

	b.clock.advance(2 * time.Minute)
	b.run(t, b.command(t, "frobnicate"))
	b.run(t, b.command(t, "messages"))
	v = b.view()
	checkBounds(t, v, 80, 24)
	text := panelText(v)
	whole := "15:09:26 ✗ approve " + id + " failed: " + reason
	if !strings.Contains(text, whole) {
		t.Fatalf("the messages view lacks the whole error %q:\n%s", whole, ansi.Strip(v))
	}
	newer := strings.Index(text, "15:11:26 ✗ unknown command :frobnicate")
	if newer < 0 || newer > strings.Index(text, whole) {
		t.Errorf("the newer message is not listed first, with its time:\n%s", ansi.Strip(v))
	}
	if f := footer(v); !strings.Contains(f, "esc close") {
		t.Errorf("the key hints do not say how to close the messages: %q", f)
	}

	b.press(t, "<esc>")
	if v := ansi.Strip(b.view()); strings.Contains(v, "Messages ·") || !strings.Contains(v, "Queue") {
		t.Errorf("esc did not go back to the dashboard:\n%s", v)
	}
}

// TestMessagesScrollAndCount: many messages scroll (j/k, G to the oldest,
// g back to the newest), the title says which lines are shown, and the
// same message said again and again is listed once with how many times.
func TestMessagesScrollAndCount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := 1; i <= 30; i++ {
		b.run(t, b.command(t, fmt.Sprintf("frob%02d", i)))
		b.clock.advance(time.Second)
	}
	for range 3 {
		b.run(t, b.command(t, "story"))
	}
	b.run(t, b.command(t, "msgs"))
	v := ansi.Strip(b.view())
	checkBounds(t, v, 80, 24)
	if !strings.Contains(v, ":story needs an intent ID, as in :story int_… (×3)") {
		t.Errorf("the repeated message is not counted:\n%s", v)
	}
	if !strings.Contains(v, "lines 1–19 of 31") || !strings.Contains(v, ":frob30 ") || strings.Contains(v, ":frob01 ") {
		t.Fatalf("the view does not open on the newest messages, saying how many lines there are:\n%s", v)
	}
	b.press(t, "G")
	if v := ansi.Strip(b.view()); !strings.Contains(v, ":frob01 ") || !strings.Contains(v, "lines 13–31 of 31") {
		t.Errorf("G did not scroll to the oldest message:\n%s", v)
	}
	b.press(t, "k")
	if v := ansi.Strip(b.view()); !strings.Contains(v, "lines 12–30 of 31") {
		t.Errorf("k did not scroll up a line:\n%s", v)
	}
	b.press(t, "g")
	if v := ansi.Strip(b.view()); !strings.Contains(v, "lines 1–19 of 31") {
		t.Errorf("g did not go back to the newest message:\n%s", v)
	}
}

// TestMessagesInHelp: the full help names :messages, at 80×24 on the
// screen whose help is the longest as well.
func TestMessagesInHelp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	openNarratives(t, b)
	b.press(t, "?")
	v := ansi.Strip(b.view())
	if !strings.Contains(v, ":messages      past status messages") {
		t.Errorf("the help does not name :messages:\n%s", v)
	}
	if strings.Contains(v, "a larger terminal shows more") {
		t.Errorf("the help no longer fits 80×24:\n%s", v)
	}
}
