package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// checkFile reads the file's header before SQLite may touch it, then, for
// an existing database, its schema marker and version through a read-only
// connection. fresh reports a missing or empty file.
//
// It refuses, before opening it, a path that is not a regular file (a
// device such as /dev/null would take SQLite's journal beside it, in /dev;
// a named pipe would block), and for a read-write open a file that cannot
// be written, or a data folder where SQLite cannot create its journal.
func checkFile(ctx context.Context, path string, readOnly bool) (fresh bool, err error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if readOnly {
			return false, errors.New("no database there (a read-only open does not create one)")
		}
		return true, checkFolderWritable(filepath.Dir(path))
	}
	if err != nil {
		return false, err
	}
	switch {
	case st.IsDir():
		return false, errors.New("is a directory")
	case !st.Mode().IsRegular():
		return false, fmt.Errorf("not a regular file (%s)", FileKind(st.Mode()))
	}
	flag := os.O_RDONLY
	if !readOnly {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) && !readOnly {
			return false, errors.New("the file is read-only to this user (permission denied); a read-write open needs to write it")
		}
		return false, err
	}
	defer f.Close()
	if st.Size() == 0 && !readOnly {
		return true, checkFolderWritable(filepath.Dir(path))
	}
	head := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, sqliteHeader) {
		return false, ErrNotSQLite
	}
	if err := checkSchema(ctx, path, readOnly); err != nil || readOnly {
		return false, err
	}
	// Only beside a database that is Grace's: nothing, not even a probe,
	// is written next to a file that is not.
	return false, checkFolderWritable(filepath.Dir(path))
}

// checkFolderWritable makes sure SQLite can create the journal, WAL and
// shared-memory files beside the database in dir, by creating and removing
// a file there: SQLite's own refusal comes late and says only "unable to
// open database file".
func checkFolderWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".grace-probe-*")
	if err != nil {
		return fmt.Errorf("the data folder %s is not writable: %w", dir, unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// FileKind names what a file that is not a regular one is ("a named
// pipe", "a device"), for errors about a path that must be a file.
func FileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.Type().String()
}

// unwrapPath drops the path an *fs.PathError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// explainReadOnlyFolder rewords SQLite's SQLITE_READONLY_DIRECTORY, which
// a read of a WAL database in a folder this user cannot write gets (SQLite
// must create the -shm file beside it even to read).
func explainReadOnlyFolder(err error, path string) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_READONLY_DIRECTORY {
		return fmt.Errorf("the data folder %s is not writable: SQLite must create %s-shm beside the database even to read it (%w)",
			filepath.Dir(path), filepath.Base(path), err)
	}
	return err
}

// checkSchema tells Grace's databases from others without writing to them.
func checkSchema(ctx context.Context, path string, readOnly bool) error {
	db, err := sql.Open("sqlite", dsn(path, true, "busy_timeout(5000)"))
	if err != nil {
		return err
	}
	defer db.Close()
	var appID, version, objects int
	err = db.QueryRowContext(ctx, `SELECT (SELECT application_id FROM pragma_application_id),
		(SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_schema)`).
		Scan(&appID, &version, &objects)
	if err != nil {
		return fmt.Errorf("read schema: %w", explainReadOnlyFolder(err, path))
	}
	switch {
	case appID != applicationID && (appID != 0 || objects > 0):
		return ErrNotGrace
	case version > schemaVersion:
		return fmt.Errorf("%w (it is at version %d, this build knows up to %d)", ErrNewerSchema, version, schemaVersion)
	case readOnly && version < schemaVersion:
		return fmt.Errorf("database schema is at version %d, this build needs %d: open it once read-write to migrate", version, schemaVersion)
	}
	return nil
}

// dsn builds a SQLite URI for path (escaped, so no character in a file
// name can smuggle in a parameter) with the given pragmas.
func dsn(path string, readOnly bool, pragmas ...string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	if readOnly {
		q.Set("mode", "ro")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	if u.Path != "" && u.Path[0] != '/' {
		u.Path = "/" + u.Path // Windows drive letters
	}
	return u.String()
}
