package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	sqlite "modernc.org/sqlite" // the cgo-free SQLite driver, as "sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite commits with fdatasync(2) rather than fsync(2), as the C library
// does on every Linux build: the data and the size needed to read it back
// reach the disk all the same, without the timestamp update fsync also
// forces through the file system's journal. Same durability; 3-4% more HTTP
// submissions a second on a 2-core machine (6,215-6,347 -> 6,423-6,641/s,
// alternated). Where the platform has no fdatasync the switch stays off.
func init() { _, _ = sqlite.Fdatasync(true) }

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
		return nil, fmt.Errorf("open store %s: %w", path, explainBusy(err))
	}
	return s, nil
}

// explainBusy rewords SQLite's SQLITE_BUSY, which the opening gets when
// another program (not a Grace process: Grace's own lock names its
// holder) keeps a write lock on the database past the busy timeout.
func explainBusy(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY {
		return fmt.Errorf("another program keeps the database locked (a sqlite3 shell or a tool with a transaction open?); close it and try again: %w", err)
	}
	return err
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
	if s.unlock, err = takeLock(ctx, abs, opts.Holder, opts.Brief, opts.LockWait); err != nil {
		return nil, err
	}
	if fresh {
		if err := createPrivate(abs); err != nil {
			return nil, err
		}
	}
	if err := s.openWriter(ctx, abs, fresh); err != nil {
		return nil, err
	}
	if err := s.openIndexer(ctx, abs); err != nil {
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
	if err := s.startWriter(cp); err != nil {
		return nil, err
	}
	s.ix.start()
	return s, nil
}

// openIndexer opens the full-text index file beside the record at abs
// (see index.go), rebuilding it if it is missing or not this record's.
func (s *Store) openIndexer(ctx context.Context, abs string) error {
	var instance string
	var last int64
	err := s.wdb.QueryRowContext(ctx, `SELECT (SELECT value FROM meta WHERE key = 'instance'),
		ifnull((SELECT max(id) FROM narratives), 0)`).Scan(&instance, &last)
	if err != nil {
		return fmt.Errorf("read instance: %w", err)
	}
	s.lastID.Store(last)
	s.ix = &indexer{
		path: searchPath(abs), record: abs, ivl: s.opts.IndexInterval, clock: s.opts.Clock, log: s.opts.Logger,
		lastID: &s.lastID, hwm: &s.hwm, lastCommit: &s.committed, stats: &s.counters,
	}
	return openIndex(ctx, s.ix, instance)
}

// openWriter opens the writer's connection, switches the database to WAL
// (the first write Grace makes to a file, after it has been checked) and
// migrates it.
func (s *Store) openWriter(ctx context.Context, path string, fresh bool) error {
	db, err := sql.Open("sqlite", dsn(path, false,
		"busy_timeout(10000)", "foreign_keys(1)", "synchronous("+s.opts.Synchronous+")",
		"cache_size(-32768)", "wal_autocheckpoint(4000)", "temp_store(2)"))
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	s.wdb = db
	if fresh {
		// Big pages: a group commit writes fewer, larger WAL frames.
		if _, err := db.ExecContext(ctx, "PRAGMA page_size = 8192"); err != nil {
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
	db, err := openAttached(dsn(path, true, "busy_timeout(10000)", "cache_size(-32768)"),
		searchPath(path), "search", true, true)
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
	if s.ix != nil && s.ix.db != nil {
		s.ix.db.Close()
	}
	if s.wdb != nil {
		s.wdb.Close()
	}
	if s.rdb != nil {
		s.rdb.Close()
	}
	if s.unlock != nil {
		_ = s.unlock()
	}
}

// startWriter starts the writer goroutine.
func (s *Store) startWriter(cp *checkpointer) error {
	o := s.opts
	s.w = &writer{
		path: s.path, batchMax: o.BatchMax, batchWait: o.BatchWait, updateWait: o.UpdateWait,
		cpIvl: o.CheckpointInterval, clock: o.Clock, log: o.Logger,
		queue: make(chan request, 4*o.BatchMax), async: make(chan request, 4*o.BatchMax), ctl: make(chan func()),
		lastID: &s.lastID, committed: &s.committed, stats: &s.counters, cp: cp,
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

// createPrivate creates the empty database file at path, mode 0600, if
// there is none: the record holds the real payloads, masked fields too,
// so only its owner may read it. SQLite gives the -wal and -shm files
// it makes beside a database the database's mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return f.Close()
}
