package store

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"
)

// An archive file holds the audit entries a..b that a prune deleted
// (retention.go), as gzipped JSON lines, one per entry in seq order:
//
//	{"seq":N,"entry":"<entry text>","prev_hash":"<hex>","hash":"<hex>",
//	 "narrative":{"id":…,"ts":…,"who":…,"what":…,"where":…,"why":"<JSON text>",
//	  "how":…,"context":"<JSON text>","intent_id":…,"result":…},
//	 "clarity":{"audit_seq":N,"confidence":…,"risk":…,"transparency":…,"reasoning":"<JSON text>"}}
//
// (shown wrapped): the audit row as stored and its narrative and clarity
// rows column for column, enough to recompute every hash and digest. It is
// named grace-audit-<a>-<b>.jsonl.gz, mode 0600, written under a temporary
// name, synced and renamed, so a file of that name is whole.

// archiveLine is one line of an archive file.
type archiveLine struct {
	Seq       int64            `json:"seq"`
	Entry     string           `json:"entry"`
	PrevHash  string           `json:"prev_hash"`
	Hash      string           `json:"hash"`
	Narrative archiveNarrative `json:"narrative"`
	Clarity   archiveClarity   `json:"clarity"`
}

type archiveNarrative struct {
	ID       int64  `json:"id"`
	TS       int64  `json:"ts"`
	Who      string `json:"who"`
	What     string `json:"what"`
	Where    string `json:"where"`
	Why      string `json:"why"`
	How      string `json:"how"`
	Context  string `json:"context"`
	IntentID string `json:"intent_id"`
	Result   string `json:"result"`
}

type archiveClarity struct {
	AuditSeq     int64   `json:"audit_seq"`
	Confidence   float64 `json:"confidence"`
	Risk         float64 `json:"risk"`
	Transparency string  `json:"transparency"`
	Reasoning    string  `json:"reasoning"`
}

// narrative returns the line's rows as the writer stores them.
func (l *archiveLine) narrative() narrative {
	n, c := &l.Narrative, &l.Clarity
	return narrative{ID: n.ID, TS: n.TS, Who: n.Who, What: n.What, Where: n.Where, Why: n.Why, How: n.How,
		Context: n.Context, IntentID: n.IntentID, Result: n.Result, Confidence: c.Confidence, Risk: c.Risk,
		Transparency: c.Transparency, Reasoning: c.Reasoning}
}

// check says how l fails to follow an entry whose hash is prev, or to
// match its narrative and clarity rows ("" when it does not). scratch is
// reused between calls.
func (l *archiveLine) check(prev string, scratch []byte) (string, []byte) {
	switch {
	case l.PrevHash != prev:
		return "its prev_hash is not the hash of the entry before it", scratch
	case chainHash(prev, []byte(l.Entry)) != l.Hash:
		return "its hash does not match its text (the entry was edited)", scratch
	case l.Clarity.AuditSeq != l.Seq:
		return fmt.Sprintf("its clarity row points at entry %d", l.Clarity.AuditSeq), scratch
	}
	n := l.narrative()
	digest, scratch := n.digest(scratch)
	if string(n.appendEntry(nil, l.Seq, digest)) != l.Entry {
		return fmt.Sprintf("narrative %d or its clarity row does not match the entry (digest mismatch)", n.ID), scratch
	}
	return "", scratch
}

// archiveName is the file name of the archive of entries from..to.
func archiveName(from, to int64) string {
	return fmt.Sprintf("grace-audit-%d-%d.jsonl.gz", from, to)
}

// archiveWriter writes one archive file under a temporary name.
type archiveWriter struct {
	dir string
	f   *os.File
	gz  *gzip.Writer
	enc *json.Encoder
	sum hash.Hash
}

// newArchive creates the archive folder (0700) if needed and a temporary
// file in it.
func newArchive(dir string) (*archiveWriter, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, archiveErr(dir, err)
	}
	removeStaleArchiveTemps(dir)
	f, err := os.CreateTemp(dir, archiveTempPattern) // mode 0600
	if err != nil {
		return nil, archiveErr(dir, err)
	}
	a := &archiveWriter{dir: dir, f: f, sum: sha256.New()}
	a.gz = gzip.NewWriter(io.MultiWriter(f, a.sum))
	a.enc = json.NewEncoder(a.gz)
	a.enc.SetEscapeHTML(false)
	return a, nil
}

func (a *archiveWriter) write(l *archiveLine) error {
	if err := a.enc.Encode(l); err != nil {
		return archiveErr(a.dir, err)
	}
	return nil
}

// finish syncs the file, renames it to the archive of entries from..to
// and syncs the folder; it returns the name and the file's sha256.
func (a *archiveWriter) finish(from, to int64) (name, sum string, err error) {
	if err := errors.Join(a.gz.Close(), a.f.Sync(), a.f.Close()); err != nil {
		os.Remove(a.f.Name())
		return "", "", archiveErr(a.dir, err)
	}
	name = archiveName(from, to)
	if err := os.Rename(a.f.Name(), filepath.Join(a.dir, name)); err != nil {
		os.Remove(a.f.Name())
		return "", "", archiveErr(a.dir, err)
	}
	d, err := os.Open(a.dir)
	if err == nil {
		err = errors.Join(d.Sync(), d.Close())
	}
	if err != nil {
		return "", "", archiveErr(a.dir, err)
	}
	return name, hex.EncodeToString(a.sum.Sum(nil)), nil
}

// archiveTempPattern names an archive being written.
const archiveTempPattern = ".grace-audit-*.tmp"

// staleArchiveTemp is how long a temporary archive must have been left
// unwritten before a round takes it for the leftover of a process killed
// while it wrote (a round writes its archive in seconds): it is removed
// then, so that crashes do not pile up files of megabytes. Its entries
// were never pruned, so nothing is lost.
const staleArchiveTemp = 10 * time.Minute

// removeStaleArchiveTemps removes the temporary archives in dir left
// unwritten for staleArchiveTemp (file times are the disk's: real time).
func removeStaleArchiveTemps(dir string) {
	temps, _ := filepath.Glob(filepath.Join(dir, archiveTempPattern))
	for _, p := range temps {
		if info, err := os.Lstat(p); err == nil && info.Mode().IsRegular() && time.Since(info.ModTime()) > staleArchiveTemp {
			os.Remove(p)
		}
	}
}

// abort removes the temporary file.
func (a *archiveWriter) abort() {
	a.f.Close()
	os.Remove(a.f.Name())
}

// archiveErr names the archive folder, and says so when its disk is full.
func archiveErr(dir string, err error) error {
	if isDiskFull(err) {
		return fmt.Errorf("archive folder %s is full (%w): nothing was pruned; free space on it", dir, err)
	}
	return fmt.Errorf("archive folder %s: %w: nothing was pruned", dir, err)
}

// removeUncommitted removes the archives in dir that a round stopped
// before its records_pruned record left (a crash or a stop between the
// two): files named for a range starting at first (the entry right after
// the anchor, which the round just archived again in keep, with more)
// whose first line is that very entry, same hash. Their entries were never
// deleted, so nothing is lost; left, they would overlap keep and fail
// grace audit verify --archive over the folder. A file that cannot be
// read, or holds another database's entries, is left alone.
func removeUncommitted(dir string, first archiveLine, keep string) {
	names, err := filepath.Glob(filepath.Join(dir, fmt.Sprintf("grace-audit-%d-*.jsonl.gz", first.Seq)))
	if err != nil {
		return
	}
	for _, path := range names {
		if filepath.Base(path) == keep {
			continue
		}
		if l, ok := firstArchived(path); ok && l.Seq == first.Seq && l.PrevHash == first.PrevHash && l.Hash == first.Hash {
			os.Remove(path)
		}
	}
}

// firstArchived reads the first line of the archive file at path.
func firstArchived(path string) (l archiveLine, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return l, false
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return l, false
	}
	defer gz.Close()
	raw, err := bufio.NewReader(gz).ReadBytes('\n')
	if err != nil || json.Unmarshal(raw, &l) != nil {
		return l, false
	}
	return l, true
}
