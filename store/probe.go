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
)

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// checkFile reads the file's header before SQLite may touch it, then, for
// an existing database, its schema marker and version through a read-only
// connection. fresh reports a missing or empty file.
func checkFile(ctx context.Context, path string, readOnly bool) (fresh bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		if readOnly {
			return false, errors.New("no database there (a read-only open does not create one)")
		}
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if st.IsDir() {
		return false, errors.New("is a directory")
	}
	if st.Size() == 0 && !readOnly {
		return true, nil
	}
	head := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, sqliteHeader) {
		return false, ErrNotSQLite
	}
	return false, checkSchema(ctx, path, readOnly)
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
		return fmt.Errorf("read schema: %w", err)
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
