package engine

import (
	"context"
	"path/filepath"
	"time"

	"grace/engine/clock"
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
	tick := e.clock.NewTicker(rc.Interval)
	e.wg.Go(func() { r.loop(ctx, tick) })
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

// retainer is the retention loop's state, owned by its goroutine.
type retainer struct {
	p     RecordPruner
	clock clock.Clock
	keep  time.Duration
	dir   string
	log   *Engine
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
				r.log.log.Error("retention: prune failed; nothing more was deleted, records are kept until it succeeds",
					"retention.archive_dir", r.dir, "err", err)
			}
			return
		}
		if res.Entries() > 0 || res.Intents > 0 {
			r.log.log.Info("retention: records pruned", "from_seq", res.FromSeq, "to_seq", res.ToSeq,
				"intents", res.Intents, "archive", res.Archive, "record_seq", res.RecordSeq, "more", res.More)
		}
		if !res.More {
			return
		}
	}
}
