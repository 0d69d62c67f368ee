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
		text          string
		want, without []string
	}{
		{"charter AND grant", []string{"charter", "AND", "grant"}, nil},
		{`"unterminated`, []string{"unterminated"}, nil},
		{"-worker", nil, []string{"worker"}},
		{"charter -load_shed -x* -", []string{"charter"}, []string{"load shed", "x*"}},
		{"NEAR(worker", []string{"NEAR", "worker"}, nil},
		{"work* a\"b", []string{"work*", "a", "b"}, nil},
		{"代理人.规划", []string{"代理人", "规划"}, nil},
		{"agent.🤖", []string{"agent"}, nil},
		{"🤖 * () \"\" - -🤖", nil, nil},
		{"café", []string{"café"}, nil},
	} {
		got, without := searchWords(tc.text)
		if !slices.Equal(got, tc.want) || !slices.Equal(without, tc.without) {
			t.Errorf("searchWords(%q) = %q, %q; want %q, %q", tc.text, got, without, tc.want, tc.without)
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
		{"-approved", "without “approved” · newest first"},
		{"charter -denied -load_shed", "words “charter” · without “denied”, “load shed” · newest first"},
		{"int_01JPB9AAAAAAAAAAAAAAAAAAA7", "intent int_01JPB9AAAAAAAAAAAAAAAAAAA7 · newest first"},
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
