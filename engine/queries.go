package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// pendingLimit bounds how many pending approvals Pending returns.
const pendingLimit = 1000

// Get returns the intent with the ID from the store, its masked fields
// (masking.fields) hidden; the error wraps ErrNotFound when there is none.
func (e *Engine) Get(ctx context.Context, id string) (intent.Intent, error) {
	id = intent.CanonicalID(id) // typed in another case
	in, err := e.store.Get(ctx, id)
	if err != nil {
		return intent.Intent{}, err // the store's error names the intent ("get intent ID: ...")
	}
	return e.guard.mask.intent(in), nil
}

// List returns the intents matching f from the store, newest first, masked
// like Get.
func (e *Engine) List(ctx context.Context, f intent.Filter) ([]intent.Intent, error) {
	f.Before = intent.CanonicalID(f.Before)
	ins, err := e.store.List(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list intents: %w", err)
	}
	return e.guard.mask.intents(ins), nil
}

// Pending returns the intents waiting for a human, oldest first, masked
// like Get. Past 1000 pending approvals it returns the newest 1000.
func (e *Engine) Pending(ctx context.Context) ([]intent.Intent, error) {
	ins, err := e.store.List(ctx, intent.Filter{State: intent.StatePendingApproval, Limit: pendingLimit})
	if err != nil {
		return nil, fmt.Errorf("list pending approvals: %w", err)
	}
	slices.Reverse(ins)
	return e.guard.mask.intents(ins), nil
}

// Search returns narratives matching q, newest first, from the Searcher.
func (e *Engine) Search(ctx context.Context, q clarity.Query) ([]clarity.Entry, error) {
	p, err := e.SearchPage(ctx, q)
	return p.Entries, err
}

// SearchPage is Search, saying where a page that stopped early at the
// store's read budget stopped (clarity.Page).
func (e *Engine) SearchPage(ctx context.Context, q clarity.Query) (clarity.Page, error) {
	if e.searcher == nil {
		return clarity.Page{}, errors.New("search narratives: no searcher configured")
	}
	q.IntentID = intent.CanonicalID(q.IntentID)
	p, err := clarity.SearchPage(ctx, e.searcher, q)
	if err != nil {
		return clarity.Page{}, fmt.Errorf("search narratives: %w", err)
	}
	return p, nil
}
