package main

import (
	"context"
	"errors"
	"fmt"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// errNoStore is what the route-only store answers to a write.
var errNoStore = errors.New("intent route stores nothing")

// emptyStore stands in for the database when only a routing decision is
// wanted, so that intent route never opens (or creates) the database: it
// reads as an empty database (no intents, so an idle queue and no recent
// high-impact approvals for the Tier 3 vote) and refuses every write.
type emptyStore struct{}

func (emptyStore) Apply(context.Context, *intent.Change) (intent.Result, error) {
	return intent.Result{}, errNoStore
}

func (emptyStore) ApplyAsync(_ *intent.Change, done func(intent.Result, error)) {
	done(intent.Result{}, errNoStore)
}

func (emptyStore) Get(_ context.Context, id string) (intent.Intent, error) {
	return intent.Intent{}, fmt.Errorf("get %s: %w", id, intent.ErrNotFound)
}

func (emptyStore) List(context.Context, intent.Filter) ([]intent.Intent, error) { return nil, nil }

func (emptyStore) NonTerminal(context.Context) ([]intent.Intent, error) { return nil, nil }

func (emptyStore) CountByState(context.Context) (map[intent.State]int, error) {
	return map[intent.State]int{}, nil
}

func (emptyStore) Record(context.Context, ...clarity.Record) error { return errNoStore }

func (emptyStore) Search(context.Context, clarity.Query) ([]clarity.Entry, error) { return nil, nil }
