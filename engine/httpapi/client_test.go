package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

func TestClientRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	c := NewClient(b.srv.URL+"/", testToken, b.srv.Client())
	ctx := context.Background()

	res, err := c.Submit(ctx, intent.Submission{Type: "query_knowledge", Actor: "a", Payload: json.RawMessage(`{"q":1}`), Priority: 3, IdempotencyKey: "k"})
	if err != nil || res.Intent.ID == "" || res.Existing || res.Intent.State != intent.StateQueued {
		t.Fatalf("submit: %+v, %v", res, err)
	}
	again, err := c.Submit(ctx, intent.Submission{Type: "query_knowledge", Actor: "a", Priority: 3, IdempotencyKey: "k"})
	if err != nil || !again.Existing || again.Intent.ID != res.Intent.ID {
		t.Fatalf("resubmit: %+v, %v", again, err)
	}
	got, err := c.Get(ctx, res.Intent.ID)
	if err != nil || got.Priority != 3 {
		t.Fatalf("get: %+v, %v", got, err)
	}

	p1, _ := c.Submit(ctx, intent.Submission{Type: "change_charter", Actor: "a"})
	p2, _ := c.Submit(ctx, intent.Submission{Type: "change_charter", Actor: "a"})
	pending, err := c.Pending(ctx)
	if err != nil || len(pending) != 2 || pending[0].ID != p1.Intent.ID {
		t.Fatalf("pending, oldest first: %+v, %v", pending, err)
	}
	c.Operator = "carol"
	in, err := c.Approve(ctx, p1.Intent.ID, "", "ok")
	if err != nil || in.DecidedBy != "carol" || in.State != intent.StateQueued {
		t.Fatalf("approve: %+v, %v", in, err)
	}
	if _, err := c.Deny(ctx, p2.Intent.ID, "dave", ""); !errors.Is(err, engine.ErrReasonRequired) {
		t.Fatalf("deny without reason: %v, want ErrReasonRequired", err)
	}
	in, err = c.Deny(ctx, p2.Intent.ID, "dave", "no")
	if err != nil || in.DecidedBy != "dave" || in.State != intent.StateDenied {
		t.Fatalf("deny: %+v, %v", in, err)
	}
	if _, err := c.Approve(ctx, p2.Intent.ID, "", "x"); !errors.Is(err, engine.ErrNotPending) {
		t.Fatalf("approve a denied intent: %v, want ErrNotPending", err)
	}
	if _, err := c.Get(ctx, "missing"); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("get missing: %v, want ErrNotFound", err)
	}
	list, err := c.List(ctx, intent.Filter{State: intent.StateDenied})
	if err != nil || len(list) != 1 {
		t.Fatalf("list denied: %+v, %v", list, err)
	}

	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	entries, err := c.Search(ctx, clarity.Query{Text: "a b", Actor: "x", Action: "y", IntentID: "z", Since: since, Limit: 9})
	if err != nil || len(entries) != 2 {
		t.Fatalf("search: %+v, %v", entries, err)
	}
	q := b.api.lastQuery
	if q.Text != "a b" || q.Actor != "x" || q.Action != "y" || q.IntentID != "z" || !q.Since.Equal(since) || q.Limit != 9 {
		t.Fatalf("search query arrived as %+v", q)
	}
	snap, err := c.Snapshot(ctx)
	if err != nil || snap.QueueDepth != 3 {
		t.Fatalf("snapshot: %+v, %v", snap, err)
	}
	rr, err := c.Ready(ctx)
	if err != nil || !rr.Ready {
		t.Fatalf("ready: %+v, %v", rr, err)
	}
	b.api.ready = false
	if rr, err = c.Ready(ctx); err != nil || rr.Ready {
		t.Fatalf("not ready: %+v, %v", rr, err)
	}
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	ctx := context.Background()

	_, err := NewClient(b.srv.URL, testToken, nil).Submit(ctx, intent.Submission{Actor: "a", Priority: 11})
	var ve *engine.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 {
		t.Fatalf("invalid submission: %v, want a ValidationError with 2 problems", err)
	}

	b.api.full = true
	_, err = NewClient(b.srv.URL, testToken, nil).Submit(ctx, intent.Submission{Type: "t", Actor: "a"})
	if !errors.Is(err, engine.ErrQueueFull) {
		t.Fatalf("queue full: %v", err)
	}

	_, err = NewClient(b.srv.URL, "wrong", nil).Get(ctx, "x")
	var ae *Error
	if !errors.As(err, &ae) || ae.Status != 401 || ae.Code != CodeUnauthorized {
		t.Fatalf("bad token: %v", err)
	}

	// A server that is not there is a transport error the caller can see.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = NewClient("http://"+addr, testToken, nil).Get(ctx, "x")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("no server: %v, want ECONNREFUSED", err)
	}
	// Said once: the method and URL, then what went wrong (the console's
	// status line showed them twice).
	if n := strings.Count(err.Error(), "http://"+addr); n != 1 {
		t.Fatalf("no server: %q names http://%s %d times, want once", err, addr, n)
	}
}

func TestClientSendsTheWholeFilterAndQuery(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	c := NewClient(b.srv.URL, testToken, b.srv.Client())
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := intent.Filter{State: intent.StateCompleted, Actor: "agent.x", Type: "deploy_model", Since: since, Tier: 1, HasTier: true, Unreviewed: true, Limit: 7}
	if _, err := c.List(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	got := b.api.lastList
	if got.State != f.State || got.Actor != f.Actor || got.Type != f.Type || !got.Since.Equal(since) ||
		got.Tier != 1 || !got.HasTier || !got.Unreviewed || got.Limit != 7 {
		t.Fatalf("filter arrived as %+v", got)
	}
	if _, err := c.List(t.Context(), intent.Filter{Tier: 0, HasTier: true}); err != nil || !b.api.lastList.HasTier || b.api.lastList.Tier != 0 {
		t.Fatalf("tier 0 filter arrived as %+v (%v)", b.api.lastList, err)
	}
	until := since.Add(time.Hour)
	if _, err := c.Search(t.Context(), clarity.Query{Until: until, BeforeID: 42, AfterID: 17, Limit: 5}); err != nil {
		t.Fatal(err)
	}
	if q := b.api.lastQuery; !q.Until.Equal(until) || q.BeforeID != 42 || q.AfterID != 17 || q.Limit != 5 {
		t.Fatalf("query arrived as %+v", q)
	}
	for _, bad := range []string{"tier=5", "tier=x", "unreviewed=maybe", "since=soon"} {
		b.call(t, "GET", "/v1/intents?"+bad, "").wantError(t, 400, CodeBadQuery)
	}
	for _, bad := range []string{"before=0", "before=x", "until=later", "after=-1", "after=x"} {
		b.call(t, "GET", "/v1/narratives?"+bad, "").wantError(t, 400, CodeBadQuery)
	}
}
