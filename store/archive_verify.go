package store

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// ArchiveReport is the outcome of VerifyArchives.
type ArchiveReport struct {
	// OK is true when every file is whole and they chain together and
	// into the database's anchor.
	OK bool `json:"ok"`
	// Files and Entries count what was read.
	Files   int   `json:"files"`
	Entries int64 `json:"entries"`
	// FromSeq and ToSeq are the first and last archived entries.
	FromSeq int64 `json:"from_seq"`
	ToSeq   int64 `json:"to_seq"`
	// AnchorSeq is the database's anchor: where its chain starts.
	AnchorSeq int64 `json:"anchor_seq"`
	// File, Seq and Problem name what is wrong (empty when OK); Seq is 0
	// when the problem is not one entry's.
	File    string `json:"file,omitempty"`
	Seq     int64  `json:"seq,omitempty"`
	Problem string `json:"problem,omitempty"`
}

// archiveSummary is what VerifyArchives keeps of one file.
type archiveSummary struct {
	path            string
	first, last     archiveLine // only Seq, PrevHash and Hash are kept
	sha256          string
	named           map[string]string // archive names → sha256 its records_pruned lines give
	problem         string
	problemSeq, num int64
}

// VerifyArchives checks archive files written by PruneRecords: that each
// line's hash is sha256(prev_hash || entry) and its entry matches its
// narrative and clarity rows (digest), that the entries run on without a
// gap within and across the files (taken in seq order), that the last
// archived entry is the database's anchor (or an entry it still holds)
// with the same hash, and that a file named by a records_pruned record (in
// the database or in an archive) has the sha256 the record gave. A failed
// check is reported in the ArchiveReport, naming the file and the entry;
// the error is for failing to read the database.
func (s *Store) VerifyArchives(ctx context.Context, paths []string) (ArchiveReport, error) {
	var rep ArchiveReport
	if err := s.readable(); err != nil {
		return rep, err
	}
	a, err := readAnchor(ctx, s.rdb)
	if err != nil {
		return rep, fmt.Errorf("verify archives: %w", err)
	}
	rep.AnchorSeq = a.Seq
	named := map[string]string{}
	sums := make([]archiveSummary, 0, len(paths))
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		sum := readArchive(p)
		rep.Files++
		rep.Entries += sum.num
		if sum.problem != "" {
			rep.File, rep.Seq, rep.Problem = p, sum.problemSeq, sum.problem
			return rep, nil
		}
		for k, v := range sum.named {
			named[k] = v
		}
		sums = append(sums, sum)
	}
	if err := namedInDB(ctx, s.rdb, named); err != nil {
		return rep, fmt.Errorf("verify archives: %w", err)
	}
	sort.Slice(sums, func(i, j int) bool { return sums[i].first.Seq < sums[j].first.Seq })
	fail := func(sm archiveSummary, seq int64, format string, args ...any) (ArchiveReport, error) {
		rep.File, rep.Seq, rep.Problem = sm.path, seq, fmt.Sprintf(format, args...)
		return rep, nil
	}
	for i, sm := range sums {
		if want, ok := named[filepath.Base(sm.path)]; ok && want != sm.sha256 {
			return fail(sm, 0, "the file's sha256 is %.12s… but the records_pruned record that wrote it gave %.12s…", sm.sha256, want)
		}
		if i == 0 {
			continue
		}
		prev := sums[i-1]
		switch {
		case sm.first.Seq <= prev.last.Seq:
			return fail(sm, sm.first.Seq, "entries %d to %d are also in %s", sm.first.Seq, min(sm.last.Seq, prev.last.Seq), prev.path)
		case sm.first.Seq != prev.last.Seq+1:
			return fail(sm, prev.last.Seq+1, "entries %d to %d are in none of the files (the archive after %s is missing)", prev.last.Seq+1, sm.first.Seq-1, prev.path)
		case sm.first.PrevHash != prev.last.Hash:
			return fail(sm, sm.first.Seq, "entry %d: its prev_hash is not the hash of entry %d in %s", sm.first.Seq, prev.last.Seq, prev.path)
		}
	}
	if len(sums) == 0 {
		rep.OK = true
		return rep, nil
	}
	rep.FromSeq, rep.ToSeq = sums[0].first.Seq, sums[len(sums)-1].last.Seq
	last := sums[len(sums)-1]
	switch {
	case last.last.Seq == a.Seq && last.last.Hash != a.Hash:
		return fail(last, a.Seq, "entry %d: its hash is not the database's anchor (%.12s…)", a.Seq, a.Hash)
	case last.last.Seq < a.Seq:
		return fail(last, last.last.Seq+1, "the archives end at entry %d but the database's chain starts after entry %d: the archives of entries %d to %d are not among the files",
			last.last.Seq, a.Seq, last.last.Seq+1, a.Seq)
	case last.last.Seq > a.Seq:
		var h string
		err := s.rdb.QueryRowContext(ctx, "SELECT hash FROM audit WHERE seq = ?", last.last.Seq).Scan(&h)
		if errors.Is(err, sql.ErrNoRows) {
			return fail(last, last.last.Seq, "entry %d is neither the database's anchor (entry %d) nor in its chain", last.last.Seq, a.Seq)
		} else if err != nil {
			return rep, fmt.Errorf("verify archives: %w", err)
		}
		if h != last.last.Hash {
			return fail(last, last.last.Seq, "entry %d: its hash differs from the database's entry %d", last.last.Seq, last.last.Seq)
		}
	}
	rep.OK = true
	return rep, nil
}

// readArchive reads and checks one archive file.
func readArchive(path string) (sm archiveSummary) {
	sm.path = path
	f, err := os.Open(path)
	if err != nil {
		sm.problem = err.Error()
		return sm
	}
	defer f.Close()
	h := sha256.New()
	tee := io.TeeReader(f, h)
	gz, err := gzip.NewReader(tee)
	if err != nil {
		sm.problem = "not a gzip file: " + err.Error()
		return sm
	}
	r := bufio.NewReader(gz)
	var l archiveLine
	var scratch []byte
	for line := 1; ; line++ {
		raw, err := r.ReadBytes('\n')
		if len(raw) == 0 && err == io.EOF {
			break
		}
		if err != nil {
			sm.problem, sm.problemSeq = fmt.Sprintf("line %d: %v (the file is cut short or damaged)", line, err), sm.last.Seq+1
			return sm
		}
		l = archiveLine{}
		if err := json.Unmarshal(raw, &l); err != nil {
			sm.problem, sm.problemSeq = fmt.Sprintf("line %d is not an archived entry: %v", line, err), sm.last.Seq+1
			return sm
		}
		prev := sm.last.Hash
		if line == 1 {
			prev = l.PrevHash
		} else if l.Seq != sm.last.Seq+1 {
			sm.problem, sm.problemSeq = fmt.Sprintf("line %d: entry %d is missing (the file goes on at entry %d)", line, sm.last.Seq+1, l.Seq), sm.last.Seq+1
			return sm
		}
		var problem string
		if problem, scratch = l.check(prev, scratch); problem != "" {
			sm.problem, sm.problemSeq = fmt.Sprintf("line %d, entry %d: %s", line, l.Seq, problem), l.Seq
			return sm
		}
		if l.Narrative.What == pruneWhat && l.Narrative.Who == pruneWho {
			notePruned(&sm, l.Narrative.Context)
		}
		if line == 1 {
			sm.first = archiveLine{Seq: l.Seq, PrevHash: l.PrevHash, Hash: l.Hash}
		}
		sm.last = archiveLine{Seq: l.Seq, PrevHash: l.PrevHash, Hash: l.Hash}
		sm.num++
	}
	if err := gz.Close(); err != nil {
		sm.problem = err.Error()
		return sm
	}
	if sm.num == 0 {
		sm.problem = "the file holds no entry"
		return sm
	}
	_, _ = io.Copy(io.Discard, tee) // the sha256 is the whole file's
	sm.sha256 = hex.EncodeToString(h.Sum(nil))
	return sm
}

// prunedContext is the part of a records_pruned record's context that
// names its archive.
type prunedContext struct {
	Archive string `json:"archive"`
	SHA256  string `json:"archive_sha256"`
}

func notePruned(sm *archiveSummary, context string) {
	var c prunedContext
	if json.Unmarshal([]byte(context), &c) == nil && c.Archive != "" {
		if sm.named == nil {
			sm.named = map[string]string{}
		}
		sm.named[c.Archive] = c.SHA256
	}
}

// namedInDB adds the archives that the database's records_pruned records
// name to named.
func namedInDB(ctx context.Context, db *sql.DB, named map[string]string) error {
	rows, err := db.QueryContext(ctx, "SELECT context FROM narratives WHERE what = ? AND who = ?", pruneWhat, pruneWho)
	if err != nil {
		return err
	}
	defer rows.Close()
	var sm archiveSummary
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return err
		}
		notePruned(&sm, c)
	}
	for k, v := range sm.named {
		named[k] = v
	}
	return rows.Err()
}
