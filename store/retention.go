package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// Retention (engine.RecordPruner). The record is append-only and chained,
// so only its oldest part can go, as a prefix of the chain: entries a..b.
// A prune
//
//  1. reads entries a..b (the oldest, recorded before the cutoff, at most
//     pruneRoundMax) in one snapshot, checking that each still chains and
//     matches its narrative and clarity rows (tampering is never pruned
//     away: the prune is refused, naming the entry), and writes them to an
//     archive file when an archive folder is given (archive.go), durably,
//     before anything is deleted;
//  2. deletes the intents in a final state last changed before the cutoff,
//     in chunks of pruneChunk;
//  3. in one writer transaction, appends a records_pruned record to the
//     chain, whose result is "anchor <b> <hash of b>" and whose context
//     names the range, the cutoff, the intents and the archive with its
//     sha256, and moves the chain's anchor (table audit_anchor) to entry
//     b: from then on the chain starts after b, and later entries and
//     signed checkpoints cover the record that names the anchor;
//  4. deletes the entries up to the anchor with their narratives, clarity
//     rows, full-text entries and fully covered narrative_blocks, in
//     transactions of pruneChunk entries, so that group commits flow in
//     between. Entries up to the anchor left by a crash are deleted by the
//     next prune first; verification ignores them meanwhile.
const (
	// pruneRoundMax is the most entries one PruneRecords call prunes (one
	// archive file, one records_pruned record); the engine calls again
	// while PruneResult.More.
	pruneRoundMax = 100_000
	// pruneChunk is the most entries (or intents) one delete transaction
	// removes: about 5 ms of the writer's time (BenchmarkPrune).
	pruneChunk = 1000
)

// Names of the record a prune writes (verification looks for them).
const (
	pruneWho    = "retention"
	pruneWhat   = "records_pruned"
	pruneWhere  = "audit"
	anchorQuery = "SELECT seq, hash, narrative_id FROM audit_anchor WHERE id = 1"
)

// pruneMu runs one prune at a time in the process: the anchor moves in one
// direction only.
var pruneMu sync.Mutex

// anchor is where the chain starts: the last pruned entry (seq 0 and the
// genesis hash when nothing was pruned).
type anchor struct {
	Seq         int64
	Hash        string
	NarrativeID int64
}

// anchorResult is the result of the records_pruned record that names a:
// "anchor <seq> <hash>".
func anchorResult(a anchor) string { return fmt.Sprintf("anchor %d %s", a.Seq, a.Hash) }

// readAnchor reads the chain's anchor.
func readAnchor(ctx context.Context, q querier) (anchor, error) {
	a := anchor{Hash: genesisHash}
	err := q.QueryRowContext(ctx, anchorQuery).Scan(&a.Seq, &a.Hash, &a.NarrativeID)
	if errors.Is(err, sql.ErrNoRows) {
		return anchor{Hash: genesisHash}, nil
	}
	if err != nil {
		return a, fmt.Errorf("read audit anchor: %w", err)
	}
	return a, nil
}

// Anchor returns where the audit chain starts: the seq and hash of the
// last pruned entry, (0, 64 zeros) when nothing was ever pruned.
func (s *Store) Anchor(ctx context.Context) (seq int64, hash string, err error) {
	if err := s.readable(); err != nil {
		return 0, "", err
	}
	a, err := readAnchor(ctx, s.rdb)
	return a.Seq, a.Hash, err
}

var _ engine.RecordPruner = (*Store)(nil)

// PruneRecords prunes the oldest records, recorded before req.Before, and
// the intents in a final state last changed before it (see the steps
// above). Intents pending approval, queued or running are never deleted.
// An archive that cannot be written (an unwritable or full folder) or a
// chain found broken in the range deletes nothing and returns an error
// naming the folder or the entry. It fails with ErrReadOnly on a
// read-only store; when ctx ends it stops between chunks.
func (s *Store) PruneRecords(ctx context.Context, req engine.PruneRequest) (res engine.PruneResult, err error) {
	if err := s.readable(); err != nil {
		return res, err
	}
	if s.w == nil {
		return res, ErrReadOnly
	}
	pruneMu.Lock()
	defer pruneMu.Unlock()
	defer func() {
		if err != nil {
			err = fmt.Errorf("prune records of %s: %w", s.path, err)
		}
	}()
	if err := s.dropBelowAnchor(ctx); err != nil {
		return res, err
	}
	rng, err := s.pruneRange(ctx, req.Before, req.ArchiveDir)
	if err != nil {
		return res, err
	}
	// The final intents to delete are counted and recorded first, then
	// deleted, as entries are below the anchor: a crash between the two
	// leaves them recorded and not yet deleted (the next round deletes
	// them, and records them again), never deleted unrecorded. The set
	// cannot grow meanwhile: an intent changed after the count has
	// updated_at past the cutoff.
	n, err := s.countPrunableIntents(ctx, req.Before)
	if err != nil {
		return res, err
	}
	res = engine.PruneResult{Intents: n, More: rng.more, Archive: rng.archive, ArchiveSHA256: rng.sha256}
	if rng.empty() && n == 0 {
		return res, nil
	}
	if !rng.empty() {
		res.FromSeq, res.ToSeq, res.AnchorHash = rng.from.Seq+1, rng.to.Seq, rng.to.Hash
	}
	if s.pruneHook != nil {
		s.pruneHook()
	}
	if res.RecordSeq, err = s.recordPrune(ctx, rng, req, n); err != nil {
		return res, err
	}
	if _, err := s.pruneIntents(ctx, req.Before); err != nil {
		return res, err
	}
	return res, s.dropBelowAnchor(ctx)
}

// prunableIntents selects the intents in a final state created and last
// changed before ?1.
const prunableIntents = `FROM intents WHERE state IN (` + "%s" + `) AND created_at < ?1 AND ifnull(updated_at, created_at) < ?1`

// countPrunableIntents counts the intents pruneIntents would delete.
func (s *Store) countPrunableIntents(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.rdb.QueryRowContext(ctx, "SELECT count(*) "+fmt.Sprintf(prunableIntents, finalStates()), before.UnixNano()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count final intents: %w", err)
	}
	return n, nil
}

// pruneRange is the range of entries a prune takes: after from, up to to.
type pruneRange struct {
	from, to        anchor // the current anchor and the new one
	before          time.Time
	more            bool   // older entries are left past to
	archive, sha256 string // the archive file's name and digest, if any
}

func (r pruneRange) empty() bool { return r.to.Seq <= r.from.Seq }

// recordPrune writes the records_pruned record and moves the anchor to
// r.to, in one transaction; it returns the record's seq.
func (s *Store) recordPrune(ctx context.Context, r pruneRange, req engine.PruneRequest, intents int64) (int64, error) {
	to := r.to
	if r.empty() {
		to = r.from
	}
	why := []string{req.Why}
	how := "deleted without an archive (retention.archive_dir is empty)"
	if r.archive != "" {
		how = "archived to " + r.archive + " (sha256 " + r.sha256 + "), then deleted"
	}
	ctxMap := map[string]any{"before": r.before.UTC().Format(time.RFC3339Nano), "intents": intents,
		"anchor_seq": to.Seq, "anchor_hash": to.Hash, "anchor_narrative": to.NarrativeID}
	if r.empty() {
		why = append(why, fmt.Sprintf("no audit entry was old enough; %d intents in a final state were", intents))
		how = "intents deleted; the chain is unchanged"
	} else {
		ctxMap["from_seq"], ctxMap["to_seq"], ctxMap["entries"] = r.from.Seq+1, r.to.Seq, r.to.Seq-r.from.Seq
		why = append(why, fmt.Sprintf("audit entries %d to %d and %d intents in a final state were older", r.from.Seq+1, r.to.Seq, intents),
			fmt.Sprintf("the chain now starts after entry %d; this record names its hash, so later entries and signed checkpoints cover the anchor", r.to.Seq))
		if r.archive != "" {
			ctxMap["archive"], ctxMap["archive_sha256"] = r.archive, r.sha256
		}
	}
	rec := clarity.Record{Who: pruneWho, What: pruneWhat, Where: pruneWhere, Why: why, How: how,
		Context: ctxMap, Result: anchorResult(to), Confidence: 1, Risk: 0.1,
		Transparency: clarity.TransparencyComplete}
	req2, err := newRequest(&intent.Change{Records: []clarity.Record{rec}}, s.opts.Clock.Now())
	if err != nil {
		return 0, err
	}
	var seq int64
	err = s.do(ctx, func(w *writer) (err error) {
		seq, err = w.commitPrune(&req2, r.from, to)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("record the prune: %w", err)
	}
	return seq, nil
}

// pruneIntents deletes the intents in a final state created and last
// changed before before, in chunks, and returns how many.
func (s *Store) pruneIntents(ctx context.Context, before time.Time) (int64, error) {
	q := `DELETE FROM intents WHERE rowid IN (SELECT rowid ` + fmt.Sprintf(prunableIntents, finalStates()) + ` LIMIT ?2)`
	var total int64
	for {
		var n int64
		err := s.do(ctx, func(w *writer) (err error) {
			n, err = w.conn.execOnce(q, before.UnixNano(), int64(pruneChunk))
			return err
		})
		if err != nil {
			return total, fmt.Errorf("delete final intents: %w", err)
		}
		total += n
		if n < pruneChunk {
			return total, nil
		}
	}
}

// finalStates lists the terminal states as SQL string literals.
func finalStates() string {
	var b []byte
	for _, st := range intent.States {
		if st.Terminal() {
			if len(b) > 0 {
				b = append(b, ',')
			}
			b = append(b, '\'')
			b = append(b, st...)
			b = append(b, '\'')
		}
	}
	return string(b)
}

// dropBelowAnchor deletes what is left at or below the anchor, a chunk a
// transaction: first from the full-text index, then from the record.
func (s *Store) dropBelowAnchor(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		a, err := readAnchor(ctx, s.rdb)
		if err != nil {
			return err
		}
		var lo sql.NullInt64
		if err := s.rdb.QueryRowContext(ctx, "SELECT min(seq) FROM audit").Scan(&lo); err != nil {
			return fmt.Errorf("read the oldest entry: %w", err)
		}
		if !lo.Valid || lo.Int64 > a.Seq {
			return nil
		}
		b, nb := min(lo.Int64+pruneChunk-1, a.Seq), a.NarrativeID
		if b < a.Seq {
			var id sql.NullInt64
			if err := s.rdb.QueryRowContext(ctx, "SELECT json_extract(entry, '$.narrative_id') FROM audit WHERE seq = ?", b).Scan(&id); err != nil {
				return fmt.Errorf("read entry %d: %w", b, err)
			}
			if id.Valid { // never past the anchor's, whatever the text says
				nb = min(id.Int64, a.NarrativeID)
			}
		}
		if err := s.ix.forget(ctx, nb); err != nil {
			return err
		}
		if err := s.do(ctx, func(w *writer) error { return w.dropChunk(b, nb) }); err != nil {
			return fmt.Errorf("delete entries up to %d: %w", b, err)
		}
	}
}
