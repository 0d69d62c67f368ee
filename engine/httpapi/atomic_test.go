package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"grace/engine"
	"grace/engine/intent"
)

// TestAtomicBatchOverHTTP: a batch sent with "atomic": true is stored
// whole, or, when one submission would be refused, not at all: the
// answer then has that submission's status, code batch_refused, the field
// naming it, and every submission's result (the refused one's own error,
// the others not_stored). The Go client rebuilds the engine's error.
func TestAtomicBatchOverHTTP(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	var ok BatchResponse
	a := b.do(t, agentB, "POST", "/v1/intents/batch", `{"atomic":true,"intents":[{"type":"query_knowledge"},{"type":"change_charter"}]}`)
	a.decode(t, &ok)
	if a.status != http.StatusOK || !ok.Atomic || ok.Accepted != 2 || ok.Results[0].Status != http.StatusAccepted || ok.Results[1].State != intent.StatePendingApproval {
		t.Fatalf("atomic batch: %d %s", a.status, a.body)
	}
	before := len(b.store.Intents())

	a = b.do(t, agentB, "POST", "/v1/intents/batch", `{"atomic":true,"intents":[{"type":"query_knowledge"},{"type":"query_knowledge","priority":42}]}`)
	var refused ErrorResponse
	if err := json.Unmarshal(a.body, &refused); err != nil || a.status != http.StatusUnprocessableEntity ||
		refused.Error.Code != CodeBatchRefused || refused.Error.Field != "intents[1]" || len(refused.Results) != 2 {
		t.Fatalf("atomic batch with an invalid submission: %d %s", a.status, a.body)
	}
	if r0, r1 := refused.Results[0], refused.Results[1]; r0.Status != http.StatusFailedDependency || r0.Error.Code != CodeNotStored ||
		r1.Status != http.StatusUnprocessableEntity || r1.Error.Code != CodeInvalidIntent || len(r1.Problems) == 0 {
		t.Fatalf("results of the refused batch: %+v", refused.Results)
	}
	if n := len(b.store.Intents()); n != before {
		t.Fatalf("a refused atomic batch stored %d intents", n-before)
	}

	c := NewClient(b.srv.URL, agentB, nil)
	_, err := c.SubmitAtomic(context.Background(), []intent.Submission{{Type: "query_knowledge"}, {Type: "query_knowledge", Priority: 42}})
	var br *engine.BatchRefusedError
	var verr *engine.ValidationError
	if !errors.As(err, &br) || len(br.Items) != 1 || br.Items[0].Index != 1 || !errors.As(err, &verr) {
		t.Fatalf("client SubmitAtomic refused: %v", err)
	}
	res, err := c.SubmitAtomic(context.Background(), []intent.Submission{{Type: "query_knowledge", IdempotencyKey: "a1"}, {Type: "query_knowledge", IdempotencyKey: "a1"}})
	if err != nil || len(res) != 2 || res[0].Existing || !res[1].Existing || res[0].Intent.ID != res[1].Intent.ID {
		t.Fatalf("client SubmitAtomic: %+v, %v", res, err)
	}
	if n := len(b.store.Intents()); n != before+1 {
		t.Fatalf("stored %d, want %d", n, before+1)
	}
}
