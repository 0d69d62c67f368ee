package store

import (
	"database/sql/driver"
	"strings"
)

// bulkSizes are the row counts of the multi-row INSERT statements a bulk
// prepares, largest first. Binding one statement of 64 rows costs far less
// than stepping 64 statements; a remainder is written greedily with the
// smaller ones.
var bulkSizes = [...]int{64, 16, 4, 1}

// bulk inserts rows into one table through prepared multi-row statements.
type bulk struct {
	cols  int
	stmts [len(bulkSizes)]driver.Stmt
	// scratch[i] holds the arguments for stmts[i], ordinals preset.
	scratch [len(bulkSizes)][]driver.NamedValue
	vals    []driver.Value // buffered rows, bulkSizes[0]*cols
	n       int            // rows buffered in vals
}

// newBulk prepares "INSERT INTO table(cols) VALUES (...), ..." in each size.
func newBulk(w *wconn, table string, cols ...string) (*bulk, error) {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	head := "INSERT OR FAIL INTO " + table + "(" + strings.Join(cols, ",") + ") VALUES "
	b := &bulk{cols: len(cols), vals: make([]driver.Value, bulkSizes[0]*len(cols))}
	for i, size := range bulkSizes {
		st, err := w.prepare(head + strings.TrimSuffix(strings.Repeat(row+",", size), ","))
		if err != nil {
			return nil, err
		}
		b.stmts[i] = st
		b.scratch[i] = make([]driver.NamedValue, size*len(cols))
		for j := range b.scratch[i] {
			b.scratch[i][j].Ordinal = j + 1
		}
	}
	return b, nil
}

// row returns the value slots of the next row; the caller fills all of
// them. Rows are written when the buffer is full or on flush.
func (b *bulk) row() ([]driver.Value, error) {
	if b.n == bulkSizes[0] {
		if err := b.flush(); err != nil {
			return nil, err
		}
	}
	r := b.vals[b.n*b.cols : (b.n+1)*b.cols]
	b.n++
	return r, nil
}

// flush writes the buffered rows.
func (b *bulk) flush() error {
	done := 0
	for i, size := range bulkSizes {
		for b.n-done >= size {
			args := b.scratch[i]
			for j := range args {
				args[j].Value = b.vals[done*b.cols+j]
			}
			_, err := b.stmts[i].(driver.StmtExecContext).ExecContext(bg, args)
			if err != nil {
				b.reset()
				return err
			}
			done += size
		}
	}
	b.reset()
	return nil
}

// reset drops buffered rows and the references they hold.
func (b *bulk) reset() {
	clear(b.vals[:b.n*b.cols])
	b.n = 0
	for i := range b.scratch {
		for j := range b.scratch[i] {
			b.scratch[i][j].Value = nil
		}
	}
}
