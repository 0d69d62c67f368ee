package tui

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

func TestFmtInt(t *testing.T) {
	t.Parallel()
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4321: "-4,321", 100000: "100,000"} {
		if got := fmtInt(in); got != want {
			t.Errorf("fmtInt(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestFmtDur(t *testing.T) {
	t.Parallel()
	cases := map[time.Duration]string{
		-time.Second: "0s", 45 * time.Second: "45s", 192 * time.Second: "3m12s",
		2*time.Hour + 5*time.Minute: "2h05m", 76 * time.Hour: "3d04h",
	}
	for in, want := range cases {
		if got := fmtDur(in); got != want {
			t.Errorf("fmtDur(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestRingKeepsNewest(t *testing.T) {
	t.Parallel()
	r := newRing[int](3)
	for i := 1; i <= 5; i++ {
		r.push(i)
	}
	if got := fmt.Sprint(r.last(10)); got != "[3 4 5]" {
		t.Errorf("last(10) = %s, want [3 4 5]", got)
	}
	if got := fmt.Sprint(r.last(2)); got != "[4 5]" {
		t.Errorf("last(2) = %s, want [4 5]", got)
	}
}

func TestSparkline(t *testing.T) {
	t.Parallel()
	plain := []lipgloss.Style{lipgloss.NewStyle()}
	zero := func(int) int { return 0 }
	got := sparkline([]int{0, 1, 4, 8}, 6, 1, 8, zero, plain)
	if want := []string{"   ▁▄█"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("one row: %q, want %q", got, want)
	}
	got = sparkline([]int{8, 16}, 2, 2, 16, zero, plain)
	if want := []string{" █", "██"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("two rows: %q, want %q", got, want)
	}
	// Wider history than the chart: only the newest values show.
	got = sparkline([]int{8, 8, 0, 8}, 2, 1, 8, zero, plain)
	if want := []string{" █"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("cut to width: %q, want %q", got, want)
	}
}

func TestFitAndClip(t *testing.T) {
	t.Parallel()
	if got := fit("hello world", 6); got != "hello…" {
		t.Errorf("fit cut = %q", got)
	}
	if got := fit("hi", 4); got != "hi  " {
		t.Errorf("fit pad = %q", got)
	}
	if got := fitRight("hi", 4); got != "  hi" {
		t.Errorf("fitRight = %q", got)
	}
	if got := clipMiddle("int_01JPB7Q4Z8XK3M2N5R6T7V8W9A", 14); got != "int_01…T7V8W9A" {
		t.Errorf("clipMiddle = %q", got)
	}
	if got := ansi.StringWidth(fit("⚑ ✓ ✗ ▲ ● ■ □ wide", 9)); got != 9 {
		t.Errorf("fit of symbols is %d cells wide, want 9", got)
	}
}

func TestPanelIsExactSize(t *testing.T) {
	t.Parallel()
	st := newStyles(lipgloss.DefaultRenderer())
	lines := st.panel("A rather long title for a small panel", []string{"one", strings.Repeat("x", 50)}, 20, 5)
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 5", len(lines))
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != 20 {
			t.Errorf("line %d is %d wide, want 20: %q", i, w, l)
		}
	}
}

func TestOverlay(t *testing.T) {
	t.Parallel()
	bg := []string{"aaaaaaaa", "bbbbbbbb", "cccccccc"}
	got := overlay(bg, []string{"XY"}, 3, 1)
	if want := []string{"aaaaaaaa", "bbbXYbbb", "cccccccc"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("overlay = %q, want %q", got, want)
	}
}

func TestFlow(t *testing.T) {
	t.Parallel()
	got := flow([]string{"aaa", "bbb", "ccc"}, " | ", 10)
	if want := []string{"aaa | bbb", "ccc"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("flow = %q, want %q", got, want)
	}
}

func TestLineInputEditing(t *testing.T) {
	t.Parallel()
	in := newLineInput("")
	typeKeys := func(msgs ...tea.KeyMsg) {
		for _, m := range msgs {
			in.Update(m)
		}
	}
	for _, r := range "change freeze" {
		typeKeys(keyMsg(string(r)))
	}
	if in.Value() != "change freeze" {
		t.Fatalf("typed %q", in.Value())
	}
	typeKeys(tea.KeyMsg{Type: tea.KeyCtrlW})
	if in.Value() != "change " {
		t.Errorf("ctrl+w left %q", in.Value())
	}
	typeKeys(tea.KeyMsg{Type: tea.KeyBackspace}, tea.KeyMsg{Type: tea.KeyHome}, keyMsg("X"))
	if in.Value() != "Xchange" {
		t.Errorf("backspace/home/insert gave %q", in.Value())
	}
	typeKeys(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("a\nb"), Paste: true})
	if in.Value() != "Xa bchange" {
		t.Errorf("paste gave %q, want newlines as spaces", in.Value())
	}
	typeKeys(tea.KeyMsg{Type: tea.KeyEnd}, tea.KeyMsg{Type: tea.KeyCtrlU})
	if in.Value() != "" {
		t.Errorf("ctrl+u at end left %q", in.Value())
	}
	st := newStyles(lipgloss.DefaultRenderer())
	for _, r := range strings.Repeat("long reason ", 10) {
		typeKeys(keyMsg(string(r)))
	}
	if w := ansi.StringWidth(in.View(st, 20)); w != 20 {
		t.Errorf("input view is %d wide, want 20", w)
	}
}

func TestNoColorDropsColourButKeepsSymbols(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	coloured := lipgloss.NewRenderer(io.Discard)
	coloured.SetColorProfile(termenv.TrueColor)
	if got := newStyles(coloured).Crit.Render("✗ critical"); got == "✗ critical" {
		t.Fatal("no colour even without NO_COLOR: the test cannot tell")
	}
	t.Setenv("NO_COLOR", "1")
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	st := newStyles(r)
	if got := st.Crit.Render("✗ critical"); got != "✗ critical" {
		t.Errorf("NO_COLOR still styled: %q", got)
	}
	if got := st.queueBadge(queueCrit); got != "✗ critical" {
		t.Errorf("badge under NO_COLOR = %q, want the symbol and word alone", got)
	}
}
