package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"

	"modernc.org/sqlite"
)

// attachConnector opens SQLite connections with another database file
// attached under a schema name, on every connection database/sql opens
// (its pool may open new ones at any time, and ATTACH is per connection).
type attachConnector struct {
	base driver.Connector
	file string // the attached database's path
	as   string // its schema name
	ro   bool   // attach read-only
	// optional: a missing or unreadable file is left unattached rather
	// than failing the connection (readers then search without the index).
	optional bool
}

// openAttached is sql.Open("sqlite", dsn) with file attached as schema as.
func openAttached(dsnStr, file, as string, ro, optional bool) (*sql.DB, error) {
	base, err := sqlite.NewConnector(dsnStr)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(&attachConnector{base: base, file: file, as: as, ro: ro, optional: optional}), nil
}

// Connect opens a connection and attaches the file.
func (c *attachConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if c.optional {
		if _, err := os.Stat(c.file); err != nil {
			return conn, nil
		}
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite connection cannot execute statements")
	}
	_, err = ex.ExecContext(ctx, "ATTACH DATABASE ? AS "+c.as, []driver.NamedValue{{Ordinal: 1, Value: dsn(c.file, c.ro)}})
	if err != nil {
		if c.optional {
			return conn, nil
		}
		conn.Close()
		return nil, fmt.Errorf("attach %s: %w", c.file, err)
	}
	return conn, nil
}

// Driver returns the SQLite driver.
func (c *attachConnector) Driver() driver.Driver { return c.base.Driver() }
