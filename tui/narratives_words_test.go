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
		text                   string
		want, phrases, without []string
	}{
		{"charter AND grant", []string{"charter", "AND", "grant"}, nil, nil},
		{`"unterminated`, []string{"unterminated"}, nil, nil},
		{"-worker", nil, nil, []string{"worker"}},
		{"charter -load_shed -x* -", []string{"charter"}, nil, []string{"load shed", "x*"}},
		{"NEAR(worker", nil, []string{"NEAR worker"}, nil},
		{"work* a\"b", []string{"work*"}, []string{"a b"}, nil},
		{"代理人.规划", nil, []string{"代理人 规划"}, nil},
		{"agent.🤖", []string{"agent"}, nil, nil},
		{"🤖 * () \"\" - -🤖", nil, nil, nil},
		{"café", []string{"café"}, nil, nil},
		{`"Disk  full" worker_1 x`, []string{"x"}, []string{"Disk full", "worker 1"}, nil},
		{`-"disk full" "disk ful"* "open quote -x`, nil, []string{"disk ful*", "open quote x"}, []string{"disk full"}},
		{`“Disk  full” -“load shed” „a b“`, nil, []string{"Disk full", "a b"}, []string{"load shed"}},
	} {
		got, phrases, without := searchWords(tc.text)
		if !slices.Equal(got, tc.want) || !slices.Equal(phrases, tc.phrases) || !slices.Equal(without, tc.without) {
			t.Errorf("searchWords(%q) = %q, %q, %q; want %q, %q, %q", tc.text, got, phrases, without, tc.want, tc.phrases, tc.without)
		}
	}
}

// TestSearchDescribesTheWordsSearched types queries whose characters the
// full-text search does not read as words: the line under the search box
// must say what is really searched (an emoji alone has no word to search
// for, which the engine refuses: the console says so before asking it),
// and an empty result explains that AND and quotes are not operators.
func TestSearchDescribesTheWordsSearched(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ query, want string }{
		{"🤖", "nothing searched: “🤖” has no letters or digits to search for"},
		{"-approved", "without “approved” · newest first"},
		{"charter -denied -load_shed", "words “charter” · without “denied”, “load shed” · newest first"},
		{"int_01JPB9AAAAAAAAAAAAAAAAAAA7", "intent int_01JPB9AAAAAAAAAAAAAAAAAAA7 · newest first"},
		{`approved AND nothing`, "words “approved AND nothing” · newest first"},
		{`"approved AND nothing`, "phrase “approved AND nothing” · newest first"},
		{`"disk full" -"load shed" worker_1`, "phrases “disk full”, “worker 1” · without “load shed” · newest first"},
		{`"disk full" since:1h`, "phrase “disk full” · since"},
		{`"disk since:1h"`, "phrase “disk since 1h” · newest first"},
		{`“disk full” actor:“ops”`, "phrase “disk full” · actor ops"},
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

// TestSearchSendsAPhraseAsTyped types a phrase with a filter: the engine
// gets the phrase with its quotes (so the store reads it as the CLI and the
// HTTP API do) and the filter apart, and the line under the search box
// names the phrase.
func TestSearchSendsAPhraseAsTyped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.run(t, b.press(t, "4"))
	b.press(t, "/")
	b.typeText(t, `"disk full" actor:ops -worker_1`)
	b.run(t, b.press(t, "<enter>"))
	calls := b.api.searchCalls()
	if last := calls[len(calls)-1]; last.Text != `"disk full" -worker_1` || last.Actor != "ops" {
		t.Errorf("search sent %+v; want the text %q and actor ops", last, `"disk full" -worker_1`)
	}
	if v := ansi.Strip(b.view()); !strings.Contains(v, "phrase “disk full” · without “worker 1” · actor ops") {
		t.Errorf("the view does not name the phrase:\n%s", v)
	}
}
