package tui

import (
	"os"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// The palette. Every colour is adaptive so that the console reads on light
// and dark terminals; meaning never rests on colour alone (each status also
// has a symbol or a word).
var (
	colText   = lipgloss.AdaptiveColor{Light: "#1C1C1C", Dark: "#E4E4E4"}
	colMuted  = lipgloss.AdaptiveColor{Light: "#7A7A7A", Dark: "#8A8A8A"}
	colBorder = lipgloss.AdaptiveColor{Light: "#BDBDBD", Dark: "#4A4A4A"}
	colAccent = lipgloss.AdaptiveColor{Light: "#5A4FCF", Dark: "#9D95FF"}
	colOK     = lipgloss.AdaptiveColor{Light: "#1E7B34", Dark: "#5FD787"}
	colWarn   = lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "#F2C14E"}
	colCrit   = lipgloss.AdaptiveColor{Light: "#C0262D", Dark: "#FF6B6B"}
	colOnBar  = lipgloss.AdaptiveColor{Light: "#FFFFFF", Dark: "#1C1C1C"}
)

// styles holds every lipgloss style the console uses, built once from one
// renderer so that the colour profile (and NO_COLOR) applies everywhere.
type styles struct {
	// Header.
	Brand     lipgloss.Style
	Tab       lipgloss.Style
	TabActive lipgloss.Style
	Badge     lipgloss.Style
	BadgeZero lipgloss.Style

	// Text.
	Text   lipgloss.Style
	Muted  lipgloss.Style
	Label  lipgloss.Style
	Value  lipgloss.Style
	Accent lipgloss.Style

	// Status levels: colour plus a symbol.
	OK   lipgloss.Style
	Warn lipgloss.Style
	Crit lipgloss.Style

	// Panels and tables.
	Border      lipgloss.Style
	PanelTitle  lipgloss.Style
	TableHeader lipgloss.Style
	Selected    lipgloss.Style

	// Popup.
	PopupBorder lipgloss.Style
	PopupTitle  lipgloss.Style

	// Input prompt.
	Prompt lipgloss.Style
	Cursor lipgloss.Style

	// Help (bubbles/help).
	HelpKey  lipgloss.Style
	HelpDesc lipgloss.Style
	HelpSep  lipgloss.Style
}

// newStyles builds the styles on renderer r. With NO_COLOR set in the
// environment the profile is forced to ASCII: no colour, no attributes, and
// the symbols carry the meaning alone.
func newStyles(r *lipgloss.Renderer) *styles {
	if os.Getenv("NO_COLOR") != "" {
		r.SetColorProfile(termenv.Ascii)
	}
	n := r.NewStyle
	return &styles{
		Brand:     n().Bold(true).Foreground(colOnBar).Background(colAccent),
		Tab:       n().Foreground(colMuted),
		TabActive: n().Bold(true).Foreground(colAccent),
		Badge:     n().Bold(true).Foreground(colWarn),
		BadgeZero: n().Foreground(colMuted),

		Text:   n().Foreground(colText),
		Muted:  n().Foreground(colMuted),
		Label:  n().Foreground(colMuted),
		Value:  n().Bold(true).Foreground(colText),
		Accent: n().Foreground(colAccent),

		OK:   n().Foreground(colOK),
		Warn: n().Bold(true).Foreground(colWarn),
		Crit: n().Bold(true).Foreground(colCrit),

		Border:      n().Foreground(colBorder),
		PanelTitle:  n().Bold(true).Foreground(colAccent),
		TableHeader: n().Bold(true).Foreground(colMuted),
		Selected:    n().Bold(true).Foreground(colAccent),

		PopupBorder: n().Foreground(colWarn),
		PopupTitle:  n().Bold(true).Foreground(colWarn),

		Prompt: n().Bold(true).Foreground(colAccent),
		Cursor: n().Reverse(true),

		HelpKey:  n().Foreground(colAccent),
		HelpDesc: n().Foreground(colMuted),
		HelpSep:  n().Foreground(colBorder),
	}
}
