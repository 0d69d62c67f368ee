package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
)

// VerifyReport is the outcome of VerifyAudit.
type VerifyReport struct {
	// OK is true when the chain, every entry's narrative and clarity rows,
	// and every checkpoint agree.
	OK bool `json:"ok"`
	// Entries is the number of audit entries checked.
	Entries int64 `json:"entries"`
	// HeadSeq and HeadHash are the newest entry's position and hash.
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	// Checkpoints is the number of signed checkpoints checked.
	Checkpoints int `json:"checkpoints"`
	// FirstBroken is the seq of the first entry found wrong (0 when OK).
	FirstBroken int64 `json:"first_broken,omitempty"`
	// Problem says in one sentence which entry (or checkpoint) is wrong and
	// how; empty when OK.
	Problem string `json:"problem,omitempty"`
}

// VerifyAudit checks the audit chain from its first entry: that seqs run
// without a gap, that each entry's prev_hash is the previous hash and its
// hash is sha256(prev_hash || entry), that each entry's fields and digest
// match its narrative and clarity rows (so an edited narrative is caught),
// that no narrative lacks an entry, and that every signed checkpoint in the
// data folder carries a valid signature and names an entry the chain still
// holds with the same hash (so deleting the newest entries is caught). A
// failed check is reported in the VerifyReport, naming the first broken
// entry; the error is for failing to read at all. It reads one snapshot and
// may run while the store writes.
func (s *Store) VerifyAudit(ctx context.Context) (VerifyReport, error) {
	if err := s.readable(); err != nil {
		return VerifyReport{}, err
	}
	rep, err := s.verify(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify audit chain of %s: %w", s.path, err)
	}
	return rep, nil
}

func (s *Store) verify(ctx context.Context) (VerifyReport, error) {
	var rep VerifyReport
	// Checkpoints first: any written before the snapshot refer to entries
	// the snapshot holds.
	cps, cpErr := readCheckpoints(s.dir)
	pub, havePub, keyErr := loadPublicKey(s.dir)
	tx, err := s.rdb.BeginTx(ctx, nil)
	if err != nil {
		return rep, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	cv, err := newChainVerifier(ctx, tx)
	if err != nil {
		return rep, err
	}
	defer cv.close()
	if err := cv.run(); err != nil {
		return rep, err
	}
	rep.Entries, rep.HeadSeq, rep.HeadHash = cv.entries, cv.seq, cv.hash
	if cv.broken != 0 {
		rep.FirstBroken, rep.Problem = cv.broken, cv.problem
		return rep, nil
	}
	switch {
	case cpErr != nil:
		rep.Problem = cpErr.Error()
	case len(cps) > 0 && keyErr != nil:
		rep.Problem = keyErr.Error()
	case len(cps) > 0 && !havePub:
		rep.Problem = fmt.Sprintf("the data folder holds %d checkpoints but no %s or %s to check them with", len(cps), pubFile, keyFile)
	default:
		rep.Checkpoints = len(cps)
		rep.FirstBroken, rep.Problem, err = checkCheckpoints(ctx, tx, cps, pub, cv.seq, cv.anchor)
		if err != nil {
			return rep, err
		}
	}
	rep.OK = rep.Problem == ""
	return rep, nil
}

// checkCheckpoints checks each checkpoint's signature and that the chain
// still holds its entry with its hash; head is the chain's newest seq.
// A checkpoint of a pruned entry (at or below the anchor) has its
// signature checked but no entry to match, but the anchor's own hash.
func checkCheckpoints(ctx context.Context, tx *sql.Tx, cps []checkpoint, pub ed25519.PublicKey, head int64, a anchor) (int64, string, error) {
	stmt, err := tx.PrepareContext(ctx, "SELECT hash FROM audit WHERE seq = ?")
	if err != nil {
		return 0, "", err
	}
	defer stmt.Close()
	for _, cp := range cps {
		if !ed25519.Verify(pub, []byte(cp.Msg), cp.Sig) {
			return cp.Seq, fmt.Sprintf("checkpoint on line %d of %s (entry %d) has an invalid signature", cp.Line, checkpointFile, cp.Seq), nil
		}
		if cp.Seq == a.Seq && cp.Hash != a.Hash {
			return cp.Seq, fmt.Sprintf("the audit anchor (pruned entry %d) has hash %.12s… but checkpoint on line %d of %s signed %.12s…: the anchor was rewritten",
				cp.Seq, a.Hash, cp.Line, checkpointFile, cp.Hash), nil
		}
		if cp.Seq <= a.Seq {
			continue
		}
		if cp.Seq > head {
			return head + 1, fmt.Sprintf("audit entries %d to %d are missing: checkpoint on line %d of %s signed entry %d, but the chain ends at entry %d",
				head+1, cp.Seq, cp.Line, checkpointFile, cp.Seq, head), nil
		}
		var hash string
		switch err := stmt.QueryRowContext(ctx, cp.Seq).Scan(&hash); {
		case err == sql.ErrNoRows:
			return cp.Seq, fmt.Sprintf("audit entry %d is missing but checkpoint on line %d of %s signed it", cp.Seq, cp.Line, checkpointFile), nil
		case err != nil:
			return 0, "", err
		}
		if hash != cp.Hash {
			return cp.Seq, fmt.Sprintf("audit entry %d has hash %.12s… but checkpoint on line %d of %s signed %.12s…: the chain was rewritten",
				cp.Seq, hash, cp.Line, checkpointFile, cp.Hash), nil
		}
	}
	return 0, "", nil
}
