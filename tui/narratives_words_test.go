package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestSearchWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"charter AND grant", []string{"charter", "AND", "grant"}},
		{`"unterminated`, []string{"unterminated"}},
		{"-worker", []string{"worker"}},
		{"NEAR(worker", []string{"NEAR", "worker"}},
		{"work* a\"b", []string{"work*", "a", "b"}},
		{"代理人.规划", []string{"代理人", "规划"}},
		{"agent.🤖", []string{"agent"}},
		{"🤖 * () \"\" -", nil},
		{"café", []string{"café"}},
	} {
		if got := searchWords(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("searchWords(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// TestSearchDescribesTheWordsSearched types queries whose characters the
// full-text search does not read as words: the line under the search box
// must say what is really searched (an emoji alone filters nothing, so
// every narrative is listed, and the operator is told why), and an empty
// result explains that AND and quotes are not operators.
func TestSearchDescribesTheWordsSearched(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ query, want string }{
		{"🤖", "“🤖” has no letter or digit to search for"},
		{"-approved", "words “approved” · newest first"},
		{`"approved AND nothing`, "words “approved AND nothing” · newest first"},
	} {
		b := setup(t)
		b.run(t, b.press(t, "4"))
		b.press(t, "/")
		b.typeText(t, tc.query)
		b.run(t, b.press(t, "<enter>"))
		v := ansi.Strip(b.view())
		if !strings.Contains(v, tc.want) {
			t.Errorf("search %q: the view does not say %q:\n%s", tc.query, tc.want, v)
		}
		if strings.Contains(tc.query, "AND") && !strings.Contains(v, "AND, OR, NOT and NEAR are words too") {
			t.Errorf("search %q found nothing without saying AND is a word:\n%s", tc.query, v)
		}
	}
}
