package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// chainVerifier walks the audit entries in seq order and, beside them, the
// narratives (with their clarity rows) in id order, as a merge join: the
// writer gives both the same order, so each entry's narrative is the next
// one, and a narrative skipped over has no entry. Both start after the
// anchor (retention.go): entries up to it were pruned, and any still there
// are left over from a prune cut short, not checked.
type chainVerifier struct {
	audit, narr *sql.Rows
	anchor      anchor
	anchorMark  string    // the text of the entry that names the anchor
	named       bool      // an entry names the anchor
	n           verifyRow // the narrative cursor's current row
	nOK         bool      // n holds a row
	scratch     []byte
	want        []byte // the entry the writer would have written

	entries int64  // entries read
	seq     int64  // newest seq read
	hash    string // its hash
	broken  int64  // first broken seq, 0 while none
	problem string
}

// verifyRow is a narrative row with its clarity row, if any.
type verifyRow struct {
	narrative
	hasClarity bool
	auditSeq   int64
}

func newChainVerifier(ctx context.Context, tx *sql.Tx) (*chainVerifier, error) {
	a, err := readAnchor(ctx, tx)
	if err != nil {
		return nil, err
	}
	audit, err := tx.QueryContext(ctx, "SELECT seq, entry, prev_hash, hash FROM audit WHERE seq > ? ORDER BY seq", a.Seq)
	if err != nil {
		return nil, err
	}
	narr, err := tx.QueryContext(ctx, `SELECT n.id, n.ts, n.who, n.what, n."where", n.why, n.how,
		n.context, n.intent_id, n.result, c.narrative_id IS NOT NULL, ifnull(c.audit_seq, 0),
		ifnull(c.confidence, 0), ifnull(c.risk, 0), ifnull(c.transparency, ''), ifnull(c.reasoning, '')
		FROM narratives n LEFT JOIN clarity c ON c.narrative_id = n.id WHERE n.id > ? ORDER BY n.id`, a.NarrativeID)
	if err != nil {
		audit.Close()
		return nil, err
	}
	v := &chainVerifier{audit: audit, narr: narr, anchor: a, seq: a.Seq, hash: a.Hash,
		anchorMark: fmt.Sprintf(`,"actor":%q,"action":%q,"resource":%q,"result":%q,`, pruneWho, pruneWhat, pruneWhere, anchorResult(a))}
	return v, v.advance()
}

func (v *chainVerifier) close() {
	v.audit.Close()
	v.narr.Close()
}

// advance moves the narrative cursor to its next row.
func (v *chainVerifier) advance() error {
	v.nOK = v.narr.Next()
	if !v.nOK {
		return v.narr.Err()
	}
	n := &v.n
	return v.narr.Scan(&n.ID, &n.TS, &n.Who, &n.What, &n.Where, &n.Why, &n.How, &n.Context,
		&n.IntentID, &n.Result, &n.hasClarity, &n.auditSeq, &n.Confidence, &n.Risk,
		&n.Transparency, &n.Reasoning)
}

func (v *chainVerifier) fail(seq int64, format string, args ...any) {
	v.broken, v.problem = seq, fmt.Sprintf(format, args...)
}

// run checks every entry after the anchor, and that one of them is the
// records_pruned record naming the anchor exactly (an anchor written by
// anyone else is refused); after the first problem it only counts the rest.
func (v *chainVerifier) run() error {
	prev := v.anchor.Hash
	for v.audit.Next() {
		var seq int64
		var entry, prevHash, hash string
		if err := v.audit.Scan(&seq, &entry, &prevHash, &hash); err != nil {
			return err
		}
		v.entries++
		v.seq, v.hash = seq, hash
		if v.broken != 0 {
			continue
		}
		want := v.anchor.Seq + v.entries // seqs run 1, 2, 3, … after the anchor
		switch {
		case seq != want && want == v.anchor.Seq+1 && v.anchor.Seq > 0:
			v.fail(want, "audit entry %d is missing: the chain starts after the pruned entry %d but goes on at entry %d", want, v.anchor.Seq, seq)
		case seq != want && want == 1:
			v.fail(want, "audit entries 1 to %d are missing: the chain starts at entry %d and no audit anchor says they were pruned (the anchor or the entries were deleted)", seq-1, seq)
		case seq != want:
			v.fail(want, "audit entry %d is missing: the chain goes from entry %d to entry %d", want, want-1, seq)
		case prevHash != prev && seq == v.anchor.Seq+1 && v.anchor.Seq > 0:
			v.fail(seq, "audit entry %d: its prev_hash is not the hash of the pruned entry %d that the anchor holds", seq, v.anchor.Seq)
		case prevHash != prev:
			v.fail(seq, "audit entry %d: its prev_hash is not the hash of entry %d", seq, seq-1)
		case chainHash(prev, []byte(entry)) != hash:
			v.fail(seq, "audit entry %d: its hash does not match its text (the entry was edited)", seq)
		default:
			if err := v.checkNarrative(seq, entry); err != nil {
				return err
			}
			v.named = v.named || (v.anchor.Seq > 0 && strings.Contains(entry, v.anchorMark))
		}
		prev = hash
	}
	if err := v.audit.Err(); err != nil {
		return err
	}
	if v.broken == 0 && v.anchor.Seq > 0 && !v.named {
		v.fail(v.anchor.Seq, "the chain starts after entry %d (anchor hash %.12s…), but no %s entry in the chain names that anchor: the entries before it were deleted outside retention",
			v.anchor.Seq, v.anchor.Hash, pruneWhat)
	}
	if v.broken == 0 && v.nOK {
		// The first entry wrong is the one that should follow the newest:
		// entry v.seq is intact (the caller looks there, and the console
		// marks it and every later one as suspect).
		v.fail(v.seq+1, "narrative %d has no audit entry: entry %d is missing after the newest entry, %d, or the narrative was added", v.n.ID, v.seq+1, v.seq)
	}
	return nil
}

// checkNarrative checks that entry agrees with its narrative and clarity
// rows. The fast path rebuilds the entry the writer would have written for
// the next narrative and compares the texts; on a difference the slow path
// finds and names it.
func (v *chainVerifier) checkNarrative(seq int64, entry string) error {
	if n := &v.n; v.nOK && n.hasClarity && n.auditSeq == seq {
		var digest string
		digest, v.scratch = n.digest(v.scratch)
		v.want = n.appendEntry(v.want[:0], seq, digest)
		if string(v.want) == entry {
			return v.advance()
		}
	}
	var e auditEntry
	if err := json.Unmarshal([]byte(entry), &e); err != nil {
		v.fail(seq, "audit entry %d: its text is not a valid entry: %v", seq, err)
		return nil
	}
	if e.Seq != seq {
		v.fail(seq, "audit entry %d: its text says it is entry %d", seq, e.Seq)
		return nil
	}
	if v.nOK && v.n.ID < e.NarrativeID {
		v.fail(seq, "narrative %d has no audit entry (found before entry %d)", v.n.ID, seq)
		return nil
	}
	n := &v.n
	if !v.nOK || n.ID != e.NarrativeID {
		v.fail(seq, "audit entry %d: its narrative %d is missing", seq, e.NarrativeID)
		return nil
	}
	ts := time.Unix(0, n.TS).UTC().Format(time.RFC3339Nano)
	for _, f := range [...]struct{ name, row, entry string }{
		{"who", n.Who, e.Actor}, {"what", n.What, e.Action}, {"where", n.Where, e.Resource},
		{"result", n.Result, e.Result}, {"intent_id", n.IntentID, e.IntentID}, {"time", ts, e.TS},
	} {
		if f.row != f.entry {
			v.fail(seq, "audit entry %d: narrative %d's %s is %q but the entry recorded %q", seq, n.ID, f.name, f.row, f.entry)
			return nil
		}
	}
	switch {
	case !n.hasClarity:
		v.fail(seq, "audit entry %d: the clarity row of narrative %d is missing", seq, n.ID)
	case n.auditSeq != seq:
		v.fail(seq, "audit entry %d: the clarity row of narrative %d points at entry %d", seq, n.ID, n.auditSeq)
	default:
		var digest string
		digest, v.scratch = n.digest(v.scratch)
		if digest != e.Digest {
			v.fail(seq, "audit entry %d: narrative %d or its clarity row was changed after it was recorded (digest mismatch)", seq, n.ID)
		} else {
			v.fail(seq, "audit entry %d: its text is not in the canonical form", seq)
		}
	}
	if v.broken != 0 {
		return nil
	}
	return v.advance()
}
