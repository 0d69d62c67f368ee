package httpapi

import (
	"context"
	"net/http"
	"testing"

	"grace/engine/intent"
)

// TestListPagesWithBefore: GET /v1/intents?before=ID continues a list
// after ID, so a client walks every intent once, page by page; an
// unknown ID is a bad query, and an agent pages only from its own intents.
func TestListPagesWithBefore(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	var want []string
	for range 12 {
		want = append(want, b.submit(t, agentB, `{"type":"query_knowledge"}`).ID)
	}
	other := b.submit(t, opAlice, `{"type":"query_knowledge"}`).ID

	var got []string
	path := "/v1/intents?actor=agent.builder&limit=5"
	for page := 0; ; page++ {
		var resp IntentsResponse
		a := b.do(t, viewVal, "GET", path, "")
		if a.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, a.status, a.body)
		}
		a.decode(t, &resp)
		if len(resp.Intents) == 0 {
			break
		}
		if page > 3 {
			t.Fatalf("paging does not end: %s", path)
		}
		for _, in := range resp.Intents {
			got = append(got, in.ID)
		}
		path = "/v1/intents?actor=agent.builder&limit=5&before=" + resp.Intents[len(resp.Intents)-1].ID
	}
	if len(got) != len(want) {
		t.Fatalf("pages held %d intents, want %d: %v", len(got), len(want), got)
	}
	for i := range got {
		if got[i] != want[len(want)-1-i] {
			t.Fatalf("position %d: %s, want %s (newest first, each once)", i, got[i], want[len(want)-1-i])
		}
	}

	e := b.do(t, viewVal, "GET", "/v1/intents?before=int_01NOSUCHINTENT0000000000", "").wantError(t, http.StatusBadRequest, CodeBadQuery)
	if e.Error.Field != "before" {
		t.Errorf("unknown before: field %q, want before", e.Error.Field)
	}
	// Paging from another actor's intent is answered as from an unknown ID.
	if e := b.do(t, agentB, "GET", "/v1/intents?before="+other, "").wantError(t, http.StatusBadRequest, CodeBadQuery); e.Error.Field != "before" {
		t.Errorf("before another's intent: field %q, want before", e.Error.Field)
	}

	// The Go client sends before too.
	c := NewClient(b.srv.URL, viewVal, nil)
	list, err := c.List(context.Background(), intent.Filter{Before: want[2], Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != want[1] || list[1].ID != want[0] {
		t.Fatalf("client List before %s: %d intents", want[2], len(list))
	}
}
