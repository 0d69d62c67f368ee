package store

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// commitPrune runs on the writer goroutine: in one transaction it appends
// req's records_pruned record to the chain and moves the anchor from from
// to to (unchanged when they are equal). It returns the record's seq. The
// anchor read under the write lock must still be from: a prune never
// races another.
func (w *writer) commitPrune(req *request, from, to anchor) (seq int64, err error) {
	if _, err := w.conn.exec(w.st.begin); err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			for _, b := range w.bulks {
				b.reset()
			}
			_, _ = w.conn.exec(w.st.rollback)
		}
	}()
	vals, found, err := w.conn.queryRowOnce(anchorQuery)
	if err != nil {
		return 0, fmt.Errorf("read audit anchor: %w", err)
	}
	if found && num(vals[0]) != from.Seq {
		return 0, fmt.Errorf("the audit anchor moved to entry %d meanwhile (expected %d)", num(vals[0]), from.Seq)
	} else if !found && from.Seq != 0 {
		return 0, fmt.Errorf("the audit anchor is gone (expected entry %d)", from.Seq)
	}
	out := make([]outcome, 1)
	if err := w.fillBatch([]request{*req}, out); err != nil {
		return 0, err
	}
	if out[0].err != nil {
		return 0, out[0].err
	}
	if to.Seq != from.Seq {
		if _, err := w.conn.execOnce(`INSERT OR REPLACE INTO audit_anchor(id, seq, hash, narrative_id) VALUES (1, ?, ?, ?)`,
			to.Seq, to.Hash, to.NarrativeID); err != nil {
			return 0, fmt.Errorf("move audit anchor: %w", err)
		}
	}
	if _, err := w.conn.exec(w.st.commit); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	w.head = w.next
	w.lastID.Store(w.next.id)
	w.committed.Store(time.Now().UnixNano())
	return w.head.seq, nil
}

// dropChunk runs on the writer goroutine: in one transaction it deletes
// the entries up to seq b, the narratives and clarity rows up to id nb,
// the narrative_blocks no longer covering any narrative, and narrows the
// time span of the block holding the oldest narrative kept.
func (w *writer) dropChunk(b, nb int64) (err error) {
	if _, err := w.conn.exec(w.st.begin); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_, _ = w.conn.exec(w.st.rollback)
		}
	}()
	first, end := nb>>blockShift, (nb>>blockShift+1)<<blockShift
	for _, st := range []struct {
		what, sql string
		args      []any
	}{
		{"clarity rows", "DELETE FROM clarity WHERE narrative_id <= ?", []any{nb}},
		{"narratives", "DELETE FROM narratives WHERE id <= ?", []any{nb}},
		{"entries", "DELETE FROM audit WHERE seq <= ?", []any{b}},
		{"time spans", "DELETE FROM narrative_blocks WHERE block < ?", []any{(nb + 1) >> blockShift}},
		{"time span", `UPDATE narrative_blocks SET min_ts = ifnull((SELECT min(ts) FROM narratives
			WHERE id > ? AND id < ?), min_ts) WHERE block = ?`, []any{nb, end, first}},
	} {
		if _, err := w.conn.execOnce(st.sql, st.args...); err != nil {
			return fmt.Errorf("delete %s: %w", st.what, err)
		}
	}
	if _, err := w.conn.exec(w.st.commit); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// queryRowOnce prepares query, reads its first row and finalizes it. The
// values are valid until the next call on w.
func (w *wconn) queryRowOnce(query string, args ...any) ([]driver.Value, bool, error) {
	st, err := w.c.(driver.ConnPrepareContext).PrepareContext(bg, query)
	if err != nil {
		return nil, false, fmt.Errorf("prepare %q: %w", firstLine(query), err)
	}
	defer st.Close()
	return w.queryRow(st, args...)
}
