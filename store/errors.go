package store

import "errors"

// Errors callers branch on. Every error the store returns wraps one of these
// or an error from SQLite or the file system, and names what was being done.
var (
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("store is closed")
	// ErrReadOnly is returned by Apply, ApplyAsync and Record on a store
	// opened with Options.ReadOnly.
	ErrReadOnly = errors.New("store is read-only")
	// ErrNotSQLite means the file at the path exists but does not start
	// with the SQLite header; the store leaves it untouched.
	ErrNotSQLite = errors.New("not a SQLite database")
	// ErrNotGrace means the file is a SQLite database that some other
	// program made; the store leaves it untouched.
	ErrNotGrace = errors.New("a SQLite database that is not Grace's")
	// ErrNewerSchema means the database was written by a newer Grace whose
	// schema this build does not know; the store leaves it untouched.
	ErrNewerSchema = errors.New("database schema is newer than this build of Grace")
	// ErrInvalidRecord means a clarity record lacks Who or What, or carries
	// a value the store cannot keep faithfully (a NaN confidence, a time
	// outside the years 1678–2261). Only the change holding it fails.
	ErrInvalidRecord = errors.New("invalid clarity record")
	// ErrInvalidChange means a change has both Create and Update, or an
	// intent without an ID.
	ErrInvalidChange = errors.New("invalid change")
)
