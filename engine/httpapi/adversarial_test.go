package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"grace/engine"
)

// TestAnotherActorsIDInAnotherCaseIsAnsweredAsUnknown: an intent's ID is
// found in any case, so an agent that asks for another actor's intent in
// lower case must get the very answer a lower-case ID naming no intent
// gets. The answer quoted the ID in its canonical (upper) case for an
// intent that exists and as typed for one that does not, which told an
// agent which IDs exist.
func TestAnotherActorsIDInAnotherCaseIsAnsweredAsUnknown(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	theirs := b.submit(t, opAlice, `{"type":"change_charter"}`)
	const unknown = "int_01NOSUCHINTENT0000000000"
	lower := "int_" + strings.ToLower(strings.TrimPrefix(theirs.ID, "int_"))
	lowerUnknown := "int_" + strings.ToLower(strings.TrimPrefix(unknown, "int_"))
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/intents/%s", ""},
		{"GET", "/v1/intents/%s?wait=20s", ""},
		{"GET", "/v1/narratives?intent=%s", ""},
		{"POST", "/v1/intents/%s/cancel", `{"reason":"mine now"}`},
	} {
		got := b.do(t, agentB, c.method, fmt.Sprintf(c.path, lower), c.body)
		got.wantError(t, http.StatusNotFound, CodeNotFound)
		missing := b.do(t, agentB, c.method, fmt.Sprintf(c.path, lowerUnknown), c.body)
		if want := strings.ReplaceAll(string(missing.body), lowerUnknown, lower); string(got.body) != want {
			t.Errorf("%s %s: another's intent, in lower case, answered %s; an unknown ID %s", c.method, c.path, got.body, missing.body)
		}
	}
	// A refusal at the door names the intent as its record does, in
	// whatever case the path typed its ID.
	b.do(t, agentB, "POST", "/v1/intents/"+lower+"/approve", `{}`).wantError(t, http.StatusForbidden, CodeForbidden)
	if n := b.refusals(theirs.ID, "agent.builder"); n != 5 {
		t.Errorf("%d refusals of the agent on the intent's record, want 5", n)
	}
}

// TestAtomicBatchKeyGivenTwiceDifferently: an atomic batch whose two
// submissions share a key and differ is refused 409 naming the second,
// without an intent ID that names nothing (the first was never stored),
// and the refusal is on the record.
func TestAtomicBatchKeyGivenTwiceDifferently(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	a := b.do(t, agentB, "POST", "/v1/intents/batch",
		`{"atomic":true,"intents":[{"type":"query_knowledge","idempotency_key":"k"},{"type":"query_knowledge","idempotency_key":"k","priority":7}]}`)
	er := a.wantError(t, http.StatusConflict, CodeBatchRefused)
	if er.Error.Field != "intents[1]" || strings.Contains(string(a.body), "int_") || !strings.Contains(er.Error.Message, "submission 0 of this batch") {
		t.Fatalf("refused batch: %s", a.body)
	}
	if n := len(b.store.Intents()); n != 0 {
		t.Fatalf("%d intents stored by a refused batch", n)
	}
	b.store.Flush()
	if n := b.store.Count(engine.WhatIdempotencyConflict); n != 1 {
		t.Fatalf("%d idempotency_conflict records, want 1", n)
	}
}

// TestAgentListsByAnotherActorIsRefused: an agent that lists another
// actor's intents (actor=alice) is refused 403 naming actor, on the
// record; it was answered 200 with its own intents, which do not match
// the filter it asked for. Naming itself, in any case, lists its own.
func TestAgentListsByAnotherActorIsRefused(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	mine := b.submit(t, agentB, `{"type":"query_knowledge"}`)
	b.submit(t, opAlice, `{"type":"query_knowledge"}`)
	er := b.do(t, agentB, "GET", "/v1/intents?actor=alice", "").wantError(t, http.StatusForbidden, CodeForbidden)
	if er.Error.Field != "actor" {
		t.Fatalf("refusal names %q, want actor", er.Error.Field)
	}
	refused := 0
	for _, r := range b.store.Records() {
		if r.What == engine.WhatRequestRefused && r.Who == "agent.builder" {
			refused++
		}
	}
	if refused != 1 {
		t.Fatalf("%d refusals of the agent on the record, want 1", refused)
	}
	var list IntentsResponse
	b.do(t, agentB, "GET", "/v1/intents?actor=Agent.Builder", "").decode(t, &list)
	if len(list.Intents) != 1 || list.Intents[0].ID != mine.ID {
		t.Fatalf("the agent naming itself listed %+v", list.Intents)
	}
}
