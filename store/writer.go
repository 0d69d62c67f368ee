package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"log/slog"
	"sync/atomic"
	"time"

	"grace/engine/clock"
	"grace/engine/intent"
)

// request is one change waiting for the writer. Exactly one of done and
// reply is set.
type request struct {
	change *intent.Change
	recs   []prepared
	// row is the change's intent row, encoded by the submitter: the column
	// values of the Create (with a zero CreatedAt filled in) or Update.
	row   intentRow
	done  func(intent.Result, error)
	reply chan outcome
	// group, when set, is an all-or-nothing group of changes (ApplyAll),
	// each prepared as a request; groupOut gets each one's outcome before
	// reply is sent, and the reply's err says why none was written.
	group    []request
	groupOut []outcome
	// side, when set, writes one row beside the change, in its
	// transaction, before its records (SaveSilence); its error fails the
	// change alone, and its records are not written.
	side func(*wconn) error
}

// newRequest checks and encodes c for the writer, in the caller's
// goroutine, so that the one writer goroutine only numbers, chains and
// inserts; now stands in for a zero record When or intent CreatedAt. An
// error means c can never apply.
func newRequest(c *intent.Change, now time.Time) (request, error) {
	recs, err := prepareChange(c, now)
	if err != nil {
		return request{}, err
	}
	row, err := encodeIntentRow(c, now)
	if err != nil {
		return request{}, err
	}
	return request{change: c, recs: recs, row: row}, nil
}

// writer owns the one write connection. Its goroutine is the only one that
// touches the fields below the line; others reach it through queue and
// async (changes)
// and ctl (anything else, run between batches).
type writer struct {
	path       string
	batchMax   int
	batchWait  time.Duration
	updateWait time.Duration   // how long a batch nobody waits on waits for company (0: not at all)
	stop       <-chan struct{} // closed when the writer is to stop (the loop's ctx)
	onGather   func()          // tests: called as a batch starts waiting for company
	cpIvl      time.Duration
	clock      clock.Clock
	log        *slog.Logger
	queue      chan request // changes a caller waits on (Apply)
	async      chan request // changes nobody waits on (ApplyAsync)
	ctl        chan func()
	lastID     *atomic.Int64 // newest committed narrative id
	committed  *atomic.Int64 // when the last batch committed (Unix ns, real clock)
	stats      *counters
	cp         *checkpointer

	// ---- owned by the writer goroutine ----
	conn              *wconn
	st                *statements
	narr, clar, audit *bulk
	bulks             []*bulk
	keys              map[string]intent.Intent // idempotency keys created in this batch
	head, next        cursor
	entry             []byte // the entry being built
	blocks            []span // time spans of the id blocks this batch wrote
	batch             []request
	out               []outcome
	lastBatch         int         // size of the previous batch
	linger            *time.Timer // bounds collect's wait
	cpTicks           int         // checkpoint ticks handled, for tests
}

// start runs the writer goroutine on a connection of db and returns once
// it is ready or has failed to start. done is closed when it has stopped.
func (w *writer) start(ctx context.Context, db *sql.DB, done chan<- struct{}) error {
	ready := make(chan error, 1)
	go func() {
		defer close(done)
		err := w.run(ctx, db, ready)
		select {
		case ready <- err: // failed before f ran, or after; harmless if unread
		default:
		}
	}()
	return <-ready
}

func (w *writer) run(ctx context.Context, db *sql.DB, ready chan<- error) error {
	conn, err := db.Conn(bg)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		w.conn = &wconn{c: dc.(driver.Conn)}
		defer w.conn.close()
		if err := w.init(); err != nil {
			return err
		}
		ready <- nil
		w.loop(ctx)
		return nil
	})
}

func (w *writer) init() (err error) {
	if w.st, err = prepareStatements(w.conn); err != nil {
		return err
	}
	if w.narr, err = newBulk(w.conn, "narratives", "id", "ts", "who", "what", `"where"`, "why", "how", "context", "intent_id", "result"); err != nil {
		return err
	}
	if w.clar, err = newBulk(w.conn, "clarity", "narrative_id", "audit_seq", "confidence", "risk", "transparency", "reasoning"); err != nil {
		return err
	}
	if w.audit, err = newBulk(w.conn, "audit", "seq", "entry", "prev_hash", "hash"); err != nil {
		return err
	}
	w.bulks = []*bulk{w.narr, w.clar, w.audit}
	w.keys = make(map[string]intent.Intent)
	w.out = make([]outcome, w.batchMax)
	if err := w.readHead(); err != nil {
		return err
	}
	w.head = w.next
	w.lastID.Store(w.head.id)
	return nil
}
