package httpapi

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"testing"

	"grace/engine"
)

const agentOther = "tok-agent-other"

// TestAgentReadsItsStoryWithoutOthersProbes: an agent reading its own
// intent's narratives sees its lifecycle and its own refused attempts,
// but not the refused attempts another agent made on it (who probes its
// work is for operators and viewers, who see them). Paging by before=
// fills short pages and reaches every record the agent may read.
func TestAgentReadsItsStoryWithoutOthersProbes(t *testing.T) {
	t.Parallel()
	b := setupRealWith(t, []Identity{{Name: "agent.other", Role: engine.RoleAgent, TokenSHA256: sha256.Sum256([]byte(agentOther))}})
	res := b.submit(t, agentB, `{"type":"change_charter","payload":{"mission":"x"}}`)
	id := res.ID
	// The other agent probes it; the builder tries to approve its own.
	for range 5 {
		b.do(t, agentOther, "POST", "/v1/intents/"+id+"/cancel", `{"reason":"mine now"}`)
	}
	b.do(t, agentB, "POST", "/v1/intents/"+id+"/approve", `{"reason":"self"}`).wantError(t, http.StatusForbidden, CodeForbidden)
	if n := b.refusals(id, "agent.other"); n < 5 {
		t.Fatalf("%d refusals of agent.other on the record, want 5: the test needs them", n)
	}

	var all NarrativesResponse
	b.do(t, viewVal, "GET", "/v1/narratives?intent="+id+"&limit=100", "").decode(t, &all)
	others := 0
	for _, e := range all.Narratives {
		if e.Who == "agent.other" {
			others++
		}
	}
	if others < 5 {
		t.Fatalf("the viewer sees %d of agent.other's refused attempts, want 5", others)
	}

	var whole NarrativesResponse
	b.do(t, agentB, "GET", "/v1/narratives?intent="+id+"&limit=100", "").decode(t, &whole)
	own := 0
	for _, e := range whole.Narratives {
		if e.Who == "agent.other" {
			t.Errorf("the builder sees %s by agent.other: %v", e.What, e.Why)
		}
		if e.What == engine.WhatRequestRefused && e.Who == "agent.builder" {
			own++
		}
	}
	if own != 1 || len(whole.Narratives) != len(all.Narratives)-others {
		t.Fatalf("the builder sees %d records (%d of its own refusals), want %d (1)", len(whole.Narratives), own, len(all.Narratives)-others)
	}

	// Two a page: each page full while records remain, and together the
	// same records.
	var paged []int64
	before := ""
	for range 20 {
		var page NarrativesResponse
		b.do(t, agentB, "GET", fmt.Sprintf("/v1/narratives?intent=%s&limit=2%s", id, before), "").decode(t, &page)
		for _, e := range page.Narratives {
			paged = append(paged, e.ID)
		}
		if len(page.Narratives) < 2 {
			break
		}
		before = fmt.Sprintf("&before=%d", page.Narratives[len(page.Narratives)-1].ID)
	}
	if len(paged) != len(whole.Narratives) {
		t.Fatalf("paging two at a time read %d records, want %d", len(paged), len(whole.Narratives))
	}
	for i, e := range whole.Narratives {
		if paged[i] != e.ID {
			t.Fatalf("paged record %d is %d, want %d", i, paged[i], e.ID)
		}
	}
}
