package enginetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// defaultLimit is what a zero Filter.Limit or Query.Limit means here.
const defaultLimit = 100

// Get returns the intent with the ID, or an error wrapping
// intent.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (intent.Intent, error) {
	if err := ctx.Err(); err != nil {
		return intent.Intent{}, fmt.Errorf("get intent %s: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.intents[id]
	if !ok {
		return intent.Intent{}, fmt.Errorf("get intent %s: %w", id, intent.ErrNotFound)
	}
	return clone(in), nil
}

// List returns intents matching f, newest first, at most f.Limit (100 when
// zero).
func (s *Store) List(ctx context.Context, f intent.Filter) ([]intent.Intent, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list intents: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	start := len(s.order) - 1
	if f.Before != "" {
		at := slices.Index(s.order, f.Before)
		if at < 0 {
			return nil, fmt.Errorf("list intents before %s: %w", f.Before, intent.ErrNotFound)
		}
		start = at - 1
	}
	var out []intent.Intent
	for i := start; i >= 0 && len(out) < limit; i-- {
		in := s.intents[s.order[i]]
		if matches(in, f) && !(f.Unretried && s.retried(in)) {
			out = append(out, clone(in))
		}
	}
	return out, nil
}

func matches(in intent.Intent, f intent.Filter) bool {
	switch {
	case f.State != "" && in.State != f.State,
		f.Actor != "" && in.Actor != f.Actor,
		f.Type != "" && in.Type != f.Type,
		!f.Since.IsZero() && in.CreatedAt.Before(f.Since),
		f.HasTier && in.Tier != f.Tier,
		f.Unreviewed && in.Reviewed,
		f.IdempotencyKey != "" && (in.IdempotencyKey != f.IdempotencyKey || in.Actor != f.Actor):
		return false
	}
	return true
}

// retried reports whether an intent was submitted under in's actor's key
// intent.RetryKey(in.ID), as a retry of in is. The caller holds s.mu.
func (s *Store) retried(in intent.Intent) bool {
	key := intent.RetryKey(in.ID)
	for _, other := range s.intents {
		if other.Actor == in.Actor && other.IdempotencyKey == key {
			return true
		}
	}
	return false
}

// NonTerminal returns every intent not in a terminal state, oldest first.
func (s *Store) NonTerminal(ctx context.Context) ([]intent.Intent, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list non-terminal intents: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []intent.Intent
	for _, id := range s.order {
		if in := s.intents[id]; !in.State.Terminal() {
			out = append(out, clone(in))
		}
	}
	return out, nil
}

// CountByState returns how many intents are in each state.
func (s *Store) CountByState(ctx context.Context) (map[intent.State]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("count intents: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[intent.State]int)
	for _, in := range s.intents {
		out[in.State]++
	}
	return out, nil
}

// Search returns entries matching q, newest first. Text matches when every
// word occurs, case-insensitively, in who, what, where, why, how or result.
func (s *Store) Search(ctx context.Context, q clarity.Query) ([]clarity.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("search narratives: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	words := strings.Fields(strings.ToLower(q.Text))
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []clarity.Entry
	for i := len(s.entries) - 1; i >= 0 && len(out) < limit; i-- {
		e := s.entries[i]
		if entryMatches(e, q, words) {
			out = append(out, cloneEntry(e))
		}
	}
	return out, nil
}

func entryMatches(e clarity.Entry, q clarity.Query, words []string) bool {
	switch {
	case q.Actor != "" && e.Who != q.Actor,
		q.Action != "" && e.What != q.Action,
		q.IntentID != "" && e.IntentID != q.IntentID,
		!q.Since.IsZero() && e.When.Before(q.Since),
		!q.Until.IsZero() && e.When.After(q.Until),
		q.BeforeID != 0 && e.ID >= q.BeforeID,
		q.AfterID != 0 && e.ID <= q.AfterID:
		return false
	}
	if len(words) == 0 {
		return true
	}
	text := strings.ToLower(strings.Join(append([]string{e.Who, e.What, e.Where, e.How, e.Result}, e.Why...), " "))
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// clone copies in deeply enough that neither side can change the other's
// payload, context or decision.
func clone(in intent.Intent) intent.Intent {
	in.Payload = slices.Clone(in.Payload)
	in.Context = maps.Clone(in.Context)
	in.Decision.Reasoning = slices.Clone(in.Decision.Reasoning)
	in.Decision.Votes = slices.Clone(in.Decision.Votes)
	return in
}

func cloneEntry(e clarity.Entry) clarity.Entry {
	e.Why = slices.Clone(e.Why)
	e.Context = maps.Clone(e.Context)
	return e
}
