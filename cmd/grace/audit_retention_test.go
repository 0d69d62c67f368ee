package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/store"
)

// prunedDataFolder writes records in the CLI's data folder, two days
// apart, and prunes the older ones into an archive; it returns the
// archive's path.
func prunedDataFolder(t *testing.T, c *cli) string {
	t.Helper()
	ctx := context.Background()
	fake := clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	st, err := store.Open(ctx, filepath.Join(c.dir, "grace-data", "grace.db"), store.Options{Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, who := range []string{"old", "old", "old", "", "new", "new"} {
		if who == "" {
			fake.Advance(48 * time.Hour)
			continue
		}
		if err := st.Record(ctx, clarity.Record{Who: who, What: "did", Where: "test", Result: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := st.PruneRecords(ctx, engine.PruneRequest{Before: fake.Now().Add(-time.Hour),
		ArchiveDir: filepath.Join(c.dir, "archive"), Why: "test"})
	if err != nil || res.ToSeq != 3 {
		t.Fatalf("PruneRecords: %+v, %v", res, err)
	}
	return filepath.Join(c.dir, "archive", res.Archive)
}

func TestCLIAuditVerifyArchives(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	file := prunedDataFolder(t, c)

	r := c.run(t, "audit", "verify", "--archive", file)
	if r.code != 0 || !strings.Contains(r.stdout, "audit chain intact: 3 entries") ||
		!strings.Contains(r.stdout, "entries #1 to #3 were pruned") ||
		!strings.Contains(r.stdout, "archives intact: 1 file, entries #1 to #3") {
		t.Fatalf("verify --archive: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = c.run(t, "audit", "verify", "--archive", file, "--json")
	var out auditReport
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || !out.OK || out.AnchorSeq != 3 || out.Archives == nil || out.Archives.Entries != 3 {
		t.Fatalf("--json: %v %+v\n%s", err, out, r.stdout)
	}
	c.run(t, "audit", "verify", file).wantFail(t, exitUsage, ": to verify archive files, add --archive")

	// One archived narrative edited: the file and the entry are named.
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(zr)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(bytes.Replace(text, []byte(`"result":"ok"}`), []byte(`"result":"forged"}`), 1))
	_ = zw.Close()
	tampered := filepath.Join(c.dir, "tampered.jsonl.gz")
	if err := os.WriteFile(tampered, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	c.run(t, "audit", "verify", "--archive", tampered).wantFail(t, exitFailure, "archive "+tampered+" broken at entry #1: line 1, entry 1:")
}
