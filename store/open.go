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
	"runtime"

	_ "modernc.org/sqlite" // the cgo-free SQLite driver, as "sqlite"
)

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// Open opens the Grace database at path, creating it (and its data folder,
// mode 0700) if missing, migrating it to this build's schema, and starting
// the writer. It refuses, leaving the file exactly as it was, a file that is
// not a SQLite database (ErrNotSQLite), a SQLite database that is not
// Grace's (ErrNotGrace) and one from a newer Grace (ErrNewerSchema). With
// opts.ReadOnly it only reads: the database must exist at the current
// schema. ctx bounds the opening only; Close stops the store.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	s, err := open(ctx, path, opts)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

func open(ctx context.Context, path string, opts Options) (_ *Store, err error) {
	if opts, err = opts.withDefaults(); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, errors.New("no database path given")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, dir: filepath.Dir(abs), opts: opts}
	if !opts.ReadOnly {
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
	}
	fresh, err := checkFile(ctx, abs, opts.ReadOnly)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.closeDBs()
		}
	}()
	if opts.ReadOnly {
		return s, s.openReaders(ctx, abs)
	}
	if err := s.openWriter(ctx, abs, fresh); err != nil {
		return nil, err
	}
	if err := s.openReaders(ctx, abs); err != nil {
		return nil, err
	}
	key, err := loadOrCreateKey(s.dir)
	if err != nil {
		return nil, err
	}
	cp, err := newCheckpointer(s.dir, key)
	if err != nil {
		return nil, err
	}
	return s, s.startWriter(cp)
}

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

// openWriter opens the writer's connection, switches the database to WAL
// (the first write Grace makes to a file, after it has been checked) and
// migrates it.
func (s *Store) openWriter(ctx context.Context, path string, fresh bool) error {
	db, err := sql.Open("sqlite", dsn(path, false,
		"busy_timeout(10000)", "foreign_keys(1)", "synchronous("+s.opts.Synchronous+")",
		"cache_size(-32768)", "wal_autocheckpoint(2000)", "temp_store(2)"))
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	s.wdb = db
	if fresh {
		// Big pages: a group commit writes fewer, larger WAL frames.
		if _, err := db.ExecContext(ctx, "PRAGMA page_size = "+debugPS()); err != nil {
			return fmt.Errorf("set page size: %w", err)
		}
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return fmt.Errorf("set WAL mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("set WAL mode: the database stays in %q mode", mode)
	}
	if err := migrate(ctx, db); err != nil {
		if fresh {
			return fmt.Errorf("create schema: %w", err)
		}
		return fmt.Errorf("migrate schema: %w", err)
	}
	return nil
}

// openReaders opens the pool of read-only connections.
func (s *Store) openReaders(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", dsn(path, true, "busy_timeout(10000)", "cache_size(-32768)"))
	if err != nil {
		return err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(0)
	s.rdb = db
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("open readers: %w", err)
	}
	if s.opts.ReadOnly {
		return s.refreshLag(ctx)
	}
	return nil
}

func (s *Store) closeDBs() {
	if s.wdb != nil {
		s.wdb.Close()
	}
	if s.rdb != nil {
		s.rdb.Close()
	}
}

// startWriter starts the writer goroutine.
func (s *Store) startWriter(cp *checkpointer) error {
	o := s.opts
	s.w = &writer{
		path: s.path, batchMax: o.BatchMax, batchWait: o.BatchWait,
		indexIvl: o.IndexInterval, cpIvl: o.CheckpointInterval,
		clock: o.Clock, log: o.Logger,
		queue: make(chan request, 4*o.BatchMax), ctl: make(chan func()),
		lastID: &s.lastID, hwm: &s.hwm, stats: &s.counters, cp: cp,
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.stopped = cancel, make(chan struct{})
	if err := s.w.start(ctx, s.wdb, s.stopped); err != nil {
		cancel()
		<-s.stopped
		s.cancel, s.w = nil, nil
		return fmt.Errorf("start writer: %w", err)
	}
	return nil
}
