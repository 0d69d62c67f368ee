package store

import (
	"context"
	"testing"

	"grace/engine/clarity"
	"grace/engine/intent"
)

func TestSmoke(t *testing.T) {
	tb := setup(t)
	ctx := context.Background()
	_, err := tb.s.Apply(ctx, &intent.Change{Create: newIntent("a"), Records: []clarity.Record{rec("intake", "received")}})
	if err != nil {
		t.Fatal(err)
	}
	writeRecords(t, tb.s, 10, "alice")
	es, err := tb.s.Search(ctx, clarity.Query{Text: "step3"})
	t.Logf("%+v %v", es, err)
	if err := tb.s.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	es, err = tb.s.Search(ctx, clarity.Query{Text: "reason 3"})
	t.Logf("%+v %v", es, err)
	rep, err := tb.s.VerifyAudit(ctx)
	t.Logf("%+v %v", rep, err)
	it, err := tb.s.Get(ctx, "a")
	t.Logf("%+v %v", it, err)
}
