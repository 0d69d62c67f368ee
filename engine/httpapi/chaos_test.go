package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"grace/engine"
)

// chaosBundle is a handler with identities and a chaos service.
type chaosBundle struct {
	*idBundle
	chaos *fakeChaos
}

// setupChaos serves the fake API and a fake chaos service holding one
// finished run, chaos-1.
func setupChaos(t *testing.T) *chaosBundle {
	t.Helper()
	api, chaos, refusals := newFake(), &fakeChaos{}, &refusalLog{}
	h := NewHandler(api, Options{Identities: testIdentities(), Refusals: refusals, MaxBodyBytes: 1024, Chaos: chaos})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	if _, err := chaos.StartChaos(t.Context(), engine.ChaosRequest{All: true, Operator: "seed"}); err != nil {
		t.Fatal(err)
	}
	chaos.finish(engine.ChaosPassed)
	chaos.calls = 0
	return &chaosBundle{idBundle: &idBundle{testBundle: &testBundle{api: api, srv: srv}, refusals: refusals}, chaos: chaos}
}

// chaosCalls are the chaos routes, each with a call that succeeds for a
// role allowed to make it.
var chaosCalls = map[string]struct {
	method, path, body string
	status             int
}{
	"run":       {"POST", "/v1/chaos/runs", `{"scenarios":["L2_HTM_queue_flood_stress"]}`, http.StatusAccepted},
	"get":       {"GET", "/v1/chaos/runs/chaos-1", "", http.StatusOK},
	"history":   {"GET", "/v1/chaos/runs?limit=5", "", http.StatusOK},
	"halt":      {"POST", "/v1/chaos/halt", `{"reason":"drill over"}`, http.StatusOK},
	"scenarios": {"GET", "/v1/chaos/scenarios", "", http.StatusOK},
	"status":    {"GET", "/v1/chaos/status", "", http.StatusOK},
}

// Agents may not touch chaos; viewers read it; operators run and halt.
// A refused call changes nothing and is on the record.
func TestChaosRoutesByRole(t *testing.T) {
	t.Parallel()
	refused := map[string][]string{
		"agent":    {"run", "get", "history", "halt", "scenarios", "status"},
		"viewer":   {"run", "halt"},
		"operator": nil,
	}
	tokens := map[string]string{"agent": agentToken, "viewer": viewerToken, "operator": aliceToken}
	for role, token := range tokens {
		for name, c := range chaosCalls {
			t.Run(role+" "+name, func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				before := b.chaos.state()
				a := b.as(t, token, c.method, c.path, c.body)
				if !contains(refused[role], name) {
					if a.status != c.status {
						t.Fatalf("%s %s: %d %s, want %d", role, name, a.status, a.body, c.status)
					}
					return
				}
				a.wantError(t, http.StatusForbidden, CodeForbidden)
				if b.chaos.state() != before || b.chaos.calls != 0 {
					t.Fatal("a refused chaos call reached the chaos service")
				}
				r, n := b.refusals.last()
				if n != 1 || r.Status != http.StatusForbidden || r.Role != role || !strings.Contains(r.Action, "/v1/chaos/") {
					t.Fatalf("refusal not recorded as it should be: %+v (%d)", r, n)
				}
			})
		}
	}
}

// A configured identity runs and halts chaos as itself, whatever the
// operator header claims; a body naming an operator is refused; the local
// token names its operator in the header.
func TestChaosOperatorComesFromTheToken(t *testing.T) {
	t.Parallel()
	b := setupChaos(t)
	for path, body := range map[string]string{"/v1/chaos/runs": `{"all":true,"operator":"bob"}`, "/v1/chaos/halt": `{"reason":"r","operator":"bob"}`} {
		er := b.as(t, aliceToken, "POST", path, body).wantError(t, http.StatusBadRequest, CodeUnknownField)
		if er.Error.Field != "operator" {
			t.Fatalf("%s: field %q", path, er.Error.Field)
		}
	}
	if b.chaos.calls != 0 {
		t.Fatal("a body naming an operator reached the chaos service")
	}
	a := b.as(t, aliceToken, "POST", "/v1/chaos/runs", `{"all":true,"live":true,"difficulty":3}`, OperatorHeader, "carol")
	var run engine.ChaosRun
	a.decode(t, &run)
	req := b.chaos.lastReq
	if a.status != http.StatusAccepted || run.Operator != "alice" || req.Operator != "alice" || req.Trigger != engine.ChaosTriggerOperator ||
		!req.All || !req.Live || req.Difficulty != 3 {
		t.Fatalf("run: %d %s; request %+v", a.status, a.body, req)
	}
	// The run outlives its request: the service was not handed a context
	// that ends with it.
	if err := b.chaos.lastCtx.Err(); err != nil {
		t.Fatalf("the run's context ended with the request: %v", err)
	}
	b.as(t, aliceToken, "POST", "/v1/chaos/halt", `{"reason":"enough"}`, OperatorHeader, "carol")
	if got := b.chaos.halts[len(b.chaos.halts)-1]; got != "alice: enough" {
		t.Fatalf("halt recorded as %q", got)
	}
	if err := b.chaos.lastCtx.Err(); err != nil {
		t.Fatalf("the halt's context ended with the request: %v", err)
	}

	chaos := &fakeChaos{}
	local := setup(t, Options{Chaos: chaos})
	local.call(t, "POST", "/v1/chaos/runs", `{"category":"jepsen"}`, OperatorHeader, "opal")
	if chaos.lastReq.Operator != "opal" || chaos.lastReq.Category != "jepsen" {
		t.Fatalf("local run request %+v", chaos.lastReq)
	}
	local.call(t, "POST", "/v1/chaos/halt", "")
	if chaos.halts[0] != LocalIdentity+": " {
		t.Fatalf("local halt recorded as %q", chaos.halts[0])
	}
}

// Bad bodies never reach the chaos service; a request the service refuses
// names the field. Both go on the record.
func TestChaosRunBadRequests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body  string
		status      int
		code, field string
		reached     bool
	}{
		{"empty body", "", http.StatusBadRequest, CodeMalformed, "", false},
		{"malformed", `{"all":tru`, http.StatusBadRequest, CodeMalformed, "", false},
		{"unknown field", `{"all":true,"force":true}`, http.StatusBadRequest, CodeUnknownField, "force", false},
		{"wrong type", `{"difficulty":"hard"}`, http.StatusBadRequest, CodeWrongType, "difficulty", false},
		{"scenarios not a list", `{"scenarios":"L2_HTM_queue_flood_stress"}`, http.StatusBadRequest, CodeWrongType, "scenarios", false},
		{"two documents", `{"all":true}{"all":true}`, http.StatusBadRequest, CodeMalformed, "", false},
		{"oversized", `{"category":"` + strings.Repeat("x", 2000) + `"}`, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "", false},
		{"nothing named", `{}`, http.StatusBadRequest, CodeInvalidChaosRequest, "scenarios", true},
		{"unknown scenario", `{"scenarios":["L9_nope"]}`, http.StatusBadRequest, CodeInvalidChaosRequest, "scenarios", true},
		{"negative difficulty", `{"all":true,"difficulty":-1}`, http.StatusBadRequest, CodeInvalidChaosRequest, "difficulty", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupChaos(t)
			before := b.chaos.state()
			er := b.as(t, aliceToken, "POST", "/v1/chaos/runs", tc.body).wantError(t, tc.status, tc.code)
			if er.Error.Field != tc.field {
				t.Fatalf("field = %q, want %q (%s)", er.Error.Field, tc.field, er.Error.Message)
			}
			if b.chaos.state() != before {
				t.Fatal("a refused run request started a run")
			}
			if reached := b.chaos.calls > 0; reached != tc.reached {
				t.Fatalf("reached the chaos service: %v, want %v", reached, tc.reached)
			}
			r, n := b.refusals.last()
			if n != 1 || r.Code != tc.code || r.Who != "alice" || r.Field != tc.field {
				t.Fatalf("refusal = %+v (%d)", r, n)
			}
		})
	}
	b := setupChaos(t)
	b.as(t, aliceToken, "POST", "/v1/chaos/halt", `{"reason":7}`).wantError(t, http.StatusBadRequest, CodeWrongType)
	b.as(t, aliceToken, "POST", "/v1/chaos/halt", `{"why":"x"}`).wantError(t, http.StatusBadRequest, CodeUnknownField)
	for _, q := range []string{"0", "x", "1001"} {
		er := b.as(t, viewerToken, "GET", "/v1/chaos/runs?limit="+q, "").wantError(t, http.StatusBadRequest, CodeBadQuery)
		if er.Error.Field != "limit" {
			t.Fatalf("limit=%s: field %q", q, er.Error.Field)
		}
	}
	if len(b.chaos.halts) != 0 {
		t.Fatal("a bad halt body halted")
	}
}

// One run at a time (409), unknown runs (404), halting and history.
func TestChaosBusyNotFoundHaltAndHistory(t *testing.T) {
	t.Parallel()
	b := setupChaos(t)
	var run engine.ChaosRun
	a := b.as(t, aliceToken, "POST", "/v1/chaos/runs", `{"scenarios":["jepsen_crash_restart"]}`)
	a.decode(t, &run)
	if a.status != http.StatusAccepted || run.RunID != "chaos-2" || run.State != engine.ChaosRunning {
		t.Fatalf("start: %d %s", a.status, a.body)
	}
	_, refusals := b.refusals.last()
	er := b.as(t, aliceToken, "POST", "/v1/chaos/runs", `{"all":true}`).wantError(t, http.StatusConflict, CodeChaosBusy)
	if !strings.Contains(er.Error.Message, "chaos-2") {
		t.Fatalf("busy message %q does not name the run in progress", er.Error.Message)
	}
	b.as(t, viewerToken, "GET", "/v1/chaos/runs/nope", "").wantError(t, http.StatusNotFound, CodeNotFound)
	if _, n := b.refusals.last(); n != refusals {
		t.Fatal("a busy or not-found answer was recorded as a refused request")
	}

	var st engine.ChaosStatus
	b.as(t, viewerToken, "GET", "/v1/chaos/status", "").decode(t, &st)
	if st.Running == nil || st.Running.RunID != "chaos-2" || st.Score.Overall != 87.5 || !st.Loop.Enabled {
		t.Fatalf("status = %+v", st)
	}
	var halt engine.ChaosHaltResult
	b.as(t, aliceToken, "POST", "/v1/chaos/halt", `{"reason":"stop"}`).decode(t, &halt)
	if halt.Halted != 1 || len(halt.RunIDs) != 1 || halt.RunIDs[0] != "chaos-2" {
		t.Fatalf("halt = %+v", halt)
	}
	a = b.as(t, aliceToken, "POST", "/v1/chaos/halt", "")
	if a.status != http.StatusOK || !strings.Contains(string(a.body), `"run_ids":[]`) || !strings.Contains(string(a.body), `"halted":0`) {
		t.Fatalf("halt with nothing running: %d %s", a.status, a.body)
	}
	b.as(t, viewerToken, "GET", "/v1/chaos/runs/chaos-2", "").decode(t, &run)
	if run.State != engine.ChaosHalted || run.HaltedBy != "alice" {
		t.Fatalf("halted run = %+v", run)
	}
	var hist ChaosRunsResponse
	b.as(t, viewerToken, "GET", "/v1/chaos/runs?limit=1", "").decode(t, &hist)
	if len(hist.Runs) != 1 || hist.Runs[0].RunID != "chaos-2" {
		t.Fatalf("history limit=1 = %+v", hist.Runs)
	}
	b.as(t, viewerToken, "GET", "/v1/chaos/runs", "").decode(t, &hist)
	if len(hist.Runs) != 2 || hist.Runs[1].RunID != "chaos-1" {
		t.Fatalf("history = %+v", hist.Runs)
	}
	var sc ChaosScenariosResponse
	b.as(t, viewerToken, "GET", "/v1/chaos/scenarios", "").decode(t, &sc)
	if len(sc.Scenarios) != 2 || sc.Scenarios[1].Streak != 3 {
		t.Fatalf("scenarios = %+v", sc.Scenarios)
	}
}

// Without a chaos service every chaos route answers 503
// chaos_unavailable, after the role check, and nothing is recorded.
func TestChaosUnavailableWithoutAService(t *testing.T) {
	t.Parallel()
	b := setupIdentities(t)
	for name, c := range chaosCalls {
		_, n := b.refusals.last()
		er := b.as(t, aliceToken, c.method, c.path, c.body).wantError(t, http.StatusServiceUnavailable, CodeChaosUnavailable)
		if !strings.Contains(er.Error.Message, "nothing was run") {
			t.Fatalf("%s: %q", name, er.Error.Message)
		}
		if _, m := b.refusals.last(); m != n {
			t.Fatalf("%s: chaos_unavailable was recorded as a refusal", name)
		}
	}
	b.as(t, viewerToken, "POST", "/v1/chaos/runs", `{"all":true}`).wantError(t, http.StatusForbidden, CodeForbidden)
}

// Chaos progress goes out on the event stream as events named "chaos";
// agents do not get them.
func TestEventStreamCarriesChaosProgress(t *testing.T) {
	t.Parallel()
	b := setupChaos(t)
	sc := openStream(t, t.Context(), b.srv.URL, viewerToken)
	waitFor(t, "the stream and the meter to subscribe", func() bool { return b.api.subscribers() == 2 })
	b.api.publish(engine.Event{Kind: engine.EventChaos, Chaos: &engine.ChaosProgress{RunID: "chaos-9", Scenario: "jepsen_crash_restart", Index: 1, Total: 1, Phase: engine.ChaosPhaseInject}})
	kind, data := nextEvent(t, sc)
	if kind != "chaos" || !strings.Contains(data, `"chaos":{"run_id":"chaos-9"`) || !strings.Contains(data, `"phase":"inject"`) {
		t.Fatalf("event %s: %s", kind, data)
	}
}
