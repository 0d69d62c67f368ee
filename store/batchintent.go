package store

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"grace/engine/intent"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// intentRow is a change's intent row as the writer binds it.
type intentRow struct {
	created intent.Intent // the Create as stored (CreatedAt filled in)
	args    []any         // insertIntent's or updateIntent's values
}

// encodeIntentRow encodes c's Create or Update; now fills a zero
// CreatedAt. A change with neither has an empty row.
func encodeIntentRow(c *intent.Change, now time.Time) (row intentRow, err error) {
	switch {
	case c.Create != nil:
		row.created = *c.Create
		if row.created.CreatedAt.IsZero() {
			row.created.CreatedAt = now
		}
		if row.args, err = intentArgs(&row.created); err != nil {
			return row, fmt.Errorf("%w: create intent %s: %w", ErrInvalidChange, c.Create.ID, err)
		}
	case c.Update != nil:
		if row.args, err = updateArgs(c.Update); err != nil {
			return row, fmt.Errorf("%w: update intent %s: %w", ErrInvalidChange, c.Update.ID, err)
		}
	}
	return row, nil
}

// create inserts row unless its idempotency key is taken, in the database
// or earlier in this batch; then it returns the holder as Result.Existing
// and more=false.
func (w *writer) create(row *intentRow) (res intent.Result, more bool, err error) {
	stored := &row.created
	if stored.IdempotencyKey != "" {
		k := scopedKey(stored.Actor, stored.IdempotencyKey)
		if prev, ok := w.keys[k]; ok {
			cp := prev
			res.Existing = &cp
			return res, false, nil
		}
		vals, found, err := w.conn.queryRow(w.st.byKey, k)
		if err != nil {
			return res, false, fmt.Errorf("look up idempotency key: %w", err)
		}
		if found {
			prev, err := scanIntent(driverValues(vals))
			if err != nil {
				return res, false, err
			}
			res.Existing = &prev
			return res, false, nil
		}
	}
	if _, err := w.conn.exec(w.st.insertIntent, row.args...); err != nil {
		if isConstraint(err) {
			return res, false, &changeError{fmt.Errorf("create intent %s: %w", stored.ID, err)}
		}
		return res, false, fmt.Errorf("create intent %s: %w", stored.ID, err)
	}
	if stored.IdempotencyKey != "" {
		w.keys[scopedKey(stored.Actor, stored.IdempotencyKey)] = *stored
	}
	return res, true, nil
}

// update writes the mutable fields of it from row; an unknown ID fails the
// change.
func (w *writer) update(it *intent.Intent, row *intentRow) error {
	n, err := w.conn.exec(w.st.updateIntent, row.args...)
	switch {
	case err != nil && isConstraint(err):
		return &changeError{fmt.Errorf("update intent %s: %w", it.ID, err)}
	case err != nil:
		return fmt.Errorf("update intent %s: %w", it.ID, err)
	case n == 0:
		return &changeError{fmt.Errorf("update intent %s: %w", it.ID, intent.ErrNotFound)}
	}
	return nil
}

// addRecord buffers p's narrative, clarity and audit rows at the next
// chain position.
func (w *writer) addRecord(p *prepared) error {
	w.next.id++
	w.next.seq++
	n := &p.narrative
	n.ID = w.next.id
	w.widen(n.ID, n.TS)
	w.entry = n.appendEntry(w.entry[:0], w.next.seq, p.digest)
	prev := w.next.hash
	w.next.hash = chainHash(prev, w.entry)

	row, err := w.narr.row()
	if err != nil {
		return err
	}
	id, seq := driver.Value(n.ID), driver.Value(w.next.seq)
	row[0] = id
	copy(row[1:], p.nvals[:])
	if row, err = w.clar.row(); err != nil {
		return err
	}
	row[0], row[1] = id, seq
	copy(row[2:], p.cvals[:])
	if row, err = w.audit.row(); err != nil {
		return err
	}
	row[0], row[1], row[2], row[3] = seq, string(w.entry), prev, w.next.hash
	return nil
}

// isConstraint reports whether err is SQLite refusing one statement for a
// constraint (a duplicate ID, a NOT NULL column), which SQLite rolls back
// alone, leaving the transaction usable.
func isConstraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}
