package engine

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"grace/engine/intent"
)

// waiters are the callers of WaitFinished, by intent ID. committed tells
// them when a change leaves their intent in a terminal state; with nobody
// waiting it costs one atomic load per change.
type waiters struct {
	n  atomic.Int64
	mu sync.Mutex
	by map[string][]chan intent.Intent
}

// add registers ch for id.
func (w *waiters) add(id string, ch chan intent.Intent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.by == nil {
		w.by = map[string][]chan intent.Intent{}
	}
	w.by[id] = append(w.by[id], ch)
	w.n.Add(1)
}

// remove unregisters ch for id, if it is still registered.
func (w *waiters) remove(id string, ch chan intent.Intent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	list := w.by[id]
	for i, c := range list {
		if c == ch {
			list = append(list[:i], list[i+1:]...)
			w.n.Add(-1)
			break
		}
	}
	if len(list) == 0 {
		delete(w.by, id)
	} else {
		w.by[id] = list
	}
}

// finished tells id's waiters that it ended as in, and forgets them.
func (w *waiters) finished(in intent.Intent) {
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ch := range w.by[in.ID] {
		ch <- in // buffered, one send per registration
		w.n.Add(-1)
	}
	delete(w.by, in.ID)
}

// WaitFinished returns intent id, masked, once it is in a terminal state
// (completed, failed, denied, expired, shed or cancelled), or as it stands
// when ctx ends first (the caller tells the two apart by its state).
func (e *Engine) WaitFinished(ctx context.Context, id string) (intent.Intent, error) {
	id = intent.CanonicalID(id) // typed in another case
	ch := make(chan intent.Intent, 1)
	e.waiters.add(id, ch) // before reading, so that an end between the two is not missed
	defer e.waiters.remove(id, ch)
	in, err := e.Get(context.WithoutCancel(ctx), id) // an ended ctx still gets the intent as it stands
	if err != nil || in.State.Terminal() {
		return in, err
	}
	select {
	case done := <-ch:
		return e.guard.mask.intent(done), nil
	case <-ctx.Done():
	}
	in, err = e.Get(context.WithoutCancel(ctx), id)
	if err != nil {
		return intent.Intent{}, fmt.Errorf("wait for intent %s: %w", id, err)
	}
	return in, nil
}
