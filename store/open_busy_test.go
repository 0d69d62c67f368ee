package store

import (
	"context"
	"strings"
	"testing"
)

// A database another program keeps locked (a sqlite3 shell with a write
// transaction open) failed the opening with "migrate schema: database is
// locked (5) (SQLITE_BUSY)", internal words that did not say what to do:
// the error says another program holds it, and to close it.
func TestOpenSaysAnotherProgramHoldsTheDatabase(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	if err := tb.s.Close(); err != nil {
		t.Fatal(err)
	}
	db := tb.rawDB(t)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), tb.path, tb.opts)
	if err == nil {
		_ = s.Close()
		t.Fatal("Open succeeded while another program held the database locked")
	}
	checkOneLine(t, err, tb.path)
	if !strings.Contains(err.Error(), "another program keeps the database locked") {
		t.Errorf("Open = %v; want it to say another program keeps the database locked", err)
	}
}
