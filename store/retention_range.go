package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// archiveCols reads the audit entries with their narrative and clarity
// rows, in archiveLine's order, for narratives n, clarity c, audit a.
const archiveCols = `SELECT a.seq, a.entry, a.prev_hash, a.hash, n.id, n.ts, n.who, n.what, n."where",
	n.why, n.how, n.context, n.intent_id, n.result, c.audit_seq, c.confidence, c.risk, c.transparency, c.reasoning
	FROM narratives n JOIN clarity c ON c.narrative_id = n.id JOIN audit a ON a.seq = c.audit_seq`

func scanArchiveLine(rows *sql.Rows, l *archiveLine) error {
	n, c := &l.Narrative, &l.Clarity
	return rows.Scan(&l.Seq, &l.Entry, &l.PrevHash, &l.Hash, &n.ID, &n.TS, &n.Who, &n.What, &n.Where,
		&n.Why, &n.How, &n.Context, &n.IntentID, &n.Result, &c.AuditSeq, &c.Confidence, &c.Risk,
		&c.Transparency, &c.Reasoning)
}

// pruneRange reads, in one snapshot, the entries after the anchor recorded
// before before (at most pruneRoundMax), checks that each chains on and
// matches its rows, and, when dir is set, archives them there durably.
// Any problem prunes nothing: a broken entry is named, never deleted.
func (s *Store) pruneRange(ctx context.Context, before time.Time, dir string) (r pruneRange, err error) {
	r.before = before
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return r, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	if r.from, err = readAnchor(ctx, tx); err != nil {
		return r, err
	}
	r.to = r.from
	rows, err := tx.QueryContext(ctx, archiveCols+" WHERE n.id > ? ORDER BY n.id LIMIT ?", r.from.NarrativeID, pruneRoundMax+1)
	if err != nil {
		return r, fmt.Errorf("read old entries: %w", err)
	}
	defer rows.Close()
	var aw *archiveWriter
	defer func() {
		if aw != nil && err != nil {
			aw.abort()
		}
	}()
	var l, first archiveLine
	var scratch []byte
	var problem string
	for rows.Next() {
		if err := scanArchiveLine(rows, &l); err != nil {
			return r, fmt.Errorf("read old entries: %w", err)
		}
		if l.Narrative.TS >= before.UnixNano() {
			break
		}
		if r.to.Seq-r.from.Seq >= pruneRoundMax {
			r.more = true
			break
		}
		if l.Seq != r.to.Seq+1 {
			return r, fmt.Errorf("audit entry %d is missing (the chain goes on at entry %d): nothing was pruned; run grace audit verify", r.to.Seq+1, l.Seq)
		}
		if problem, scratch = l.check(r.to.Hash, scratch); problem != "" {
			return r, fmt.Errorf("audit entry %d: %s: nothing was pruned; run grace audit verify", l.Seq, problem)
		}
		if dir != "" {
			if aw == nil {
				if aw, err = newArchive(dir); err != nil {
					return r, err
				}
				first = archiveLine{Seq: l.Seq, PrevHash: l.PrevHash, Hash: l.Hash}
			}
			if err := aw.write(&l); err != nil {
				return r, err
			}
		}
		r.to = anchor{Seq: l.Seq, Hash: l.Hash, NarrativeID: l.Narrative.ID}
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("read old entries: %w", err)
	}
	if aw != nil {
		if r.archive, r.sha256, err = aw.finish(r.from.Seq+1, r.to.Seq); err == nil {
			removeUncommitted(dir, first, r.archive)
		}
	}
	return r, err
}
