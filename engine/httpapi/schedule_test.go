package httpapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

// TestScheduledSubmissionOverHTTP: not_before schedules a submission (an
// RFC 3339 time); one that is not a time is a 400 naming the field (in a
// batch, the item's), one too far ahead a 422 on not_before, and neither
// stores anything.
func TestScheduledSubmissionOverHTTP(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	sub := b.submit(t, agentB, `{"type":"query_knowledge","not_before":"`+at.Format(time.RFC3339)+`"}`)
	if in := b.state(t, sub.ID); in.State != intent.StateQueued || !in.NotBefore.Equal(at) {
		t.Fatalf("a scheduled submission: %s, not before %v, want queued until %v", in.State, in.NotBefore, at)
	}
	var got map[string]any
	b.do(t, agentB, "GET", "/v1/intents/"+sub.ID, "").decode(t, &got)
	if got["not_before"] != at.Format(time.RFC3339) {
		t.Fatalf("GET answers not_before %v, want %s", got["not_before"], at.Format(time.RFC3339))
	}

	a := b.do(t, agentB, "POST", "/v1/intents", `{"type":"query_knowledge","not_before":"tomorrow"}`)
	a.wantError(t, http.StatusBadRequest, CodeWrongType)
	if !strings.Contains(string(a.body), `"field":"not_before"`) || !strings.Contains(string(a.body), "RFC 3339") {
		t.Fatalf("a not_before that is no time: %s", a.body)
	}
	b.do(t, agentB, "POST", "/v1/intents", `{"type":"query_knowledge","not_before":5}`).wantError(t, http.StatusBadRequest, CodeWrongType)
	a = b.do(t, agentB, "POST", "/v1/intents/batch", `{"intents":[{"type":"query_knowledge"},{"type":"query_knowledge","not_before":"soon"}]}`)
	a.wantError(t, http.StatusBadRequest, CodeWrongType)
	if !strings.Contains(string(a.body), `"field":"intents[1].not_before"`) {
		t.Fatalf("a batch item's bad not_before: %s", a.body)
	}
	far := time.Now().Add(2 * 365 * 24 * time.Hour).UTC().Format(time.RFC3339)
	a = b.do(t, agentB, "POST", "/v1/intents", `{"type":"query_knowledge","not_before":"`+far+`"}`)
	a.wantError(t, http.StatusUnprocessableEntity, CodeInvalidIntent)
	if !strings.Contains(string(a.body), `"field":"not_before"`) {
		t.Fatalf("scheduled two years ahead: %s", a.body)
	}
	if n := len(b.store.Intents()); n != 1 {
		t.Fatalf("%d intents stored, want only the scheduled one", n)
	}
}
