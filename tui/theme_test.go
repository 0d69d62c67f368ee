package tui

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// themedModel is the console on a true-colour renderer with the given
// background.
func themedModel(t *testing.T, dark bool) *model {
	t.Helper()
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(dark)
	api := newFakeAPI()
	api.setSnapshot(fixtureSnapshot())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := newModel(ctx, cancel, api, Options{Operator: "ops", Refresh: time.Hour, Now: func() time.Time { return fixedNow }}, r)
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	m.Update(snapshotMsg{snap: api.Snapshot()})
	return m
}

func TestThemeFollowsTheTerminalBackground(t *testing.T) {
	dark, light := themedModel(t, true).View(), themedModel(t, false).View()
	if !strings.Contains(dark, "\x1b[") {
		t.Fatal("no colour on a true-colour terminal")
	}
	if dark == light {
		t.Fatal("the light and dark themes render the same")
	}
	// The accent (the active tab) is the palette's dark or light variant.
	seq := func(hex string) string { return termenv.TrueColor.Color(hex).Sequence(false) }
	if !strings.Contains(dark, seq(colAccent.Dark)) || strings.Contains(dark, seq(colAccent.Light)) {
		t.Error("the dark theme does not use the dark accent")
	}
	if !strings.Contains(light, seq(colAccent.Light)) || strings.Contains(light, seq(colAccent.Dark)) {
		t.Error("the light theme does not use the light accent")
	}
}

func TestNoColorHonoured(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	v := themedModel(t, true).View()
	if strings.Contains(v, "\x1b[") {
		t.Fatalf("NO_COLOR set, yet the view holds escape codes: %q", v[:200])
	}
	// Meaning survives in symbols and words.
	for _, want := range []string{"▲ warn", "● live", "⚑ 3"} {
		if !strings.Contains(v, want) {
			t.Errorf("without colour the view lacks %q", want)
		}
	}
}
