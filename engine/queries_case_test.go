package engine

import (
	"strings"
	"testing"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// An intent's ID typed by hand in another case is the same intent (its
// ULID is Crockford base32, read without regard to case): get, approve,
// list pages and the record's intent filter all find it; it was "no such
// intent".
func TestIntentIDsAreReadInAnyCase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "grant_permissions", Actor: "agent.case"})
	lower := "INT_" + strings.ToLower(strings.TrimPrefix(in.ID, "int_"))
	if got, err := b.e.Get(t.Context(), lower); err != nil || got.ID != in.ID {
		t.Fatalf("Get(%s) = %s, %v", lower, got.ID, err)
	}
	if got, err := b.e.Approve(t.Context(), lower, "alice", "typed by hand"); err != nil || got.ID != in.ID || got.State == intent.StatePendingApproval {
		t.Fatalf("Approve(%s) = %+v, %v", lower, got, err)
	}
	es, err := b.e.Search(t.Context(), clarity.Query{IntentID: lower, Limit: 100})
	if err != nil || len(es) == 0 {
		t.Fatalf("Search(intent %s) = %d records, %v", lower, len(es), err)
	}
	// Not an ID's shape: left as it is (and not found).
	if _, err := b.e.Get(t.Context(), "INT_nope"); err == nil {
		t.Fatal("Get(INT_nope) found something")
	}
}
