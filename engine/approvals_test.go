package engine

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"grace/engine/intent"
)

func TestApproveReleasesTier0ToAWorker(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "change_charter"})
	if _, err := b.e.Approve(t.Context(), in.ID, "", "ok"); !errors.Is(err, ErrOperatorRequired) {
		t.Fatalf("Approve without operator = %v, want ErrOperatorRequired", err)
	}
	got, err := b.e.Approve(t.Context(), in.ID, "alice", "charter review done")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != intent.StateQueued || got.DecidedBy != "alice" || got.DecisionReason != "charter review done" {
		t.Fatalf("approved intent = %+v", got)
	}
	done := b.waitState(t, in.ID, intent.StateCompleted)
	if done.DecidedBy != "alice" || b.handlers.callsFor(in.ID) != 1 {
		t.Fatalf("completed = %+v after %d calls", done, b.handlers.callsFor(in.ID))
	}
	want := []string{WhatReceived, WhatRouted, WhatApprovalRequested, WhatApproved, WhatDispatched, WhatCompleted}
	if w := b.whats(in.ID); !slices.Equal(w, want) {
		t.Fatalf("records = %v, want %v", w, want)
	}
	recs := b.store.RecordsFor(in.ID)
	checkRecords(t, recs)
	if r := recordOf(t, recs, WhatApproved); r.Who != "alice" || !strings.Contains(strings.Join(r.Why, " "), "charter review done") {
		t.Fatalf("approval record = %+v", r)
	}
	if _, err := b.e.Approve(t.Context(), in.ID, "bob", ""); !errors.Is(err, ErrNotPending) {
		t.Fatalf("second approval = %v, want ErrNotPending", err)
	}
}

func TestDenyNeedsAReasonAndIsFinal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.submit(t, intent.Submission{Type: "grant_permissions"})
	if _, err := b.e.Deny(t.Context(), in.ID, "alice", " "); !errors.Is(err, ErrReasonRequired) {
		t.Fatalf("Deny without reason = %v, want ErrReasonRequired", err)
	}
	got, err := b.e.Deny(t.Context(), in.ID, "alice", "not during the freeze")
	if err != nil || got.State != intent.StateDenied || got.DecidedBy != "alice" {
		t.Fatalf("Deny = %+v, %v", got, err)
	}
	if b.stored(t, in.ID).State != intent.StateDenied {
		t.Fatal("denial not stored")
	}
	if _, err := b.e.Approve(t.Context(), in.ID, "bob", ""); !errors.Is(err, ErrNotPending) {
		t.Fatalf("Approve after Deny = %v, want ErrNotPending", err)
	}
	if _, err := b.e.Approve(t.Context(), "int_missing", "bob", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Approve of unknown ID = %v, want ErrNotFound", err)
	}
	r := recordOf(t, b.store.RecordsFor(in.ID), WhatDenied)
	if r.Who != "alice" || r.Result != "denied" {
		t.Fatalf("denial record = %+v", r)
	}
}

func TestPendingApprovalExpiresAtItsDeadline(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "modify_governance"})
	b.clock.Advance(59 * time.Minute)
	if got := b.stored(t, in.ID); got.State != intent.StatePendingApproval {
		t.Fatalf("before the deadline: %s", got.State)
	}
	b.clock.Advance(time.Minute)
	b.waitState(t, in.ID, intent.StateExpired)
	r := recordOf(t, b.store.RecordsFor(in.ID), WhatExpired)
	if r.Who != "approval_expiry" {
		t.Fatalf("expiry record = %+v", r)
	}
	if _, err := b.e.Approve(t.Context(), in.ID, "alice", ""); !errors.Is(err, ErrNotPending) {
		t.Fatalf("Approve after expiry = %v, want ErrNotPending", err)
	}
	if b.e.Snapshot().ByState[intent.StateExpired] != 1 {
		t.Fatalf("snapshot by state = %v", b.e.Snapshot().ByState)
	}
}

func TestLateApprovalExpiresInstead(t *testing.T) {
	t.Parallel()
	b := setup(t) // not started: no expiry loop, the deadline is checked on approval
	in := b.submit(t, intent.Submission{Type: "modify_governance"})
	b.clock.Advance(2 * time.Hour)
	_, err := b.e.Approve(t.Context(), in.ID, "alice", "")
	if !errors.Is(err, ErrNotPending) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("late Approve = %v, want ErrNotPending saying it expired", err)
	}
	if got := b.stored(t, in.ID); got.State != intent.StateExpired {
		t.Fatalf("state = %s, want expired", got.State)
	}
}

func TestConcurrentDoubleApproveHasOneWinner(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.submit(t, intent.Submission{Type: "change_charter"})
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if i%2 == 0 {
				_, errs[i] = b.e.Approve(t.Context(), in.ID, "op", "yes")
			} else {
				_, errs[i] = b.e.Deny(t.Context(), in.ID, "op", "no")
			}
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, ErrNotPending):
			t.Fatalf("loser got %v, want ErrNotPending", err)
		}
	}
	decisions := b.store.Count(WhatApproved) + b.store.Count(WhatDenied)
	if wins != 1 || decisions != 1 {
		t.Fatalf("%d winners and %d decision records, want 1 and 1", wins, decisions)
	}
}

func TestPendingIsOldestFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.submit(t, intent.Submission{Type: "change_charter"})
	b.clock.Advance(time.Second)
	c := b.submit(t, intent.Submission{Type: "grant_permissions"})
	b.submit(t, intent.Submission{Type: "query_knowledge"})
	got, err := b.e.Pending(t.Context())
	if err != nil || len(got) != 2 || got[0].ID != a.ID || got[1].ID != c.ID {
		t.Fatalf("Pending = %v, %v", got, err)
	}
}

func TestReviewTier1(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	ran := b.submit(t, intent.Submission{Type: "deploy_model"})
	b.waitState(t, ran.ID, intent.StateCompleted)
	flagged := b.submit(t, intent.Submission{Type: "modify_config"})
	b.waitState(t, flagged.ID, intent.StateCompleted)
	other := b.submit(t, intent.Submission{Type: "query_knowledge"})
	b.waitState(t, other.ID, intent.StateCompleted)

	list, err := b.e.List(t.Context(), intent.Filter{Tier: 1, HasTier: true, Unreviewed: true})
	if err != nil || len(list) != 2 {
		t.Fatalf("review list = %v, %v; want the two Tier 1 intents", list, err)
	}
	if _, err := b.e.Review(t.Context(), flagged.ID, "alice", "", true); !errors.Is(err, ErrReasonRequired) {
		t.Fatalf("flag without a note = %v", err)
	}
	// Its submitter cannot wave it through, whatever the case of the name.
	if _, err := b.e.Review(t.Context(), ran.ID, " Grace_Architect", "mine, fine", false); !errors.Is(err, ErrSelfReview) {
		t.Fatalf("the submitter marking it reviewed = %v, want ErrSelfReview", err)
	}
	if refused := recordOf(t, b.store.RecordsFor(ran.ID), WhatReviewRefused); refused.Context["error"] != "self_review" {
		t.Fatalf("review_refused = %+v", refused)
	}
	if _, err := b.e.Review(t.Context(), ran.ID, "alice", "looks fine", false); err != nil {
		t.Fatal(err)
	}
	if _, err := b.e.Review(t.Context(), flagged.ID, "alice", "changed the wrong key", true); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ran.ID, other.ID} {
		if _, err := b.e.Review(t.Context(), id, "bob", "", false); !errors.Is(err, ErrNotReviewable) {
			t.Fatalf("Review %s = %v, want ErrNotReviewable", id, err)
		}
	}
	list, _ = b.e.List(t.Context(), intent.Filter{Tier: 1, HasTier: true, Unreviewed: true})
	if len(list) != 0 {
		t.Fatalf("review list after reviews = %v", list)
	}
	if recordOf(t, b.store.RecordsFor(flagged.ID), WhatTier1Flagged).Who != "alice" || b.store.Count(WhatTier1Reviewed) != 1 {
		t.Fatal("review records missing")
	}
	checkRecords(t, b.store.Records())
}

// TestDecisionTextIsCheckedOnEveryPath: the engine itself refuses a reason,
// note or operator name that would put an escape sequence (or a carriage
// return, or pages of text) on the record and the console's screen, so the
// CLI on the database and the console are held to what the HTTP API checks.
// Nothing is decided and nothing about it is recorded.
func TestDecisionTextIsCheckedOnEveryPath(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.submit(t, intent.Submission{Type: "grant_permissions"})
	before := len(b.store.RecordsFor(in.ID))
	for _, tc := range []struct {
		name  string
		do    func() error
		field string
	}{
		{"deny reason with an escape", func() error { _, err := b.e.Deny(t.Context(), in.ID, "alice", "no\x1b[2J"); return err }, "reason"},
		{"approve reason with a carriage return", func() error { _, err := b.e.Approve(t.Context(), in.ID, "alice", "ok\rforged"); return err }, "reason"},
		{"deny reason too long", func() error {
			_, err := b.e.Deny(t.Context(), in.ID, "alice", strings.Repeat("r", MaxReasonBytes+1))
			return err
		}, "reason"},
		{"operator with a newline", func() error { _, err := b.e.Approve(t.Context(), in.ID, "ali\nce", "ok"); return err }, "operator"},
		{"review note with a NUL", func() error { _, err := b.e.Review(t.Context(), in.ID, "alice", "x\x00y", true); return err }, "note"},
	} {
		var te *TextError
		if err := tc.do(); !errors.As(err, &te) || te.Field != tc.field {
			t.Errorf("%s: %v, want a TextError on %s", tc.name, err, tc.field)
		}
	}
	if got := b.stored(t, in.ID); got.State != intent.StatePendingApproval {
		t.Fatalf("after refused decisions the intent is %s", got.State)
	}
	if after := len(b.store.RecordsFor(in.ID)); after != before {
		t.Fatalf("refused decisions wrote %d records", after-before)
	}
	// Multi-line reasons with tabs stay allowed.
	if _, err := b.e.Deny(t.Context(), in.ID, "alice", "not now:\n\tfreeze until Monday"); err != nil {
		t.Fatal(err)
	}
}
