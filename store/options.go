package store

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"grace/engine/clock"
)

// Options tunes a Store. The zero value is valid: every zero field takes the
// default named in its comment.
type Options struct {
	// Synchronous is SQLite's synchronous setting for the writer: "FULL"
	// (the default; a change is acknowledged only once it is on disk) or
	// "NORMAL" (a power loss, not a process crash, may drop the last
	// commits, never corrupt; the signed checkpoint may then name an entry
	// that was lost, which VerifyAudit reports).
	Synchronous string
	// BatchMax is the most changes one group commit holds (default 1024,
	// at most 65536). The writer's queue holds four batches.
	BatchMax int
	// BatchWait is the longest the writer holds a batch open for changes
	// still on their way (default 200µs): it waits only while fewer are
	// queued than its previous batch held, so a lone submitter is never
	// delayed. It is measured on the real clock. Longer waits make fewer,
	// larger commits but leave the writer idle meanwhile: on a 2-core
	// machine 2ms gave 18% fewer submissions a second than 200µs and a
	// median submit latency 1.5 times as long (grace bench --only http).
	BatchWait time.Duration
	// UpdateWait is the longest a batch of changes nobody waits on (the
	// workers' dispatch and completion updates, ApplyAsync) waits for
	// company before its commit; 0, the default, commits it at once. At a
	// low rate the updates then share commits with each other and the next
	// submission, rather than each writing its touched pages and syncing
	// alone: 5ms used about 15% less CPU at 200 intents a second on a
	// 2-core machine. A change a caller waits on (Apply) is never held:
	// it ends the wait. Measured on the real clock.
	UpdateWait time.Duration
	// IndexInterval is how often the full-text index catches up with the
	// records committed since it last looked (default 200ms). The index has
	// its own file and connection, so catching up never holds the writer.
	// Search finds records newer than the index by a plain scan, so this
	// bounds cost, not visibility.
	IndexInterval time.Duration
	// CheckpointInterval is how often the audit chain's head is signed into
	// the checkpoint file when it has moved (default 5s). Close always
	// writes a final checkpoint.
	CheckpointInterval time.Duration
	// ReadOnly opens the database for reading only (for CLI readers): no
	// writer, no migrations, no checkpoints; Apply fails with ErrReadOnly.
	// The database must exist and be Grace's at the current schema.
	ReadOnly bool
	// Holder says what this process is, for the lock a read-write open
	// takes (see ErrInUse): "grace serve, API http://127.0.0.1:7420". A
	// process refused the lock is told it.
	Holder string
	// Brief is true for an open that holds the database for a moment (a
	// CLI write): another process wanting it waits up to LockWait for it,
	// rather than being refused at once as it is by a running engine.
	Brief bool
	// LockWait is how long a read-write open waits for a brief holder
	// (default 5s).
	LockWait time.Duration
	// Logger receives warnings from the background work (default: discard).
	Logger *slog.Logger
	// Clock drives the index and checkpoint schedules (default clock.Real).
	Clock clock.Clock
}

const maxBatch = 1 << 16

// withDefaults fills zero fields and rejects values the store cannot use.
func (o Options) withDefaults() (Options, error) {
	switch s := strings.ToUpper(strings.TrimSpace(o.Synchronous)); s {
	case "":
		o.Synchronous = "FULL"
	case "FULL", "NORMAL":
		o.Synchronous = s
	default:
		return o, fmt.Errorf("synchronous %q: want FULL or NORMAL", o.Synchronous)
	}
	if o.BatchMax < 0 || o.BatchWait < 0 || o.UpdateWait < 0 || o.IndexInterval < 0 || o.CheckpointInterval < 0 {
		return o, fmt.Errorf("batch and interval settings must not be negative")
	}
	if o.BatchMax > maxBatch {
		return o, fmt.Errorf("batch max %d is more than %d", o.BatchMax, maxBatch)
	}
	if o.BatchMax == 0 {
		o.BatchMax = 1024
	}
	if o.LockWait <= 0 {
		o.LockWait = 5 * time.Second
	}
	if o.BatchWait == 0 {
		o.BatchWait = 200 * time.Microsecond
	}
	if o.IndexInterval == 0 {
		o.IndexInterval = 200 * time.Millisecond
	}
	if o.CheckpointInterval == 0 {
		o.CheckpointInterval = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	return o, nil
}
