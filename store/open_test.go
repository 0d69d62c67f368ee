package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"grace/engine/intent"
)

func TestOpenCreatesDataFolderAndSchema(t *testing.T) {
	tb := setup(t)
	st, err := os.Stat(tb.dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o700 {
		t.Errorf("data folder mode = %o, want 700", perm)
	}
	// The record holds real payloads, masked fields too: its files, the
	// search index's, and their -wal and -shm, are the owner's alone.
	files, _ := filepath.Glob(filepath.Join(tb.dir, "*"))
	var dbFiles int
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil || !strings.Contains(filepath.Base(f), ".db") {
			continue
		}
		dbFiles++
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s mode = %o, want 600", filepath.Base(f), perm)
		}
	}
	if dbFiles < 4 {
		t.Errorf("found %d database files in %v, want the record and its index, each with a -wal", dbFiles, files)
	}
	if err := tb.s.Close(); err != nil {
		t.Fatal(err)
	}
	db := tb.rawDB(t)
	if got := count(t, db, "PRAGMA application_id"); got != applicationID {
		t.Errorf("application_id = %#x, want %#x", got, applicationID)
	}
	if got := count(t, db, "PRAGMA user_version"); got != int64(schemaVersion) {
		t.Errorf("user_version = %d, want %d", got, schemaVersion)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	for _, table := range []string{"intents", "narratives", "clarity", "audit", "meta"} {
		if count(t, db, "SELECT count(*) FROM sqlite_schema WHERE name = ?", table) != 1 {
			t.Errorf("table %s missing", table)
		}
	}
	// The full-text index has a file of its own.
	if count(t, db, "SELECT count(*) FROM sqlite_schema WHERE name = 'narratives_fts'") != 0 {
		t.Errorf("narratives_fts is in the record's file")
	}
	idx, err := sql.Open("sqlite", searchPath(tb.path))
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if got := count(t, idx, "PRAGMA application_id"); got != applicationID {
		t.Errorf("index application_id = %#x, want %#x", got, applicationID)
	}
	if count(t, idx, "SELECT count(*) FROM sqlite_schema WHERE name = 'narratives_fts'") != 1 {
		t.Errorf("narratives_fts missing from the index file")
	}
}

func TestOpenReopensAndKeepsData(t *testing.T) {
	tb := setup(t)
	ctx := context.Background()
	writeRecords(t, tb.s, 3, "alice")
	tb.reopen(t)
	writeRecords(t, tb.s, 2, "bob")
	es, err := tb.s.Search(ctx, searchAll)
	if err != nil || len(es) != 5 {
		t.Fatalf("after reopen: %d entries, %v; want 5", len(es), err)
	}
	rep, err := tb.s.VerifyAudit(ctx)
	if err != nil || !rep.OK || rep.HeadSeq != 5 {
		t.Fatalf("chain after reopen: %+v, %v", rep, err)
	}
}

// TestOpenRefuses checks that what is not ours is refused, with a one-line
// error naming the path, and left exactly as it was.
func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, path string) // creates what sits at path
		want    error                           // nil: any error
		wantMsg string
		ours    bool // a Grace (WAL) database: reading it may leave -wal/-shm
	}{
		{name: "text file", prepare: writeFile("hello, this is my diary, not a database\n"), want: ErrNotSQLite, wantMsg: "not a SQLite database"},
		{name: "short file", prepare: writeFile("SQLite"), want: ErrNotSQLite},
		{name: "almost the header", prepare: writeFile("SQLite format 3 and then some"), want: ErrNotSQLite},
		{name: "another program's database", prepare: foreignDB, want: ErrNotGrace},
		{name: "newer Grace", prepare: newerGrace, want: ErrNewerSchema, ours: true},
		{name: "a directory", prepare: func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, wantMsg: "is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "grace.db")
			tc.prepare(t, path)
			before, names := snapshot(t, path), listDir(t, filepath.Dir(path))
			s, err := Open(context.Background(), path, Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			checkOneLine(t, err, path)
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %q is not %v", err, tc.want)
			}
			if tc.wantMsg != "" && !strings.Contains(err.Error(), path+": "+tc.wantMsg) {
				t.Errorf("error %q does not say %q", err, path+": "+tc.wantMsg)
			}
			if after := snapshot(t, path); !bytes.Equal(before, after) {
				t.Error("the file was modified")
			}
			if after := listDir(t, filepath.Dir(path)); !tc.ours && after != names {
				t.Errorf("the folder held %s and now holds %s", names, after)
			}
		})
	}
}

func TestOpenUnopenablePath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	writeFile("x")(t, file)
	for _, tc := range []struct {
		name string
		path string
		opts Options
	}{
		{"parent is a file", filepath.Join(file, "grace.db"), Options{}},
		{"read-only and missing", filepath.Join(dir, "missing.db"), Options{ReadOnly: true}},
		{"empty path", "", Options{}},
		{"bad synchronous", filepath.Join(dir, "x.db"), Options{Synchronous: "OFF"}},
		{"negative interval", filepath.Join(dir, "x.db"), Options{IndexInterval: -1}},
		{"huge batch", filepath.Join(dir, "x.db"), Options{BatchMax: 1 << 30}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(context.Background(), tc.path, tc.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			checkOneLine(t, err, tc.path)
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("a read-only open created the database")
	}
}

func TestReadOnly(t *testing.T) {
	tb := setup(t)
	ctx := context.Background()
	writeRecords(t, tb.s, 3, "alice")
	if _, err := tb.s.Apply(ctx, &intent.Change{Create: newIntent("in-1")}); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(ctx, tb.path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Apply(ctx, &intent.Change{Records: nil}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Apply on a read-only store: %v, want ErrReadOnly", err)
	}
	if err := ro.Record(ctx, rec("x", "y")); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Record on a read-only store: %v, want ErrReadOnly", err)
	}
	// It sees what the writer commits, including after it opened.
	writeRecords(t, tb.s, 2, "bob")
	es, err := ro.Search(ctx, searchAll)
	if err != nil || len(es) != 5 {
		t.Errorf("read-only Search: %d entries, %v; want 5", len(es), err)
	}
	if lag := ro.IndexLag(); lag != 5 {
		t.Errorf("read-only IndexLag = %d, want 5", lag)
	}
	if _, err := ro.Get(ctx, "in-1"); err != nil {
		t.Errorf("read-only Get: %v", err)
	}
	rep, err := ro.VerifyAudit(ctx)
	if err != nil || !rep.OK {
		t.Errorf("read-only VerifyAudit: %+v, %v", rep, err)
	}
}

func writeFile(content string) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// foreignDB creates a SQLite database some other program made.
func foreignDB(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustExec(t, db, "CREATE TABLE recipes (name TEXT, steps TEXT)")
	mustExec(t, db, "INSERT INTO recipes VALUES ('bread', 'knead')")
}

// newerGrace creates a Grace database and marks it as a later version.
func newerGrace(t *testing.T, path string) {
	t.Helper()
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustExec(t, db, "PRAGMA user_version = 99")
	mustExec(t, db, "PRAGMA wal_checkpoint(TRUNCATE)")
}

// snapshot returns the file's bytes, or nil for a directory.
func snapshot(t *testing.T, path string) []byte {
	t.Helper()
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil
	}
	return fileBytes(t, path)
}

func listDir(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return strings.Join(names, ",")
}

// checkOneLine checks that err is one line, says it was opening a store and
// names path.
func checkOneLine(t *testing.T, err error, path string) {
	t.Helper()
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	if !strings.HasPrefix(msg, "open store "+path) {
		t.Errorf("error %q does not start with %q", msg, "open store "+path)
	}
}
