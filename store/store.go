package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// Store is Grace's SQLite database: intents, the 5W1H record with its
// audit chain, and the full-text index. It implements intent.Store,
// clarity.Journal and clarity.Searcher, and is safe for concurrent use.
type Store struct {
	path string
	dir  string
	opts Options
	wdb  *sql.DB  // the writer's pool of one; nil when read-only
	rdb  *sql.DB  // readers
	w    *writer  // nil when read-only
	ix   *indexer // nil when read-only

	lastID atomic.Int64 // newest committed narrative id
	hwm    atomic.Int64 // newest indexed narrative id
	// committed is when the writer last committed (Unix ns, real clock):
	// the indexer rests while intake is busy.
	committed atomic.Int64
	counters

	mu       sync.RWMutex // guards closed against sends to the writer
	closed   bool
	cancel   context.CancelFunc
	stopped  chan struct{} // closed when the writer goroutine has returned
	closeErr error
	once     sync.Once
	// unlock releases the lock a read-write open takes (lock.go).
	unlock func() error
	// backupHook, set by tests, runs after each step of Backup.
	backupHook func(step string)
	// pruneHook, set by tests, runs in PruneRecords just before its
	// records_pruned record is written.
	pruneHook func()
}

var (
	_ intent.Store     = (*Store)(nil)
	_ clarity.Journal  = (*Store)(nil)
	_ clarity.Searcher = (*Store)(nil)
)

// Path returns the database file's path as given to Open.
func (s *Store) Path() string { return s.path }

// DataDir returns the data folder: the database's directory, which also
// holds the audit key and checkpoints.
func (s *Store) DataDir() string { return s.dir }

// Close commits every change already queued, signs a final audit
// checkpoint, stops the writer and closes the database. Calls after the
// first return the first call's result. Changes submitted after Close
// begins fail with ErrClosed.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		if s.cancel != nil {
			s.cancel()
			<-s.stopped
		}
		// Readers first, then the indexer's connection and the writer's:
		// the last read-write connection to each file checkpoints its WAL
		// into the database file and removes it.
		errs := []error{s.rdb.Close()}
		if s.ix != nil {
			errs = append(errs, s.ix.stop())
		}
		if s.wdb != nil {
			errs = append(errs, s.wdb.Close())
		}
		if s.unlock != nil { // last: the files are closed
			errs = append(errs, s.unlock())
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("close store %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// Apply writes c in the writer's next group commit and returns once it is
// durable (or has failed). A change whose Create has a taken idempotency
// key writes nothing and returns the intent holding the key in
// Result.Existing; an Update of an unknown ID fails with intent.ErrNotFound;
// an invalid record fails with ErrInvalidRecord. Each of these fails c only.
// If the batch's transaction fails, every change in it gets that error and
// none is written. If ctx ends first, Apply returns ctx's error, and c may
// still be written. The records and the intent's row are encoded before
// Apply queues c (a zero CreatedAt is filled from the clock then); c itself
// is still read when the batch is written, so c must not change until
// Apply returns.
func (s *Store) Apply(ctx context.Context, c *intent.Change) (intent.Result, error) {
	if err := ctx.Err(); err != nil {
		return intent.Result{}, err
	}
	req, err := newRequest(c, s.opts.Clock.Now())
	if err != nil {
		return intent.Result{}, err
	}
	return s.applyRequest(ctx, req)
}

// applyRequest queues req for the writer's next group commit and waits
// for its outcome, as Apply does.
func (s *Store) applyRequest(ctx context.Context, req request) (intent.Result, error) {
	reply := replies.Get().(chan outcome)
	req.reply = reply
	if err := s.enqueue(ctx, req); err != nil {
		replies.Put(reply)
		return intent.Result{}, err
	}
	select {
	case o := <-reply:
		replies.Put(reply)
		return o.res, o.err
	case <-ctx.Done():
		return intent.Result{}, ctx.Err()
	}
}

var replies = sync.Pool{New: func() any { return make(chan outcome, 1) }}

var _ intent.GroupStore = (*Store)(nil)

// ApplyAll writes cs in one transaction, all or none, and returns once
// they are durable: one result per change, in order. A change that cannot
// apply (an unknown ID, an invalid record, a constraint, a create whose
// idempotency key is taken: intent.ErrKeyTaken) fails the whole group
// with a *GroupError naming it, and nothing of the group is written. A
// change that can never apply is refused before anything is queued, with
// the same *GroupError.
func (s *Store) ApplyAll(ctx context.Context, cs []*intent.Change) ([]intent.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, nil
	}
	now := s.opts.Clock.Now()
	group := make([]request, len(cs))
	for i, c := range cs {
		req, err := newRequest(c, now)
		if err != nil {
			return nil, &GroupError{Index: i, Size: len(cs), Err: err}
		}
		group[i] = req
	}
	reply := replies.Get().(chan outcome)
	req := request{change: &intent.Change{}, group: group, groupOut: make([]outcome, len(cs)), reply: reply}
	if err := s.enqueue(ctx, req); err != nil {
		replies.Put(reply)
		return nil, err
	}
	select {
	case o := <-reply:
		replies.Put(reply)
		if o.err != nil {
			return nil, o.err
		}
		res := make([]intent.Result, len(cs))
		for i, g := range req.groupOut {
			res[i] = g.res
		}
		return res, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ApplyAsync queues c behind every change queued before it (Apply's may
// go ahead of it: see the package documentation) and calls done
// from the writer's goroutine once c is durable or has failed, with what
// Apply would return. done must not block nor call the store's write
// methods (the writer would wait on itself), and c must not change until
// done is called. ApplyAsync blocks while the writer's queue is full. When
// c can never apply (an invalid record or change) or the store is closed
// or read-only, it calls done at once, from the caller's goroutine, with
// the error.
func (s *Store) ApplyAsync(c *intent.Change, done func(intent.Result, error)) {
	req, err := newRequest(c, s.opts.Clock.Now())
	if err == nil {
		req.done = done
		err = s.enqueue(context.Background(), req)
	}
	if err != nil {
		done(intent.Result{}, err)
	}
}

// enqueue hands r to the writer, waiting for room until ctx ends.
func (s *Store) enqueue(ctx context.Context, r request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.w == nil:
		return ErrReadOnly
	}
	q := s.w.queue
	if r.reply == nil {
		q = s.w.async
	}
	select {
	case q <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// do runs f on the writer goroutine between batches and returns its error.
func (s *Store) do(ctx context.Context, f func(w *writer) error) error {
	errc := make(chan error, 1)
	call := func() { errc <- f(s.w) }
	s.mu.RLock()
	switch {
	case s.closed:
		s.mu.RUnlock()
		return ErrClosed
	case s.w == nil:
		s.mu.RUnlock()
		return ErrReadOnly
	}
	select {
	case s.w.ctl <- call:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readTimeout bounds the quick reads made without a caller's context.
const readTimeout = 5 * time.Second
