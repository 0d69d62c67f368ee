package enginetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/watchdog"
)

// SaveSilence keeps s (replacing the silence of its ID) and writes recs,
// in one step, as the engine's SilenceStore.
func (s *Store) SaveSilence(ctx context.Context, sil watchdog.Silence, recs ...clarity.Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save silence: %w", err)
	}
	if sil.ID == "" {
		return errors.New("save silence: empty ID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.fail != nil:
		return s.fail
	}
	if err := checkRecords(recs); err != nil {
		return err
	}
	if s.silences == nil {
		s.silences = map[string]watchdog.Silence{}
	}
	s.silences[sil.ID] = sil
	s.appendLocked(recs)
	return nil
}

// StoredSilences returns the silences q selects, newest first: those not
// ended, or the newest q.Limit (100 when 0, all when negative) of all,
// without those that ended before q.EndedSince.
func (s *Store) StoredSilences(ctx context.Context, q watchdog.SilenceQuery) ([]watchdog.Silence, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read silences: %w", err)
	}
	s.mu.Lock()
	out := make([]watchdog.Silence, 0, len(s.silences))
	for _, x := range s.silences {
		if (!q.Active || x.EndedAt.IsZero()) && (x.EndedAt.IsZero() || !x.EndedAt.Before(q.EndedSince)) {
			out = append(out, x)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b watchdog.Silence) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
	})
	limit := q.Limit
	if limit == 0 {
		limit = watchdog.DefaultLimit
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// PruneSilences deletes the silences that ended before endedBefore.
func (s *Store) PruneSilences(ctx context.Context, endedBefore time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("prune silences: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return 0, ErrClosed
	case s.fail != nil:
		return 0, s.fail
	}
	n := 0
	for id, x := range s.silences {
		if !x.EndedAt.IsZero() && x.EndedAt.Before(endedBefore) {
			delete(s.silences, id)
			n++
		}
	}
	return n, nil
}
