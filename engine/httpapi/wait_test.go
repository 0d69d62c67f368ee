package httpapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/intent"
)

// waitSpy is the engine, telling began which intent a WaitFinished call
// waits on as it begins.
type waitSpy struct {
	*engine.Engine
	began chan<- string
}

func (s waitSpy) WaitFinished(ctx context.Context, id string) (intent.Intent, error) {
	s.began <- id
	return s.Engine.WaitFinished(ctx, id)
}

// TestGetWaitsForTheIntentToFinish: GET /v1/intents/{id}?wait= holds the
// request until the intent finishes (here a denial by another operator)
// and answers the finished intent; a wait that runs out answers the intent
// as it stands; an agent may not wait on another's intent; a wait that is
// not a duration up to MaxWait is a 400 naming it. The Go client's
// WaitFinished rides on it.
func TestGetWaitsForTheIntentToFinish(t *testing.T) {
	t.Parallel()
	began := make(chan string, 4)
	b := setupReal(t, func(e *engine.Engine) engine.OperatorAPI { return waitSpy{e, began} })
	pending := b.submit(t, agentB, `{"type":"change_charter"}`)

	answered := make(chan answer, 1)
	go func() { answered <- b.do(t, opAlice, "GET", "/v1/intents/"+pending.ID+"?wait=20s", "") }()
	select {
	case id := <-began:
		if id != pending.ID {
			t.Fatalf("the handler waits on %s, want %s", id, pending.ID)
		}
	case <-time.After(waitTime):
		t.Fatal("GET ?wait= never began to wait")
	}
	select {
	case a := <-answered:
		t.Fatalf("the held request answered before the intent finished: %d %s", a.status, a.body)
	default:
	}
	if a := b.do(t, opBob, "POST", "/v1/intents/"+pending.ID+"/deny", `{"reason":"not this week"}`); a.status != http.StatusOK {
		t.Fatalf("deny: %d %s", a.status, a.body)
	}
	select {
	case a := <-answered:
		var in intent.Intent
		a.decode(t, &in)
		if a.status != http.StatusOK || in.State != intent.StateDenied || in.DecidedBy != "bob" {
			t.Fatalf("the held request answered %d %+v", a.status, in)
		}
	case <-time.After(waitTime):
		t.Fatal("the held request was not answered when the intent was denied")
	}

	other := b.submit(t, agentB, `{"type":"change_charter"}`)
	var in intent.Intent
	a := b.do(t, opAlice, "GET", "/v1/intents/"+other.ID+"?wait=50ms", "")
	a.decode(t, &in)
	if a.status != http.StatusOK || in.State != intent.StatePendingApproval {
		t.Fatalf("a wait that ran out: %d %s", a.status, a.body)
	}
	theirs := b.submit(t, opAlice, `{"type":"change_charter"}`)
	b.do(t, agentB, "GET", "/v1/intents/"+theirs.ID+"?wait=20s", "").wantError(t, http.StatusNotFound, CodeNotFound) // not held: as unknown
	for _, bad := range []string{"soon", "0s", "-1s", "61s"} {
		er := b.do(t, opAlice, "GET", "/v1/intents/"+other.ID+"?wait="+bad, "").wantError(t, http.StatusBadRequest, CodeBadQuery)
		if er.Error.Field != "wait" {
			t.Errorf("wait=%s: field %q, want wait", bad, er.Error.Field)
		}
	}

	c := NewClient(b.srv.URL, opAlice, b.srv.Client())
	if _, err := c.Deny(t.Context(), other.ID, "", "done waiting"); err != nil {
		t.Fatal(err)
	}
	if got, err := c.WaitFinished(t.Context(), other.ID); err != nil || got.State != intent.StateDenied {
		t.Fatalf("client WaitFinished on a denied intent: %+v, %v", got, err)
	}
}

// TestCloseAnswersHeldWaits: a server shutting down (Handler.Close, which
// http.Server.Shutdown calls) answers a held ?wait= request at once with
// the intent as it stands, rather than holding the shutdown for the wait.
func TestCloseAnswersHeldWaits(t *testing.T) {
	t.Parallel()
	began := make(chan string, 1)
	b := setupReal(t, func(e *engine.Engine) engine.OperatorAPI { return waitSpy{e, began} })
	h := b.srv.Config.Handler.(*Handler)
	pending := b.submit(t, agentB, `{"type":"change_charter"}`)
	answered := make(chan answer, 1)
	go func() { answered <- b.do(t, opAlice, "GET", "/v1/intents/"+pending.ID+"?wait=60s", "") }()
	select {
	case <-began:
	case <-time.After(waitTime):
		t.Fatal("GET ?wait= never began to wait")
	}
	h.Close()
	select {
	case a := <-answered:
		var in intent.Intent
		a.decode(t, &in)
		if a.status != http.StatusOK || in.State != intent.StatePendingApproval {
			t.Fatalf("the held request answered %d %s", a.status, a.body)
		}
	case <-time.After(waitTime):
		t.Fatal("Close did not answer the held request")
	}
}
