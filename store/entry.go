package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"grace/engine/clarity"
)

// entryCols and entryJoins read a narrative n with its clarity row and
// audit entry. The joins are LEFT so that a row damaged by hand still
// shows (VerifyAudit is what reports the damage).
const (
	entryCols = `SELECT n.id, n.ts, n.who, n.what, n."where", n.why, n.how, n.context,
	n.intent_id, n.result, c.confidence, c.risk, c.transparency, c.audit_seq, a.hash`
	entryJoins = ` LEFT JOIN clarity c ON c.narrative_id = n.id LEFT JOIN audit a ON a.seq = c.audit_seq`
)

// queryEntries runs a query over entryCols.
func queryEntries(ctx context.Context, conn *sql.Conn, q string, args ...any) ([]clarity.Entry, error) {
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []clarity.Entry
	for rows.Next() {
		e, _, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// scanEntry decodes one row of entryCols; why is the stored JSON text.
func scanEntry(rows *sql.Rows) (e clarity.Entry, why string, err error) {
	var ts int64
	var ctxText string
	var conf, risk sql.NullFloat64
	var transparency, hash sql.NullString
	var seq sql.NullInt64
	err = rows.Scan(&e.ID, &ts, &e.Who, &e.What, &e.Where, &why, &e.How, &ctxText,
		&e.IntentID, &e.Result, &conf, &risk, &transparency, &seq, &hash)
	if err != nil {
		return e, why, err
	}
	e.When = when(ts)
	e.Confidence, e.Risk, e.Transparency = conf.Float64, risk.Float64, transparency.String
	e.Seq, e.Hash = seq.Int64, hash.String
	if err := json.Unmarshal([]byte(why), &e.Why); err != nil {
		return e, why, fmt.Errorf("narrative %d: decode why: %w", e.ID, err)
	}
	if len(e.Why) == 0 {
		e.Why = nil
	}
	if ctxText != "" && ctxText != "{}" {
		if err := json.Unmarshal([]byte(ctxText), &e.Context); err != nil {
			return e, why, fmt.Errorf("narrative %d: decode context: %w", e.ID, err)
		}
	}
	return e, why, nil
}
