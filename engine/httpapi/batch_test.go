package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"grace/engine"
	"grace/engine/intent"
)

// TestBatchGovernsEachSubmission: each submission of a batch gets what POST
// /v1/intents would have given it, in order, and only the accepted ones
// are stored.
func TestBatchGovernsEachSubmission(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	body := `{"intents":[
		{"type":"query_knowledge","payload":{"q":"a"}},
		{"type":"change_charter"},
		{"type":""},
		{"type":"query_knowledge","idempotency_key":"k1"},
		{"type":"query_knowledge","idempotency_key":"k1"},
		{"type":"query_knowledge","idempotency_key":"k1","priority":9}
	]}`
	a := b.do(t, agentB, "POST", "/v1/intents/batch", body)
	if a.status != http.StatusOK {
		t.Fatalf("batch: %d %s", a.status, a.body)
	}
	var resp BatchResponse
	a.decode(t, &resp)
	if len(resp.Results) != 6 {
		t.Fatalf("%d results for 6 submissions: %s", len(resp.Results), a.body)
	}
	r := resp.Results
	if r[0].Status != http.StatusAccepted || r[0].State != intent.StateQueued || r[0].ID == "" {
		t.Errorf("query_knowledge: %+v", r[0])
	}
	if r[1].Status != http.StatusAccepted || r[1].State != intent.StatePendingApproval || r[1].Decision == nil || r[1].Decision.AutonomyTier != 0 {
		t.Errorf("change_charter must wait for a human: %+v", r[1])
	}
	if r[2].Status != http.StatusUnprocessableEntity || r[2].Error == nil || r[2].Error.Code != CodeInvalidIntent || len(r[2].Problems) == 0 || r[2].ID != "" {
		t.Errorf("an empty type: %+v", r[2])
	}
	// One key, in batch order: the first stored, the same again given it
	// back, a different one refused.
	if r[3].Status != http.StatusAccepted || r[4].Status != http.StatusOK || !r[4].Existing || r[3].ID != r[4].ID {
		t.Errorf("one key, the same submission twice: %+v %+v", r[3], r[4])
	}
	if r[5].Status != http.StatusConflict || r[5].Error == nil || r[5].Error.Code != CodeIdempotencyConflict {
		t.Errorf("one key, another priority: %+v", r[5])
	}
	if resp.Accepted != 4 || resp.Refused != 2 {
		t.Errorf("accepted %d, refused %d; want 4, 2", resp.Accepted, resp.Refused)
	}
	list, err := b.store.List(context.Background(), intent.Filter{})
	if err != nil || len(list) != 3 {
		t.Fatalf("%d intents stored (%v), want 3", len(list), err)
	}
	for _, in := range list {
		if in.Actor != "agent.builder" {
			t.Errorf("intent %s stored with actor %q, want the caller", in.ID, in.Actor)
		}
	}

	// The Go client.
	c := NewClient(b.srv.URL, agentB, nil)
	res, err := c.SubmitBatch(context.Background(), []intent.Submission{
		{Type: "query_knowledge", Priority: 3}, {Type: "grant_permissions", Payload: json.RawMessage(`{"password":"pw"}`)},
	})
	if err != nil || len(res) != 2 || res[0].Status != http.StatusAccepted || res[1].State != intent.StatePendingApproval {
		t.Fatalf("client batch: %+v, %v", res, err)
	}
}

// TestBatchRefusedWholeChangesNothing: a batch that is malformed anywhere,
// that names another actor, that is empty or too long, or that a viewer
// sends, is refused as a whole and stores nothing.
func TestBatchRefusedWholeChangesNothing(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	for _, tc := range []struct {
		name, token, body string
		status            int
		code, field       string
	}{
		{"an unknown field", agentB, `{"intents":[{"type":"query_knowledge"},{"type":"q","prio":1}]}`, 400, CodeUnknownField, "intents[1].prio"},
		{"a name in another case", agentB, `{"intents":[{"Type":"query_knowledge"}]}`, 400, CodeUnknownField, "intents[0].Type"},
		{"a wrong type", agentB, `{"intents":[{"type":"q","priority":"high"}]}`, 400, CodeWrongType, "intents[0].priority"},
		{"an item that is not an object", agentB, `{"intents":[{"type":"q"},[1]]}`, 400, CodeWrongType, "intents[1]"},
		{"a name given twice", agentB, `{"intents":[{"type":"q","type":"r"}]}`, 400, CodeDuplicateField, ""},
		{"another actor", agentB, `{"intents":[{"type":"query_knowledge"},{"type":"query_knowledge","actor":"alice"}]}`, 403, CodeActorMismatch, "intents[1].actor"},
		{"no submissions", agentB, `{"intents":[]}`, 400, CodeWrongType, "intents"},
		{"a viewer", viewVal, `{"intents":[{"type":"query_knowledge"}]}`, 403, CodeForbidden, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := b.do(t, tc.token, "POST", "/v1/intents/batch", tc.body).wantError(t, tc.status, tc.code)
			if tc.field != "" && e.Error.Field != tc.field {
				t.Errorf("field %q, want %q (%s)", e.Error.Field, tc.field, e.Error.Message)
			}
		})
	}
	// Past MaxBatch, under a body limit that lets it through.
	h := NewHandler(b.e, Options{Identities: []Identity{
		{Name: "agent.builder", Role: engine.RoleAgent, TokenSHA256: sha256.Sum256([]byte(agentB))}}, MaxBodyBytes: 1 << 20})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	big := `{"intents":[` + strings.TrimSuffix(strings.Repeat(`{"type":"query_knowledge"},`, MaxBatch+1), ",") + `]}`
	e := (&realBundle{srv: srv}).do(t, agentB, "POST", "/v1/intents/batch", big).wantError(t, http.StatusRequestEntityTooLarge, CodeBodyTooLarge)
	if e.Error.Field != "intents" || !strings.Contains(e.Error.Message, "at most 1000") {
		t.Errorf("too many: %+v", e.Error)
	}
	if list, err := b.store.List(context.Background(), intent.Filter{}); err != nil || len(list) != 0 {
		t.Fatalf("refused batches stored %d intents (%v)", len(list), err)
	}
}
