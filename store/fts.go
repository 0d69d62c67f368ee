package store

import (
	"context"
	"database/sql"
	"fmt"
)

// FlushIndex brings the full-text index up to date with every record
// committed before the call and returns when it is (Search finds unindexed
// records anyway; this makes later searches cheap). It returns ctx's error
// if ctx ends first, ErrReadOnly on a read-only store.
func (s *Store) FlushIndex(ctx context.Context) error {
	s.mu.RLock()
	closed, ix := s.closed, s.ix
	s.mu.RUnlock()
	switch {
	case closed:
		return ErrClosed
	case ix == nil:
		return ErrReadOnly
	}
	if err := ix.flush(ctx); err != nil {
		return fmt.Errorf("flush search index: %w", err)
	}
	return nil
}

// IndexLag returns how many committed narratives the full-text index has
// not caught up with yet. A read-only store asks the database each time
// and, should that fail, reports the last figure it saw.
func (s *Store) IndexLag() int64 {
	if s.w == nil {
		ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
		defer cancel()
		_ = s.refreshLag(ctx)
	}
	return s.lastID.Load() - s.hwm.Load()
}

// refreshLag reads the newest narrative id and the index mark (0 when the
// index file is not there).
func (s *Store) refreshLag(ctx context.Context) error {
	conn, err := s.rdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("read index lag: %w", err)
	}
	defer conn.Close()
	var last, hwm int64
	if err := conn.QueryRowContext(ctx, `SELECT ifnull((SELECT max(id) FROM narratives), 0)`).Scan(&last); err != nil {
		return fmt.Errorf("read index lag: %w", err)
	}
	if hwm, err = indexMark(ctx, conn); err != nil {
		return fmt.Errorf("read index lag: %w", err)
	}
	s.lastID.Store(last)
	s.hwm.Store(hwm)
	return nil
}

// indexMark reads the index's mark through a reader connection: 0 when
// the connection has no index attached.
func indexMark(ctx context.Context, q querier) (int64, error) {
	var attached bool
	if err := q.QueryRowContext(ctx, `SELECT count(*) > 0 FROM pragma_database_list WHERE name = 'search'`).Scan(&attached); err != nil || !attached {
		return 0, err
	}
	var hwm int64
	err := q.QueryRowContext(ctx, `SELECT ifnull((SELECT value FROM search.meta WHERE key = 'hwm'), 0)`).Scan(&hwm)
	return hwm, err
}

// querier is what indexMark reads through: a connection or a pool.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
