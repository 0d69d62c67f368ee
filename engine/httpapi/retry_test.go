package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"grace/engine"
	"grace/engine/intent"
)

// TestRetryOverHTTP: only an operator retries, with a reason; the answer is
// a submission's (202 with the new intent, 200 existing when asked again,
// by anyone); the new intent is the original submitter's, who reads it,
// while the record names the operator who retried; an intent that has not
// failed is 409 not_retryable; refusals change nothing; the Go client does
// the same.
func TestRetryOverHTTP(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	failed := b.submit(t, agentB, `{"type":"query_knowledge","payload":{"q":"`+failPermanently+`"}}`)
	b.waitState(t, failed.ID, intent.StateFailed)
	done := b.submit(t, agentB, `{"type":"query_knowledge"}`)
	b.waitState(t, done.ID, intent.StateCompleted)
	path := "/v1/intents/" + failed.ID + "/retry"

	b.do(t, agentB, "POST", path, `{"reason":"again"}`).wantError(t, http.StatusForbidden, CodeForbidden)
	b.do(t, viewVal, "POST", path, `{"reason":"again"}`).wantError(t, http.StatusForbidden, CodeForbidden)
	b.do(t, opAlice, "POST", path, `{}`).wantError(t, http.StatusUnprocessableEntity, CodeReasonRequired)
	b.do(t, opAlice, "POST", path, `{"reason":"x","retries":3}`).wantError(t, http.StatusBadRequest, CodeUnknownField)
	b.do(t, opAlice, "POST", "/v1/intents/"+done.ID+"/retry", `{"reason":"again"}`).wantError(t, http.StatusConflict, CodeNotRetryable)
	b.do(t, opAlice, "POST", "/v1/intents/int_01NOSUCHINTENT0000000000/retry", `{"reason":"again"}`).wantError(t, http.StatusNotFound, CodeNotFound)
	if n := len(b.store.Intents()); n != 2 {
		t.Fatalf("refused retries stored intents: %d, want 2", n)
	}

	unretried := func() []string {
		t.Helper()
		var list IntentsResponse
		b.do(t, viewVal, "GET", "/v1/intents?state=failed&unretried=true", "").decode(t, &list)
		var ids []string
		for _, in := range list.Intents {
			ids = append(ids, in.ID)
		}
		return ids
	}
	if ids := unretried(); len(ids) != 1 || ids[0] != failed.ID {
		t.Fatalf("failed, not retried, before the retry: %v, want [%s]", ids, failed.ID)
	}
	b.do(t, viewVal, "GET", "/v1/intents?unretried=maybe", "").wantError(t, http.StatusBadRequest, CodeBadQuery)

	var first SubmitResponse
	a := b.do(t, opAlice, "POST", path, `{"reason":"the index is back","operator":"mallory"}`)
	a.decode(t, &first)
	if a.status != http.StatusAccepted || first.ID == failed.ID || first.Existing {
		t.Fatalf("retry: %d %s", a.status, a.body)
	}
	if in := b.state(t, first.ID); in.Actor != "agent.builder" {
		t.Fatalf("the retry's actor is %q, want agent.builder (the original's submitter)", in.Actor)
	}
	retried := false
	for _, r := range b.store.RecordsFor(failed.ID) {
		if r.What == engine.WhatRetried {
			retried = r.Who == "alice" && r.Context["retried_by"] == "alice"
		}
	}
	if !retried {
		t.Fatal("intent_retried does not name alice (the identity, whatever the body says)")
	}
	if a := b.do(t, agentB, "GET", "/v1/intents/"+first.ID, ""); a.status != http.StatusOK {
		t.Fatalf("the submitter reading the retry of its intent: %d %s", a.status, a.body)
	}
	var again SubmitResponse
	a = b.do(t, opAlice, "POST", path, `{"reason":"double click"}`)
	a.decode(t, &again)
	if a.status != http.StatusOK || !again.Existing || again.ID != first.ID {
		t.Fatalf("asking again: %d %s", a.status, a.body)
	}

	if ids := unretried(); slices.Contains(ids, failed.ID) {
		t.Fatalf("failed, not retried, after the retry: %v, holds the retried %s", ids, failed.ID)
	}

	c := NewClient(b.srv.URL, opBob, nil)
	if list, err := c.List(context.Background(), intent.Filter{State: intent.StateFailed, Unretried: true}); err != nil ||
		slices.ContainsFunc(list, func(in intent.Intent) bool { return in.ID == failed.ID }) {
		t.Fatalf("client List of failed intents not retried: %v, %v; holds the retried %s", list, err, failed.ID)
	}
	res, err := c.Retry(context.Background(), failed.ID, "", "bob's turn")
	if err != nil || !res.Existing || res.Intent.ID != first.ID {
		t.Fatalf("client Retry by a second operator: %+v, %v; want the first retry", res, err)
	}
	if n := len(b.store.Intents()); n != 3 {
		t.Fatalf("%d intents stored, want 3: one retry, however many ask", n)
	}
	if _, err := c.Retry(context.Background(), done.ID, "", "r"); !errors.Is(err, engine.ErrNotRetryable) {
		t.Fatalf("client Retry of a completed intent: %v, want ErrNotRetryable", err)
	}
}

// TestNoSelfReview: the operator who submitted a Tier 1 intent cannot
// mark it reviewed (403 self_review, nothing changed, the attempt on the
// record), though it may flag it; another operator reviews it.
func TestNoSelfReview(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	mine := b.submit(t, opAlice, `{"type":"deploy_model"}`)
	b.waitState(t, mine.ID, intent.StateCompleted)
	path := "/v1/intents/" + mine.ID + "/review"
	b.do(t, opAlice, "POST", path, `{"note":"fine by me"}`).wantError(t, http.StatusForbidden, CodeSelfReview)
	if b.state(t, mine.ID).Reviewed {
		t.Fatal("a refused review marked the intent reviewed")
	}
	if n := b.refusals(mine.ID, "alice"); n != 1 {
		t.Fatalf("%d refusals of alice on the record, want 1", n)
	}
	if a := b.do(t, opBob, "POST", path, `{"note":"checked the rollout"}`); a.status != http.StatusOK || !b.state(t, mine.ID).Reviewed {
		t.Fatalf("another operator's review: %d %s", a.status, a.body)
	}
	flagged := b.submit(t, opAlice, `{"type":"deploy_model"}`)
	b.waitState(t, flagged.ID, intent.StateCompleted)
	if a := b.do(t, opAlice, "POST", "/v1/intents/"+flagged.ID+"/review", `{"flag":true,"note":"I rolled out the wrong build"}`); a.status != http.StatusOK {
		t.Fatalf("the submitter flagging its own: %d %s", a.status, a.body)
	}
	// The flag is on the record and leaves the intent on the review list
	// for another operator: it marked it reviewed, so a flag ("fine") took
	// the submitter's own Tier 1 work off the list unseen.
	var list IntentsResponse
	b.do(t, opBob, "GET", "/v1/intents?tier=1&unreviewed=true", "").decode(t, &list)
	if b.state(t, flagged.ID).Reviewed || len(list.Intents) != 1 || list.Intents[0].ID != flagged.ID {
		t.Fatalf("after the submitter's flag: reviewed %v, review list %+v", b.state(t, flagged.ID).Reviewed, list.Intents)
	}
	if n := b.store.Count(engine.WhatTier1Flagged); n != 1 {
		t.Fatalf("%d tier1_flagged records, want 1", n)
	}
	if a := b.do(t, opBob, "POST", "/v1/intents/"+flagged.ID+"/review", `{"note":"checked the rollout"}`); a.status != http.StatusOK || !b.state(t, flagged.ID).Reviewed {
		t.Fatalf("another operator's review after the flag: %d %s", a.status, a.body)
	}
}
