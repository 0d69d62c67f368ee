package httpapi

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/worker"
)

// The reviewer's attack: a flood of random bad tokens from many
// connections, and meanwhile an agent's forbidden approvals. Each of the
// agent's attempts is on the record, the flood writes a bounded number
// of records, and /metrics tells recorded from summarised.
func TestForbiddenAttemptsStayOnTheRecordDuringABadTokenFlood(t *testing.T) {
	t.Parallel()
	cfg := engine.Default()
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	st := enginetest.NewStore(64)
	t.Cleanup(func() { _ = st.Close() })
	clk := clock.NewFake(time.Date(2025, 11, 15, 12, 0, 0, 0, time.UTC))
	e, err := engine.New(cfg, engine.Deps{Store: st, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	h := NewHandler(e, Options{Clock: clk, Identities: []Identity{
		{Name: "agent.builder", Role: engine.RoleAgent, TokenSHA256: sha256.Sum256([]byte(agentB))},
	}})
	t.Cleanup(h.Close)
	send := func(method, path, token, remote string) int {
		r := httptest.NewRequest(method, path, nil)
		r.Header.Set("Authorization", "Bearer "+token)
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	const attempts, floodPerAttempt = 10, 2500
	for i := range attempts {
		for j := range floodPerAttempt {
			if c := send("GET", "/v1/whoami", fmt.Sprintf("bad-%d-%d", i, j), fmt.Sprintf("192.0.2.%d:%d", j%4, 50000+j%32)); c != http.StatusUnauthorized {
				t.Fatalf("bad token: %d", c)
			}
		}
		if c := send("POST", "/v1/intents/int_x/approve", agentB, "198.51.100.9:6000"); c != http.StatusForbidden {
			t.Fatalf("agent's approval: %d, want 403", c)
		}
		clk.Advance(time.Second)
	}
	var agent, anon int
	for _, r := range st.Records() {
		switch {
		case r.What != engine.WhatRequestRefused:
		case r.Who == "agent.builder" && strings.Contains(r.Context["action"].(string), "approve"):
			agent++
		case r.Who == "unauthenticated":
			anon++
		}
	}
	if agent != attempts {
		t.Fatalf("%d of the agent's %d forbidden approvals on the record during the flood, want all", agent, attempts)
	}
	if anon > 200 {
		t.Fatalf("%d records of %d bad-token requests in %d s, want at most 200", anon, attempts*floodPerAttempt, attempts)
	}
	fams := scrape(t, h)
	if got := value(t, fams, "grace_refusals_recorded_total", "caller", "identified"); got != attempts {
		t.Errorf("identified refusals recorded = %v, want %d", got, attempts)
	}
	recorded := value(t, fams, "grace_refusals_recorded_total", "caller", "unauthenticated")
	summarised := value(t, fams, "grace_refusals_summarised_total", "caller", "unauthenticated")
	if recorded != float64(anon) || recorded+summarised != attempts*floodPerAttempt {
		t.Errorf("unauthenticated: %v recorded (%d records) + %v summarised, want %d in all", recorded, anon, summarised, attempts*floodPerAttempt)
	}
}
