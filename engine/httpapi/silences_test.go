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
	"grace/engine/watchdog"
	"grace/engine/worker"
)

// silenceProbe is a watched component whose findings the test sets.
type silenceProbe struct {
	mu sync.Mutex
	st map[string]watchdog.Status
}

func (p *silenceProbe) set(condition string, s watchdog.Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st[condition] = s
}

func (p *silenceProbe) check(time.Time) watchdog.Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := watchdog.Result{Ready: true}
	for c, s := range p.st {
		r.Findings = append(r.Findings, watchdog.Finding{Condition: c, Status: s, Reason: c + " is " + s.String()})
	}
	return r
}

// setupSilences is setupReal on a fake clock, with a probe watched: its
// alerts raised at will. check runs one watchdog check.
func setupSilences(t *testing.T) (*realBundle, *silenceProbe, func()) {
	t.Helper()
	cfg := engine.Default()
	cfg.DB = "test.db"
	cfg.Cortex.Enabled = false
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	st := enginetest.NewStore(64)
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	p := &silenceProbe{st: map[string]watchdog.Status{}}
	e, err := engine.New(cfg, engine.Deps{Store: st, Clock: clk, Components: []watchdog.Component{{Name: "probe", Check: p.check}}})
	if err != nil {
		t.Fatal(err)
	}
	events := e.Subscribe(t.Context())
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids := []Identity{
		{Name: "alice", Role: engine.RoleOperator, TokenSHA256: sha256.Sum256([]byte(opAlice))},
		{Name: "bob", Role: engine.RoleOperator, TokenSHA256: sha256.Sum256([]byte(opBob))},
		{Name: "agent.builder", Role: engine.RoleAgent, TokenSHA256: sha256.Sum256([]byte(agentB))},
		{Name: "val", Role: engine.RoleViewer, TokenSHA256: sha256.Sum256([]byte(viewVal))},
	}
	h := NewHandler(e, Options{Identities: ids, MaxBodyBytes: maxBody})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { _ = st.Close() })
	t.Cleanup(e.Stop)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	check := func() {
		t.Helper()
		clk.Advance(cfg.Watchdog.Interval)
		at := clk.Now()
		limit := time.After(10 * time.Second)
		for {
			select {
			case ev := <-events:
				if ev.Kind == engine.EventTelemetry && ev.Telemetry.At.Equal(at) {
					return
				}
			case <-limit:
				t.Fatalf("no check at %v", at)
			}
		}
	}
	return &realBundle{e: e, store: st, srv: srv}, p, check
}

// refusedOn counts the request_refused records of who on action.
func (b *realBundle) refusedOn(who, action string) int {
	n := 0
	for _, r := range b.store.Records() {
		if r.What == engine.WhatRequestRefused && r.Who == who && r.Context["action"] == action {
			n++
		}
	}
	return n
}

// TestSilencesOverHTTP: operators make, list and end silences; viewers
// list them; agents and viewers are refused the rest (403, on the
// record); a bad match, for, until or reason is answered with the field
// named and makes nothing; an unknown ID is a 404, an ended silence a
// 409; GET /v1/alerts marks the firing alert a silence mutes; the client
// does all of it, and the records say who.
func TestSilencesOverHTTP(t *testing.T) {
	t.Parallel()
	b, p, check := setupSilences(t)
	p.set("flaky", watchdog.Warn)
	check()
	const create = "POST /v1/alerts/silences"
	ok := `{"match":"probe/*","for":"2h","reason":"probe rework"}`
	b.do(t, agentB, "POST", "/v1/alerts/silences", ok).wantError(t, http.StatusForbidden, CodeForbidden)
	b.do(t, viewVal, "POST", "/v1/alerts/silences", ok).wantError(t, http.StatusForbidden, CodeForbidden)
	b.do(t, agentB, "GET", "/v1/alerts/silences", "").wantError(t, http.StatusForbidden, CodeForbidden)
	if b.refusedOn("agent.builder", create) != 1 || b.refusedOn("val", create) != 1 || b.refusedOn("agent.builder", "GET /v1/alerts/silences") != 1 {
		t.Fatalf("the refusals are not on the record: %v", b.whoDid(engine.WhatRequestRefused))
	}
	for _, tc := range []struct {
		body   string
		status int
		code   string
		field  string
	}{
		{`{"match":"probe","for":"2h","reason":"r"}`, 422, CodeInvalidField, "match"},
		{`{"match":"pro*/x","for":"2h","reason":"r"}`, 422, CodeInvalidField, "match"},
		{`{"match":"","for":"2h","reason":"r"}`, 422, CodeInvalidField, "match"},
		{`{"match":"probe/*","for":"2 hours","reason":"r"}`, 422, CodeInvalidField, "for"},
		{`{"match":"probe/*","for":"0s","reason":"r"}`, 422, CodeInvalidField, "for"},
		{`{"match":"probe/*","for":"31d","reason":"r"}`, 422, CodeInvalidField, "for"},
		{`{"match":"probe/*","for":"1ns","reason":"r"}`, 422, CodeInvalidField, "for"},
		{`{"match":"probe/*","for":"500ms","reason":"r"}`, 422, CodeInvalidField, "for"},
		{`{"match":"probe/*","for":"0d59s","reason":"r"}`, 422, CodeInvalidField, "for"},
		{`{"match":"probe/*","until":"2026-03-01T09:00:45Z","reason":"r"}`, 422, CodeInvalidField, "until"},
		{`{"match":"probe/*","reason":"r"}`, 422, CodeInvalidField, "for"},
		{`{"match":"probe/*","until":"tomorrow","reason":"r"}`, 422, CodeInvalidField, "until"},
		{`{"match":"probe/*","until":"2020-01-01T00:00:00Z","reason":"r"}`, 422, CodeInvalidField, "until"},
		{`{"match":"probe/*","until":"2026-05-01T00:00:00Z","reason":"r"}`, 422, CodeInvalidField, "until"},
		{`{"match":"probe/*","for":"2h","until":"2026-03-01T12:00:00Z","reason":"r"}`, 400, CodeConflictingFields, "until"},
		{`{"match":"probe/*","for":"2h"}`, 422, CodeReasonRequired, "reason"},
		{`{"match":"probe/*","for":"2h","reason":"a\u001b[2Jb"}`, 422, CodeInvalidField, "reason"},
		{`{"match":"probe/*","for":7200,"reason":"r"}`, 400, CodeWrongType, "for"},
		{`{"match":"probe/*","for":"2h","reason":"r","silly":1}`, 400, CodeUnknownField, "silly"},
	} {
		er := b.do(t, opAlice, "POST", "/v1/alerts/silences", tc.body).wantError(t, tc.status, tc.code)
		if er.Error.Field != tc.field {
			t.Errorf("%s: field %q, want %q (%s)", tc.body, er.Error.Field, tc.field, er.Error.Message)
		}
	}
	var list SilencesResponse
	b.do(t, viewVal, "GET", "/v1/alerts/silences?all=true", "").decode(t, &list)
	if list.Silences == nil || len(list.Silences) != 0 || b.store.Count(engine.WhatAlertSilenced) != 0 {
		t.Fatalf("after refused requests: %+v, %d records", list, b.store.Count(engine.WhatAlertSilenced))
	}
	b.do(t, viewVal, "GET", "/v1/alerts/silences?all=maybe", "").wantError(t, http.StatusBadRequest, CodeBadQuery)

	var s watchdog.Silence
	a := b.do(t, opAlice, "POST", "/v1/alerts/silences", `{"match":" probe/* ","for":"2h","reason":"probe rework","operator":"mallory"}`)
	a.decode(t, &s)
	if a.status != http.StatusCreated || !strings.HasPrefix(s.ID, "sil_") || s.Match != "probe/*" || s.By != "alice" || s.State != watchdog.SilenceActive ||
		!s.EndsAt.Equal(s.CreatedAt.Add(2*time.Hour)) || !strings.Contains(string(a.body), `"ends_at"`) {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	var alerts AlertsResponse
	b.do(t, viewVal, "GET", "/v1/alerts?firing=true", "").decode(t, &alerts)
	if len(alerts.Alerts) != 1 || alerts.Alerts[0].Silenced == nil || alerts.Alerts[0].Silenced.ID != s.ID || alerts.Alerts[0].Silenced.By != "alice" ||
		!alerts.Alerts[0].Silenced.EndsAt.Equal(s.EndsAt) {
		t.Fatalf("GET /v1/alerts?firing=true: %+v; want probe/flaky silenced by %s", alerts, s.ID)
	}
	a = b.do(t, viewVal, "GET", "/v1/alerts?firing=true", "")
	if !strings.Contains(string(a.body), `"silenced":{"id":"`+s.ID+`","by":"alice","ends_at":"`) {
		t.Fatalf("the wire shape of a silenced alert: %s", a.body)
	}

	b.do(t, viewVal, "POST", "/v1/alerts/silences/"+s.ID+"/end", `{"reason":"x"}`).wantError(t, http.StatusForbidden, CodeForbidden)
	b.do(t, opBob, "POST", "/v1/alerts/silences/"+s.ID+"/end", `{}`).wantError(t, http.StatusUnprocessableEntity, CodeReasonRequired)
	if er := b.do(t, opBob, "POST", "/v1/alerts/silences/sil_nope/end", `{"reason":"x"}`).wantError(t, http.StatusNotFound, CodeNotFound); er.Error.Field != "id" {
		t.Fatalf("unknown id: %+v", er.Error)
	}
	b.do(t, viewVal, "GET", "/v1/alerts/silences", "").decode(t, &list)
	if len(list.Silences) != 1 || list.Silences[0].ID != s.ID {
		t.Fatalf("viewer's list: %+v", list)
	}
	var ended watchdog.Silence
	a = b.do(t, opBob, "POST", "/v1/alerts/silences/"+s.ID+"/end", `{"reason":"rework done"}`)
	a.decode(t, &ended)
	if a.status != http.StatusOK || ended.State != watchdog.SilenceEnded || ended.EndedBy != "bob" || ended.EndReason != "rework done" {
		t.Fatalf("end: %d %s", a.status, a.body)
	}
	b.do(t, opBob, "POST", "/v1/alerts/silences/"+s.ID+"/end", `{"reason":"again"}`).wantError(t, http.StatusConflict, CodeSilenceEnded)
	var after AlertsResponse
	b.do(t, viewVal, "GET", "/v1/alerts?firing=true", "").decode(t, &after)
	if len(after.Alerts) != 1 || after.Alerts[0].Silenced != nil {
		t.Fatalf("after the end: %+v", after)
	}
	if by := b.whoDid(engine.WhatAlertSilenced, engine.WhatAlertSilenceEnded); by != "alert_silenced by alice, alert_silence_ended by bob" {
		t.Fatalf("the record says %v", by)
	}

	// The client, as an operator and as a viewer (a check between
	// silences: they are listed newest first).
	check()
	c := NewClient(b.srv.URL, opAlice, nil)
	ctx := context.Background()
	cs, err := c.SilenceAlerts(ctx, engine.SilenceRequest{Match: "*", For: 90 * time.Minute, Reason: "maintenance window"})
	if err != nil || cs.Match != "*" || cs.By != "alice" || !cs.EndsAt.Equal(cs.CreatedAt.Add(90*time.Minute)) {
		t.Fatalf("client SilenceAlerts: %+v, %v", cs, err)
	}
	check()
	until := cs.CreatedAt.Add(3 * time.Hour)
	cu, err := c.SilenceAlerts(ctx, engine.SilenceRequest{Match: "*/flaky", Until: until, Reason: "until noon"})
	if err != nil || !cu.EndsAt.Equal(until) {
		t.Fatalf("client SilenceAlerts until: %+v, %v", cu, err)
	}
	var he *Error
	if _, err := c.SilenceAlerts(ctx, engine.SilenceRequest{Match: "nope", For: time.Hour, Reason: "x"}); !errors.As(err, &he) || he.Field != "match" || !strings.Contains(he.Message, `"nope"`) {
		t.Fatalf("client bad match: %v", err)
	}
	viewer := NewClient(b.srv.URL, viewVal, nil)
	if got, err := viewer.Silences(ctx, false); err != nil || len(got) != 2 || got[0].ID != cu.ID {
		t.Fatalf("viewer Silences: %+v, %v", got, err)
	}
	if got, err := viewer.Silences(ctx, true); err != nil || len(got) != 3 || got[2].ID != s.ID || got[2].State != watchdog.SilenceEnded {
		t.Fatalf("viewer Silences(all): %+v, %v", got, err)
	}
	if _, err := viewer.EndSilence(ctx, cs.ID, "", "x"); !errors.As(err, &he) || he.Status != http.StatusForbidden {
		t.Fatalf("viewer EndSilence: %v", err)
	}
	if _, err := c.EndSilence(ctx, "sil_nope", "", "x"); !errors.Is(err, engine.ErrSilenceNotFound) {
		t.Fatalf("client end of an unknown silence: %v", err)
	}
	if e, err := c.EndSilence(ctx, cs.ID, "", "window over"); err != nil || e.State != watchdog.SilenceEnded || e.EndedBy != "alice" {
		t.Fatalf("client EndSilence: %+v, %v", e, err)
	}
	if _, err := c.EndSilence(ctx, cs.ID, "", "again"); !errors.Is(err, engine.ErrSilenceEnded) {
		t.Fatalf("client second end: %v", err)
	}
}

// TestSilencesUnsupported: a server whose engine keeps no silences answers
// 501, and one without the routes 404; the client reports both as
// errors.ErrUnsupported.
func TestSilencesUnsupported(t *testing.T) {
	t.Parallel()
	fake := newFake()
	h := NewHandler(fake, Options{Identities: testIdentities(), Token: testToken})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	c := NewClient(srv.URL, aliceToken, nil)
	ctx := context.Background()
	if _, err := c.Silences(ctx, false); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Silences from a server without silences: %v", err)
	}
	if _, err := c.SilenceAlerts(ctx, engine.SilenceRequest{Match: "*", For: time.Hour, Reason: "x"}); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("SilenceAlerts from a server without silences: %v", err)
	}
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"no route POST ` + r.URL.Path + `"}}`))
	}))
	t.Cleanup(old.Close)
	if _, err := NewClient(old.URL, "tok", nil).EndSilence(ctx, "sil_x", "", "x"); !errors.Is(err, errors.ErrUnsupported) || errors.Is(err, engine.ErrSilenceNotFound) {
		t.Fatalf("EndSilence from an older server: %v", err)
	}
}

// TestParseSilenceForDaysAndDuration: "1d12h", as the console takes it,
// is 36h for the CLI's --for and the route's for too; a sign, a second
// "d" or a sum past any bound is refused.
func TestParseSilenceForDaysAndDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"1d12h": 36 * time.Hour, "2d30m": 48*time.Hour + 30*time.Minute, "7d": 7 * 24 * time.Hour, "90m": 90 * time.Minute} {
		if d, err := ParseSilenceFor(in); err != nil || d != want {
			t.Errorf("ParseSilenceFor(%q) = %v, %v; want %v", in, d, err, want)
		}
	}
	for _, in := range []string{"1d-12h", "1d+1h", "1d1d", "1dx", "d12h", "1d99999999999999999999h", "99999d2500000h"} {
		if d, err := ParseSilenceFor(in); err == nil {
			t.Errorf("ParseSilenceFor(%q) = %v, want an error", in, d)
		}
	}
}

// TestParseSilenceForAtLeastAMinute: a silence shorter than a minute is
// refused, naming the value; a minute is taken.
func TestParseSilenceForAtLeastAMinute(t *testing.T) {
	for _, in := range []string{"1ns", "500ms", "59s", "0d30s", "0d0s"} {
		d, err := ParseSilenceFor(in)
		if err == nil || !strings.Contains(err.Error(), `for "`+in+`": `) {
			t.Errorf("ParseSilenceFor(%q) = %v, %v; want an error naming it", in, d, err)
		}
	}
	if d, err := ParseSilenceFor("1m"); err != nil || d != time.Minute {
		t.Errorf(`ParseSilenceFor("1m") = %v, %v`, d, err)
	}
}

// TestTooManySilencesOverHTTP: with engine.MaxActiveSilences active, one
// more is answered 409 too_many_silences saying so, and nothing is made;
// the client's error is engine.ErrTooManySilences.
func TestTooManySilencesOverHTTP(t *testing.T) {
	t.Parallel()
	b, _, _ := setupSilences(t)
	ctx := t.Context()
	for i := range engine.MaxActiveSilences {
		if _, err := b.e.SilenceAlerts(ctx, engine.SilenceRequest{Match: fmt.Sprintf("probe/c%d", i), For: time.Hour, Reason: "r", Operator: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	er := b.do(t, opAlice, "POST", "/v1/alerts/silences", `{"match":"probe/*","for":"2h","reason":"r"}`).wantError(t, http.StatusConflict, CodeTooManySilences)
	if !strings.Contains(er.Error.Message, fmt.Sprintf("%d are active and at most %d may be", engine.MaxActiveSilences, engine.MaxActiveSilences)) {
		t.Fatalf("the refusal says %q", er.Error.Message)
	}
	_, err := NewClient(b.srv.URL, opBob, nil).SilenceAlerts(ctx, engine.SilenceRequest{Match: "probe/*", For: time.Hour, Reason: "r"})
	if !errors.Is(err, engine.ErrTooManySilences) {
		t.Fatalf("client: %v; want ErrTooManySilences", err)
	}
	if n := b.store.Count(engine.WhatAlertSilenced); n != engine.MaxActiveSilences {
		t.Fatalf("%d alert_silenced records, want %d", n, engine.MaxActiveSilences)
	}
}
