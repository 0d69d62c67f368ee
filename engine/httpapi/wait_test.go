package httpapi

import (
	"context"
	"crypto/sha256"
	"net/http"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clock"
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

// TestHeldWaitEndsWithItsToken: a GET ?wait= held when its token is
// withdrawn (SIGHUP's SetAccess removes it, or gives it another role) or
// expires is answered 401 at once, not with the intent after the wait, and
// the refusal is on the record; a held request whose token still grants it
// waits on through the same reload.
func TestHeldWaitEndsWithItsToken(t *testing.T) {
	t.Parallel()
	began := make(chan string, 8)
	b := setupReal(t, func(e *engine.Engine) engine.OperatorAPI { return waitSpy{e, began} })
	h := b.srv.Config.Handler.(*Handler)
	clk := clock.NewFake(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	h.clock = clk // before any request of the test: they read it after
	ids := func(valRole string, valExpires time.Time) []Identity {
		out := []Identity{
			{Name: "alice", Role: engine.RoleOperator, TokenSHA256: sha256.Sum256([]byte(opAlice))},
			{Name: "bob", Role: engine.RoleOperator, TokenSHA256: sha256.Sum256([]byte(opBob))},
			{Name: "agent.builder", Role: engine.RoleAgent, TokenSHA256: sha256.Sum256([]byte(agentB))},
		}
		if valRole != "" {
			out = append(out, Identity{Name: "val", Role: valRole, TokenSHA256: sha256.Sum256([]byte(viewVal)), Expires: valExpires})
		}
		return out
	}
	h.SetAccess(ids(engine.RoleViewer, time.Time{}), "")
	pending := b.submit(t, agentB, `{"type":"change_charter","payload":{"password":"held-secret"}}`)
	hold := func(token string) <-chan answer {
		t.Helper()
		answered := make(chan answer, 1)
		go func() { answered <- b.do(t, token, "GET", "/v1/intents/"+pending.ID+"?wait=60s", "") }()
		select {
		case <-began:
		case <-time.After(waitTime):
			t.Fatal("GET ?wait= never began to wait")
		}
		return answered
	}
	answer401 := func(what string, answered <-chan answer, code string) {
		t.Helper()
		n := b.refusals(pending.ID, "val")
		select {
		case a := <-answered:
			a.wantError(t, http.StatusUnauthorized, code)
		case <-time.After(waitTime):
			t.Fatalf("%s: the held request was not answered", what)
		}
		waitFor(t, what+": the refusal on the record", func() bool { return b.refusals(pending.ID, "val") == n+1 })
	}

	aliceWaits := hold(opAlice)
	valWaits := hold(viewVal)
	h.SetAccess(ids("", time.Time{}), "")
	answer401("token removed", valWaits, CodeUnauthorized)
	select {
	case a := <-aliceWaits:
		t.Fatalf("a reload that kept alice's token answered her held request: %d %s", a.status, a.body)
	default:
	}

	h.SetAccess(ids(engine.RoleViewer, time.Time{}), "")
	valWaits = hold(viewVal)
	h.SetAccess(ids(engine.RoleAgent, time.Time{}), "")
	answer401("role changed", valWaits, CodeUnauthorized)

	h.SetAccess(ids(engine.RoleViewer, clk.Now().Add(30*time.Second)), "") // within the 60 s wait
	valWaits = hold(viewVal)
	clk.Advance(30 * time.Second)
	answer401("token expired", valWaits, CodeTokenExpired)

	if st := b.state(t, pending.ID).State; st != intent.StatePendingApproval {
		t.Fatalf("the intent is %s", st)
	}
	if a := b.do(t, opBob, "POST", "/v1/intents/"+pending.ID+"/deny", `{"reason":"done"}`); a.status != http.StatusOK {
		t.Fatalf("deny: %d %s", a.status, a.body)
	}
	select {
	case a := <-aliceWaits:
		var in intent.Intent
		a.decode(t, &in)
		if a.status != http.StatusOK || in.State != intent.StateDenied {
			t.Fatalf("alice's held request answered %d %s", a.status, a.body)
		}
	case <-time.After(waitTime):
		t.Fatal("alice's held request was not answered when the intent was denied")
	}
}
