package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"grace/engine/clarity"
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
