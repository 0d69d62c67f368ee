package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// BackupReport says what Backup wrote.
type BackupReport struct {
	Dir         string // the backup's folder
	DB          string // the record's copy in it
	Bytes       int64  // the size of every file written
	Checkpoints int    // signed checkpoints copied
	Search      bool   // whether the full-text index was copied too
}

// Backup writes a consistent copy of the data folder into dir, a folder
// that must not exist or be empty, while the engine may go on writing: the
// database (VACUUM INTO, one read transaction, so a snapshot of one
// moment), the full-text index, the audit key pair and the signed
// checkpoints. The copy is built in a hidden folder beside dir and renamed
// into place when whole, so dir never holds half a backup; a failure or a
// cancelled ctx leaves nothing behind.
//
// The order keeps the copy verifiable: the checkpoints are copied before
// the database (a checkpoint is signed after its entries commit, so every
// copied checkpoint's entry is in the copied database), and the index
// before the database (an index behind its record catches up when opened;
// one ahead of it would not be its record's).
//
// The copy is a data folder: grace opens it as it is (--db dir/<name>),
// and `grace audit verify` checks it. check, when not nil, is given the
// whole copy's database while it is still in the hidden folder: an error
// from it (say, ctx ended while it verified the copy) leaves nothing
// behind either, so dir only ever appears checked.
//
// A disk that fills up is named as the backup folder's, not the data
// folder's: ErrBackupDiskFull.
func (s *Store) Backup(ctx context.Context, dir string, check func(ctx context.Context, db string) error) (rep BackupReport, err error) {
	if err := s.readable(); err != nil {
		return rep, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return rep, fmt.Errorf("backup folder %s: %w", dir, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real // a link to an empty folder: the backup goes there, the link stays
	} else if info, lerr := os.Lstat(abs); lerr == nil && info.Mode()&fs.ModeSymlink != 0 {
		// A link to nothing is not a new folder: the backup would take
		// the link's place.
		to, _ := os.Readlink(abs)
		return rep, fmt.Errorf("backup folder %s is a link to %s, which does not exist: make that folder, or name a new one", abs, to)
	}
	defer func() {
		if isDiskFull(err) {
			err = fmt.Errorf("backup folder %s: %w, and nothing was left there: free space on it, or name a folder on another disk (%v)", abs, ErrBackupDiskFull, err)
		}
	}()
	if err := backupTarget(abs, s.dir); err != nil {
		return rep, err
	}
	made, err := makeParents(filepath.Dir(abs))
	if err != nil {
		return rep, fmt.Errorf("backup folder %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			removeMade(made)
		}
	}()
	removeKilledBackups(abs)
	tmp, err := os.MkdirTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".partial-")
	if err != nil {
		return rep, fmt.Errorf("backup folder %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	// Held while the copy is built: a backup to the same folder later
	// tells this one's leftovers, should it be killed, from a copy still
	// being made (removeKilledBackups).
	if hold, err := os.Open(tmp); err == nil {
		defer hold.Close()
		_, _ = tryLock(hold)
	}
	if err := os.Chmod(tmp, 0o700); err != nil { // it holds the signing key
		return rep, fmt.Errorf("backup folder %s: %w", dir, err)
	}
	name := filepath.Base(s.path)
	conn, err := s.rdb.Conn(ctx)
	if err != nil {
		return rep, fmt.Errorf("backup of %s: %w", s.path, err)
	}
	defer conn.Close()
	var attached int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM pragma_database_list WHERE name = 'search'`).Scan(&attached); err != nil {
		return rep, fmt.Errorf("backup of %s: %w", s.path, err)
	}
	if attached == 1 {
		if err := vacuumInto(ctx, conn, "search", searchPath(filepath.Join(tmp, name))); err != nil {
			return rep, fmt.Errorf("backup of the full-text index %s: %w", searchPath(s.path), err)
		}
		rep.Search = true
	}
	s.afterBackupStep("index")
	for _, f := range []struct {
		name string
		perm os.FileMode
	}{{keyFile, 0o600}, {pubFile, 0o644}, {checkpointFile, 0o600}} {
		n, err := copyWhole(filepath.Join(s.dir, f.name), filepath.Join(tmp, f.name), f.perm, f.name == checkpointFile)
		if err != nil {
			return rep, fmt.Errorf("backup of %s: %w", filepath.Join(s.dir, f.name), err)
		}
		if f.name == checkpointFile {
			rep.Checkpoints = n
		}
	}
	s.afterBackupStep("checkpoints")
	if err := vacuumMain(ctx, conn, "main", filepath.Join(tmp, name)); err != nil {
		return rep, fmt.Errorf("backup of %s: %w", s.path, err)
	}
	s.afterBackupStep("record")
	if signed, err := signBackupHead(ctx, tmp, name, s.opts.Clock.Now()); err != nil {
		return rep, fmt.Errorf("backup folder %s: sign its head: %w", dir, err)
	} else if signed {
		rep.Checkpoints++
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return rep, fmt.Errorf("backup folder %s: %w", dir, err)
	}
	for _, e := range entries {
		if err := syncFile(filepath.Join(tmp, e.Name())); err != nil {
			return rep, fmt.Errorf("backup folder %s: %w", dir, err)
		}
		if info, err := e.Info(); err == nil {
			rep.Bytes += info.Size()
		}
	}
	if err := syncFile(tmp); err != nil {
		return rep, fmt.Errorf("backup folder %s: %w", dir, err)
	}
	if check != nil {
		if err := check(ctx, filepath.Join(tmp, name)); err != nil {
			return rep, err
		}
	}
	// An empty folder named dir gives way to the whole backup; one that
	// filled meanwhile is left alone (Remove fails) and the copy with it.
	if err := os.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return rep, fmt.Errorf("backup folder %s: %w", dir, err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		return rep, fmt.Errorf("backup folder %s: %w", dir, err)
	}
	if err := syncFile(filepath.Dir(abs)); err != nil {
		return rep, fmt.Errorf("backup folder %s: %w", dir, err)
	}
	rep.Dir, rep.DB = abs, filepath.Join(abs, name)
	return rep, nil
}

// removeKilledBackups removes the hidden folders that backups to abs
// killed on the way (SIGKILL, a power cut) left beside it: each holds a
// copy of the signing key and part of the record. A folder whose
// backup still runs holds its lock and stays; where locks are not
// enforced none is removed.
func removeKilledBackups(abs string) {
	if !locksEnforced {
		return
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(abs), "."+globEscape(filepath.Base(abs))+".partial-*"))
	for _, d := range left {
		f, err := os.Open(d)
		if err != nil {
			continue
		}
		if info, err := f.Stat(); err == nil && info.IsDir() {
			if free, err := tryLock(f); err == nil && free {
				os.RemoveAll(d)
			}
		}
		f.Close()
	}
}

// globEscape quotes the characters filepath.Match reads as a pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ErrBackupDiskFull is Backup's error when the backup folder's disk is
// full: nothing was left there.
var ErrBackupDiskFull = errors.New("its disk is full")

// isDiskFull reports whether err is a full disk: SQLite's SQLITE_FULL or
// the system's ENOSPC.
func isDiskFull(err error) bool {
	var se *sqlite.Error
	return errors.Is(err, syscall.ENOSPC) || (errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL)
}

// backupTarget refuses a backup folder that holds anything or is the data
// folder itself, changing nothing.
func backupTarget(abs, dataDir string) error {
	d, err := filepath.Abs(dataDir)
	if real, rerr := filepath.EvalSymlinks(d); rerr == nil {
		d = real
	}
	if err == nil && d == abs {
		return fmt.Errorf("backup folder %s is the data folder itself: name a new folder", abs)
	}
	info, err := os.Stat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("backup folder %s: %w", abs, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("backup folder %s is a file: name a new folder", abs)
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return fmt.Errorf("backup folder %s: %w", abs, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("backup folder %s is not empty (%d entries): a backup never overwrites; name a new folder", abs, len(entries))
	}
	return nil
}

// makeParents makes the folders missing on the way to dir (mode 0700, as
// the backup folder), as mkdir -p would, and returns them deepest first so
// that a backup that fails can take them away again (removeMade).
func makeParents(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			removeMade(missing[i+1:])
			return nil, err
		}
	}
	return missing, nil
}

// removeMade removes the folders makeParents made, deepest first; a folder
// something else has put a file in since stays.
func removeMade(made []string) {
	for _, d := range made {
		if os.Remove(d) != nil {
			return
		}
	}
}

// vacuumMain copies the record's database in Backup: vacuumInto, or what
// a test puts in its place.
var vacuumMain = vacuumInto

// vacuumInto writes a compacted copy of schema (main or search) into path,
// created empty first so that it is private (mode 0600).
func vacuumInto(ctx context.Context, conn *sql.Conn, schema, path string) error {
	if err := createPrivate(path); err != nil {
		return err
	}
	_, err := conn.ExecContext(ctx, "VACUUM "+schema+" INTO ?", path)
	return err
}

// signBackupHead appends to the copy in dir a checkpoint of its own
// newest audit entry, signed with the copied key, so that the copy is
// anchored at its head: entries cut from its end are caught, as in the
// data folder. It is the live chain's truth as well (the chain only
// grows). Without a key (a record never opened read-write) it signs
// nothing.
func signBackupHead(ctx context.Context, dir, name string, now time.Time) (bool, error) {
	key, err := readPrivateKey(filepath.Join(dir, keyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	db, err := sql.Open("sqlite", dsn(filepath.Join(dir, name), true))
	if err != nil {
		return false, err
	}
	defer db.Close()
	var seq int64
	var hash string
	err = db.QueryRowContext(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	cp := &checkpointer{path: filepath.Join(dir, checkpointFile), key: key}
	return true, cp.write(seq, hash, now)
}

// copyWhole copies src to dst (mode perm); a missing src copies nothing.
// With lines set, a last line without its newline (an append in progress)
// is left out, and the number of whole lines is returned.
func copyWhole(src, dst string, perm os.FileMode, lines bool) (int, error) {
	raw, err := os.ReadFile(src)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if lines {
		raw = raw[:bytes.LastIndexByte(raw, '\n')+1]
	}
	if err := os.WriteFile(dst, raw, perm); err != nil {
		return 0, err
	}
	return bytes.Count(raw, []byte{'\n'}), nil
}

// syncFile flushes a file or folder to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// afterBackupStep calls the test hook, if any, after a step of Backup.
func (s *Store) afterBackupStep(step string) {
	if s.backupHook != nil {
		s.backupHook(step)
	}
}
