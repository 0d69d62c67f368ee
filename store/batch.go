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
		res, more, err := w.applyIntent(&batch[i])
		out[i] = outcome{res: res}
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
