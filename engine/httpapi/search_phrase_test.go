package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/store"
)

// TestNarrativesQueryReadsPhrases asks GET /v1/narratives?q= for phrases
// over a real store: a phrase in quotes, or a word of several parts,
// matches only where its words stand side by side; an excluded phrase
// leaves out only those; an open quote is read to the end, never a 400 or
// a 500; and the client (the CLI's --server) sends the query as it is.
func TestNarrativesQueryReadsPhrases(t *testing.T) {
	t.Parallel()
	ib := setupIdem(t)
	now := time.Now()
	recs := []clarity.Record{
		{Who: "disk_monitor", What: "disk_check", Where: "node-7", Why: []string{"disk full on /var"}, How: "df"},
		{Who: "worker_1", What: "disk_check", Where: "pool", Why: []string{"the disk is almost full"}, How: "worker 2 of 1"},
	}
	for i := range recs {
		recs[i].When = now.Add(time.Duration(i) * time.Millisecond)
		recs[i].Result, recs[i].Confidence, recs[i].Transparency = "ok", 1, clarity.TransparencyComplete
	}
	if err := ib.st.Record(t.Context(), recs...); err != nil {
		t.Fatal(err)
	}
	wheres := func(es []clarity.Entry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Where)
		}
		return out
	}
	client := NewClient(ib.srv.URL, testToken, nil)
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{`"disk full"`, []string{"node-7"}},
		{`disk full`, []string{"pool", "node-7"}},
		{`"disk full`, []string{"node-7"}},
		{`disk -"disk full"`, []string{"pool"}},
		{`worker_1`, []string{"pool"}},
		{`"worker 1"`, []string{"pool"}},
		{`"worker 2 of 1"`, []string{"pool"}},
		{`"of 2"`, nil},
		{`"disk fu*"`, []string{"node-7"}},
	} {
		a := ib.b.call(t, "GET", "/v1/narratives?action=disk_check&q="+url.QueryEscape(tc.q), "")
		var nr NarrativesResponse
		a.decode(t, &nr)
		if a.status != http.StatusOK || !slices.Equal(wheres(nr.Narratives), tc.want) {
			t.Errorf("q=%s: %d %v, want 200 %v", tc.q, a.status, wheres(nr.Narratives), tc.want)
		}
		es, err := client.Search(t.Context(), clarity.Query{Text: tc.q, Action: "disk_check"})
		if err != nil || !slices.Equal(wheres(es), tc.want) {
			t.Errorf("client search %s: %v, %v; want %v", tc.q, wheres(es), err, tc.want)
		}
	}
}

// stoppingSearcher is the store, answering as a page that stopped early at
// its read budget, having judged the records down to resume.
type stoppingSearcher struct {
	*store.Store
	resume int64
}

func (s stoppingSearcher) SearchPage(ctx context.Context, q clarity.Query) (clarity.Page, error) {
	p, err := s.Store.SearchPage(ctx, q)
	p.ResumeBefore = s.resume
	return p, err
}

// TestNarrativesSayWhereAPageStopped: a page the store ended early says
// where in resume_before, which the client reads back, so that a paging
// client reads on rather than taking the short page for the end; a page
// that did not stop early has no resume_before at all.
func TestNarrativesSayWhereAPageStopped(t *testing.T) {
	t.Parallel()
	cfg := engine.Default()
	cfg.DB = filepath.Join(t.TempDir(), "grace.db")
	st, err := store.Open(t.Context(), cfg.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	rec := clarity.Record{When: time.Now(), Who: "disk_monitor", What: "disk_check", Where: "node-7",
		Why: []string{"disk full on /var"}, How: "df", Result: "ok", Confidence: 1, Transparency: clarity.TransparencyComplete}
	if err := st.Record(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	for _, resume := range []int64{0, 4242} {
		e, err := engine.New(cfg, engine.Deps{Store: st, Journal: st, Searcher: stoppingSearcher{st, resume}, Clock: clock.Real{}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(NewHandler(e, Options{Token: testToken}))
		t.Cleanup(srv.Close)
		b := &testBundle{srv: srv}
		a := b.call(t, "GET", "/v1/narratives?q="+url.QueryEscape(`"disk full"`), "")
		var raw map[string]json.RawMessage
		a.decode(t, &raw)
		got, present := raw["resume_before"]
		if a.status != http.StatusOK || present != (resume > 0) || (present && string(got) != strconv.FormatInt(resume, 10)) {
			t.Errorf("resume %d: %d %s; want 200 with resume_before only when it stopped early", resume, a.status, a.body)
		}
		p, err := NewClient(srv.URL, testToken, nil).SearchPage(t.Context(), clarity.Query{Text: `"disk full"`})
		if err != nil || len(p.Entries) != 1 || p.ResumeBefore != resume {
			t.Errorf("client: %d entries, resume before %d, %v; want 1, %d", len(p.Entries), p.ResumeBefore, err, resume)
		}
	}
}

// TestNarrativesRefuseQueryWithoutWords: a q that is not blank but has no
// letters or digits ("!!!", "--", "*") is answered 422 no_words naming the
// field q and the text, over a real store, not with every record as if no
// q had been given; the client (the CLI's --server, an attached console)
// gets clarity.ErrNoWords back. No q, and a blank one, still list the
// newest records.
func TestNarrativesRefuseQueryWithoutWords(t *testing.T) {
	t.Parallel()
	ib := setupIdem(t)
	rec := clarity.Record{When: time.Now(), Who: "disk_monitor", What: "disk_check", Where: "node-7",
		Why: []string{"disk full on /var"}, How: "df", Result: "ok", Confidence: 1, Transparency: clarity.TransparencyComplete}
	if err := ib.st.Record(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	client := NewClient(ib.srv.URL, testToken, nil)
	for _, q := range []string{"!!!", "--", "*", `"`, "-*", "\u200b"} {
		a := ib.b.call(t, "GET", "/v1/narratives?action=disk_check&q="+url.QueryEscape(q), "")
		er := a.wantError(t, http.StatusUnprocessableEntity, CodeNoWords)
		if want := strconv.Quote(q) + " has no letters or digits to search for"; er.Error.Field != "q" || !strings.Contains(er.Error.Message, want) {
			t.Errorf("q=%s: %+v; want field q and a message saying %s", q, er.Error, want)
		}
		_, err := client.SearchPage(t.Context(), clarity.Query{Text: q, Action: "disk_check"})
		if !errors.Is(err, clarity.ErrNoWords) {
			t.Errorf("client search %q: %v; want clarity.ErrNoWords", q, err)
		}
	}
	for _, path := range []string{"/v1/narratives?action=disk_check", "/v1/narratives?action=disk_check&q=", "/v1/narratives?action=disk_check&q=%20%20"} {
		a := ib.b.call(t, "GET", path, "")
		var nr NarrativesResponse
		a.decode(t, &nr)
		if a.status != http.StatusOK || len(nr.Narratives) != 1 {
			t.Errorf("%s: %d %s; want 200 with the record", path, a.status, a.body)
		}
	}
}
