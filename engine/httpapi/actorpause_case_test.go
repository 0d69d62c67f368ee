package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"grace/engine/intent"
)

// TestActorPauseNamesTheIdentityInAnyCase: an operator quarantines an
// agent by its name in another case ("AGENT.BUILDER"); the pause holds
// agent.builder's intents, is shown under the identity's own name, and a
// resume in a third case lifts it. The pause was accepted and shown, and
// the agent's intents ran on.
func TestActorPauseNamesTheIdentityInAnyCase(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	var s SchedulerResponse
	a := b.do(t, opAlice, "POST", "/v1/scheduler/pause", `{"reason":"runaway loop","actor":"AGENT.BUILDER"}`)
	a.decode(t, &s)
	if a.status != http.StatusOK || len(s.PausedActors) != 1 || s.PausedActors[0].Actor != "agent.builder" {
		t.Fatalf("pause of AGENT.BUILDER: %d %s", a.status, a.body)
	}
	b.do(t, opBob, "POST", "/v1/scheduler/pause", `{"reason":"me too","actor":"agent.builder"}`).wantError(t, http.StatusConflict, CodeAlreadyPaused)
	held := b.submit(t, agentB, `{"type":"query_knowledge"}`)
	// Submitted last and run to its end: the scheduler has looked past
	// the agent's intent, which is older.
	probe := b.submit(t, opAlice, `{"type":"query_knowledge"}`)
	b.waitState(t, probe.ID, intent.StateCompleted)
	if st := b.state(t, held.ID).State; st != intent.StateQueued || b.runs.count(held.ID) != 0 {
		t.Fatalf("the quarantined agent's intent is %s, run %d times", st, b.runs.count(held.ID))
	}
	a = b.do(t, opBob, "POST", "/v1/scheduler/resume", `{"actor":"Agent.Builder"}`)
	if a.decode(t, &s); a.status != http.StatusOK || len(s.PausedActors) != 0 {
		t.Fatalf("resume of Agent.Builder: %d %s", a.status, a.body)
	}
	b.waitState(t, held.ID, intent.StateCompleted)
}

// TestListNamesTheIdentityInAnyCase: GET /v1/intents?actor= names an
// identity in any case, as a pause does, so that an operator who
// quarantined AGENT.BUILDER and then cancels (or retries) its intents by
// --actor AGENT.BUILDER selects them: the list was empty, and the cancel
// "cancelled 0 of 0 intents".
func TestListNamesTheIdentityInAnyCase(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	if a := b.do(t, opAlice, "POST", "/v1/scheduler/pause", `{"reason":"hold","actor":"agent.builder"}`); a.status != http.StatusOK {
		t.Fatalf("pause: %d %s", a.status, a.body)
	}
	held := b.submit(t, agentB, `{"type":"query_knowledge"}`)
	var list IntentsResponse
	a := b.do(t, opAlice, "GET", "/v1/intents?actor=AGENT.BUILDER&state=queued", "")
	if a.decode(t, &list); a.status != http.StatusOK || len(list.Intents) != 1 || list.Intents[0].ID != held.ID {
		t.Fatalf("list actor=AGENT.BUILDER: %d %s", a.status, a.body)
	}
}

// TestActorPauseRefusesAnActorNobodyIs: with identities configured, a
// pause of an actor that is no identity and that no intent carries (a
// typing error, "agnet.builder") is refused naming the field and the
// identities, and nothing is paused: it was accepted and shown, and
// agent.builder's intents ran on. An actor some intent carries (the
// engine's own, say) can still be paused.
func TestActorPauseRefusesAnActorNobodyIs(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	er := b.do(t, opAlice, "POST", "/v1/scheduler/pause", `{"reason":"runaway loop","actor":"agnet.builder"}`).
		wantError(t, http.StatusUnprocessableEntity, CodeInvalidField)
	if er.Error.Field != "actor" || !strings.Contains(er.Error.Message, `"agnet.builder"`) || !strings.Contains(er.Error.Message, "agent.builder") {
		t.Fatalf("refusal: %+v", er)
	}
	var s SchedulerResponse
	a := b.do(t, opAlice, "GET", "/v1/scheduler", "")
	if a.decode(t, &s); len(s.PausedActors) != 0 {
		t.Fatalf("paused after a refusal: %s", a.body)
	}
	in := b.submit(t, agentB, `{"type":"query_knowledge"}`)
	b.waitState(t, in.ID, intent.StateCompleted)
}
