package main

import (
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"grace/engine/httpapi"
	"grace/engine/intent"
)

// TestRefusedDirectSubmitCreatesNoDataFolder: with no server and no
// database yet, an invalid intent is refused without the data folder, the
// database or the audit key being made for it; a valid one then makes
// them, and a later invalid one is refused onto the record.
func TestRefusedDirectSubmitCreatesNoDataFolder(t *testing.T) {
	c := newCLI(t)
	data := filepath.Join(c.dir, "fresh")
	db := filepath.Join(data, "grace.db")
	r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--priority", "99", "--db", db)
	if r.code != 1 || !strings.Contains(r.stderr, "priority") {
		t.Fatalf("invalid submit: exit %d, stderr %q; want exit 1 naming priority", r.code, r.stderr)
	}
	if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused submit made the data folder %s (stat: %v)", data, err)
	}
	if r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--priority", "3", "--db", db); r.code != 0 {
		t.Fatalf("valid submit: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("a valid direct submit made no database: %v", err)
	}
	if r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--priority", "99", "--db", db); r.code != 1 {
		t.Fatalf("invalid submit beside a database: exit %d, stderr %q", r.code, r.stderr)
	}
	r = c.run(t, "narratives", "search", "--action", "intent_rejected", "--db", db)
	if r.code != 0 || strings.Count(r.stdout, "intent_rejected") != 1 {
		t.Fatalf("want the one refusal beside a database on the record, got exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestWaitTimeoutWithoutWait: --wait-timeout means nothing without --wait,
// so it is a usage error (as --interval is without --follow), not ignored;
// nothing is submitted.
func TestWaitTimeoutWithoutWait(t *testing.T) {
	c := newCLI(t)
	db := filepath.Join(c.dir, "data", "grace.db")
	for _, args := range [][]string{
		{"intent", "submit", "--type", "query_knowledge", "--wait-timeout", "5s", "--db", db},
		{"intent", "get", "int_01JPB9AAAAAAAAAAAAAAAAAAAA", "--wait-timeout", "5s", "--db", db},
	} {
		if r := c.run(t, args...); r.code != 2 || !strings.Contains(r.stderr, "--wait-timeout is for --wait") {
			t.Errorf("grace %s: exit %d, stderr %q; want a usage error", strings.Join(args[:2], " "), r.code, r.stderr)
		}
	}
	if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused command made the database (stat: %v)", err)
	}
}

// TestHeldRowsNameAnActorPauseInAnyCase: an actor pause holds its actor's
// intents whatever the case it was given in, and intent get says so.
func TestHeldRowsNameAnActorPauseInAnyCase(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"paused":false,"paused_actors":[{"actor":"AGENT.Runaway","by":"ops","reason":"loops","since":"2026-11-29T22:00:00Z","waiting":1}]}`))
	}))
	defer srv.Close()
	rows := heldRows(t.Context(), httpapi.NewClient(srv.URL, "tok", nil), intent.Intent{ID: "int_01JPB9AAAAAAAAAAAAAAAAAAAA", Actor: "agent.runaway", State: intent.StateQueued})
	if len(rows) != 1 || !strings.Contains(rows[0][1], "actor AGENT.Runaway is paused by ops") {
		t.Fatalf("held rows %q, want the actor pause named", rows)
	}
}
