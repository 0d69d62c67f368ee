package store

import (
	"errors"
	"fmt"
	"time"

	"grace/engine/intent"
)

// outcome is what one change in a batch came to.
type outcome struct {
	res intent.Result
	err error
}

// changeError fails one change of a batch and leaves the others alone.
type changeError struct{ err error }

func (e *changeError) Error() string { return e.err.Error() }
func (e *changeError) Unwrap() error { return e.err }

// cursor is the chain position while a batch is built.
type cursor struct {
	id   int64  // last narrative id
	seq  int64  // last audit seq
	hash string // last audit hash
}

// applyBatch writes every change of batch in one transaction and fills in
// each one's outcome. A change that cannot apply (a taken idempotency key,
// an unknown ID, an invalid record) writes nothing and leaves the others
// alone; any other failure rolls the whole batch back and is returned, for
// every change to get. The chain head is read under the write lock, so
// another process writing the same database cannot fork the chain.
func (w *writer) applyBatch(batch []request, out []outcome) error {
	if _, err := w.conn.exec(w.st.begin); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	err := w.fillBatch(batch, out)
	if err == nil {
		if _, err = w.conn.exec(w.st.commit); err != nil {
			err = fmt.Errorf("commit: %w", err)
		}
	}
	if err != nil {
		for _, b := range w.bulks {
			b.reset()
		}
		if _, rbErr := w.conn.exec(w.st.rollback); rbErr != nil {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return err
	}
	w.head = w.next
	w.lastID.Store(w.next.id)
	w.committed.Store(time.Now().UnixNano())
	return nil
}

func (w *writer) readHead() error {
	vals, _, err := w.conn.queryRow(w.st.head)
	if err != nil {
		return fmt.Errorf("read chain head: %w", err)
	}
	w.next = cursor{id: num(vals[0]), seq: num(vals[1]), hash: str(vals[2])}
	if w.next.hash == "" {
		w.next.hash = genesisHash
	}
	return nil
}

func (w *writer) fillBatch(batch []request, out []outcome) error {
	if err := w.readHead(); err != nil {
		return err
	}
	clear(w.keys)
	w.blocks = w.blocks[:0]
	for i := range batch {
		if batch[i].group != nil {
			if err := w.applyGroup(&batch[i], &out[i]); err != nil {
				return err
			}
			continue
		}
		res, more, err := w.applyIntent(&batch[i])
		out[i] = outcome{res: res}
		if side := batch[i].side; err == nil && more && side != nil {
			if err = side(w.conn); err != nil { // one statement: undone whole
				err = &changeError{err}
			}
		}
		var ce *changeError
		if errors.As(err, &ce) {
			out[i].err = ce.err
			continue
		}
		if err != nil {
			return err
		}
		if !more {
			continue
		}
		for j := range batch[i].recs {
			if err := w.addRecord(&batch[i].recs[j]); err != nil {
				return fmt.Errorf("write records: %w", err)
			}
		}
	}
	for _, b := range w.bulks {
		if err := b.flush(); err != nil {
			return fmt.Errorf("write records: %w", err)
		}
	}
	for _, sp := range w.blocks {
		if _, err := w.conn.exec(w.st.block, sp.block, sp.min, sp.max); err != nil {
			return fmt.Errorf("write time spans: %w", err)
		}
	}
	return nil
}

// span is the time span (Unix nanoseconds) of one block of narrative ids.
type span struct{ block, min, max int64 }

// widen adds a narrative to the spans; ids arrive in increasing order.
func (w *writer) widen(id, ts int64) {
	b := id >> blockShift
	if n := len(w.blocks); n > 0 && w.blocks[n-1].block == b {
		sp := &w.blocks[n-1]
		sp.min, sp.max = min(sp.min, ts), max(sp.max, ts)
		return
	}
	w.blocks = append(w.blocks, span{b, ts, ts})
}

// applyIntent writes r's Create or Update. more is false when the rest of
// the change must not be written (its key was taken).
func (w *writer) applyIntent(r *request) (res intent.Result, more bool, err error) {
	switch c := r.change; {
	case c.Create != nil:
		return w.create(&r.row)
	case c.Update != nil:
		return res, true, w.update(c.Update, &r.row)
	}
	return res, true, nil
}

// applyGroup writes the changes of r.group inside a savepoint, all or
// none: a change that cannot apply (an unknown ID, a constraint, a create
// whose idempotency key is taken) undoes the whole group, chain position
// and all, and out.err says which and why; the rest of the batch is
// untouched. Only a failure that breaks the batch is returned.
func (w *writer) applyGroup(r *request, out *outcome) error {
	// Rows buffered for earlier changes go in before the savepoint, so
	// that undoing the group drops only its own.
	for _, b := range w.bulks {
		if err := b.flush(); err != nil {
			return fmt.Errorf("write records: %w", err)
		}
	}
	if _, err := w.conn.exec(w.st.savepoint); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	at, nblocks := w.next, len(w.blocks)
	var lastSpan span
	if nblocks > 0 {
		lastSpan = w.blocks[nblocks-1]
	}
	var keys []string // idempotency keys the group took in w.keys
	failed, cause := -1, error(nil)
	for j := range r.group {
		g := &r.group[j]
		res, more, err := w.applyIntent(g)
		var ce *changeError
		if errors.As(err, &ce) {
			failed, cause = j, ce.err
			break
		}
		if err != nil {
			return err
		}
		if !more { // a create whose key is taken: all or none
			failed, cause = j, fmt.Errorf("create intent %s: %w (by %s)", g.change.Create.ID, intent.ErrKeyTaken, res.Existing.ID)
			break
		}
		r.groupOut[j] = outcome{res: res}
		if c := g.change.Create; c != nil && c.IdempotencyKey != "" {
			keys = append(keys, scopedKey(c.Actor, c.IdempotencyKey))
		}
		for k := range g.recs {
			if err := w.addRecord(&g.recs[k]); err != nil {
				return fmt.Errorf("write records: %w", err)
			}
		}
	}
	if failed < 0 {
		for _, b := range w.bulks {
			if err := b.flush(); err != nil {
				return fmt.Errorf("write records: %w", err)
			}
		}
		if _, err := w.conn.exec(w.st.release); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
		return nil
	}
	for _, b := range w.bulks {
		b.reset()
	}
	if _, err := w.conn.exec(w.st.undo); err != nil {
		return fmt.Errorf("roll back to savepoint: %w", err)
	}
	if _, err := w.conn.exec(w.st.release); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	w.next, w.blocks = at, w.blocks[:nblocks]
	if nblocks > 0 {
		w.blocks[nblocks-1] = lastSpan
	}
	for _, k := range keys {
		delete(w.keys, k)
	}
	gerr := &GroupError{Index: failed, Size: len(r.group), Err: cause}
	for j := range r.groupOut {
		r.groupOut[j] = outcome{err: gerr}
	}
	*out = outcome{err: gerr}
	return nil
}

// GroupError is ApplyAll's answer when one change of the group cannot
// apply: nothing in the group was written.
type GroupError struct {
	Index int   // the change at fault, from 0
	Size  int   // changes in the group
	Err   error // why it cannot apply
}

func (e *GroupError) Error() string {
	return fmt.Sprintf("change %d of %d: %v; nothing in the group was written", e.Index+1, e.Size, e.Err)
}

func (e *GroupError) Unwrap() error { return e.Err }
