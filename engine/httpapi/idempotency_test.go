package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/intent"
	"grace/engine/worker"
	"grace/store"
)

// idemBundle is a real engine on a SQLite store on disk behind the real
// handler on a loopback server, with the local token.
type idemBundle struct {
	e   *engine.Engine
	st  *store.Store
	srv *httptest.Server
	b   *testBundle // for call and wantError
}

func setupIdem(t *testing.T) *idemBundle {
	t.Helper()
	cfg := engine.Default()
	cfg.DB = filepath.Join(t.TempDir(), "grace.db")
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	cfg.Safeguards[engine.SafeguardRateLimit] = engine.SafeguardConfig{Enabled: false}
	st, err := store.Open(t.Context(), cfg.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e, err := engine.New(cfg, engine.Deps{Store: st, Journal: st, Searcher: st, Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	if err := e.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	h := NewHandler(e, Options{Token: testToken})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	return &idemBundle{e: e, st: st, srv: srv, b: &testBundle{srv: srv}}
}

// count is how many intents GET /v1/intents lists.
func (ib *idemBundle) count(t *testing.T) int {
	t.Helper()
	a := ib.b.call(t, "GET", "/v1/intents", "")
	var list IntentsResponse
	a.decode(t, &list)
	if a.status != http.StatusOK {
		t.Fatalf("list: %d %s", a.status, a.body)
	}
	return len(list.Intents)
}

func (ib *idemBundle) records(t *testing.T, what string) []clarity.Entry {
	t.Helper()
	es, err := ib.e.Search(t.Context(), clarity.Query{Action: what, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestIdempotencyConflictAnswers409(t *testing.T) {
	t.Parallel()
	ib := setupIdem(t)
	// No priority: the default, 5.
	first := ib.b.call(t, "POST", "/v1/intents",
		`{"type":"query_knowledge","actor":"agent.h","payload":{"q":"depth","api_key":"k-123"},"idempotency_key":"job-9"}`)
	if first.status != http.StatusAccepted {
		t.Fatalf("submit: %d %s", first.status, first.body)
	}
	var orig SubmitResponse
	first.decode(t, &orig)

	// The same submission: the default priority given, keys reordered.
	a := ib.b.call(t, "POST", "/v1/intents",
		`{"idempotency_key":"job-9","priority":5,"payload":{ "api_key":"k-123", "q":"depth" },"actor":"agent.h","type":"query_knowledge"}`)
	var again SubmitResponse
	a.decode(t, &again)
	if a.status != http.StatusOK || !again.Existing || again.ID != orig.ID {
		t.Fatalf("retry: %d %s; want 200 existing %s", a.status, a.body, orig.ID)
	}

	// A different payload (only the masked value differs) under the key.
	a = ib.b.call(t, "POST", "/v1/intents",
		`{"type":"query_knowledge","actor":"agent.h","payload":{"q":"depth","api_key":"k-456"},"idempotency_key":"job-9"}`)
	er := a.wantError(t, http.StatusConflict, CodeIdempotencyConflict)
	if er.Error.Field != "idempotency_key" || !strings.Contains(er.Error.Message, orig.ID) || !strings.Contains(er.Error.Message, "payload") {
		t.Fatalf("409 body = %s; want field idempotency_key and a message naming %s and payload", a.body, orig.ID)
	}
	if strings.Contains(string(a.body), "k-123") || strings.Contains(string(a.body), "k-456") {
		t.Fatalf("409 body shows a masked value: %s", a.body)
	}
	// Another priority only.
	a = ib.b.call(t, "POST", "/v1/intents",
		`{"type":"query_knowledge","actor":"agent.h","payload":{"q":"depth","api_key":"k-123"},"priority":6,"idempotency_key":"job-9"}`)
	if er := a.wantError(t, http.StatusConflict, CodeIdempotencyConflict); !strings.Contains(er.Error.Message, "priority") {
		t.Fatalf("409 for priority = %s", a.body)
	}

	if n := ib.count(t); n != 1 {
		t.Fatalf("%d intents listed after the refusals, want 1", n)
	}
	// Recorded once each, by the engine; not a second time by the front door.
	if n := len(ib.records(t, engine.WhatIdempotencyConflict)); n != 2 {
		t.Fatalf("%d conflict records, want 2", n)
	}
	if n := len(ib.records(t, engine.WhatRequestRefused)); n != 0 {
		t.Fatalf("%d request_refused records: the conflict was recorded twice", n)
	}
}

func TestClientTurnsTheConflictBackIntoTheEngineError(t *testing.T) {
	t.Parallel()
	ib := setupIdem(t)
	c := NewClient(ib.srv.URL, testToken, ib.srv.Client())
	sub := intent.Submission{Type: "query_knowledge", Actor: "agent.c", Priority: 5, IdempotencyKey: "nightly",
		Payload: json.RawMessage(`{"q":1}`), Context: map[string]any{"revenue_impact": true}}
	first, err := c.Submit(t.Context(), sub)
	if err != nil || first.Existing {
		t.Fatalf("first: %+v, %v", first, err)
	}
	again, err := c.Submit(t.Context(), sub)
	if err != nil || !again.Existing || again.Intent.ID != first.Intent.ID {
		t.Fatalf("retry: %+v, %v; want existing %s", again, err, first.Intent.ID)
	}
	sub.Context = map[string]any{"revenue_impact": false}
	_, err = c.Submit(t.Context(), sub)
	var ae *Error
	if !errors.Is(err, engine.ErrIdempotencyConflict) || !errors.As(err, &ae) || ae.Status != http.StatusConflict ||
		ae.Code != CodeIdempotencyConflict || ae.Field != "idempotency_key" {
		t.Fatalf("conflict over HTTP = %#v; want errors.Is ErrIdempotencyConflict and a 409 *Error", err)
	}
	if !strings.Contains(err.Error(), first.Intent.ID) || !strings.Contains(err.Error(), "context") {
		t.Fatalf("message %q does not name %s and the context", err, first.Intent.ID)
	}
	// Other refusals keep their own errors.
	_, err = c.Submit(t.Context(), intent.Submission{Type: "", Actor: "agent.c", IdempotencyKey: "nightly"})
	if errors.Is(err, engine.ErrIdempotencyConflict) {
		t.Fatalf("an invalid submission reads as a conflict: %v", err)
	}
}
