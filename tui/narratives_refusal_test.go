package tui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"grace/engine"
	"grace/engine/clarity"
	"grace/store"
)

// storeNoWords is the refusal of text as the embedded engine returns it:
// the store's *engine.TextError on q that is also clarity.ErrNoWords,
// under the store's and the engine's "search narratives: ".
func storeNoWords(text string) error {
	te := &engine.TextError{Field: "q", Reason: fmt.Sprintf("%q %v: search for a word, or leave the query out to list the newest records",
		text, clarity.ErrNoWords)}
	return fmt.Errorf("search narratives: search narratives: %w", errors.Join(te, clarity.ErrNoWords))
}

// httpError is an error answer of an attached server (as httpapi.Error):
// its status, and its message.
type httpError struct {
	status int
	msg    string
	is     error // the engine's error its code stands for (no_words: clarity.ErrNoWords)
}

func (e *httpError) Error() string   { return e.msg }
func (e *httpError) HTTPStatus() int { return e.status }
func (e *httpError) Unwrap() error   { return e.is }

// setSearchErr makes every search fail with err (nil: answer again).
func (b *testBundle) setSearchErr(err error) {
	b.api.mu.Lock()
	b.api.searchErr = err
	b.api.mu.Unlock()
}

// TestSearchWithoutWordsIsRefusedBeforeAsking: a query with no letters or
// digits ("!!!", "--", an emoji) is refused by the engine; the console
// says so as it is typed, in the engine's words ("letters or digits"),
// without asking the engine, and leaves the search box open to fix it.
// Blank text is no query and lists the newest records.
func TestSearchWithoutWordsIsRefusedBeforeAsking(t *testing.T) {
	t.Parallel()
	for _, query := range []string{"!!!", "--", "🤖", `"" ( ) *`, "!!! actor:ops since:1h"} {
		b := setup(t)
		openNarratives(t, b)
		asked := len(b.api.searchCalls())
		b.press(t, "/")
		b.typeText(t, query)
		b.run(t, b.press(t, "<enter>"))
		if n := len(b.api.searchCalls()); n != asked {
			t.Errorf("search %q: the engine was asked (%d searches, want %d)", query, n, asked)
		}
		text, _, _ := strings.Cut(query, " actor:")
		want := "nothing searched: “" + text + "” has no letters or digits to search for; type a word, or none to list the newest"
		if got := b.statusText(); got != want || b.statusLevel() != levelError {
			t.Errorf("search %q: status (level %d) %q, want %q", query, b.statusLevel(), got, want)
		}
		if !b.m.narratives.editing || b.m.narratives.search.Value() != query {
			t.Errorf("search %q: the search box closed (editing %v, %q): it stays open to be fixed",
				query, b.m.narratives.editing, b.m.narratives.search.Value())
		}
		if v := ansi.Strip(b.view()); strings.Contains(v, "no letter or digit") || !strings.Contains(v, "loaded, more below") {
			t.Errorf("search %q: the view says the singular, or lost the results in force:\n%s", query, v)
		}
	}

	// From the command line too.
	b := setup(t)
	openNarratives(t, b)
	asked := len(b.api.searchCalls())
	b.run(t, b.command(t, "search ***"))
	if n := len(b.api.searchCalls()); n != asked || !strings.HasPrefix(b.statusText(), "nothing searched: “***” has no letters or digits") {
		t.Errorf(":search ***: %d searches (want %d), status %q", n, asked, b.statusText())
	}
	// Blank text lists the newest.
	b.press(t, "/")
	b.typeText(t, "   ")
	b.run(t, b.press(t, "<enter>"))
	if calls := b.api.searchCalls(); len(calls) != asked+1 || calls[len(calls)-1].Text != "" || b.m.narratives.editing {
		t.Errorf("a blank search was not run as no query: %+v", calls[asked:])
	}
}

// TestSearchRefusedByTheEngineSaysWhyAndOffersNoRetry: what the engine
// refuses about the query itself (text the store reads no word in, a
// phrase or words to leave out it will not read through, an attached
// server's 422) is shown as a refusal, with what to change; not as a
// failure to fetch that "r tries again", which would give the same
// answer. A failure that is not the query's still offers r.
func TestSearchRefusedByTheEngineSaysWhyAndOffersNoRetry(t *testing.T) {
	t.Parallel()
	const phrase = "has a phrase whose words stand apart in the 100000 newest records that hold them all; " +
		"the search stopped there: narrow it with since, until, actor, action or a rarer word"
	for _, tc := range []struct {
		name   string
		err    error
		status string
		panel  []string
	}{
		{"no words", storeNoWords("ᦰ"), "nothing searched: “ᦰ” has no letters or digits to search for",
			[]string{"Narratives · search refused", "✗ Nothing searched: “ᦰ” has no letters or digits to search",
				"Type a word (/ edits the search), or clear the query (esc) to list the"}},
		{"phrase", fmt.Errorf("search narratives: search narratives: %w", &engine.TextError{Field: "q", Reason: phrase}),
			"search refused: the query " + phrase,
			[]string{"Narratives · search refused", "✗ Search refused: the query has a phrase whose words stand apart",
				"/ edits the search, or esc clears it to list the newest records."}},
		{"attached no words", fmt.Errorf("search narratives: %w", &httpError{status: http.StatusUnprocessableEntity,
			msg: `q "ᦰ" has no letters or digits to search for: search for a word, or leave the query out to list the newest records`,
			is:  clarity.ErrNoWords}),
			"nothing searched: “ᦰ” has no letters or digits to search for",
			[]string{"✗ Nothing searched: “ᦰ” has no letters or digits to search"}},
		{"attached excluded only", fmt.Errorf("search narratives: %w", &httpError{status: http.StatusUnprocessableEntity,
			msg: "q has only words to leave out, and the 100000 newest records all hold them"}),
			"search refused: the query has only words to leave out",
			[]string{"✗ Search refused: the query has only words to leave out, and the 100000"}},
	} {
		b := setup(t)
		openNarratives(t, b)
		b.setSearchErr(tc.err)
		b.press(t, "/")
		b.typeText(t, "ᦰ")
		b.run(t, b.press(t, "<enter>"))
		v := ansi.Strip(b.view())
		if got := b.statusText(); !strings.HasPrefix(got, tc.status) {
			t.Errorf("%s: status %q, want it to begin %q", tc.name, got, tc.status)
		}
		for _, want := range tc.panel {
			if !strings.Contains(v, want) {
				t.Errorf("%s: the panel lacks %q:\n%s", tc.name, want, v)
			}
		}
		if strings.Contains(v, "tries again") || strings.Contains(v, "could not be fetched") || strings.Contains(v, "search failed") {
			t.Errorf("%s: a refusal is offered a retry:\n%s", tc.name, v)
		}
		if b.m.narratives.following() {
			t.Errorf("%s: a refused search follows the record", tc.name)
		}
		// esc clears the query: the newest records.
		b.setSearchErr(nil)
		b.run(t, b.press(t, "<esc>"))
		if v := ansi.Strip(b.view()); strings.Contains(v, "refused") || !strings.Contains(v, "loaded, more below") {
			t.Errorf("%s: esc did not clear the refused search:\n%s", tc.name, v)
		}
	}

	// A failure the query did not cause is still one r may mend.
	for _, err := range []error{errors.New("database is locked"),
		&httpError{status: http.StatusServiceUnavailable, msg: "the engine is stopped"},
		&httpError{status: http.StatusUnauthorized, msg: "token refused"}} {
		b := setup(t)
		b.setSearchErr(err)
		b.run(t, b.press(t, "4"))
		if v := ansi.Strip(b.view()); !strings.Contains(v, "could not be fetched; r tries again") || strings.Contains(v, "refused:") {
			t.Errorf("%v: not said as a failure to fetch:\n%s", err, v)
		}
	}
}

// TestEmbeddedSearchErrorSaysSearchNarrativesOnce: the console over the
// engine and its store, as it embeds them. A search the store refuses
// ("ᦰ", a letter to Go that the store's words split at, so the console
// asks) is said as a refusal, and a failed search or story says "search
// narratives: " once before the cause: the console, the engine and the
// store each said it, three times in a row.
func TestEmbeddedSearchErrorSaysSearchNarrativesOnce(t *testing.T) {
	t.Parallel()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "grace.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Default(), engine.Deps{Store: st, Searcher: st, Journal: st})
	t.Cleanup(func() { _ = st.Close() })
	if err != nil {
		t.Fatal(err)
	}
	var s searchFunc = eng.SearchPage
	b := setupWith(t, func(a *fakeAPI) engine.OperatorAPI { return searchVia{fakeAPI: a, search: &s} })
	openNarratives(t, b)
	b.press(t, "/")
	b.typeText(t, "ᦰ")
	b.run(t, b.press(t, "<enter>"))
	if got, want := b.statusText(), "nothing searched: “ᦰ” has no letters or digits to search for"; got != want {
		t.Errorf("status %q, want %q", got, want)
	}
	if v := ansi.Strip(b.view()); !strings.Contains(v, "✗ Nothing searched: “ᦰ”") || strings.Contains(v, "tries again") {
		t.Errorf("the store's refusal is not shown as one:\n%s", v)
	}

	// A search the store fails (here, its request given up) is said
	// with "search narratives: " once: the store, the engine and the
	// console each said it.
	s = func(ctx context.Context, q clarity.Query) (clarity.Page, error) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		return eng.SearchPage(ctx, q)
	}
	b.run(t, b.command(t, "search charter"))
	if got, want := b.statusText(), "search narratives: context canceled"; got != want {
		t.Errorf("status %q, want %q", got, want)
	}
	if v := ansi.Strip(b.view()); strings.Contains(v, "search narratives: search") || !strings.Contains(v, "could not be fetched") {
		t.Errorf("the panel does not say \"search narratives\" once:\n%s", v)
	}
	b.run(t, b.m.narratives.openStory(storyIntent))
	if got, want := b.statusText(), "story of "+storyIntent+": search narratives: context canceled"; got != want {
		t.Errorf("story status %q, want %q", got, want)
	}
}

// searchFunc answers a search.
type searchFunc func(context.Context, clarity.Query) (clarity.Page, error)

// searchVia is the fake engine with its searches answered by search.
type searchVia struct {
	*fakeAPI
	search *searchFunc
}

func (s searchVia) SearchPage(ctx context.Context, q clarity.Query) (clarity.Page, error) {
	return (*s.search)(ctx, q)
}

func (s searchVia) Search(ctx context.Context, q clarity.Query) ([]clarity.Entry, error) {
	p, err := (*s.search)(ctx, q)
	return p.Entries, err
}
