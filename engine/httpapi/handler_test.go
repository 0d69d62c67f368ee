package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/enginetest"
	"grace/engine/intent"
)

const testToken = "s3cret-token"

type testBundle struct {
	api *fakeAPI
	srv *httptest.Server
}

func setup(t *testing.T, opts Options) *testBundle {
	t.Helper()
	api := newFake()
	if opts.Token == "" {
		opts.Token = testToken
	}
	h := NewHandler(api, opts)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close) // runs first: open event streams end
	return &testBundle{api: api, srv: srv}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// call sends one request with the test token unless token is "-" (none).
func (b *testBundle) call(t *testing.T, method, path, body string, header ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	// A bounded wait: a request the server wrongly holds open (an event
	// stream) fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, b.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", a.status, err, a.body)
	}
}

// wantError checks status and the stable error shape and returns it.
func (a answer) wantError(t *testing.T, status int, code string) ErrorResponse {
	t.Helper()
	if a.status != status {
		t.Fatalf("status = %d, want %d; body %s", a.status, status, a.body)
	}
	var raw map[string]json.RawMessage
	a.decode(t, &raw)
	if _, ok := raw["error"]; !ok {
		t.Fatalf("no \"error\" object in %s", a.body)
	}
	var er ErrorResponse
	a.decode(t, &er)
	if er.Error.Code != code || er.Error.Message == "" {
		t.Fatalf("error = %+v, want code %q and a message", er.Error, code)
	}
	return er
}

func TestAuth(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	for _, tc := range []struct {
		name, auth string
	}{
		{"none", ""},
		{"wrong token", "Bearer nope"},
		{"token prefix", "Bearer " + testToken[:4]},
		{"basic scheme", "Basic " + testToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []struct{ method, path, body string }{
				{"POST", "/v1/intents", `{"type":"query_knowledge","actor":"a"}`},
				{"GET", "/v1/intents", ""},
				{"GET", "/v1/intents/in-001", ""},
				{"POST", "/v1/intents/in-001/approve", `{}`},
				{"GET", "/v1/narratives", ""},
				{"GET", "/v1/telemetry", ""},
				{"GET", "/v1/nothing-here", ""},
			} {
				before := b.api.state()
				a := b.call(t, r.method, r.path, r.body, "Authorization", tc.auth)
				a.wantError(t, http.StatusUnauthorized, CodeUnauthorized)
				if got := a.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("%s %s: WWW-Authenticate = %q", r.method, r.path, got)
				}
				if b.api.state() != before || b.api.calls != 0 {
					t.Fatalf("%s %s without a valid token reached the engine", r.method, r.path)
				}
			}
		})
	}
	// Two Authorization headers: which one counts would be a guess (a proxy
	// may check one and the API use the other), so neither does.
	for _, pair := range [][2]string{{"Bearer " + testToken, "Bearer nope"}, {"Bearer nope", "Bearer " + testToken}} {
		req, _ := http.NewRequest("GET", b.srv.URL+"/v1/intents", nil)
		req.Header.Add("Authorization", pair[0])
		req.Header.Add("Authorization", pair[1])
		resp, err := b.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answer{status: resp.StatusCode, header: resp.Header, body: data}.wantError(t, http.StatusUnauthorized, CodeUnauthorized)
	}
	// The probes need no token.
	for _, p := range []string{"/healthz", "/readyz"} {
		if a := b.call(t, "GET", p, "", "Authorization", ""); a.status != http.StatusOK {
			t.Errorf("GET %s without token = %d, want 200", p, a.status)
		}
	}
}

// TestProbesAnswerOtherMethods405: a method the probes and /metrics do
// not take is answered 405 method_not_allowed with an Allow header, in the
// error shape, with or without a token (those paths need none), as the
// authenticated routes answer one with a token; and the refusal is on the
// record. A wrong method on an authenticated route without a token is
// still a 401: it tells nothing about which routes exist.
func TestProbesAnswerOtherMethods405(t *testing.T) {
	t.Parallel()
	refusals := &refusalLog{}
	b := setup(t, Options{Refusals: refusals})
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		for _, method := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
			for _, auth := range []string{"", "Bearer " + testToken} {
				a := b.call(t, method, path, "", "Authorization", auth)
				er := a.wantError(t, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
				if got := a.header.Get("Allow"); got != "GET, HEAD" {
					t.Errorf("%s %s (auth %q): Allow %q, want \"GET, HEAD\"", method, path, auth, got)
				}
				if er.Error.Field != "" || !strings.Contains(er.Error.Message, method) || !strings.Contains(er.Error.Message, path) {
					t.Errorf("%s %s: error %+v, want the method and path named and no field", method, path, er.Error)
				}
				if rf, _ := refusals.last(); rf.Status != http.StatusMethodNotAllowed || rf.Action != method+" "+path {
					t.Errorf("%s %s: refusal record %+v", method, path, rf)
				}
			}
		}
		if a := b.call(t, "HEAD", path, "", "Authorization", ""); a.status != http.StatusOK {
			t.Errorf("HEAD %s without a token = %d, want 200", path, a.status)
		}
	}
	// The authenticated routes: 405 with a token, 401 without.
	a := b.call(t, "DELETE", "/v1/intents", "")
	a.wantError(t, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
	if got := a.header.Get("Allow"); !strings.Contains(got, "GET") || !strings.Contains(got, "POST") {
		t.Errorf("DELETE /v1/intents: Allow %q", got)
	}
	b.call(t, "DELETE", "/v1/intents", "", "Authorization", "").wantError(t, http.StatusUnauthorized, CodeUnauthorized)
}

// TestServerURLWithV1Named: a client given the server's URL with /v1 on
// it asks for /v1/v1/...: the 404 says to give the URL without it.
func TestServerURLWithV1Named(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	er := b.call(t, "GET", "/v1/v1/intents", "").wantError(t, http.StatusNotFound, CodeNotFound)
	if !strings.Contains(er.Error.Message, "without (http://host:port)") {
		t.Errorf("GET /v1/v1/intents: %q, want it to say to give the URL without /v1", er.Error.Message)
	}
	if er := b.call(t, "GET", "/v2/intents", "").wantError(t, http.StatusNotFound, CodeNotFound); strings.Contains(er.Error.Message, "/v1 on its end") {
		t.Errorf("GET /v2/intents: %q, names a /v1 it was not given", er.Error.Message)
	}
}

func TestEmptyTokenRefusesEverything(t *testing.T) {
	t.Parallel()
	api := newFake()
	srv := httptest.NewServer(NewHandler(api, Options{}))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/v1/telemetry", nil)
	req.Header.Set("Authorization", "Bearer ")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("empty configured token: status %d, want 401", resp.StatusCode)
	}
}

func TestSubmitAndIdempotency(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	body := `{"type":"query_knowledge","actor":"agent-7","payload":{"q":"x"},"context":{"revenue_impact":true},"priority":7,"idempotency_key":"k1"}`
	a := b.call(t, "POST", "/v1/intents", body)
	if a.status != http.StatusAccepted {
		t.Fatalf("submit: status %d, want 202: %s", a.status, a.body)
	}
	var first SubmitResponse
	a.decode(t, &first)
	if first.ID == "" || first.State != intent.StateQueued || first.Existing || first.Decision.RoutedTo != "direct" {
		t.Fatalf("submit answer = %+v", first)
	}
	got := b.api.intents[first.ID]
	if got.Priority != 7 || got.Actor != "agent-7" || got.Context["revenue_impact"] != true || string(got.Payload) != `{"q":"x"}` {
		t.Fatalf("engine got %+v", got)
	}

	a = b.call(t, "POST", "/v1/intents", body)
	if a.status != http.StatusOK {
		t.Fatalf("resubmit: status %d, want 200: %s", a.status, a.body)
	}
	var again SubmitResponse
	a.decode(t, &again)
	if again.ID != first.ID || !again.Existing {
		t.Fatalf("resubmit answer = %+v, want existing %s", again, first.ID)
	}
	if len(b.api.intents) != 1 {
		t.Fatalf("resubmitting with the same key made %d intents", len(b.api.intents))
	}
}

func TestSubmitDefaultPriority(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	var r SubmitResponse
	b.call(t, "POST", "/v1/intents", `{"type":"t","actor":"a"}`).decode(t, &r)
	if p := b.api.intents[r.ID].Priority; p != DefaultPriority {
		t.Fatalf("priority = %d, want default %d", p, DefaultPriority)
	}
	b.call(t, "POST", "/v1/intents", `{"type":"t","actor":"a","priority":0}`).decode(t, &r)
	if p := b.api.intents[r.ID].Priority; p != 0 {
		t.Fatalf("explicit priority 0 became %d", p)
	}
}

func TestReadRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	var q, pend SubmitResponse
	b.call(t, "POST", "/v1/intents", `{"type":"query_knowledge","actor":"a"}`).decode(t, &q)
	b.call(t, "POST", "/v1/intents", `{"type":"change_charter","actor":"a"}`).decode(t, &pend)

	a := b.call(t, "GET", "/v1/intents/"+q.ID, "")
	var in intent.Intent
	a.decode(t, &in)
	if a.status != http.StatusOK || in.ID != q.ID || in.Type != "query_knowledge" {
		t.Fatalf("get: %d %+v", a.status, in)
	}

	var list IntentsResponse
	a = b.call(t, "GET", "/v1/intents?state=pending_approval", "")
	a.decode(t, &list)
	if a.status != http.StatusOK || len(list.Intents) != 1 || list.Intents[0].ID != pend.ID {
		t.Fatalf("list pending: %d %s", a.status, a.body)
	}
	b.call(t, "GET", "/v1/intents", "").decode(t, &list)
	if len(list.Intents) != 2 || list.Intents[0].ID != pend.ID {
		t.Fatalf("list all, newest first: %s", a.body)
	}
	a = b.call(t, "GET", "/v1/intents?state=denied", "")
	if !strings.Contains(string(a.body), `"intents":[]`) {
		t.Fatalf("an empty list must be [] not null: %s", a.body)
	}

	a = b.call(t, "GET", "/v1/narratives?q=deploy+model&actor=gov&action=routed&since=1h&limit=5&intent="+q.ID, "")
	var nr NarrativesResponse
	a.decode(t, &nr)
	if a.status != http.StatusOK || len(nr.Narratives) != 2 || nr.Narratives[0].ID != 2 {
		t.Fatalf("narratives: %d %s", a.status, a.body)
	}
	lq := b.api.lastQuery
	if lq.Text != "deploy model" || lq.Actor != "gov" || lq.Action != "routed" || lq.Limit != 5 || lq.IntentID != q.ID {
		t.Fatalf("search query = %+v", lq)
	}
	if ago := time.Since(lq.Since); ago < 59*time.Minute || ago > 61*time.Minute {
		t.Fatalf("since=1h became %v", lq.Since)
	}
	b.call(t, "GET", "/v1/narratives?since=2026-01-02T00:00:00Z", "")
	if !b.api.lastQuery.Since.Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)) || b.api.lastQuery.Limit != defaultNarratives {
		t.Fatalf("RFC 3339 since / default limit: %+v", b.api.lastQuery)
	}

	a = b.call(t, "GET", "/v1/telemetry", "")
	var snap struct {
		QueueDepth int  `json:"queue_depth"`
		Ready      bool `json:"ready"`
	}
	a.decode(t, &snap)
	if a.status != http.StatusOK || snap.QueueDepth != 2 || !snap.Ready {
		t.Fatalf("telemetry: %d %s", a.status, a.body)
	}
}

func TestApproveDeny(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	var p1, p2 SubmitResponse
	b.call(t, "POST", "/v1/intents", `{"type":"change_charter","actor":"a"}`).decode(t, &p1)
	b.call(t, "POST", "/v1/intents", `{"type":"change_charter","actor":"a"}`).decode(t, &p2)

	a := b.call(t, "POST", "/v1/intents/"+p1.ID+"/approve", `{"reason":"looks fine"}`, OperatorHeader, "alice")
	var in intent.Intent
	a.decode(t, &in)
	if a.status != http.StatusOK || in.State != intent.StateQueued || in.DecidedBy != "alice" || in.DecisionReason != "looks fine" {
		t.Fatalf("approve: %d %s", a.status, a.body)
	}
	a = b.call(t, "POST", "/v1/intents/"+p2.ID+"/deny", `{"reason":"no","operator":"bob"}`)
	a.decode(t, &in)
	if a.status != http.StatusOK || in.State != intent.StateDenied || in.DecidedBy != "bob" {
		t.Fatalf("deny: %d %s", a.status, a.body)
	}
	// An approval with no body at all is fine; the local token's operator
	// defaults to its identity's name.
	var p3 SubmitResponse
	b.call(t, "POST", "/v1/intents", `{"type":"change_charter","actor":"a"}`).decode(t, &p3)
	if a = b.call(t, "POST", "/v1/intents/"+p3.ID+"/approve", ""); a.status != http.StatusOK || b.api.lastOp != LocalIdentity {
		t.Fatalf("approve without body: %d %s (operator %q)", a.status, a.body, b.api.lastOp)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{MaxBodyBytes: 4096})
	var pend, done SubmitResponse
	b.call(t, "POST", "/v1/intents", `{"type":"change_charter","actor":"a"}`).decode(t, &pend)
	b.call(t, "POST", "/v1/intents", `{"type":"query_knowledge","actor":"a"}`).decode(t, &done)

	big := `{"type":"t","actor":"a","payload":{"x":"` + strings.Repeat("y", 5000) + `"}}`
	longReason := `{"reason":"` + strings.Repeat("r", maxReasonBytes+1) + `"}`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code, field              string
	}{
		{"malformed", "POST", "/v1/intents", `{"type":"t",`, 400, CodeMalformed, ""},
		{"not json", "POST", "/v1/intents", `type=t`, 400, CodeMalformed, ""},
		{"empty body", "POST", "/v1/intents", ``, 400, CodeMalformed, ""},
		{"trailing data", "POST", "/v1/intents", `{"type":"t","actor":"a"} {"type":"t"}`, 400, CodeMalformed, ""},
		{"array body", "POST", "/v1/intents", `[1,2]`, 400, CodeWrongType, ""},
		{"unknown field", "POST", "/v1/intents", `{"type":"t","actor":"a","prio":3}`, 400, CodeUnknownField, "prio"},
		{"wrong type priority", "POST", "/v1/intents", `{"type":"t","actor":"a","priority":"high"}`, 400, CodeWrongType, "priority"},
		{"wrong type context", "POST", "/v1/intents", `{"type":"t","actor":"a","context":[1]}`, 400, CodeWrongType, "context"},
		{"oversized", "POST", "/v1/intents", big, 413, CodeBodyTooLarge, ""},
		{"invalid intent", "POST", "/v1/intents", `{"type":"","actor":"","payload":[1],"priority":12}`, 422, CodeInvalidIntent, "type"},
		{"unknown id", "GET", "/v1/intents/nope", "", 404, CodeNotFound, "id"},
		{"approve unknown id", "POST", "/v1/intents/nope/approve", `{"reason":"r"}`, 404, CodeNotFound, "id"},
		{"approve not pending", "POST", "/v1/intents/" + done.ID + "/approve", `{"reason":"r"}`, 409, CodeNotPending, ""},
		{"deny without reason", "POST", "/v1/intents/" + pend.ID + "/deny", `{}`, 422, CodeReasonRequired, "reason"},
		{"deny blank reason", "POST", "/v1/intents/" + pend.ID + "/deny", `{"reason":"   "}`, 422, CodeReasonRequired, "reason"},
		{"deny no body", "POST", "/v1/intents/" + pend.ID + "/deny", ``, 422, CodeReasonRequired, "reason"},
		{"deny unknown field", "POST", "/v1/intents/" + pend.ID + "/deny", `{"reason":"r","why":"x"}`, 400, CodeUnknownField, "why"},
		{"deny wrong type", "POST", "/v1/intents/" + pend.ID + "/deny", `{"reason":5}`, 400, CodeWrongType, "reason"},
		{"bad state", "GET", "/v1/intents?state=bogus", "", 400, CodeBadQuery, "state"},
		{"bad limit", "GET", "/v1/intents?limit=0", "", 400, CodeBadQuery, "limit"},
		{"bad since", "GET", "/v1/narratives?since=yesterday", "", 400, CodeBadQuery, "since"},
		{"negative since", "GET", "/v1/narratives?since=-1h", "", 400, CodeBadQuery, "since"},
		{"big limit", "GET", "/v1/narratives?limit=100000", "", 400, CodeBadQuery, "limit"},
		{"unknown route", "GET", "/v1/nothing", "", 404, CodeNotFound, ""},
		{"wrong method", "DELETE", "/v1/intents/" + pend.ID, "", 405, CodeMethodNotAllowed, ""},
		// Bodies encoding/json would take: null, bad UTF-8, a name twice
		// (the decoder keeps the last), a name in another case.
		{"null body", "POST", "/v1/intents", `null`, 400, CodeWrongType, ""},
		{"null decision body", "POST", "/v1/intents/" + pend.ID + "/deny", `null`, 400, CodeWrongType, ""},
		{"invalid utf-8", "POST", "/v1/intents", "{\"type\":\"t\",\"actor\":\"a\",\"payload\":{\"k\":\"\xff\"}}", 400, CodeMalformed, ""},
		{"name twice", "POST", "/v1/intents", `{"type":"query_knowledge","type":"change_charter","actor":"a"}`, 400, CodeDuplicateField, "type"},
		{"name twice in payload", "POST", "/v1/intents", `{"type":"t","actor":"a","payload":{"x":{"y":1,"y":2}}}`, 400, CodeDuplicateField, "payload.x.y"},
		{"name twice in context array", "POST", "/v1/intents", `{"type":"t","actor":"a","context":{"l":[{"a":1},{"b":1,"b":2}]}}`, 400, CodeDuplicateField, "context.l[1].b"},
		{"reason twice", "POST", "/v1/intents/" + pend.ID + "/deny", `{"reason":"r","reason":"s"}`, 400, CodeDuplicateField, "reason"},
		{"name twice, once escaped", "POST", "/v1/intents", `{"type":"query_knowledge","\u0074ype":"change_charter","actor":"a"}`, 400, CodeDuplicateField, "type"},
		{"name twice after a string holding quotes and brackets", "POST", "/v1/intents", `{"type":"t","actor":"a","payload":{"s":"\"}{,[","s":1}}`, 400, CodeDuplicateField, "payload.s"},
		// Past the name check (no false duplicate), refused by validation.
		{"same name in sibling objects", "POST", "/v1/intents", `{"type":"","actor":"a","payload":{"a":{"x":1},"b":{"x":"}"},"c":[{"x":1},{"x":2}]}}`, 422, CodeInvalidIntent, "type"},
		{"name in capitals", "POST", "/v1/intents", `{"TYPE":"t","actor":"a"}`, 400, CodeUnknownField, "TYPE"},
		{"name again in another case", "POST", "/v1/intents", `{"type":"query_knowledge","Type":"change_charter","actor":"a"}`, 400, CodeUnknownField, "Type"},
		{"reason in another case", "POST", "/v1/intents/" + pend.ID + "/deny", `{"Reason":"r"}`, 400, CodeUnknownField, "Reason"},
		// Free text that would reach the record and the console as it is.
		{"reason too long", "POST", "/v1/intents/" + pend.ID + "/deny", longReason, 422, CodeInvalidField, "reason"},
		{"reason with an escape", "POST", "/v1/intents/" + pend.ID + "/deny", `{"reason":"ok\u001b[2J"}`, 422, CodeInvalidField, "reason"},
		{"reason with a carriage return", "POST", "/v1/intents/" + pend.ID + "/approve", `{"reason":"ok\rforged"}`, 422, CodeInvalidField, "reason"},
		{"operator with NUL", "POST", "/v1/intents/" + pend.ID + "/approve", `{"operator":"x\u0000y"}`, 422, CodeInvalidField, "operator"},
		{"review note too long", "POST", "/v1/intents/" + done.ID + "/review", `{"note":"` + strings.Repeat("n", maxReasonBytes+1) + `"}`, 422, CodeInvalidField, "note"},
		// Query strings: repeated, unknown, undecodable, contradictory.
		{"state twice", "GET", "/v1/intents?state=queued&state=bogus", "", 400, CodeBadQuery, "state"},
		{"limit twice", "GET", "/v1/narratives?limit=1&limit=abc", "", 400, CodeBadQuery, "limit"},
		{"unknown parameter", "GET", "/v1/intents?stat=queued", "", 400, CodeBadQuery, "stat"},
		{"parameter on a route without any", "GET", "/v1/intents/" + pend.ID + "?x=1", "", 400, CodeBadQuery, "x"},
		{"undecodable query", "GET", "/v1/intents?state=%zz", "", 400, CodeBadQuery, ""},
		{"until before since", "GET", "/v1/narratives?since=1h&until=2h", "", 400, CodeBadQuery, "until"},
		{"unknown event kind", "GET", "/v1/events?kinds=intent,bogus", "", 400, CodeBadQuery, "kinds"},
		{"chaos limit twice", "GET", "/v1/chaos/runs?limit=1&limit=2", "", 400, CodeBadQuery, "limit"},
		// Paths the mux would redirect (307, HTML, before the token): a
		// client following it would submit to a route it did not name.
		{"double slash", "POST", "//v1/intents", `{"type":"t","actor":"a"}`, 404, CodeNotFound, ""},
		{"dot dot", "GET", "/v1/intents/x/../" + pend.ID, "", 404, CodeNotFound, ""},
		{"dot", "POST", "/v1/./intents", `{"type":"t","actor":"a"}`, 404, CodeNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := b.api.state()
			a := b.call(t, tc.method, tc.path, tc.body)
			er := a.wantError(t, tc.status, tc.code)
			if er.Error.Field != tc.field {
				t.Errorf("field = %q, want %q (%s)", er.Error.Field, tc.field, a.body)
			}
			if after := b.api.state(); after != before {
				t.Fatalf("a refused request changed the engine:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	// Headers at fault.
	for _, tc := range []struct {
		name, method, path, body string
		header                   []string
		status                   int
		code, field              string
	}{
		{"gzip label on a plain body", "POST", "/v1/intents", `{"type":"t","actor":"a"}`, []string{"Content-Encoding", "gzip"}, 415, CodeUnsupportedEncoding, ""},
		{"operator header too long", "POST", "/v1/intents/" + pend.ID + "/approve", `{}`, []string{OperatorHeader, strings.Repeat("o", maxOperatorBytes+1)}, 422, CodeInvalidField, OperatorHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := b.api.state()
			er := b.call(t, tc.method, tc.path, tc.body, tc.header...).wantError(t, tc.status, tc.code)
			if er.Error.Field != tc.field {
				t.Errorf("field = %q, want %q", er.Error.Field, tc.field)
			}
			if after := b.api.state(); after != before {
				t.Fatalf("a refused request changed the engine:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	// What the checks let through: any Content-Type (curl -d says form
	// data), an explicit identity encoding, names as the route spells them.
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", ""} {
		a := b.call(t, "POST", "/v1/intents", `{"type":"t","actor":"a","payload":{"x":{"y":1},"y":2}}`, "Content-Type", ct, "Content-Encoding", "identity")
		if a.status != http.StatusAccepted {
			t.Fatalf("Content-Type %q: %d %s", ct, a.status, a.body)
		}
	}
}

// TestErrorMessagesAreBounded: an error quoting the request (a 10 KB ID)
// does not send it all back.
func TestErrorMessagesAreBounded(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	long := strings.Repeat("a", 10<<10)
	for _, path := range []string{"/v1/intents/" + long, "/v1/intents/" + long + "/nothing"} {
		a := b.call(t, "GET", path, "")
		a.wantError(t, http.StatusNotFound, CodeNotFound)
		if len(a.body) > 2*maxMessageBytes {
			t.Fatalf("GET %.40s…: a %d-byte error answer", path, len(a.body))
		}
	}
}

// TestSlowBodyIsATimeoutNotMalformed: a body cut off by the server's read
// timeout is answered (and recorded) as 408, not as malformed JSON.
func TestSlowBodyIsATimeoutNotMalformed(t *testing.T) {
	t.Parallel()
	err := readError(&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded})
	if ae, ok := err.(*apiError); !ok || ae.status != http.StatusRequestTimeout || ae.body.Code != CodeTimeout {
		t.Fatalf("a read timeout became %v", err)
	}
	// A body without a Content-Length (chunked) stopped at the limit.
	err = readError(&http.MaxBytesError{Limit: 4096})
	if ae, ok := err.(*apiError); !ok || ae.status != http.StatusRequestEntityTooLarge || ae.body.Code != CodeBodyTooLarge ||
		!strings.Contains(ae.body.Message, "4096 bytes (api.max_body_bytes)") {
		t.Fatalf("a body over the limit became %v", err)
	}
}

func TestInvalidIntentListsEveryProblem(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	a := b.call(t, "POST", "/v1/intents", `{"type":"","actor":"a","payload":[1],"priority":12}`)
	er := a.wantError(t, 422, CodeInvalidIntent)
	fields := map[string]bool{}
	for _, p := range er.Problems {
		fields[p.Field] = p.Reason != ""
	}
	for _, f := range []string{"type", "priority", "payload"} {
		if !fields[f] {
			t.Errorf("problem for %q missing from %s", f, a.body)
		}
	}
}

func TestQueueFullAndReadiness(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	b.api.full = true
	b.api.ready = false
	a := b.call(t, "POST", "/v1/intents", `{"type":"t","actor":"a"}`)
	a.wantError(t, http.StatusServiceUnavailable, CodeQueueFull)
	if a.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	a = b.call(t, "GET", "/readyz", "")
	var rr ReadyResponse
	a.decode(t, &rr)
	if a.status != http.StatusServiceUnavailable || rr.Ready {
		t.Fatalf("readyz on a not-ready engine: %d %s", a.status, a.body)
	}

	custom := setup(t, Options{Ready: func() (bool, map[string]string) {
		return true, map[string]string{"store": "ok"}
	}})
	a = custom.call(t, "GET", "/readyz", "")
	a.decode(t, &rr)
	if a.status != http.StatusOK || rr.Checks["store"] != "ok" {
		t.Fatalf("custom readiness: %d %s", a.status, a.body)
	}
}

func TestRateLimitedSubmission(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	b.api.limited = true
	a := b.call(t, "POST", "/v1/intents", `{"type":"t","actor":"a"}`)
	a.wantError(t, http.StatusTooManyRequests, CodeRateLimited)
	if got := a.header.Get("Retry-After"); got != "2" {
		t.Fatalf("Retry-After = %q, want 2 (1.5 s rounded up)", got)
	}
	_, err := NewClient(b.srv.URL, testToken, b.srv.Client()).Submit(t.Context(), intent.Submission{Type: "t", Actor: "a"})
	if !errors.Is(err, engine.ErrRateLimited) {
		t.Fatalf("client error = %v, want ErrRateLimited", err)
	}
}

// panicky is the fake with a Get that panics, as a bug would.
type panicky struct{ *fakeAPI }

func (panicky) Get(context.Context, string) (intent.Intent, error) { panic("a bug") }

// TestPanicIsAnsweredNotDropped: a panic below the handler is a 500 in the
// JSON shape (net/http would drop the connection and print the trace), and
// the server goes on answering.
func TestPanicIsAnsweredNotDropped(t *testing.T) {
	t.Parallel()
	logged := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logged, nil))
	h := NewHandler(panicky{newFake()}, Options{Token: testToken, Logger: log})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	b := &testBundle{srv: srv}
	a := b.call(t, "GET", "/v1/intents/in-001", "")
	er := a.wantError(t, http.StatusInternalServerError, CodeInternal)
	id := a.header.Get("X-Request-Id")
	if id == "" || !strings.Contains(er.Error.Message, "request "+id) {
		t.Fatalf("the 500 does not name its request ID %q: %+v", id, er.Error)
	}
	if a := b.call(t, "GET", "/healthz", ""); a.status != http.StatusOK {
		t.Fatalf("after a panic: healthz %d", a.status)
	}
	if !strings.Contains(logged.String(), "http api handler failed") || !strings.Contains(logged.String(), "a bug") ||
		!strings.Contains(logged.String(), "request_id="+id) {
		t.Fatalf("the panic was not logged as an error under its request ID %s: %q", id, logged.String())
	}
}

// TestRequestIDs: every answer carries an X-Request-Id: the client's own
// when it sent a usable one, else a new one, different each time; a
// refusal's record carries it; with log.level debug every request is
// logged under it with its identity, status and time taken.
func TestRequestIDs(t *testing.T) {
	t.Parallel()
	logged := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api := newFake()
	refusals := &refusalLog{}
	ids := []Identity{{Name: "alice", Role: engine.RoleOperator, TokenSHA256: sha256.Sum256([]byte(testToken))}}
	h := NewHandler(api, Options{Identities: ids, Logger: log, Refusals: refusals})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	b := &testBundle{srv: srv}

	if got := b.call(t, "GET", "/v1/intents", "", "X-Request-Id", "agent-7:req.42_a").header.Get("X-Request-Id"); got != "agent-7:req.42_a" {
		t.Errorf("a usable client ID came back as %q", got)
	}
	seen := map[string]bool{}
	for _, sent := range []string{"", "has space", strings.Repeat("x", 129), "ünïcode", "semi;colon"} {
		got := b.call(t, "GET", "/v1/intents", "", "X-Request-Id", sent).header.Get("X-Request-Id")
		if got == "" || got == sent || seen[got] || !usableRequestID(got) {
			t.Errorf("sent %q: answered with ID %q (seen before: %v)", sent, got, seen[got])
		}
		seen[got] = true
	}

	a := b.call(t, "POST", "/v1/intents/in-001/approve", `{}`, "Authorization", "Bearer forged", "X-Request-Id", "probe-1")
	a.wantError(t, http.StatusUnauthorized, CodeUnauthorized)
	if rf, _ := refusals.last(); rf.RequestID != "probe-1" {
		t.Errorf("the refusal's record has request ID %q, want probe-1", rf.RequestID)
	}
	for _, want := range []string{
		`msg="http request" method=GET path=/v1/intents status=200`, `identity=alice`, `request_id=agent-7:req.42_a`,
		`method=POST path=/v1/intents/in-001/approve status=401`, `identity=- `, `request_id=probe-1`,
	} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("the debug log lacks %q:\n%s", want, logged.String())
		}
	}
}

// logBuffer collects a handler's log, safe for the server's goroutines.
type logBuffer = enginetest.Buffer

// A body that begins with a byte order mark (as some editors save JSON)
// is read as the JSON after it, with the same checks; it was refused as
// malformed ("invalid character 'ï'").
func TestBodyWithAByteOrderMark(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	var sub SubmitResponse
	a := b.call(t, "POST", "/v1/intents", "\xef\xbb\xbf"+`{"type":"query_knowledge","actor":"a"}`)
	if a.status != http.StatusAccepted {
		t.Fatalf("submit with a BOM: %d %s", a.status, a.body)
	}
	a.decode(t, &sub)
	if sub.ID == "" {
		t.Fatalf("no intent: %s", a.body)
	}
	before := b.api.state()
	er := b.call(t, "POST", "/v1/intents", "\xef\xbb\xbf"+`{"type":"t","type":"u","actor":"a"}`).wantError(t, http.StatusBadRequest, CodeDuplicateField)
	if er.Error.Field != "type" {
		t.Fatalf("field = %q, want type", er.Error.Field)
	}
	// Only one, and only first: a second one is not whitespace.
	b.call(t, "POST", "/v1/intents", "\xef\xbb\xbf\xef\xbb\xbf"+`{"type":"query_knowledge","actor":"a"}`).wantError(t, http.StatusBadRequest, CodeMalformed)
	if after := b.api.state(); after != before {
		t.Fatalf("a refused request changed the engine:\nbefore %s\nafter  %s", before, after)
	}
}

// An oversized body's refusal names the setting that limits it, so that
// an operator knows what to raise (or an agent what it ran into).
func TestOversizedBodyNamesItsLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{MaxBodyBytes: 4096})
	big := `{"type":"t","actor":"a","payload":{"x":"` + strings.Repeat("y", 5000) + `"}}`
	er := b.call(t, "POST", "/v1/intents", big).wantError(t, http.StatusRequestEntityTooLarge, CodeBodyTooLarge)
	if !strings.Contains(er.Error.Message, "the limit is 4096 bytes (api.max_body_bytes)") {
		t.Fatalf("message = %q", er.Error.Message)
	}
}
