package store

import (
	"context"
	"fmt"
	"strings"

	"grace/engine/intent"
)

// defaultListLimit is List's limit when the filter sets none.
const defaultListLimit = 100

// Get returns the intent with the ID, or an error wrapping
// intent.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (intent.Intent, error) {
	its, err := s.queryIntents(ctx, "SELECT "+intentCols+" FROM intents WHERE id = ?", id)
	if err != nil {
		return intent.Intent{}, fmt.Errorf("get intent %s: %w", id, err)
	}
	if len(its) == 0 {
		return intent.Intent{}, fmt.Errorf("get intent %s: %w", id, intent.ErrNotFound)
	}
	return its[0], nil
}

// List returns the intents matching f, newest first (by creation time, then
// ID), at most f.Limit of them (100 when f.Limit is 0 or negative).
func (s *Store) List(ctx context.Context, f intent.Filter) ([]intent.Intent, error) {
	var where []string
	var args []any
	add := func(cond string, arg ...any) {
		where = append(where, cond)
		args = append(args, arg...)
	}
	if f.State != "" {
		add("state = ?", string(f.State))
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Type != "" {
		add("type = ?", f.Type)
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", boundNanos(f.Since))
	}
	if f.HasTier {
		add("tier = ?", int64(f.Tier))
	}
	if f.Unreviewed {
		add("reviewed = 0")
	}
	if f.Unretried {
		// scopedKey(actor, intent.RetryKey(id)), in SQL: the unique index
		// on idempotency_key answers each one.
		add("NOT EXISTS (SELECT 1 FROM intents r WHERE r.idempotency_key = intents.actor || char(31) || ? || intents.id)",
			intent.RetryKey(""))
	}
	if f.IdempotencyKey != "" {
		add("idempotency_key = ?", scopedKey(f.Actor, f.IdempotencyKey))
	}
	if f.Before != "" {
		cur, err := s.Get(ctx, f.Before)
		if err != nil {
			return nil, fmt.Errorf("list intents before %s: %w", f.Before, err)
		}
		add("(created_at < ? OR created_at = ? AND id < ?)", cur.CreatedAt.UnixNano(), cur.CreatedAt.UnixNano(), cur.ID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	q := "SELECT " + intentCols + " FROM intents"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	its, err := s.queryIntents(ctx, q, append(args, int64(limit))...)
	if err != nil {
		return nil, fmt.Errorf("list intents: %w", err)
	}
	return its, nil
}

// NonTerminal returns every intent not in a terminal state, oldest first;
// start-up recovery uses it.
func (s *Store) NonTerminal(ctx context.Context) ([]intent.Intent, error) {
	var open []string
	for _, st := range intent.States {
		if !st.Terminal() {
			open = append(open, "'"+string(st)+"'")
		}
	}
	its, err := s.queryIntents(ctx, "SELECT "+intentCols+" FROM intents WHERE state IN ("+
		strings.Join(open, ",")+") ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("list non-terminal intents: %w", err)
	}
	return its, nil
}

// CountByState returns how many intents are in each state; states with
// none are absent.
func (s *Store) CountByState(ctx context.Context) (map[intent.State]int, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT state, count(*) FROM intents GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("count intents: %w", err)
	}
	defer rows.Close()
	counts := make(map[intent.State]int)
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count intents: %w", err)
		}
		counts[intent.State(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count intents: %w", err)
	}
	return counts, nil
}

// queryIntents runs a query over intentCols on a reader.
func (s *Store) queryIntents(ctx context.Context, q string, args ...any) ([]intent.Intent, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []intent.Intent
	vals := make([]any, 20)
	ptrs := make([]any, 20)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		it, err := scanIntent(vals)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// readable reports ErrClosed after Close. Reads racing Close may also see
// database/sql's "database is closed"; both say the same.
func (s *Store) readable() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}
