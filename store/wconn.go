package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
)

// wconn is the writer's connection, used through the driver interfaces
// directly: the writer goroutine owns it for the store's whole life (inside
// sql.Conn.Raw), so database/sql's pooling and argument conversion would
// only cost time. Statements run with a context that is never done, which
// also spares the driver its per-statement cancellation watcher; one
// caller's cancelled context must not abort a batch that carries others.
type wconn struct {
	c     driver.Conn
	stmts []driver.Stmt
	args  []driver.NamedValue
	dest  []driver.Value
}

var bg = context.Background()

// prepare compiles query once for the life of the connection.
func (w *wconn) prepare(query string) (driver.Stmt, error) {
	st, err := w.c.(driver.ConnPrepareContext).PrepareContext(bg, query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", firstLine(query), err)
	}
	w.stmts = append(w.stmts, st)
	return st, nil
}

// close finalizes every prepared statement.
func (w *wconn) close() error {
	var errs []error
	for _, st := range w.stmts {
		errs = append(errs, st.Close())
	}
	w.stmts = nil
	return errors.Join(errs...)
}

// bind puts args into the reusable argument slice.
func (w *wconn) bind(args []any) []driver.NamedValue {
	w.args = w.args[:0]
	for i, a := range args {
		w.args = append(w.args, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	return w.args
}

// exec runs st with args and returns the number of rows it changed.
func (w *wconn) exec(st driver.Stmt, args ...any) (int64, error) {
	res, err := st.(driver.StmtExecContext).ExecContext(bg, w.bind(args))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// queryRow runs st and returns its first row's values (valid until the next
// call), or found=false when there is none.
func (w *wconn) queryRow(st driver.Stmt, args ...any) (vals []driver.Value, found bool, err error) {
	rows, err := st.(driver.StmtQueryContext).QueryContext(bg, w.bind(args))
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	n := len(rows.Columns())
	if cap(w.dest) < n {
		w.dest = make([]driver.Value, n)
	}
	w.dest = w.dest[:n]
	switch err := rows.Next(w.dest); {
	case errors.Is(err, io.EOF):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return w.dest, true, nil
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i] + "…"
		}
	}
	return s
}
