package store

import (
	"context"
	"fmt"
	"time"
)

// The full-text index trails the commits. narratives_fts is an external-
// content FTS5 table over narratives; meta.fts_hwm is the newest narrative
// id it holds. A catch-up step indexes the next chunk with one bulk
// INSERT … SELECT and moves the high-water mark in the same transaction, so
// the two never disagree. Search scans the rows above the mark directly,
// which makes a record findable the moment it commits.
const (
	// busyChunk is the most rows a step indexes while changes are flowing
	// (one step per IndexInterval); it bounds how long intake waits.
	busyChunk = 1024
	// idleChunk is the most rows one idle catch-up indexes, in steps of
	// idleStep rows that stop as soon as a change is waiting.
	idleChunk = 8192
	idleStep  = 1024
	// indexEager is the backlog past which the writer indexes as soon as it
	// has been idle for idleGap, rather than once per IndexInterval.
	indexEager = 1024
	// idleGap is how long without changes counts as idle.
	idleGap = 5 * time.Millisecond
)

// lag is the number of committed narratives not yet indexed.
func (w *writer) lag() int64 { return w.lastID.Load() - w.hwm.Load() }

func (w *writer) readHWM() error {
	vals, _, err := w.conn.queryRow(w.st.hwm)
	if err != nil {
		return fmt.Errorf("read index mark: %w", err)
	}
	w.hwm.Store(num(vals[0]))
	return nil
}

// indexStep indexes up to chunk rows past the mark. A failure is
// logged and retried on the next step; the rows stay searchable by scan.
func (w *writer) indexStep(chunk int64) {
	w.lastIndex = w.clock.Now()
	if _, err := w.indexChunk(chunk); err != nil {
		w.log.Error("store full-text catch-up failed", "err", err)
	}
}

// indexIdle indexes up to idleChunk rows past the mark in transactions of
// idleStep rows, and stops early once a change is waiting: a catch-up in a
// lull then holds back the next submitter by at most one step rather than
// by the whole chunk (eight times as long). A failure is logged as in
// indexStep.
func (w *writer) indexIdle() {
	w.lastIndex = w.clock.Now()
	for done := int64(0); done < idleChunk; {
		n, err := w.indexChunk(min(idleStep, idleChunk-done))
		if err != nil {
			w.log.Error("store full-text catch-up failed", "err", err)
			return
		}
		done += n
		if n == 0 || len(w.queue) > 0 {
			return
		}
	}
}

// indexChunk runs one catch-up transaction of at most chunk rows and
// returns how many it indexed.
func (w *writer) indexChunk(chunk int64) (n int64, err error) {
	if _, err := w.conn.exec(w.st.begin); err != nil {
		return 0, fmt.Errorf("index %s: begin: %w", w.path, err)
	}
	defer func() {
		if err != nil {
			_, _ = w.conn.exec(w.st.rollback)
		}
	}()
	vals, _, err := w.conn.queryRow(w.st.hwm)
	if err != nil {
		return 0, fmt.Errorf("index %s: read mark: %w", w.path, err)
	}
	from, maxID := num(vals[0]), num(vals[1])
	to := min(from+chunk, maxID)
	if to > from {
		if _, err := w.conn.exec(w.st.indexRange, from, to); err != nil {
			return 0, fmt.Errorf("index %s: rows %d-%d: %w", w.path, from+1, to, err)
		}
		if _, err := w.conn.exec(w.st.setHWM, to); err != nil {
			return 0, fmt.Errorf("index %s: move mark: %w", w.path, err)
		}
	}
	if _, err := w.conn.exec(w.st.commit); err != nil {
		return 0, fmt.Errorf("index %s: commit: %w", w.path, err)
	}
	w.hwm.Store(max(to, from))
	n = max(to-from, 0)
	w.stats.indexSteps.Add(1)
	w.stats.indexedRows.Add(n)
	return n, nil
}

// FlushIndex brings the full-text index up to date with every record
// committed before the call and returns when it is (Search finds unindexed
// records anyway; this makes later searches cheap). It returns ctx's error
// if ctx ends first, ErrReadOnly on a read-only store.
func (s *Store) FlushIndex(ctx context.Context) error {
	return s.do(ctx, func(w *writer) error {
		target := w.lastID.Load()
		for w.hwm.Load() < target {
			if err := ctx.Err(); err != nil {
				return err
			}
			n, err := w.indexChunk(idleChunk)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
		}
		w.lastIndex = w.clock.Now()
		return nil
	})
}

// IndexLag returns how many committed narratives the full-text index has
// not caught up with yet. A read-only store asks the database each time
// and, should that fail, reports the last figure it saw.
func (s *Store) IndexLag() int64 {
	if s.w == nil {
		ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
		defer cancel()
		_ = s.refreshLag(ctx)
	}
	return s.lastID.Load() - s.hwm.Load()
}

// refreshLag reads the newest narrative id and the index mark.
func (s *Store) refreshLag(ctx context.Context) error {
	var last, hwm int64
	err := s.rdb.QueryRowContext(ctx, `SELECT ifnull((SELECT max(id) FROM narratives), 0),
		ifnull((SELECT value FROM meta WHERE key = 'fts_hwm'), 0)`).Scan(&last, &hwm)
	if err != nil {
		return fmt.Errorf("read index lag: %w", err)
	}
	s.lastID.Store(last)
	s.hwm.Store(hwm)
	return nil
}
