package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// A backup taken while records keep being written is a data folder of its
// own: its chain verifies against the checkpoints copied with it, it holds
// every record committed before the backup began and the intents, its
// index finds them, and it is private.
func TestBackupWhileWritingIsAVerifiableDataFolder(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	writeRecords(t, tb.s, 50, "before")
	if _, err := tb.s.Apply(ctx, &intent.Change{Create: newIntent("in_backup")}); err != nil {
		t.Fatal(err)
	}
	if err := tb.s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tb.s.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}

	// Records go on being written while the backup is taken.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := tb.s.Record(ctx, rec("during", fmt.Sprintf("step%d", i))); err != nil {
				t.Errorf("Record during the backup: %v", err)
				return
			}
			if i%20 == 0 {
				_ = tb.s.Checkpoint(ctx)
			}
		}
	}()
	// And between the backup's steps a record and its checkpoint commit,
	// so that a step out of order (a checkpoint copied that the copied
	// record does not reach) is caught every time.
	var steps []string
	tb.s.backupHook = func(step string) {
		steps = append(steps, step)
		if err := tb.s.Record(ctx, rec("between", step)); err != nil {
			t.Errorf("Record after %s: %v", step, err)
		}
		if err := tb.s.Checkpoint(ctx); err != nil {
			t.Errorf("Checkpoint after %s: %v", step, err)
		}
	}
	dest := filepath.Join(t.TempDir(), "backup")
	rep, err := tb.s.Backup(ctx, dest, nil)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if len(steps) != 3 {
		t.Fatalf("backup steps %v", steps)
	}
	if rep.DB != filepath.Join(dest, "grace.db") || !rep.Search || rep.Checkpoints == 0 || rep.Bytes == 0 {
		t.Fatalf("report = %+v", rep)
	}
	for name, want := range map[string]os.FileMode{".": 0o700, "grace.db": 0o600, "grace.search.db": 0o600, keyFile: 0o600} {
		info, err := os.Stat(filepath.Join(dest, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s mode %o, want %o", name, got, want)
		}
	}

	b, err := Open(ctx, rep.DB, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer b.Close()
	vr, err := b.VerifyAudit(ctx)
	if err != nil || !vr.OK || vr.Checkpoints != rep.Checkpoints {
		t.Fatalf("the backup does not verify: %+v, %v (checkpoints copied %d)", vr, err, rep.Checkpoints)
	}
	if vr.Entries < 51 {
		t.Fatalf("the backup has %d entries; the 51 written before it began are not all there", vr.Entries)
	}
	if in, err := b.Get(ctx, "in_backup"); err != nil || in.ID != "in_backup" {
		t.Fatalf("the intent is not in the backup: %v", err)
	}
	es, err := b.Search(ctx, clarity.Query{Text: "before", Limit: 100})
	if err != nil || len(es) != 50 {
		t.Fatalf("the backup's search finds %d of the 50 records before it (%v)", len(es), err)
	}
	// The backup is signed at its own head: its newest entry cut away is
	// caught, though the records after the last copied checkpoint were
	// signed by none of them.
	b.Close()
	raw, err := sql.Open("sqlite", rep.DB)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, raw, `DELETE FROM narratives WHERE id = (SELECT narrative_id FROM clarity WHERE audit_seq = (SELECT max(seq) FROM audit))`)
	mustExec(t, raw, `DELETE FROM clarity WHERE audit_seq = (SELECT max(seq) FROM audit)`)
	mustExec(t, raw, `DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)`)
	raw.Close()
	cut, err := Open(ctx, rep.DB, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cut.Close()
	if vr, err := cut.VerifyAudit(ctx); err != nil || vr.OK || !strings.Contains(vr.Problem, "missing") {
		t.Fatalf("the backup with its newest entry cut verifies: %+v, %v", vr, err)
	}
	// Nothing but the backup was made beside it.
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), ".backup.partial-*")); len(left) > 0 {
		t.Fatalf("partial folders left: %v", left)
	}
}

// A backup never overwrites: a folder with anything in it, a file, or the
// data folder itself is refused, naming it, and nothing is written.
func TestBackupRefusesATargetInUse(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	writeRecords(t, tb.s, 3, "x")
	parent := t.TempDir()
	full := filepath.Join(parent, "full")
	if err := os.MkdirAll(full, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, "grace.db"), []byte("older backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(parent, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ dir, want string }{
		{full, "is not empty (1 entries)"},
		{file, "is a file"},
		{tb.dir, "is the data folder itself"},
	} {
		_, err := tb.s.Backup(ctx, c.dir, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.dir) {
			t.Errorf("Backup(%s) = %v, want an error naming it that says %q", c.dir, err, c.want)
		}
	}
	if got := string(fileBytes(t, filepath.Join(full, "grace.db"))); got != "older backup" {
		t.Fatalf("the older backup was changed: %q", got)
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 2 {
		t.Fatalf("the refused backups left files: %v", entries)
	}
	// An empty folder is fine: the backup takes its place.
	empty := filepath.Join(parent, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.s.Backup(ctx, empty, nil); err != nil {
		t.Fatalf("Backup into an empty folder: %v", err)
	}
	// A link to an empty folder stays a link: the backup goes where it
	// points.
	target := filepath.Join(parent, "target")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(parent, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.s.Backup(ctx, link, nil); err != nil {
		t.Fatalf("Backup into a link to an empty folder: %v", err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	if _, err := os.Stat(filepath.Join(target, "grace.db")); err != nil {
		t.Fatalf("the backup is not where the link points: %v", err)
	}
}

// A backup stopped part way (its context ends) leaves nothing behind.
func TestCancelledBackupLeavesNothing(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	writeRecords(t, tb.s, 3, "x")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	parent := t.TempDir()
	_, err := tb.s.Backup(ctx, filepath.Join(parent, "b"), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Backup with an ended context = %v", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Fatalf("a cancelled backup left %v", entries)
	}
}

// A backup killed on the way (SIGKILL: no defer runs) left its hidden
// folder beside the target, with a copy of the signing key in it, and
// every later backup to that target left it there. The next backup to
// the target removes it; a folder whose backup still runs (it holds the
// folder's lock) is left alone, as is a folder of another target.
func TestBackupRemovesAKilledBackupsLeftovers(t *testing.T) {
	t.Parallel()
	if !locksEnforced {
		t.Skip("no flock on this platform")
	}
	tb := setup(t)
	writeRecords(t, tb.s, 3, "x")
	parent := t.TempDir()
	leftover := func(name string) string {
		d := filepath.Join(parent, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, keyFile), fileBytes(t, filepath.Join(tb.dir, keyFile)), 0o600); err != nil {
			t.Fatal(err)
		}
		return d
	}
	killed := leftover(".b.partial-123")
	running := leftover(".b.partial-456")
	other := leftover(".bb.partial-789")
	hold, err := os.Open(running)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	if ok, err := tryLock(hold); !ok || err != nil {
		t.Fatalf("lock %s: %v %v", running, ok, err)
	}
	if _, err := tb.s.Backup(context.Background(), filepath.Join(parent, "b"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(killed); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the killed backup's folder %s (with the signing key) is still there: %v", killed, err)
	}
	for _, d := range []string{running, other} {
		if _, err := os.Stat(filepath.Join(d, keyFile)); err != nil {
			t.Errorf("%s was removed: %v", d, err)
		}
	}
}

// A backup whose disk fills up leaves nothing and says that the backup
// folder's disk is full, not (by naming the database it copied) the data
// folder's. Not parallel: it replaces vacuumMain.
func TestBackupOnAFullDiskNamesTheBackupFolder(t *testing.T) {
	tb := setup(t)
	ctx := context.Background()
	writeRecords(t, tb.s, 3, "x")
	// SQLite's own SQLITE_FULL, from a database that may not grow.
	full, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	full.SetMaxOpenConns(1)
	_, errFull := full.ExecContext(ctx, `PRAGMA max_page_count = 2; CREATE TABLE t(b BLOB); INSERT INTO t VALUES (zeroblob(100000))`)
	if !isDiskFull(errFull) {
		t.Fatalf("want SQLITE_FULL, got %v", errFull)
	}
	defer func(v func(context.Context, *sql.Conn, string, string) error) { vacuumMain = v }(vacuumMain)
	for _, fail := range []error{errFull, &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}} {
		vacuumMain = func(context.Context, *sql.Conn, string, string) error { return fail }
		parent := t.TempDir()
		dest := filepath.Join(parent, "b")
		_, err := tb.s.Backup(ctx, dest, nil)
		if !errors.Is(err, ErrBackupDiskFull) || !strings.HasPrefix(err.Error(), "backup folder "+dest+": its disk is full") {
			t.Errorf("Backup on a full disk (%v) = %v, want it to say that %s's disk is full", fail, err, dest)
		}
		if entries, _ := os.ReadDir(parent); len(entries) != 0 {
			t.Errorf("the backup on a full disk left %v", entries)
		}
	}
}

// A link to nothing is refused rather than replaced by the backup.
func TestBackupRefusesADanglingLink(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	writeRecords(t, tb.s, 3, "x")
	parent := t.TempDir()
	link := filepath.Join(parent, "link")
	if err := os.Symlink(filepath.Join(parent, "missing"), link); err != nil {
		t.Fatal(err)
	}
	_, err := tb.s.Backup(context.Background(), link, nil)
	if err == nil || !strings.Contains(err.Error(), "is a link to "+filepath.Join(parent, "missing")+", which does not exist") {
		t.Fatalf("Backup into a dangling link = %v", err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Fatalf("the refused backup left %v", entries)
	}
}

// A check of the copy that fails (the command's verification, cut short
// by Ctrl-C) leaves nothing behind: the backup folder only ever appears
// checked.
func TestBackupCheckFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	writeRecords(t, tb.s, 3, "x")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	parent := t.TempDir()
	dest := filepath.Join(parent, "b")
	var checked string
	_, err := tb.s.Backup(ctx, dest, func(ctx context.Context, db string) error {
		checked = db
		if _, err := os.Stat(db); err != nil {
			t.Errorf("the copy to check: %v", err)
		}
		cancel() // interrupted while it checks
		return ctx.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Backup with a failed check = %v", err)
	}
	if filepath.Dir(filepath.Dir(checked)) != parent || filepath.Base(checked) != "grace.db" || filepath.Dir(checked) == dest {
		t.Fatalf("checked %s, want the copy in a hidden folder beside %s", checked, dest)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Fatalf("a backup whose check failed left %v", entries)
	}
}

// A backup folder whose parents are missing is made with them, as
// mkdir -p would; a backup that fails takes away the parents it made.
func TestBackupMakesMissingParents(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	writeRecords(t, tb.s, 3, "x")
	ctx := context.Background()
	parent := t.TempDir()
	dest := filepath.Join(parent, "backups", "nightly", "b")
	if _, err := tb.s.Backup(ctx, dest, nil); err != nil {
		t.Fatalf("Backup into a folder whose parents are missing = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dest, "grace.db")); err != nil {
		t.Fatalf("the backup is not in %s: %v", dest, err)
	}
	for _, d := range []string{filepath.Join(parent, "backups"), filepath.Join(parent, "backups", "nightly")} {
		if info, err := os.Stat(d); err != nil || info.Mode().Perm() != 0o700 {
			t.Errorf("parent %s made as %v (%v), want mode 0700", d, info, err)
		}
	}

	failed := filepath.Join(parent, "other", "deeper", "b")
	_, err := tb.s.Backup(ctx, failed, func(context.Context, string) error { return errors.New("no") })
	if err == nil {
		t.Fatal("Backup with a failing check succeeded")
	}
	if _, err := os.Stat(filepath.Join(parent, "other")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed backup left the parents it made: %v", err)
	}
}
