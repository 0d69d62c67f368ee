package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/store"
)

// Open a store, record an intent's arrival with its 5W1H record, find the
// record again and verify the audit chain.
func Example() {
	dir, err := os.MkdirTemp("", "grace-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := store.Open(ctx, filepath.Join(dir, "grace.db"), store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	in := &intent.Intent{ID: "int_1", Type: "query_knowledge", Actor: "agent-7",
		Payload: []byte(`{"q":"status"}`), State: intent.StateQueued, Tier: 2}
	received := clarity.Record{Who: "agent-7", What: "intent_received", Where: "intake",
		Why: []string{"submitted query_knowledge at priority 5"}, How: "HTTP API",
		IntentID: "int_1", Result: "accepted", Confidence: 1, Transparency: clarity.TransparencyComplete}
	if _, err := s.Apply(ctx, &intent.Change{Create: in, Records: []clarity.Record{received}}); err != nil {
		log.Fatal(err)
	}

	found, err := s.Search(ctx, clarity.Query{Text: "query_knowledge priority"})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range found {
		fmt.Printf("%d %s %s %s (audit entry %d)\n", e.ID, e.Who, e.What, e.IntentID, e.Seq)
	}

	rep, err := s.VerifyAudit(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("audit chain intact:", rep.OK, "entries:", rep.Entries)
	// Output:
	// 1 agent-7 intent_received int_1 (audit entry 1)
	// audit chain intact: true entries: 1
}
