package store

import (
	"database/sql/driver"
	"strings"
)

// statements are the writer's prepared statements.
type statements struct {
	begin, commit, rollback  driver.Stmt
	savepoint, release, undo driver.Stmt // around an all-or-nothing group (ApplyAll)
	head                     driver.Stmt
	byKey                    driver.Stmt
	insertIntent             driver.Stmt
	updateIntent             driver.Stmt
	block                    driver.Stmt
}

func prepareStatements(c *wconn) (*statements, error) {
	var st statements
	for _, p := range []struct {
		dst *driver.Stmt
		sql string
	}{
		{&st.begin, "BEGIN IMMEDIATE"},
		{&st.commit, "COMMIT"},
		{&st.rollback, "ROLLBACK"},
		{&st.savepoint, "SAVEPOINT grp"},
		{&st.release, "RELEASE grp"},
		{&st.undo, "ROLLBACK TO grp"},
		{&st.head, `SELECT ifnull((SELECT max(id) FROM narratives), 0),
			ifnull((SELECT seq FROM audit ORDER BY seq DESC LIMIT 1), 0),
			ifnull((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1), '')`},
		{&st.byKey, "SELECT " + intentCols + " FROM intents WHERE idempotency_key = ?"},
		{&st.insertIntent, "INSERT INTO intents(" + intentCols + ") VALUES (" +
			strings.TrimSuffix(strings.Repeat("?,", 20), ",") + ")"},
		{&st.updateIntent, updateSQL},
		{&st.block, `INSERT INTO narrative_blocks(block, min_ts, max_ts) VALUES (?, ?, ?)
			ON CONFLICT(block) DO UPDATE SET min_ts = min(min_ts, excluded.min_ts),
			max_ts = max(max_ts, excluded.max_ts)`},
	} {
		s, err := c.prepare(p.sql)
		if err != nil {
			return nil, err
		}
		*p.dst = s
	}
	return &st, nil
}

// driverValues turns a driver row into the []any scanIntent reads.
func driverValues(vals []driver.Value) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}
