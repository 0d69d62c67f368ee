package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"grace/engine"
	"grace/engine/intent"
)

// pendingIntent is a valid intent waiting for approval.
func pendingIntent(id string) *intent.Intent {
	in := newIntent(id)
	in.State, in.Tier = intent.StatePendingApproval, 0
	return in
}

// ackedBy lists, per webhook, the intents it acknowledged, sorted.
func ackedBy(t *testing.T, s *Store) map[string]string {
	t.Helper()
	acks, err := s.ApprovalAcks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for w, ids := range acks {
		out[w] = strings.Join(slices.Sorted(maps.Keys(ids)), " ")
	}
	return out
}

func ack(w, id string) engine.ApprovalAck {
	return engine.ApprovalAck{Webhook: w, IntentID: id, At: t0}
}

// An acknowledgement is kept while its intent waits for approval: one of an
// intent that does not wait (decided already, or unknown) is not written,
// and an intent's go as it leaves pending_approval, whichever way (a
// first approval of two leaves it waiting, and them kept); those of a
// webhook no longer configured go when they are forgotten. They last
// across a reopen.
func TestApprovalAcksLiveWhileTheIntentWaits(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	ids := []string{"p_approved", "p_denied", "p_expired", "p_cancelled", "p_first_of_two"}
	for _, id := range ids {
		if _, err := tb.s.Apply(ctx, &intent.Change{Create: pendingIntent(id)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tb.s.Apply(ctx, &intent.Change{Create: newIntent("q_queued")}); err != nil {
		t.Fatal(err)
	}
	var acks []engine.ApprovalAck
	for _, id := range append(ids, "q_queued", "unknown") {
		acks = append(acks, ack("oncall", id))
	}
	acks = append(acks, ack("pager", "p_approved"), ack("pager", "p_first_of_two"))
	if err := tb.s.SaveApprovalAcks(ctx, acks); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"oncall": "p_approved p_cancelled p_denied p_expired p_first_of_two", "pager": "p_approved p_first_of_two"}
	if got := ackedBy(t, tb.s); !maps.Equal(got, want) {
		t.Fatalf("kept %v, want %v (none for an intent not waiting)", got, want)
	}
	tb.reopen(t)
	if got := ackedBy(t, tb.s); !maps.Equal(got, want) {
		t.Fatalf("after a reopen: %v, want %v", got, want)
	}

	for id, to := range map[string]intent.State{"p_approved": intent.StateQueued, "p_denied": intent.StateDenied,
		"p_expired": intent.StateExpired, "p_cancelled": intent.StateCancelled, "p_first_of_two": intent.StatePendingApproval} {
		in := pendingIntent(id)
		in.State, in.UpdatedAt = to, t0.Add(1)
		if to == intent.StatePendingApproval {
			in.DecidedBy = "alice" // the first of two approvals
		}
		if _, err := tb.s.Apply(ctx, &intent.Change{Update: in}); err != nil {
			t.Fatal(err)
		}
	}
	want = map[string]string{"oncall": "p_first_of_two", "pager": "p_first_of_two"}
	if got := ackedBy(t, tb.s); !maps.Equal(got, want) {
		t.Fatalf("after the decisions: %v, want %v", got, want)
	}

	n, err := tb.s.ForgetApprovalAcks(ctx, []string{"oncall"})
	if err != nil || n != 1 {
		t.Fatalf("forget all but oncall: %d rows, %v; want pager's 1", n, err)
	}
	if got := ackedBy(t, tb.s); !maps.Equal(got, map[string]string{"oncall": "p_first_of_two"}) {
		t.Fatalf("after forgetting pager: %v", got)
	}
	if n, err := tb.s.ForgetApprovalAcks(ctx, nil); err != nil || n != 1 || len(ackedBy(t, tb.s)) != 0 {
		t.Fatalf("forget every webhook: %d rows, %v, left %v", n, err, ackedBy(t, tb.s))
	}

	// An intent deleted while it waits takes its acknowledgements along.
	if err := tb.s.SaveApprovalAcks(ctx, []engine.ApprovalAck{ack("oncall", "p_first_of_two")}); err != nil {
		t.Fatal(err)
	}
	db := tb.rawDB(t)
	mustExec(t, db, "DELETE FROM intents WHERE id = 'p_first_of_two'")
	if c := count(t, db, "SELECT count(*) FROM approval_acks"); c != 0 {
		t.Fatalf("%d acknowledgements left of a deleted intent", c)
	}
}

// An acknowledgement without a webhook or an intent is refused, naming
// it, and nothing of its batch is written; a batch longer than one
// statement takes is written whole.
func TestSaveApprovalAcksRefusesBadInput(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	if _, err := tb.s.Apply(ctx, &intent.Change{Create: pendingIntent("p1")}); err != nil {
		t.Fatal(err)
	}
	err := tb.s.SaveApprovalAcks(ctx, []engine.ApprovalAck{ack("oncall", "p1"), ack(" ", "p1")})
	if err == nil || !strings.Contains(err.Error(), `ack 1 (webhook " ", intent "p1")`) {
		t.Fatalf("empty webhook: %v", err)
	}
	if err := tb.s.SaveApprovalAcks(ctx, []engine.ApprovalAck{ack("oncall", "")}); err == nil || !strings.Contains(err.Error(), "intent ID") {
		t.Fatalf("empty intent ID: %v", err)
	}
	if got := ackedBy(t, tb.s); len(got) != 0 {
		t.Fatalf("a refused batch wrote %v", got)
	}
	var many []engine.ApprovalAck
	for i := range 2*maxAcksPerStatement + 1 {
		many = append(many, ack(fmt.Sprintf("hook%d", i), "p1"))
	}
	if err := tb.s.SaveApprovalAcks(ctx, many); err != nil {
		t.Fatal(err)
	}
	if c := count(t, tb.rawDB(t), "SELECT count(*) FROM approval_acks"); c != int64(len(many)) {
		t.Fatalf("%d rows of %d", c, len(many))
	}
}
