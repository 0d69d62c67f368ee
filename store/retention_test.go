package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// retentionBundle is a store with old and new records and intents.
type retentionBundle struct {
	*testBundle
	cutoff time.Time
}

// setupRetention writes 30 records and 4 intents at t0, moves the clock 10
// days on, writes 5 more records and 1 final intent, and signs a
// checkpoint; the cutoff is 5 days ago.
func setupRetention(t *testing.T) *retentionBundle {
	t.Helper()
	tb := setup(t)
	ctx := context.Background()
	writeRecords(t, tb.s, 30, "old")
	for _, st := range []intent.State{intent.StateCompleted, intent.StateFailed, intent.StatePendingApproval, intent.StateQueued} {
		in := newIntent("in_old_" + string(st))
		in.State = st
		if _, err := tb.s.Apply(ctx, &intent.Change{Create: in, Records: []clarity.Record{rec("engine", "received")}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tb.s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	tb.clock.Advance(10 * 24 * time.Hour)
	writeRecords(t, tb.s, 5, "new")
	in := newIntent("in_new_completed")
	in.State, in.CreatedAt, in.UpdatedAt = intent.StateCompleted, tb.clock.Now(), tb.clock.Now()
	if _, err := tb.s.Apply(ctx, &intent.Change{Create: in}); err != nil {
		t.Fatal(err)
	}
	if err := tb.s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	return &retentionBundle{testBundle: tb, cutoff: tb.clock.Now().Add(-5 * 24 * time.Hour)}
}

func (rb *retentionBundle) prune(t *testing.T, dir string) engine.PruneResult {
	t.Helper()
	res, err := rb.s.PruneRecords(context.Background(), engine.PruneRequest{Before: rb.cutoff, ArchiveDir: dir, Why: "test"})
	if err != nil {
		t.Fatalf("PruneRecords: %v", err)
	}
	return res
}

// verifyOK fails the test unless the chain verifies.
func verifyOK(t *testing.T, s *Store) VerifyReport {
	t.Helper()
	rep, err := s.VerifyAudit(context.Background())
	if err != nil || !rep.OK {
		t.Fatalf("VerifyAudit: %+v, %v", rep, err)
	}
	return rep
}

// ftsIntegrity runs FTS5's integrity-check on the index file.
func ftsIntegrity(t *testing.T, tb *testBundle) {
	t.Helper()
	db, err := sql.Open("sqlite", searchPath(tb.path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustExec(t, db, "INSERT INTO narratives_fts(narratives_fts) VALUES('integrity-check')")
}

func TestPruneRemovesExactlyWhatIsOlderThanTheCutoff(t *testing.T) {
	t.Parallel()
	rb := setupRetention(t)
	ctx := context.Background()
	if err := rb.s.FlushIndex(ctx); err != nil { // the old records are in the index
		t.Fatal(err)
	}
	res := rb.prune(t, "")
	// 30 records and 4 received records at t0: entries 1..34.
	if res.FromSeq != 1 || res.ToSeq != 34 || res.Intents != 2 || res.More || res.Archive != "" {
		t.Fatalf("result %+v", res)
	}
	db := rb.rawDB(t)
	if n := count(t, db, "SELECT count(*) FROM audit"); n != 6 {
		t.Errorf("%d audit entries left, want the 5 new and the prune's", n)
	}
	if n := count(t, db, "SELECT min(seq) FROM audit"); n != 35 {
		t.Errorf("oldest entry %d, want 35", n)
	}
	for _, q := range []string{"SELECT count(*) FROM narratives", "SELECT count(*) FROM clarity"} {
		if n := count(t, db, q); n != 6 {
			t.Errorf("%s = %d, want 6", q, n)
		}
	}
	if n := count(t, db, "SELECT count(*) FROM narratives WHERE who = 'old'"); n != 0 {
		t.Errorf("%d old narratives left", n)
	}
	if n := count(t, db, "SELECT min(min_ts) FROM narrative_blocks"); n < rb.cutoff.UnixNano() {
		t.Errorf("narrative_blocks still spans the pruned time (%d)", n)
	}
	var ids []string
	rows, err := db.Query("SELECT id FROM intents ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if got := strings.Join(ids, " "); got != "in_new_completed in_old_pending_approval in_old_queued" {
		t.Errorf("intents left: %s (the old final ones go, the unfinished and the new stay)", got)
	}
	if seq, hash, err := rb.s.Anchor(ctx); err != nil || seq != 34 || hash != res.AnchorHash {
		t.Errorf("Anchor = %d %s, %v; want 34 %s", seq, hash, err, res.AnchorHash)
	}
	rep := verifyOK(t, rb.s)
	if rep.Entries != 6 || rep.Checkpoints != 2 {
		t.Errorf("report %+v: want 6 entries, both checkpoints (one below the anchor) checked", rep)
	}

	// Search: the pruned words are gone, the kept ones and the prune's
	// record are found, and the index is whole.
	if err := rb.s.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	ftsIntegrity(t, rb.testBundle)
	for q, want := range map[string]int{"old": 0, "new": 5, "records_pruned": 1, "anchor": 1} {
		got, err := rb.s.Search(ctx, clarity.Query{Text: q})
		if err != nil || len(got) != want {
			t.Errorf("Search(%q) = %d entries, %v; want %d", q, len(got), err, want)
		}
	}
	got, err := rb.s.Search(ctx, clarity.Query{Action: "records_pruned"})
	if err != nil || len(got) != 1 || got[0].Result != anchorResult(anchor{Seq: 34, Hash: res.AnchorHash}) || got[0].Seq != res.RecordSeq {
		t.Fatalf("the prune's record: %+v, %v", got, err)
	}
	if c := got[0].Context; c["from_seq"] != float64(1) || c["to_seq"] != float64(34) || c["intents"] != float64(2) {
		t.Errorf("the prune's record context %v", c)
	}
	// Nothing more to prune: a second call changes nothing.
	if res := rb.prune(t, ""); res.Entries() != 0 || res.Intents != 0 || res.RecordSeq != 0 {
		t.Errorf("second prune %+v", res)
	}
}

func TestPruneRoundsThenRestartContinueTheChain(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	for round := range 4 {
		writeRecords(t, tb.s, 20, fmt.Sprint("round", round))
		if err := tb.s.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		tb.clock.Advance(48 * time.Hour)
		writeRecords(t, tb.s, 3, "fresh")
		res, err := tb.s.PruneRecords(ctx, engine.PruneRequest{Before: tb.clock.Now().Add(-24 * time.Hour)})
		if err != nil || res.Entries() < 20 {
			t.Fatalf("round %d: %+v, %v", round, res, err)
		}
		verifyOK(t, tb.s)
		if round == 1 {
			tb.reopen(t)
		}
	}
	tb.reopen(t)
	writeRecords(t, tb.s, 2, "after")
	if err := tb.s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	rep := verifyOK(t, tb.s)
	seq, _, _ := tb.s.Anchor(ctx)
	if rep.HeadSeq != 4*24+2 || seq == 0 || rep.Entries != rep.HeadSeq-seq {
		t.Errorf("report %+v, anchor %d", rep, seq)
	}
	if err := tb.s.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	ftsIntegrity(t, tb)
}

func TestForgedAnchorIsCaught(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		prune bool // a real prune first
	}{{"never pruned", false}, {"past a real anchor", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rb := setupRetention(t)
			if tc.prune {
				rb.prune(t, "")
				writeRecords(t, rb.s, 5, "later")
			}
			if err := rb.s.Close(); err != nil {
				t.Fatal(err)
			}
			// An attacker deletes the oldest entries and writes an anchor
			// that makes the rest chain.
			db := rb.rawDB(t)
			k := count(t, db, "SELECT min(seq) FROM audit") + 2
			var hash string
			var narr int64
			if err := db.QueryRow("SELECT hash, json_extract(entry, '$.narrative_id') FROM audit WHERE seq = ?", k).Scan(&hash, &narr); err != nil {
				t.Fatal(err)
			}
			mustExec(t, db, "DELETE FROM clarity WHERE narrative_id <= ?", narr)
			mustExec(t, db, "DELETE FROM narratives WHERE id <= ?", narr)
			mustExec(t, db, "DELETE FROM audit WHERE seq <= ?", k)
			mustExec(t, db, "INSERT OR REPLACE INTO audit_anchor(id, seq, hash, narrative_id) VALUES (1, ?, ?, ?)", k, hash, narr)
			db.Close()
			rb.reopen(t)
			rep, err := rb.s.VerifyAudit(context.Background())
			if err != nil || rep.OK || !strings.Contains(rep.Problem, "no records_pruned entry in the chain names that anchor") {
				t.Fatalf("forged anchor: %+v, %v", rep, err)
			}
		})
	}
}

func TestPruneArchiveVerifiesAndTamperingIsNamed(t *testing.T) {
	t.Parallel()
	rb := setupRetention(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "archive")
	res := rb.prune(t, dir)
	path := filepath.Join(dir, "grace-audit-1-34.jsonl.gz")
	if res.Archive != filepath.Base(path) || len(res.ArchiveSHA256) != 64 {
		t.Fatalf("result %+v", res)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("archive file: %v, %v", info, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	rep, err := rb.s.VerifyArchives(ctx, []string{path})
	if err != nil || !rep.OK || rep.Entries != 34 || rep.FromSeq != 1 || rep.ToSeq != 34 || rep.AnchorSeq != 34 {
		t.Fatalf("VerifyArchives: %+v, %v", rep, err)
	}

	// A second prune's archive chains on from the first one's.
	rb.clock.Advance(10 * 24 * time.Hour)
	writeRecords(t, rb.s, 3, "newer")
	rb.cutoff = rb.clock.Now().Add(-time.Hour)
	res2 := rb.prune(t, dir)
	second := filepath.Join(dir, res2.Archive)
	if rep, err := rb.s.VerifyArchives(ctx, []string{second, path}); err != nil || !rep.OK || rep.ToSeq != res2.ToSeq {
		t.Fatalf("two archives: %+v, %v", rep, err)
	}
	if rep, _ := rb.s.VerifyArchives(ctx, []string{path}); rep.OK || !strings.Contains(rep.Problem, "are not among the files") {
		t.Errorf("the first archive alone does not reach the anchor: %+v", rep)
	}

	// A narrative edited in the archive: named by file, line and entry.
	lines := strings.Split(string(gunzip(t, path)), "\n")
	lines[6] = strings.Replace(lines[6], `"who":"old"`, `"who":"mallory"`, 1)
	tampered := filepath.Join(t.TempDir(), filepath.Base(path))
	writeGzip(t, tampered, strings.Join(lines, "\n"))
	rep, err = rb.s.VerifyArchives(ctx, []string{tampered, second})
	if err != nil || rep.OK || rep.File != tampered || rep.Seq != 7 || !strings.Contains(rep.Problem, "line 7, entry 7") || !strings.Contains(rep.Problem, "digest mismatch") {
		t.Errorf("tampered archive: %+v, %v", rep, err)
	}
	// A whole file rewritten consistently but for its sha256: the
	// records_pruned record that wrote it catches it.
	writeGzip(t, tampered, strings.Join(strings.Split(string(gunzip(t, path)), "\n"), "\n")+"")
	rep, _ = rb.s.VerifyArchives(ctx, []string{tampered, second})
	if gz := fileBytes(t, tampered); !bytes.Equal(gz, fileBytes(t, path)) && (rep.OK || !strings.Contains(rep.Problem, "sha256")) {
		t.Errorf("re-compressed archive: %+v", rep)
	}
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(fileBytes(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeGzip(t *testing.T, path, text string) {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write([]byte(text))
	_ = zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestPruneWithUnwritableArchiveDeletesNothing(t *testing.T) {
	t.Parallel()
	rb := setupRetention(t)
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(blocker, "archive") // its parent is a file
	db := rb.rawDB(t)
	before := count(t, db, "SELECT count(*) FROM audit") + count(t, db, "SELECT count(*) FROM intents")
	_, err := rb.s.PruneRecords(context.Background(), engine.PruneRequest{Before: rb.cutoff, ArchiveDir: dir})
	if err == nil || !strings.Contains(err.Error(), "archive folder "+dir) || !strings.Contains(err.Error(), "nothing was pruned") {
		t.Fatalf("PruneRecords: %v", err)
	}
	if after := count(t, db, "SELECT count(*) FROM audit") + count(t, db, "SELECT count(*) FROM intents"); after != before {
		t.Errorf("rows %d → %d: something was deleted", before, after)
	}
	if seq, _, _ := rb.s.Anchor(context.Background()); seq != 0 {
		t.Errorf("anchor moved to %d", seq)
	}
	verifyOK(t, rb.s)
}

func TestPruneRefusesToDeleteATamperedEntry(t *testing.T) {
	t.Parallel()
	rb := setupRetention(t)
	mustExec(t, rb.rawDB(t), "UPDATE narratives SET how = 'forged' WHERE id = 5")
	_, err := rb.s.PruneRecords(context.Background(), engine.PruneRequest{Before: rb.cutoff})
	if err == nil || !strings.Contains(err.Error(), "audit entry 5") {
		t.Fatalf("PruneRecords: %v", err)
	}
	if n := count(t, rb.rawDB(t), "SELECT count(*) FROM audit"); n != 39 {
		t.Errorf("%d entries left, want all 39", n)
	}
}

// An anchor moved but entries below it left (a crash between the two):
// verification ignores them, the next prune deletes them.
func TestPruneInterruptedBeforeDeletingIsFinishedLater(t *testing.T) {
	t.Parallel()
	rb := setupRetention(t)
	ctx := context.Background()
	rng, err := rb.s.pruneRange(ctx, rb.cutoff, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rb.s.recordPrune(ctx, rng, engine.PruneRequest{Why: "test"}, 0); err != nil {
		t.Fatal(err)
	}
	db := rb.rawDB(t)
	if n := count(t, db, "SELECT count(*) FROM audit"); n != 40 {
		t.Fatalf("%d entries", n)
	}
	verifyOK(t, rb.s)
	rb.cutoff = t0 // nothing new to prune
	rb.prune(t, "")
	if n := count(t, db, "SELECT count(*) FROM audit WHERE seq <= 34"); n != 0 {
		t.Errorf("%d entries left below the anchor", n)
	}
	verifyOK(t, rb.s)
	if err := rb.s.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	ftsIntegrity(t, rb.testBundle)
}

func TestBackupOfAPrunedStoreVerifies(t *testing.T) {
	t.Parallel()
	rb := setupRetention(t)
	ctx := context.Background()
	rb.prune(t, "")
	dest := filepath.Join(t.TempDir(), "backup")
	if _, err := rb.s.Backup(ctx, dest, nil); err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, filepath.Join(dest, "grace.db"), Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if rep := verifyOK(t, b); rep.Entries != 6 {
		t.Errorf("backup report %+v", rep)
	}
}

// TestPruneInterruptedAfterArchivingLeavesOneArchive stops a prune after
// its archive is durable and before the records_pruned record (a crash or
// a stop there): the entries are all still in the database, and the next
// round archives them again with newer ones. The archive folder must then
// hold one file per range, so that checking every file in it (as the
// README shows, with a glob) passes.
func TestPruneInterruptedAfterArchivingLeavesOneArchive(t *testing.T) {
	t.Parallel()
	rb := setupRetention(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "archive")
	if _, err := rb.s.pruneRange(ctx, rb.cutoff, dir); err != nil { // archived, then interrupted
		t.Fatal(err)
	}
	verifyOK(t, rb.s)
	rb.cutoff = rb.clock.Now().Add(time.Nanosecond) // the next round takes more
	res := rb.prune(t, dir)
	verifyOK(t, rb.s)
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || filepath.Base(files[0]) != res.Archive {
		t.Errorf("archive folder holds %v, want only %s", files, res.Archive)
	}
	if rep, err := rb.s.VerifyArchives(ctx, files); err != nil || !rep.OK {
		t.Errorf("VerifyArchives(every file in the folder): %+v, %v", rep, err)
	}
}

// A temporary archive left by a process killed while it wrote one (never
// renamed: its entries were not pruned) is removed by a later round once
// it has been left unwritten for staleArchiveTemp; one being written now
// (fresh) is left alone.
func TestPruneRemovesStaleTemporaryArchives(t *testing.T) {
	t.Parallel()
	rb := setupRetention(t)
	dir := filepath.Join(t.TempDir(), "archive")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".grace-audit-123.tmp")
	fresh := filepath.Join(dir, ".grace-audit-456.tmp")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial gzip"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleArchiveTemp)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if res := rb.prune(t, dir); res.Archive == "" {
		t.Fatalf("no archive written: %+v", res)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale temporary archive is still there (%v)", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("the temporary archive being written was removed: %v", err)
	}
}

// The final intents a prune deletes are on the record before they go: when
// its records_pruned record is written they are all still there (a crash
// then leaves them recorded, not deleted unrecorded), and the record
// counts exactly those the prune deletes.
func TestPruneRecordsIntentsBeforeDeletingThem(t *testing.T) {
	t.Parallel()
	rb := setupRetention(t)
	db := rb.rawDB(t)
	finalOld := "SELECT count(*) FROM intents WHERE id IN ('in_old_completed', 'in_old_failed')"
	seen := int64(-1)
	rb.s.pruneHook = func() { seen = count(t, db, finalOld) }
	res := rb.prune(t, "")
	if seen != 2 {
		t.Fatalf("%d of the 2 old final intents were left when the prune's record was written, want 2", seen)
	}
	if n := count(t, db, finalOld); n != 0 || res.Intents != 2 {
		t.Fatalf("after the prune: %d old final intents left, %d counted; want 0 left, 2 counted", n, res.Intents)
	}
	got, err := rb.s.Search(context.Background(), clarity.Query{Action: "records_pruned"})
	if err != nil || len(got) != 1 {
		t.Fatalf("records_pruned: %+v, %v", got, err)
	}
	if c := got[0].Context; fmt.Sprint(c["intents"]) != "2" {
		t.Errorf("the record's context %v does not count the 2 intents", c)
	}
}
