package enginetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/engine/watchdog"
)

// ErrClosed is returned for changes applied after Close.
var ErrClosed = errors.New("enginetest store is closed")

// Store is an in-memory intent.Store, clarity.Journal and clarity.Searcher.
// The zero value is not usable; call NewStore. Call Close to stop its writer
// goroutine.
type Store struct {
	mu      sync.Mutex
	intents map[string]intent.Intent
	order   []string          // IDs in creation order
	keys    map[string]string // actor + idempotency key (actorKey) → ID
	entries []clarity.Entry   // oldest first
	prev    [32]byte          // audit chain head
	fail    error             // injected failure for every apply
	closed  bool
	// silences are the alert silences saved, by ID (silences.go).
	silences map[string]watchdog.Silence

	gate     sync.Mutex // held by Hold: the async writer waits
	queue    chan asyncChange
	inflight int        // queued async changes whose done has not returned
	idle     *sync.Cond // signalled when inflight drops to zero
	stop     chan struct{}
	done     chan struct{}
}

type asyncChange struct {
	c    *intent.Change
	done func(intent.Result, error)
}

var (
	_ intent.GroupStore = (*Store)(nil)
	_ clarity.Journal   = (*Store)(nil)
	_ clarity.Searcher  = (*Store)(nil)
)

// NewStore returns an empty store whose writer goroutine holds up to
// queueLen async changes before ApplyAsync blocks (at least 1).
func NewStore(queueLen int) *Store {
	if queueLen < 1 {
		queueLen = 1
	}
	s := &Store{
		intents: make(map[string]intent.Intent),
		keys:    make(map[string]string),
		queue:   make(chan asyncChange, queueLen),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.idle = sync.NewCond(&s.mu)
	go s.writer()
	return s
}

// Close applies the async changes already queued, then stops the writer.
// Later changes fail with ErrClosed. Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.done
		return nil
	}
	s.closed = true
	for s.inflight > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	return nil
}

// Fail makes every later Apply, ApplyAsync and Record fail with err until
// Fail(nil) is called; nothing is written meanwhile.
func (s *Store) Fail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

// Hold stops the async writer before the next change it takes, as a
// store whose writes are slow would, until Release: ApplyAsync still
// queues, nothing queued is applied or answered meanwhile.
func (s *Store) Hold() { s.gate.Lock() }

// Release lets the async writer go on after Hold.
func (s *Store) Release() { s.gate.Unlock() }

// Flush waits until no async change is outstanding: every one queued before
// it has been applied and its done has returned.
func (s *Store) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.inflight > 0 {
		s.idle.Wait()
	}
}

// Apply applies c in one step and returns once it is "durable".
func (s *Store) Apply(ctx context.Context, c *intent.Change) (intent.Result, error) {
	if err := ctx.Err(); err != nil {
		return intent.Result{}, fmt.Errorf("apply change: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return intent.Result{}, ErrClosed
	}
	return s.applyLocked(c)
}

// ApplyAll applies cs in one step, all or none, as store.Store.ApplyAll
// does: a change that cannot apply (a create whose key is taken among
// them: intent.ErrKeyTaken) undoes the others and fails the group with an
// error naming it (wrapping its cause).
func (s *Store) ApplyAll(ctx context.Context, cs []*intent.Change) ([]intent.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("apply changes: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	intents, order, keys := maps.Clone(s.intents), slices.Clone(s.order), maps.Clone(s.keys)
	entries, prev := slices.Clone(s.entries), s.prev
	out := make([]intent.Result, len(cs))
	for i, c := range cs {
		res, err := s.applyLocked(c)
		if err == nil && res.Existing != nil {
			err = fmt.Errorf("create intent %s: %w (by %s)", c.Create.ID, intent.ErrKeyTaken, res.Existing.ID)
		}
		if err != nil {
			s.intents, s.order, s.keys, s.entries, s.prev = intents, order, keys, entries, prev
			return nil, fmt.Errorf("change %d of %d: %w; nothing in the group was written", i+1, len(cs), err)
		}
		out[i] = res
	}
	return out, nil
}

// ApplyAsync queues c behind every change queued before it and calls done
// from the writer goroutine once it is applied or has failed. It blocks
// while the queue is full. After Close, done is called at once with
// ErrClosed from the caller's goroutine.
func (s *Store) ApplyAsync(c *intent.Change, done func(intent.Result, error)) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		if done != nil {
			done(intent.Result{}, ErrClosed)
		}
		return
	}
	s.inflight++
	s.mu.Unlock()
	s.queue <- asyncChange{c: c, done: done}
}

func (s *Store) writer() {
	defer close(s.done)
	for {
		select {
		case a := <-s.queue:
			s.gate.Lock() // held by Hold
			s.mu.Lock()
			var res intent.Result
			var err error
			if !a.c.Empty() { // an empty change is a barrier: nothing to write
				res, err = s.applyLocked(a.c)
			}
			s.mu.Unlock()
			s.gate.Unlock()
			if a.done != nil {
				a.done(res, err)
			}
			s.mu.Lock()
			if s.inflight--; s.inflight == 0 {
				s.idle.Broadcast()
			}
			s.mu.Unlock()
		case <-s.stop:
			return
		}
	}
}

// Record writes recs in one step.
func (s *Store) Record(ctx context.Context, recs ...clarity.Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.fail != nil {
		return s.fail
	}
	if err := checkRecords(recs); err != nil {
		return err
	}
	s.appendLocked(recs)
	return nil
}

// applyLocked checks the whole change before writing any of it.
func (s *Store) applyLocked(c *intent.Change) (intent.Result, error) {
	if s.fail != nil {
		return intent.Result{}, s.fail
	}
	if c == nil || (c.Create == nil && c.Update == nil && len(c.Records) == 0) {
		return intent.Result{}, errors.New("apply change: empty change")
	}
	if c.Create != nil && c.Update != nil {
		return intent.Result{}, errors.New("apply change: both create and update")
	}
	if err := checkRecords(c.Records); err != nil {
		return intent.Result{}, err
	}
	if in := c.Create; in != nil {
		if in.ID == "" {
			return intent.Result{}, errors.New("apply change: create without an ID")
		}
		if id, ok := s.keys[actorKey(in.Actor, in.IdempotencyKey)]; ok && in.IdempotencyKey != "" {
			orig := clone(s.intents[id])
			return intent.Result{Existing: &orig}, nil
		}
		if _, ok := s.intents[in.ID]; ok {
			return intent.Result{}, fmt.Errorf("apply change: intent %s already exists", in.ID)
		}
		if !in.State.Valid() {
			return intent.Result{}, fmt.Errorf("apply change: intent %s has unknown state %q", in.ID, in.State)
		}
		s.intents[in.ID] = clone(*in)
		s.order = append(s.order, in.ID)
		if in.IdempotencyKey != "" {
			s.keys[actorKey(in.Actor, in.IdempotencyKey)] = in.ID
		}
	}
	if up := c.Update; up != nil {
		cur, ok := s.intents[up.ID]
		if !ok {
			return intent.Result{}, fmt.Errorf("apply change: update %s: %w", up.ID, intent.ErrNotFound)
		}
		if !up.State.Valid() {
			return intent.Result{}, fmt.Errorf("apply change: intent %s has unknown state %q", up.ID, up.State)
		}
		s.intents[up.ID] = mergeMutable(cur, clone(*up))
	}
	s.appendLocked(c.Records)
	return intent.Result{}, nil
}

// mergeMutable copies the fields an Update may write onto cur.
func mergeMutable(cur, up intent.Intent) intent.Intent {
	cur.State = up.State
	cur.Tier = up.Tier
	cur.Decision = up.Decision
	cur.Attempts = up.Attempts
	cur.LastError = up.LastError
	cur.Worker = up.Worker
	cur.UpdatedAt = up.UpdatedAt
	cur.NotBefore = up.NotBefore
	cur.Deadline = up.Deadline
	cur.DecidedBy = up.DecidedBy
	cur.DecisionReason = up.DecisionReason
	cur.Reviewed = up.Reviewed
	return cur
}

func checkRecords(recs []clarity.Record) error {
	for i, r := range recs {
		switch {
		case r.Who == "":
			return fmt.Errorf("record %d (%s): who is required", i, r.What)
		case r.What == "":
			return fmt.Errorf("record %d (by %s): what is required", i, r.Who)
		case r.When.IsZero():
			return fmt.Errorf("record %d (%s): when is required", i, r.What)
		}
	}
	return nil
}

// actorKey scopes an idempotency key to its actor, as the real store does.
func actorKey(actor, key string) string { return actor + "\x1f" + key }
