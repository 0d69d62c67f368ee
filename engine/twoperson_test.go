package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"grace/engine/intent"
)

// twoPersonCharter puts change_charter under the two-person rule.
func twoPersonCharter(c *Config) { c.Governance.TwoPersonTypes = []string{"change_charter"} }

func TestTwoPersonRuleNeedsTwoDifferentOperators(t *testing.T) {
	t.Parallel()
	b := setup(t, twoPersonCharter)
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "change_charter", Actor: "agent.architect"})

	first, err := b.e.Approve(t.Context(), in.ID, "alice", "charter reviewed")
	if err != nil || first.State != intent.StatePendingApproval || first.DecidedBy != "alice" || first.FirstApprover() != "alice" {
		t.Fatalf("first approval = %+v, %v; want still pending, approved by alice", first, err)
	}
	if in.FirstApprover() != "" {
		t.Fatalf("before any approval FirstApprover = %q", in.FirstApprover())
	}
	for _, again := range []string{"alice", " ALICE "} {
		if _, err := b.e.Approve(t.Context(), in.ID, again, "me again"); !errors.Is(err, ErrAlreadyApproved) {
			t.Fatalf("approval by %q again = %v, want ErrAlreadyApproved", again, err)
		}
	}
	if got := b.stored(t, in.ID); got.State != intent.StatePendingApproval || b.handlers.callsFor(in.ID) != 0 {
		t.Fatalf("after one operator: %s, %d runs", got.State, b.handlers.callsFor(in.ID))
	}
	second, err := b.e.Approve(t.Context(), in.ID, "bob", "second pair of eyes")
	if err != nil || second.State != intent.StateQueued || second.DecidedBy != "bob" || second.FirstApprover() != "" {
		t.Fatalf("second approval = %+v, %v", second, err)
	}
	b.waitState(t, in.ID, intent.StateCompleted)
	if n := b.handlers.callsFor(in.ID); n != 1 {
		t.Fatalf("ran %d times", n)
	}
	want := []string{WhatReceived, WhatRouted, WhatApprovalRequested, WhatApprovalRecorded,
		WhatApprovalRefused, WhatApprovalRefused, WhatApproved, WhatDispatched, WhatCompleted}
	if w := b.whats(in.ID); !slices.Equal(w, want) {
		t.Fatalf("records = %v\nwant      %v", w, want)
	}
	recs := b.store.RecordsFor(in.ID)
	checkRecords(t, recs)
	if r := recordOf(t, recs, WhatApprovalRecorded); r.Who != "alice" || !strings.Contains(strings.Join(r.Why, " "), "1 of 2") {
		t.Fatalf("first approval record = %+v", r)
	}
	if r := recordOf(t, recs, WhatApproved); r.Who != "bob" || !slices.Equal(r.Context["approvers"].([]string), []string{"alice", "bob"}) {
		t.Fatalf("final approval record = %+v", r)
	}
	if r := recordOf(t, recs, WhatApprovalRefused); r.Who != "alice" || r.Context["error"] != "already_approved" {
		t.Fatalf("refusal record = %+v", r)
	}
}

func TestNobodyApprovesTheirOwnIntent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, typ string
		rule      func(*Config)
	}{
		{"under the two-person rule", "change_charter", twoPersonCharter},
		{"any Tier 0 type", "grant_permissions", func(*Config) {}},
		{"an unknown type", "reticulate_splines", func(*Config) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.rule)
			in := b.submit(t, intent.Submission{Type: tc.typ, Actor: "carol"})
			for _, self := range []string{"carol", "Carol", " carol "} {
				if _, err := b.e.Approve(t.Context(), in.ID, self, "mine"); !errors.Is(err, ErrSelfApproval) {
					t.Fatalf("%q approving carol's intent = %v, want ErrSelfApproval", self, err)
				}
			}
			got := b.stored(t, in.ID)
			if got.State != intent.StatePendingApproval || got.DecidedBy != "" {
				t.Fatalf("a refused self-approval changed the intent: %+v", got)
			}
			if n := b.store.Count(WhatApprovalRefused); n != 3 {
				t.Fatalf("%d refusals on the record, want 3", n)
			}
			// Withdrawing one's own intent is allowed.
			if _, err := b.e.Deny(t.Context(), in.ID, "carol", "withdrawn"); err != nil {
				t.Fatalf("the submitter denying its own intent: %v", err)
			}
		})
	}
}

func TestTwoPersonRuleCatchesNearMissTypeNames(t *testing.T) {
	t.Parallel()
	b := setup(t, twoPersonCharter)
	for _, typ := range []string{"Change_Charter", "change-charter", "CHANGE.CHARTER", "change:charter"} {
		in := b.submit(t, intent.Submission{Type: typ})
		if in.State != intent.StatePendingApproval || in.Tier != 0 {
			t.Fatalf("%s: %s Tier %d, want pending Tier 0", typ, in.State, in.Tier)
		}
		got, err := b.e.Approve(t.Context(), in.ID, "alice", "")
		if err != nil || got.State != intent.StatePendingApproval {
			t.Fatalf("%s after one approval: %+v %v; want still pending", typ, got.State, err)
		}
		if got, err = b.e.Approve(t.Context(), in.ID, "bob", ""); err != nil || got.State != intent.StateQueued {
			t.Fatalf("%s after two: %s %v", typ, got.State, err)
		}
	}
	// A near miss that intake refuses never becomes an intent at all.
	if _, err := b.e.Submit(t.Context(), intent.Submission{Type: "change_charter ", Actor: "a"}); err == nil {
		t.Fatal(`"change_charter " was accepted`)
	}
}

func TestFirstApprovalSurvivesARestart(t *testing.T) {
	t.Parallel()
	b := setup(t, twoPersonCharter)
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "change_charter"})
	if _, err := b.e.Approve(t.Context(), in.ID, "alice", ""); err != nil {
		t.Fatal(err)
	}
	b.e.Stop()
	b2 := setupOn(t, b.store, b.clock, twoPersonCharter)
	b2.start(t)
	if _, err := b2.e.Approve(t.Context(), in.ID, "alice", ""); !errors.Is(err, ErrAlreadyApproved) {
		t.Fatalf("alice again after a restart = %v", err)
	}
	if got, err := b2.e.Approve(t.Context(), in.ID, "bob", ""); err != nil || got.State != intent.StateQueued {
		t.Fatalf("bob after a restart = %+v %v", got, err)
	}
	b2.waitState(t, in.ID, intent.StateCompleted)
}

func TestHalfApprovedIntentStillDeniesAndExpires(t *testing.T) {
	t.Parallel()
	b := setup(t, twoPersonCharter)
	b.start(t)
	denied := b.submit(t, intent.Submission{Type: "change_charter"})
	expiring := b.submit(t, intent.Submission{Type: "change_charter"})
	for _, in := range []intent.Intent{denied, expiring} {
		if _, err := b.e.Approve(t.Context(), in.ID, "alice", ""); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := b.e.Deny(t.Context(), denied.ID, "bob", "not now"); err != nil || got.State != intent.StateDenied {
		t.Fatalf("deny after one approval = %+v %v", got, err)
	}
	b.clock.Advance(time.Hour)
	b.waitState(t, expiring.ID, intent.StateExpired)
	if _, err := b.e.Approve(t.Context(), expiring.ID, "bob", ""); !errors.Is(err, ErrNotPending) {
		t.Fatalf("second approval after expiry = %v", err)
	}
	if b.handlers.callsFor(denied.ID)+b.handlers.callsFor(expiring.ID) != 0 {
		t.Fatal("a half-approved intent ran")
	}
}

func TestConcurrentApprovalsByManyOperators(t *testing.T) {
	t.Parallel()
	b := setup(t, twoPersonCharter)
	in := b.submit(t, intent.Submission{Type: "change_charter"})
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = b.e.Approve(t.Context(), in.ID, fmt.Sprintf("op%d", i), "") })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrNotPending):
			t.Fatalf("loser got %v", err)
		}
	}
	if ok != 2 || b.store.Count(WhatApprovalRecorded) != 1 || b.store.Count(WhatApproved) != 1 {
		t.Fatalf("%d approvals accepted, %d recorded, %d approved; want 2, 1, 1",
			ok, b.store.Count(WhatApprovalRecorded), b.store.Count(WhatApproved))
	}
	if got := b.stored(t, in.ID); got.State != intent.StateQueued {
		t.Fatalf("state = %s", got.State)
	}
}

func TestReplayedAndStrayApprovalsAreRefusedAndRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "change_charter"})
	if _, err := b.e.Approve(t.Context(), in.ID, "alice", "ok"); err != nil {
		t.Fatal(err)
	}
	b.waitState(t, in.ID, intent.StateCompleted)
	if _, err := b.e.Approve(t.Context(), in.ID, "alice", "ok"); !errors.Is(err, ErrNotPending) {
		t.Fatalf("replayed approval = %v", err)
	}
	done := b.submit(t, intent.Submission{Type: "query_knowledge"})
	if _, err := b.e.Approve(t.Context(), done.ID, "alice", ""); !errors.Is(err, ErrNotPending) {
		t.Fatalf("approving a Tier 2 intent = %v", err)
	}
	if _, err := b.e.Approve(t.Context(), "int_nope", "alice", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("approving an unknown intent = %v", err)
	}
	if n := b.store.Count(WhatApprovalRefused); n != 3 {
		t.Fatalf("%d approval_refused records, want 3", n)
	}
	if n := b.handlers.callsFor(in.ID); n != 1 {
		t.Fatalf("the replay ran it again: %d runs", n)
	}
}

func TestValidateTwoPersonNamesTheKey(t *testing.T) {
	t.Parallel()
	tiers := map[string][]string{"tier_0": {"change_charter"}, "tier_2": {"query_knowledge"}}
	for _, tc := range []struct {
		types []string
		want  string
	}{
		{[]string{""}, "governance.two_person_types[0] is empty"},
		{[]string{"change_charter", "Change-Charter"}, "governance.two_person_types[1] (\"Change-Charter\") is listed twice"},
		{[]string{"Query_Knowledge"}, "is in governance.tiers.tier_2"},
	} {
		errs := validateTwoPerson(tc.types, tiers)
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want) {
			t.Errorf("validateTwoPerson(%q) = %v, want %q", tc.types, errs, tc.want)
		}
	}
	if errs := validateTwoPerson([]string{"change_charter", "my_new_type"}, tiers); len(errs) != 0 {
		t.Fatalf("valid types refused: %v", errs)
	}
}

// An intent the hub sent for approval names the hub in DecidedBy: no
// operator has approved it.
func TestHubRoutedPendingIntentHasNoFirstApprover(t *testing.T) {
	t.Parallel()
	in := intent.Intent{State: intent.StatePendingApproval, DecidedBy: actorHub}
	if got := in.FirstApprover(); got != "" {
		t.Fatalf("FirstApprover of a hub-routed pending intent = %q", got)
	}
}
