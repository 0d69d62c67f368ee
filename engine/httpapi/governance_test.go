package httpapi

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/worker"
)

// The identities of the governance tests, by token.
const (
	opAlice  = "tok-op-alice"
	opBob    = "tok-op-bob"
	agentB   = "tok-agent-builder"
	viewVal  = "tok-viewer-val"
	forged   = "tok-forged"
	maxBody  = 2048
	waitTime = 5 * time.Second
)

// runCounter counts handler runs per intent.
// failPermanently in a payload makes runCounter's handler fail for good.
const failPermanently = "fail-permanently"

type runCounter struct {
	mu   sync.Mutex
	runs map[string]int
	seen map[string]string // intent ID → the payload the handler got
}

func (c *runCounter) For(string) (worker.Handler, time.Duration) {
	return worker.HandlerFunc(func(_ context.Context, in intent.Intent) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.runs[in.ID]++
		c.seen[in.ID] = string(in.Payload)
		if strings.Contains(string(in.Payload), failPermanently) {
			return worker.Permanent(errors.New("told to fail"))
		}
		return nil
	}), 0
}

func (c *runCounter) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs[id]
}

// realBundle is the real engine on the in-memory store behind the real
// handler on a loopback server.
type realBundle struct {
	e     *engine.Engine
	store *enginetest.Store
	runs  *runCounter
	srv   *httptest.Server
}

// setupReal builds the bundle; wrap, when given, puts something between
// the handler and the engine (a spy).
func setupReal(t *testing.T, wrap ...func(*engine.Engine) engine.OperatorAPI) *realBundle {
	t.Helper()
	return setupRealWith(t, nil, wrap...)
}

// setupRealWith is setupReal with the identities extra known too.
func setupRealWith(t *testing.T, extra []Identity, wrap ...func(*engine.Engine) engine.OperatorAPI) *realBundle {
	t.Helper()
	cfg := engine.Default()
	cfg.DB = "test.db"
	cfg.Cortex.Enabled = false
	cfg.Governance.TwoPersonTypes = []string{"change_charter"}
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	st := enginetest.NewStore(64)
	runs := &runCounter{runs: map[string]int{}, seen: map[string]string{}}
	e, err := engine.New(cfg, engine.Deps{Store: st, Clock: clock.Real{}, Handlers: runs})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids := []Identity{
		{Name: "alice", Role: engine.RoleOperator, TokenSHA256: sha256.Sum256([]byte(opAlice))},
		{Name: "bob", Role: engine.RoleOperator, TokenSHA256: sha256.Sum256([]byte(opBob))},
		{Name: "agent.builder", Role: engine.RoleAgent, TokenSHA256: sha256.Sum256([]byte(agentB))},
		{Name: "val", Role: engine.RoleViewer, TokenSHA256: sha256.Sum256([]byte(viewVal))},
	}
	ids = append(ids, extra...)
	var api engine.OperatorAPI = e
	for _, w := range wrap {
		api = w(e)
	}
	h := NewHandler(api, Options{Identities: ids, MaxBodyBytes: maxBody, Heartbeat: 50 * time.Millisecond})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { _ = st.Close() })
	t.Cleanup(e.Stop)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	return &realBundle{e: e, store: st, runs: runs, srv: srv}
}

// do sends one request as token (none when token is "").
func (b *realBundle) do(t *testing.T, token, method, path, body string, header ...string) answer {
	t.Helper()
	tb := &testBundle{srv: b.srv}
	h := append([]string{"Authorization", ""}, header...)
	if token != "" {
		h[1] = "Bearer " + token
	}
	return tb.call(t, method, path, body, h...)
}

func (b *realBundle) submit(t *testing.T, token, body string) SubmitResponse {
	t.Helper()
	var r SubmitResponse
	a := b.do(t, token, "POST", "/v1/intents", body)
	a.decode(t, &r)
	if a.status != http.StatusAccepted {
		t.Fatalf("submit %s: %d %s", body, a.status, a.body)
	}
	return r
}

func (b *realBundle) state(t *testing.T, id string) intent.Intent {
	t.Helper()
	in, err := b.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func (b *realBundle) waitState(t *testing.T, id string, st intent.State) {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for b.state(t, id).State != st {
		if time.Now().After(deadline) {
			t.Fatalf("%s never became %s (it is %s)", id, st, b.state(t, id).State)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// refusals counts the records of refused attempts by who, of an intent.
func (b *realBundle) refusals(id, who string) int {
	n := 0
	for _, r := range b.store.RecordsFor(id) {
		switch r.What {
		case engine.WhatRequestRefused, engine.WhatApprovalRefused, engine.WhatDenialRefused, engine.WhatReviewRefused:
			if r.Who == who {
				n++
			}
		}
	}
	return n
}

// TestNoWayAroundTierZero tries every way around the human gate over real
// HTTP: each refused attempt must answer in the error shape, leave the
// intent as it was, never run it, and be on the record.
func TestNoWayAroundTierZero(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	charter := b.submit(t, agentB, `{"type":"change_charter","payload":{"clause":"resilience first"}}`)
	if charter.State != intent.StatePendingApproval {
		t.Fatalf("change_charter is %s", charter.State)
	}
	approve := "/v1/intents/" + charter.ID + "/approve"

	refused := []struct {
		name, token, method, path, body string
		header                          []string
		status                          int
		code, who                       string
	}{
		{"no token", "", "POST", approve, `{}`, nil, 401, CodeUnauthorized, "unauthenticated"},
		{"a forged token", forged, "POST", approve, `{}`, nil, 401, CodeUnauthorized, "unauthenticated"},
		{"an agent's token", agentB, "POST", approve, `{"reason":"trust me"}`, nil, 403, CodeForbidden, "agent.builder"},
		{"an agent naming an operator", agentB, "POST", approve, `{"operator":"alice"}`, []string{OperatorHeader, "alice"}, 403, CodeForbidden, "agent.builder"},
		{"a viewer's token", viewVal, "POST", approve, `{}`, nil, 403, CodeForbidden, "val"},
		{"an agent denying", agentB, "POST", "/v1/intents/" + charter.ID + "/deny", `{"reason":"x"}`, nil, 403, CodeForbidden, "agent.builder"},
		{"malformed JSON", opAlice, "POST", approve, `{"reason":`, nil, 400, CodeMalformed, "alice"},
		{"an unknown field", opAlice, "POST", approve, `{"reason":"ok","approved":true}`, nil, 400, CodeUnknownField, "alice"},
		{"a wrong type", opAlice, "POST", approve, `{"reason":["ok"]}`, nil, 400, CodeWrongType, "alice"},
		{"an oversized body", opAlice, "POST", approve, `{"reason":"` + strings.Repeat("x", maxBody) + `"}`, nil, 413, CodeBodyTooLarge, "alice"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			before := b.state(t, charter.ID)
			n := b.refusals(charter.ID, tc.who)
			b.do(t, tc.token, tc.method, tc.path, tc.body, tc.header...).wantError(t, tc.status, tc.code)
			if after := b.state(t, charter.ID); after.State != before.State || after.DecidedBy != before.DecidedBy {
				t.Fatalf("refused attempt changed the intent: %s/%q → %s/%q", before.State, before.DecidedBy, after.State, after.DecidedBy)
			}
			if m := b.refusals(charter.ID, tc.who); m != n+1 {
				t.Fatalf("attempt not on the record: %d refusals by %s, want %d", m, tc.who, n+1)
			}
		})
	}

	// The first operator: approval 1 of 2, still pending.
	var in intent.Intent
	b.do(t, opAlice, "POST", approve, `{"reason":"charter reviewed"}`).decode(t, &in)
	if in.State != intent.StatePendingApproval || in.DecidedBy != "alice" {
		t.Fatalf("after alice: %s by %q", in.State, in.DecidedBy)
	}
	// The same operator again, even claiming to be someone else.
	for _, h := range [][]string{nil, {OperatorHeader, "bob"}} {
		b.do(t, opAlice, "POST", approve, `{"operator":"bob"}`, h...).wantError(t, http.StatusConflict, CodeAlreadyApproved)
	}
	if b.runs.count(charter.ID) != 0 || b.state(t, charter.ID).State != intent.StatePendingApproval {
		t.Fatal("one operator was enough")
	}
	// The second operator releases it; it runs once.
	b.do(t, opBob, "POST", approve, `{"reason":"second pair of eyes"}`).decode(t, &in)
	if in.State != intent.StateQueued || in.DecidedBy != "bob" {
		t.Fatalf("after bob: %s by %q", in.State, in.DecidedBy)
	}
	b.waitState(t, charter.ID, intent.StateCompleted)
	// Replaying an approval changes nothing.
	b.do(t, opBob, "POST", approve, `{"reason":"again"}`).wantError(t, http.StatusConflict, CodeNotPending)
	if n := b.runs.count(charter.ID); n != 1 {
		t.Fatalf("ran %d times", n)
	}
	if b.refusals(charter.ID, "bob") != 1 || b.refusals(charter.ID, "alice") < 2 {
		t.Fatal("the replays are not on the record")
	}
}

func TestSubmitterNeverApprovesItsOwn(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	for _, typ := range []string{"change_charter", "grant_permissions"} {
		own := b.submit(t, opAlice, `{"type":"`+typ+`"}`)
		b.do(t, opAlice, "POST", "/v1/intents/"+own.ID+"/approve", `{}`).wantError(t, http.StatusForbidden, CodeSelfApproval)
		if got := b.state(t, own.ID); got.State != intent.StatePendingApproval || got.DecidedBy != "" {
			t.Fatalf("%s: a self-approval changed it: %+v", typ, got)
		}
		if b.refusals(own.ID, "alice") != 1 {
			t.Fatalf("%s: the self-approval is not on the record", typ)
		}
	}
}

func TestNearMissAndUnknownTypes(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	// A near miss that passes intake is still under the two-person rule.
	for _, typ := range []string{"Change_Charter", "change-charter", "CHANGE.CHARTER"} {
		r := b.submit(t, agentB, `{"type":"`+typ+`"}`)
		var in intent.Intent
		b.do(t, opAlice, "POST", "/v1/intents/"+r.ID+"/approve", `{}`).decode(t, &in)
		if in.State != intent.StatePendingApproval {
			t.Fatalf("%s ran on one approval: %s", typ, in.State)
		}
		b.do(t, opBob, "POST", "/v1/intents/"+r.ID+"/approve", `{}`).decode(t, &in)
		if in.State != intent.StateQueued {
			t.Fatalf("%s after two approvals: %s", typ, in.State)
		}
	}
	// A near miss that intake refuses is rejected, stores nothing, and is
	// on the record.
	before := len(b.store.Intents())
	a := b.do(t, agentB, "POST", "/v1/intents", `{"type":"change_charter "}`)
	if er := a.wantError(t, http.StatusUnprocessableEntity, CodeInvalidIntent); er.Error.Field != "type" {
		t.Fatalf("field = %q", er.Error.Field)
	}
	if len(b.store.Intents()) != before || b.store.Count(engine.WhatRejected) != 1 {
		t.Fatal("a rejected submission was stored or not recorded")
	}
	// An unknown type waits for a human, whom an agent cannot be.
	u := b.submit(t, agentB, `{"type":"reticulate_splines"}`)
	if u.State != intent.StatePendingApproval || u.Decision.AutonomyTier != 0 {
		t.Fatalf("unknown type: %s Tier %d", u.State, u.Decision.AutonomyTier)
	}
	b.do(t, agentB, "POST", "/v1/intents/"+u.ID+"/approve", `{}`).wantError(t, http.StatusForbidden, CodeForbidden)
	var in intent.Intent
	b.do(t, opAlice, "POST", "/v1/intents/"+u.ID+"/approve", `{}`).decode(t, &in)
	if in.State != intent.StateQueued {
		t.Fatalf("unknown type after an operator's approval: %s", in.State)
	}
	// Approving what never needed approval is refused.
	q := b.submit(t, agentB, `{"type":"query_knowledge"}`)
	b.waitState(t, q.ID, intent.StateCompleted)
	b.do(t, opAlice, "POST", "/v1/intents/"+q.ID+"/approve", `{}`).wantError(t, http.StatusConflict, CodeNotPending)
	// An agent cannot submit in another's name.
	b.do(t, agentB, "POST", "/v1/intents", `{"type":"change_charter","actor":"alice"}`).wantError(t, http.StatusForbidden, CodeActorMismatch)
}

func TestAgentsReadOnlyTheirOwn(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	mine := b.submit(t, agentB, `{"type":"change_charter"}`)
	theirs := b.submit(t, opAlice, `{"type":"change_charter"}`)
	// Another actor's intent is answered as an ID that names none, so an
	// agent cannot learn which IDs exist; the record says what happened.
	const unknown = "int_01NOSUCHINTENT0000000000"
	for _, path := range []string{"/v1/intents/%s", "/v1/intents/%s?wait=20s", "/v1/narratives?intent=%s"} {
		n := b.refusals(theirs.ID, "agent.builder")
		got := b.do(t, agentB, "GET", fmt.Sprintf(path, theirs.ID), "")
		got.wantError(t, http.StatusNotFound, CodeNotFound)
		missing := b.do(t, agentB, "GET", fmt.Sprintf(path, unknown), "")
		if want := strings.ReplaceAll(string(missing.body), unknown, theirs.ID); string(got.body) != want {
			t.Errorf("%s: another's intent answered %s, an unknown ID %s", path, got.body, missing.body)
		}
		if m := b.refusals(theirs.ID, "agent.builder"); m != n+1 {
			t.Errorf("%s: reaching for another's intent is not on its record (%d refusals, want %d)", path, m, n+1)
		}
	}
	// An unknown ID is a refusal on the record too: were only another's
	// recorded, the record write it waits for would tell the two apart.
	for _, path := range []string{"/v1/intents/%s", "/v1/intents/%s?wait=20s", "/v1/narratives?intent=%s"} {
		n := b.refusals(unknown, "agent.builder")
		b.do(t, agentB, "GET", fmt.Sprintf(path, unknown), "").wantError(t, http.StatusNotFound, CodeNotFound)
		if m := b.refusals(unknown, "agent.builder"); m != n+1 {
			t.Errorf("%s: asking for an unknown ID is not on the record (%d refusals, want %d)", path, m, n+1)
		}
	}
	n, u := b.refusals(theirs.ID, "agent.builder"), b.refusals(unknown, "agent.builder")
	got := b.do(t, agentB, "POST", "/v1/intents/"+theirs.ID+"/cancel", `{"reason":"mine now"}`)
	missing := b.do(t, agentB, "POST", "/v1/intents/"+unknown+"/cancel", `{"reason":"mine now"}`)
	got.wantError(t, http.StatusNotFound, CodeNotFound)
	if want := strings.ReplaceAll(string(missing.body), unknown, theirs.ID); string(got.body) != want {
		t.Errorf("cancel: another's intent answered %s, an unknown ID %s", got.body, missing.body)
	}
	if b.refusals(theirs.ID, "agent.builder") != n+1 || b.refusals(unknown, "agent.builder") != u+1 {
		t.Errorf("cancel: the refusals are not both on the record (%d of another's, %d of the unknown ID's; want 1 and 1)",
			b.refusals(theirs.ID, "agent.builder")-n, b.refusals(unknown, "agent.builder")-u)
	}
	if st := b.state(t, theirs.ID).State; st != intent.StatePendingApproval {
		t.Errorf("another's intent is %s after the agent's cancel", st)
	}
	var hidden bool
	for _, r := range b.store.RecordsFor(theirs.ID) {
		if r.What == engine.WhatRequestRefused && r.Who == "agent.builder" && strings.Contains(strings.Join(r.Why, " "), "submitted by another actor") {
			hidden = true
		}
	}
	if !hidden {
		t.Error("the refusal record does not say the intent was another actor's")
	}
	b.do(t, agentB, "GET", "/v1/narratives?q=charter", "").wantError(t, http.StatusForbidden, CodeForbidden)
	var list IntentsResponse
	b.do(t, agentB, "GET", "/v1/intents", "").decode(t, &list)
	if len(list.Intents) != 1 || list.Intents[0].ID != mine.ID {
		t.Fatalf("the agent listed %+v", list.Intents)
	}
	var story NarrativesResponse
	b.do(t, agentB, "GET", "/v1/narratives?intent="+mine.ID, "").decode(t, &story)
	if len(story.Narratives) < 3 {
		t.Fatalf("the agent's own story: %+v", story.Narratives)
	}
}

func TestMaskedFieldsOverHTTP(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	const secret = "s3cr3t-value-xyz"
	c := NewClient(b.srv.URL, viewVal, b.srv.Client())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	events := c.Subscribe(ctx)
	waitFor(t, "the subscription", func() bool { return b.e.Snapshot().At.IsZero() == false })
	time.Sleep(50 * time.Millisecond) // let the stream open before the intent exists
	r := b.submit(t, agentB, `{"type":"query_knowledge","payload":{"q":"x","api_key":"`+secret+`","db":{"Api-Key":"`+secret+`"}},"context":{"password":"`+secret+`","API.KEY":"`+secret+`"}}`)
	b.waitState(t, r.ID, intent.StateCompleted)
	if got := b.runs.seen[r.ID]; !strings.Contains(got, secret) {
		t.Fatalf("the handler did not get the real payload: %s", got)
	}
	for _, path := range []string{"/v1/intents/" + r.ID, "/v1/intents", "/v1/narratives?intent=" + r.ID, "/v1/narratives?q=" + secret, "/v1/telemetry"} {
		a := b.do(t, viewVal, "GET", path, "")
		if a.status != http.StatusOK || strings.Contains(string(a.body), secret) {
			t.Fatalf("GET %s: %d shows the secret: %s", path, a.status, a.body)
		}
	}
	a := b.do(t, viewVal, "GET", "/v1/intents/"+r.ID, "")
	if !strings.Contains(string(a.body), `"api_key":"[masked]"`) || !strings.Contains(string(a.body), `"password":"[masked]"`) {
		t.Fatalf("GET does not show the fields masked: %s", a.body)
	}
	deadline := time.After(waitTime)
	for done := false; !done; {
		select {
		case ev := <-events:
			if strings.Contains(string(ev.Intent.Payload), secret) || strings.Contains(fmt.Sprint(ev.Intent.Context), secret) {
				t.Fatalf("an event shows the secret: %+v", ev)
			}
			done = ev.Intent.ID == r.ID && ev.Intent.State == intent.StateCompleted
		case <-deadline:
			t.Fatal("no completed event on the stream")
		}
	}
}

func TestEventStreamFromTheRealEngine(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sc := openStream(t, ctx, b.srv.URL, opAlice)
	r := b.submit(t, agentB, `{"type":"grant_permissions"}`)
	kind, data := nextEvent(t, sc)
	if kind != "intent" || !strings.Contains(data, r.ID) || !strings.Contains(data, `"state":"pending_approval"`) {
		t.Fatalf("first event: %s %s", kind, data)
	}
	b.do(t, opBob, "POST", "/v1/intents/"+r.ID+"/approve", `{}`)
	if _, data = nextEvent(t, sc); !strings.Contains(data, `"state":"queued"`) || !strings.Contains(data, `"decided_by":"bob"`) {
		t.Fatalf("after the approval: %s", data)
	}
}

// TestOutOfRangeContextNumberIsNotRepeated: a context number too large to
// decode is refused, but its digits, which may be a masked field's value,
// are neither in the answer nor on the refusal record.
func TestOutOfRangeContextNumberIsNotRepeated(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	secret := "7" + strings.Repeat("31", 200) // past float64's range
	for _, tc := range []struct{ path, body, field string }{
		{"/v1/intents", `{"type":"query_knowledge","context":{"password":` + secret + `}}`, "context.password"},
		{"/v1/intents/batch", `{"intents":[{"type":"query_knowledge","context":{"db":{"token":[` + secret + `]}}}]}`, "intents[0].context.db.token[0]"},
	} {
		before := len(b.store.Records())
		a := b.do(t, agentB, "POST", tc.path, tc.body)
		a.wantError(t, http.StatusBadRequest, CodeWrongType)
		var e ErrorResponse
		a.decode(t, &e)
		if e.Error.Field != tc.field {
			t.Errorf("%s: field %q, want %q", tc.path, e.Error.Field, tc.field)
		}
		if strings.Contains(string(a.body), secret[:12]) {
			t.Errorf("%s: the answer repeats the number: %s", tc.path, a.body)
		}
		var refused []string
		for _, r := range b.store.Records()[before:] {
			if r.What == engine.WhatRequestRefused && r.Who == "agent.builder" {
				refused = append(refused, fmt.Sprintf("%+v", r))
			}
		}
		if len(refused) != 1 {
			t.Fatalf("%s: want one refusal on the record, got %q", tc.path, refused)
		}
		if strings.Contains(refused[0], secret[:12]) {
			t.Errorf("%s: the refusal record repeats the number: %s", tc.path, refused[0])
		}
	}
	if n := len(b.store.Intents()); n != 0 {
		t.Errorf("%d intents stored", n)
	}
}
