package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"grace/engine/clock"
)

// The full-text index lives in a database file of its own beside the
// record (grace.db → grace.search.db), written by its own connection and
// goroutine, the indexer. SQLite lets one connection write a database file
// at a time, so an index kept in the record's file made every catch-up
// step hold the group-commit writer, and every submission behind it; with
// a file of its own the writer never waits on indexing, and the indexing
// runs on another core. The index is derived data: a missing, unreadable or
// foreign index file is rebuilt from the narratives.
//
// The index file holds narratives_fts, a contentless FTS5 table whose rowid
// is the narrative id, and meta: hwm, the newest narrative id it holds
// (moved in the same transaction as the rows it covers), and source, the
// instance id of the record it indexes. The indexer reads the narratives
// through the record attached read-only, which in WAL mode never blocks the
// writer. Readers attach the index file as "search".
const (
	// indexStepRows is the most narratives one catch-up transaction indexes,
	// and indexBusyRows the most while the writer is busy: a step holds one
	// of the machine's cores until it ends, so while intake flows the steps
	// are kept short.
	indexStepRows = 4096
	indexBusyRows = 512
	// indexRest is how many times a step's duration the indexer rests after
	// it while the writer is busy, so that a flood of intake keeps three
	// quarters of a core the indexer would otherwise take; with the writer
	// idle it goes on at once.
	indexRest = 3
	// writerBusy is how recent the writer's last commit must be for the
	// writer to count as busy.
	writerBusy = 5 * time.Millisecond
	// closeIndexRows is the largest backlog Close indexes before it
	// returns, so that readers after it need not scan it.
	closeIndexRows = 8192
)

// searchSchema is the index file's schema (user_version 1).
const searchSchema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value
);
INSERT OR IGNORE INTO meta(key, value) VALUES ('hwm', 0), ('source', '');
CREATE VIRTUAL TABLE IF NOT EXISTS narratives_fts USING fts5(
	who, what, "where", why, how,
	content='', columnsize=0, detail=none
);
PRAGMA user_version = 1;
`

// searchPath is the index file for the database at path: the same name
// with ".search" before the extension.
func searchPath(path string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + ".search" + ext
}

// indexer keeps the index file up to date with the narratives.
type indexer struct {
	path       string // the index file
	record     string // the record's file, attached read-only as g
	db         *sql.DB
	ivl        time.Duration
	clock      clock.Clock
	log        *slog.Logger
	lastID     *atomic.Int64 // newest committed narrative id (the writer's)
	hwm        *atomic.Int64 // newest indexed narrative id
	lastCommit *atomic.Int64 // when the writer last committed (Unix ns, real clock)
	stats      *counters

	mu     sync.Mutex // one catch-up step at a time (the loop, FlushIndex, Close)
	cancel context.CancelFunc
	done   chan struct{}
}

// openIndex opens (creating or rebuilding as needed) the index file of the
// record at abs, whose instance id is instance and newest narrative
// lastID, and reads its mark.
func openIndex(ctx context.Context, ix *indexer, instance string) error {
	err := ix.open(ctx, instance)
	if err == nil {
		return nil
	}
	// Derived data: rebuild rather than refuse.
	ix.log.Warn("store search index unreadable; rebuilding it from the narratives", "file", ix.path, "err", err)
	if ix.db != nil {
		ix.db.Close()
		ix.db = nil
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if rmErr := os.Remove(ix.path + suffix); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			return fmt.Errorf("search index %s: %w (and it cannot be removed: %v)", ix.path, err, rmErr)
		}
	}
	if err := ix.open(ctx, instance); err != nil {
		return fmt.Errorf("search index %s: %w", ix.path, err)
	}
	return nil
}

func (ix *indexer) open(ctx context.Context, instance string) error {
	if head, err := readHead(ix.path); err == nil && len(head) > 0 && string(head) != string(sqliteHeader) {
		return ErrNotSQLite
	}
	if err := createPrivate(ix.path); err != nil {
		return err
	}
	// Transactions begin IMMEDIATE: two processes opening the record
	// read-write take turns at its index instead of failing to upgrade.
	db, err := openAttached(dsn(ix.path, false, "busy_timeout(10000)", "synchronous(NORMAL)", "temp_store(2)", "cache_size(-32768)")+"&_txlock=immediate",
		ix.record, "g", true, false)
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	ix.db = db
	var appID, version int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT application_id FROM pragma_application_id),
		(SELECT user_version FROM pragma_user_version)`).Scan(&appID, &version); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	switch {
	case appID != 0 && appID != applicationID:
		return ErrNotGrace
	case version > 1:
		return fmt.Errorf("%w (index at version %d)", ErrNewerSchema, version)
	}
	if version == 0 {
		if _, err := db.ExecContext(ctx, "PRAGMA page_size = 8192"); err != nil {
			return fmt.Errorf("set page size: %w", err)
		}
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil || mode != "wal" {
		return fmt.Errorf("set WAL mode: %v (mode %q)", err, mode)
	}
	if _, err := db.ExecContext(ctx, searchSchema+fmt.Sprintf("PRAGMA application_id = %d;", applicationID)); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	var source string
	var hwm int64
	if err := db.QueryRowContext(ctx, `SELECT (SELECT value FROM meta WHERE key = 'source'),
		(SELECT value FROM meta WHERE key = 'hwm')`).Scan(&source, &hwm); err != nil {
		return fmt.Errorf("read mark: %w", err)
	}
	if source != instance || hwm > ix.lastID.Load() {
		// Another record's index (a copied or restored database): start over.
		if source != "" {
			ix.log.Warn("store search index belongs to another database; rebuilding it", "file", ix.path)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO narratives_fts(narratives_fts) VALUES ('delete-all');
			UPDATE meta SET value = 0 WHERE key = 'hwm';
			UPDATE meta SET value = ? WHERE key = 'source'`, instance); err != nil {
			return fmt.Errorf("reset: %w", err)
		}
		hwm = 0
	}
	ix.hwm.Store(hwm)
	return nil
}

// readHead returns the first bytes of the file at path (none if missing).
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	n, _ := f.Read(head)
	return head[:n], nil
}

// start runs the catch-up loop until stop.
func (ix *indexer) start() {
	ctx, cancel := context.WithCancel(context.Background())
	ix.cancel, ix.done = cancel, make(chan struct{})
	go func() {
		defer close(ix.done)
		ix.loop(ctx)
	}()
}

// loop catches up once per interval: in steps back to back while the
// writer is idle, resting between steps while it is busy. After a failed
// step it skips intervals, twice as many after each failure in a row (up
// to maxIndexSkip), so a full disk is not reported five times a second.
func (ix *indexer) loop(ctx context.Context) {
	tick := ix.clock.NewTicker(ix.ivl)
	defer tick.Stop()
	failures, skip := 0, 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C():
		}
		if skip > 0 {
			skip--
			continue
		}
		if ix.catchUp(ctx) {
			failures = 0
		} else {
			failures++
			skip = skipAfter(failures)
		}
	}
}

// maxIndexSkip is the most intervals the indexer skips after failures.
const maxIndexSkip = 300

// skipAfter is how many intervals to skip after failures failed catch-ups
// in a row: 1, 3, 7, 15… up to maxIndexSkip.
func skipAfter(failures int) int {
	return min(1<<min(failures, 10)-1, maxIndexSkip)
}

// catchUp indexes until there is no lag, ctx ends or a step fails (false).
func (ix *indexer) catchUp(ctx context.Context) bool {
	for ix.lag() > 0 {
		rows := int64(indexStepRows)
		if ix.busy() {
			rows = indexBusyRows
		}
		began := time.Now()
		n, err := ix.step(rows)
		if err != nil {
			ix.log.Error("store full-text catch-up failed", "file", ix.path, "err", err)
			return false
		}
		if n == 0 {
			return true
		}
		if rest := ix.rest(time.Since(began)); rest > 0 {
			t := time.NewTimer(rest)
			select {
			case <-ctx.Done():
				t.Stop()
				return true
			case <-t.C:
			}
		} else if ctx.Err() != nil {
			return true
		}
	}
	return true
}

// rest is how long to leave the CPU to intake after a step that took d.
func (ix *indexer) rest(d time.Duration) time.Duration {
	if !ix.busy() {
		return 0
	}
	return indexRest * d
}

// busy reports whether the writer committed within the last writerBusy.
func (ix *indexer) busy() bool {
	return time.Now().UnixNano()-ix.lastCommit.Load() <= int64(writerBusy)
}

// lag is the number of committed narratives not yet indexed.
func (ix *indexer) lag() int64 { return ix.lastID.Load() - ix.hwm.Load() }

// step indexes up to rows narratives past the mark in one transaction of
// the index file and returns how many it indexed.
func (ix *indexer) step(rows int64) (n int64, err error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.db == nil {
		return 0, ErrClosed
	}
	tx, err := ix.db.BeginTx(bg, nil)
	if err != nil {
		return 0, fmt.Errorf("index %s: begin: %w", ix.path, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var from, maxID int64
	if err := tx.QueryRowContext(bg, `SELECT (SELECT value FROM meta WHERE key = 'hwm'),
		ifnull((SELECT max(id) FROM g.narratives), 0)`).Scan(&from, &maxID); err != nil {
		return 0, fmt.Errorf("index %s: read mark: %w", ix.path, err)
	}
	to := min(from+rows, maxID)
	if to > from {
		if _, err := tx.ExecContext(bg, `INSERT INTO narratives_fts(rowid, who, what, "where", why, how)
			SELECT id, who, what, "where", why, how FROM g.narratives WHERE id > ? AND id <= ?`, from, to); err != nil {
			return 0, fmt.Errorf("index %s: %w", ix.path, err)
		}
		if _, err := tx.ExecContext(bg, `UPDATE meta SET value = ? WHERE key = 'hwm'`, to); err != nil {
			return 0, fmt.Errorf("index %s: move mark: %w", ix.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("index %s: commit: %w", ix.path, err)
	}
	ix.hwm.Store(max(to, from))
	n = max(to-from, 0)
	ix.stats.indexSteps.Add(1)
	ix.stats.indexedRows.Add(n)
	return n, nil
}

// flush indexes everything committed before the call.
func (ix *indexer) flush(ctx context.Context) error {
	target := ix.lastID.Load()
	for ix.hwm.Load() < target {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := ix.step(indexStepRows)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
	return nil
}

// stop ends the loop, indexes a small backlog and closes the index file.
func (ix *indexer) stop() error {
	if ix.cancel != nil {
		ix.cancel()
		<-ix.done
	}
	var err error
	if lag := ix.lag(); lag > 0 && lag <= closeIndexRows {
		if _, stepErr := ix.step(closeIndexRows); stepErr != nil {
			ix.log.Error("store full-text catch-up failed", "file", ix.path, "err", stepErr)
		}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.db != nil {
		err = ix.db.Close()
		ix.db = nil
	}
	return err
}
