package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"grace/engine/clock"
	"grace/engine/watchdog"
)

// RecordPruner deletes the oldest part of the 5W1H record (retention.records).
// The store implements it; the engine calls it from its retention loop.
type RecordPruner interface {
	// PruneRecords prunes, in bounded steps, the oldest audit entries
	// recorded before req.Before (with their narratives, clarity rows and
	// full-text entries) and the intents in a final state last changed
	// before it, after writing the entries to an archive file in
	// req.ArchiveDir when that is set, and records the prune in the chain.
	// An error means nothing more was deleted (an archive that cannot be
	// written deletes nothing); PruneResult.More says a backlog is left for
	// another call.
	PruneRecords(ctx context.Context, req PruneRequest) (PruneResult, error)
}

// PruneRequest is one round of retention.
type PruneRequest struct {
	// Before is the cutoff: records and final intents older than it go.
	Before time.Time
	// ArchiveDir, when set, is the folder each pruned range of entries is
	// archived to first; empty deletes without archiving.
	ArchiveDir string
	// Why says what rule asked for the prune (the record's first reason).
	Why string
}

// PruneResult says what one PruneRecords call did.
type PruneResult struct {
	// FromSeq and ToSeq are the audit entries pruned (0, 0 when none).
	FromSeq int64 `json:"from_seq"`
	ToSeq   int64 `json:"to_seq"`
	// AnchorHash is entry ToSeq's hash: the chain now starts after it.
	AnchorHash string `json:"anchor_hash,omitempty"`
	// Intents is the number of final intents deleted.
	Intents int64 `json:"intents"`
	// Archive and ArchiveSHA256 name the archive file written ("" when
	// archive_dir is empty or nothing was pruned).
	Archive       string `json:"archive,omitempty"`
	ArchiveSHA256 string `json:"archive_sha256,omitempty"`
	// RecordSeq is the audit entry of the records_pruned record written.
	RecordSeq int64 `json:"record_seq,omitempty"`
	// More is true when records older than the cutoff are left for the
	// next call (one call prunes a bounded range).
	More bool `json:"more"`
}

// Entries is how many audit entries the call pruned.
func (r PruneResult) Entries() int64 {
	if r.ToSeq == 0 {
		return 0
	}
	return r.ToSeq - r.FromSeq + 1
}

// startRetention starts the retention loop when retention.records is set
// and the store can prune; it stops when ctx is cancelled.
func (e *Engine) startRetention(ctx context.Context) {
	rc := e.cfg.Retention
	if rc.Records <= 0 {
		return
	}
	p, ok := e.store.(RecordPruner)
	if !ok {
		e.log.Warn("retention.records is set but the store cannot prune: records are kept", "retention.records", rc.Records)
		return
	}
	dir := e.retentionArchiveDir()
	if dir == "" {
		e.log.Warn("retention: records older than retention.records are deleted WITHOUT an archive (retention.archive_dir is empty)",
			"retention.records", rc.Records, "retention.interval", rc.Interval)
	} else {
		e.log.Info("retention: records older than retention.records are archived, then deleted",
			"retention.records", rc.Records, "retention.interval", rc.Interval, "retention.archive_dir", dir)
	}
	r := &retainer{p: p, clock: e.clock, keep: rc.Records, dir: dir, log: e}
	e.retainer = r
	tick := e.clock.NewTicker(rc.Interval)
	e.wg.Go(func() { r.loop(ctx, tick) })
}

// checkRetentionArchive makes retention.archive_dir (0700) when retention
// is on and it is missing, and refuses one that is a file or cannot be
// made: found at start, not at the first prune an hour later.
func (e *Engine) checkRetentionArchive() error {
	dir := e.retentionArchiveDir()
	if e.cfg.Retention.Records <= 0 || dir == "" {
		return nil
	}
	info, err := os.Stat(dir)
	switch {
	case err == nil && !info.IsDir():
		return fmt.Errorf("retention.archive_dir (%s) is a file: name a folder for the archives", dir)
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("retention.archive_dir (%s): %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("retention.archive_dir (%s) cannot be made: %w", dir, err)
	}
	return nil
}

// retentionArchiveDir is retention.archive_dir, a relative one taken in
// the data folder; "" when unset.
func (e *Engine) retentionArchiveDir() string {
	dir := e.cfg.Retention.ArchiveDir
	if dir == "" || filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(filepath.Dir(e.cfg.DB), dir)
}

// retainer is the retention loop's state, owned by its goroutine but for
// standing, which the watchdog reads.
type retainer struct {
	p     RecordPruner
	clock clock.Clock
	keep  time.Duration
	dir   string
	log   *Engine

	standing retentionStanding
}

// retentionStanding is how pruning stands, for the watchdog's retention
// component: written by the retention loop, read by the watchdog.
type retentionStanding struct {
	mu          sync.Mutex
	failedRow   int       // rounds failed in a row
	lastErr     string    // why the newest failure failed
	lastFail    time.Time // when
	lastOK      time.Time // when a round last ended with no backlog
	anchorSeq   int64     // the chain starts after this entry (0: nothing pruned by this engine)
	entries     int64     // entries pruned by this engine
	intents     int64     // intents deleted by this engine
	lastArchive string    // the newest archive file written
}

// retentionFailingCritical is how many rounds in a row must fail before the
// retention component is critical: the record then grows past
// retention.records and the disk with it.
const retentionFailingCritical = 3

// ComponentRetention is the retention loop's name among the watchdog's
// components (only when retention.records is set).
const ComponentRetention = "retention"

// component is the retention loop as the watchdog watches it: one finding
// (condition "prune"), ok while rounds succeed, warn once one failed,
// critical after retentionFailingCritical in a row, ok again when one
// succeeds. A prune that fails (an archive folder that is full or gone)
// keeps every record, so the disk grows: the operator must hear of it in
// the console, grace health and the webhooks, not only in the log.
func (r *retainer) component() watchdog.Component {
	return watchdog.Component{Name: ComponentRetention, Check: func(time.Time) watchdog.Result {
		s := &r.standing
		s.mu.Lock()
		failedRow, lastErr, lastFail, lastOK := s.failedRow, s.lastErr, s.lastFail, s.lastOK
		anchor, entries, intents, archive := s.anchorSeq, s.entries, s.intents, s.lastArchive
		s.mu.Unlock()
		f := watchdog.Finding{Condition: "prune", Status: watchdog.OK}
		switch {
		case failedRow >= retentionFailingCritical:
			f.Status = watchdog.Critical
			f.Reason = fmt.Sprintf("the last %d prunes failed, so records older than retention.records (%s) are kept and the disk keeps growing; the newest at %s: %s",
				failedRow, r.keep, lastFail.UTC().Format(time.RFC3339), lastErr)
		case failedRow > 0:
			f.Status = watchdog.Warn
			f.Reason = fmt.Sprintf("a prune failed at %s (records are kept until one succeeds): %s", lastFail.UTC().Format(time.RFC3339), lastErr)
		case lastOK.IsZero():
			f.Reason = fmt.Sprintf("records older than %s are pruned every %s; the first prune is under way", r.keep, r.log.cfg.Retention.Interval)
		case entries == 0:
			f.Reason = fmt.Sprintf("records older than %s are pruned; none were old enough yet (last check %s)", r.keep, lastOK.UTC().Format(time.RFC3339))
		default:
			f.Reason = fmt.Sprintf("records older than %s are pruned: %d entries and %d intents so far, the chain now starts after entry %d (last check %s)",
				r.keep, entries, intents, anchor, lastOK.UTC().Format(time.RFC3339))
			if archive != "" {
				f.Reason += "; newest archive " + archive
			}
		}
		return watchdog.Result{Ready: true, Findings: []watchdog.Finding{f}, Metrics: map[string]float64{
			"retention_failed_in_a_row": float64(failedRow),
			"retention_pruned_entries":  float64(entries),
			"retention_anchor_seq":      float64(anchor),
		}}
	}}
}

func (s *retentionStanding) failed(err error, at time.Time) {
	s.mu.Lock()
	s.failedRow++
	s.lastErr, s.lastFail = err.Error(), at
	s.mu.Unlock()
}

func (s *retentionStanding) pruned(res PruneResult, at time.Time) {
	s.mu.Lock()
	s.failedRow = 0
	if res.ToSeq > 0 {
		s.anchorSeq = res.ToSeq
	}
	s.entries += res.Entries()
	s.intents += res.Intents
	if res.Archive != "" {
		s.lastArchive = res.Archive
	}
	if !res.More {
		s.lastOK = at
	}
	s.mu.Unlock()
}

// loop prunes at once and then on every tick, until ctx ends.
func (r *retainer) loop(ctx context.Context, tick clock.Ticker) {
	defer tick.Stop()
	for {
		r.round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C():
		}
	}
}

// round prunes until no backlog is left, ctx ends or a call fails.
func (r *retainer) round(ctx context.Context) {
	for ctx.Err() == nil {
		before := r.clock.Now().Add(-r.keep)
		res, err := r.p.PruneRecords(ctx, PruneRequest{Before: before, ArchiveDir: r.dir,
			Why: "retention.records is " + r.keep.String() + ": records before " + before.UTC().Format(time.RFC3339) + " are pruned"})
		if err != nil {
			if ctx.Err() == nil {
				r.standing.failed(err, r.clock.Now())
				r.log.log.Error("retention: prune failed; nothing more was deleted, records are kept until it succeeds",
					"retention.archive_dir", r.dir, "err", err)
			}
			return
		}
		r.standing.pruned(res, r.clock.Now())
		if res.Entries() > 0 || res.Intents > 0 {
			r.log.log.Info("retention: records pruned", "from_seq", res.FromSeq, "to_seq", res.ToSeq,
				"intents", res.Intents, "archive", res.Archive, "record_seq", res.RecordSeq, "more", res.More)
		}
		if !res.More {
			return
		}
	}
}
