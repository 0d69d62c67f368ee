package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/engine/watchdog"
)

// The store keeps the alert silences (schema migration 9): one row each,
// replaced as it ends, written in the transaction of the record that
// makes or ends it, and deleted (PruneSilences) once it ended long ago
// (watchdog.SilenceRetention; the records stay). It implements
// engine.SilenceStore.
var _ engine.SilenceStore = (*Store)(nil)

// silenceCols are the silences table's columns in StoredSilences' order.
const silenceCols = "id, match, reason, created_by, created_at, ends_at, state, ended_at, ended_by, end_reason"

// SaveSilence writes sil (replacing the row of its ID) and recs in one
// transaction of the writer's next group commit, and returns once they
// are durable: a silence is never kept without the record that made or
// ended it, nor the other way round. It fails as Apply does (ErrReadOnly
// on a read-only store; an invalid record writes nothing).
func (s *Store) SaveSilence(ctx context.Context, sil watchdog.Silence, recs ...clarity.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if sil.ID == "" {
		return errors.New("save silence: empty ID")
	}
	req, err := newRequest(&intent.Change{Records: recs}, s.opts.Clock.Now())
	if err != nil {
		return fmt.Errorf("save silence %s: %w", sil.ID, err)
	}
	req.side = func(c *wconn) error {
		_, err := c.execOnce(`INSERT OR REPLACE INTO silences(`+silenceCols+`) VALUES (?,?,?,?,?,?,?,?,?,?)`,
			sil.ID, sil.Match, sil.Reason, sil.By, sil.CreatedAt.UnixNano(), sil.EndsAt.UnixNano(), sil.State,
			nanos(sil.EndedAt), sil.EndedBy, sil.EndReason)
		if err != nil {
			return fmt.Errorf("write silence %s: %w", sil.ID, err)
		}
		return nil
	}
	if _, err := s.applyRequest(ctx, req); err != nil {
		return fmt.Errorf("save silence %s to %s: %w", sil.ID, s.path, err)
	}
	return nil
}

// StoredSilences returns the silences q selects, newest first (by
// creation): those not ended (q.Active), or those of every state, without
// those that ended before q.EndedSince; at most q.Limit (100 when 0,
// every one when negative).
func (s *Store) StoredSilences(ctx context.Context, q watchdog.SilenceQuery) ([]watchdog.Silence, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	query := "SELECT " + silenceCols + " FROM silences WHERE (ended_at IS NULL OR ended_at >= ?)"
	if q.Active {
		query += " AND ended_at IS NULL"
	}
	query += " ORDER BY created_at DESC, id DESC LIMIT ?"
	limit := int64(limitOr(q.Limit))
	if q.Limit < 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.rdb.QueryContext(ctx, query, boundNanos(q.EndedSince), limit)
	if err != nil {
		return nil, fmt.Errorf("read silences: %w", err)
	}
	defer rows.Close()
	out := []watchdog.Silence{}
	for rows.Next() {
		var x watchdog.Silence
		var created, ends int64
		var ended any
		if err := rows.Scan(&x.ID, &x.Match, &x.Reason, &x.By, &created, &ends, &x.State, &ended, &x.EndedBy, &x.EndReason); err != nil {
			return nil, fmt.Errorf("read silences: %w", err)
		}
		x.CreatedAt, x.EndsAt, x.EndedAt = when(created), when(ends), when(ended)
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read silences: %w", err)
	}
	return out, nil
}

// PruneSilences deletes the silences that ended (or were stored as
// expired) before endedBefore, in one transaction of the writer, and
// returns how many. The records that made and ended them stay.
func (s *Store) PruneSilences(ctx context.Context, endedBefore time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	req, err := newRequest(&intent.Change{}, s.opts.Clock.Now())
	if err != nil {
		return 0, fmt.Errorf("prune silences: %w", err)
	}
	var n int64
	req.side = func(c *wconn) error {
		var err error
		n, err = c.execOnce(`DELETE FROM silences WHERE ended_at IS NOT NULL AND ended_at < ?`, boundNanos(endedBefore))
		if err != nil {
			return fmt.Errorf("delete silences ended before %s: %w", endedBefore.UTC().Format(time.RFC3339), err)
		}
		return nil
	}
	if _, err := s.applyRequest(ctx, req); err != nil {
		return 0, fmt.Errorf("prune silences of %s: %w", s.path, err)
	}
	return int(n), nil
}
