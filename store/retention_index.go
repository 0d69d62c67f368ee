package store

import (
	"context"
	"fmt"
)

// forget deletes from the full-text index the narratives up to id upTo,
// before the record deletes them (retention.go). The index is contentless:
// FTS5 deletes a row given the values it was indexed with, which are read
// from the record, so this must run while the record still holds them. It
// first indexes up to upTo, so that the indexer never adds a row after it
// was deleted here. The ids deleted are marked in the index's meta
// ("pruned:<source>", moved in the same transaction), so that a prune
// interrupted between the index and the record deletes nothing twice (a
// second delete of the same row would corrupt the index); a rebuilt index
// has another source or no mark, and starts from what the record holds.
func (ix *indexer) forget(ctx context.Context, upTo int64) (err error) {
	for ix.hwm.Load() < upTo {
		n, err := ix.step(indexStepRows)
		if err != nil {
			return fmt.Errorf("index before pruning: %w", err)
		}
		if n == 0 {
			break
		}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.db == nil {
		return ErrClosed
	}
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("prune index %s: begin: %w", ix.path, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var source string
	var hwm, mark int64
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT value FROM meta WHERE key = 'source'),
		(SELECT value FROM meta WHERE key = 'hwm'),
		ifnull((SELECT value FROM meta WHERE key = 'pruned:' || (SELECT value FROM meta WHERE key = 'source')), 0)`).
		Scan(&source, &hwm, &mark); err != nil {
		return fmt.Errorf("prune index %s: read marks: %w", ix.path, err)
	}
	if hwm < upTo {
		return fmt.Errorf("prune index %s: it holds narratives up to %d only, not %d", ix.path, hwm, upTo)
	}
	if upTo > mark {
		if _, err := tx.ExecContext(ctx, `INSERT INTO narratives_fts(narratives_fts, rowid, who, what, "where", why, how)
			SELECT 'delete', id, who, what, "where", why, how FROM g.narratives WHERE id > ? AND id <= ?`, mark, upTo); err != nil {
			return fmt.Errorf("prune index %s: %w", ix.path, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO meta(key, value) VALUES ('pruned:' || ?, ?)`, source, upTo); err != nil {
			return fmt.Errorf("prune index %s: move mark: %w", ix.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("prune index %s: commit: %w", ix.path, err)
	}
	return nil
}
