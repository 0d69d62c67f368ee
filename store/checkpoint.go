package store

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The chain head is anchored outside the database, so that deleting the
// newest entries cannot go unnoticed: <datadir>/audit.checkpoints gets one
// line per checkpoint,
//
//	<seq> <hash> <time RFC 3339 UTC> <signature>
//
// where signature is the base64 (standard, padded) ed25519 signature, by
// audit.key, of the line's first three fields exactly as written, single
// spaces included ("<seq> <hash> <time>").
const checkpointFile = "audit.checkpoints"

// checkpoint is one parsed line of the checkpoint file.
type checkpoint struct {
	Line int // 1-based line number in the file
	Seq  int64
	Hash string
	Time string
	Msg  string // the signed text
	Sig  []byte
}

// checkpointer appends signed checkpoints. It is used by the writer
// goroutine only.
type checkpointer struct {
	path    string
	key     ed25519.PrivateKey
	lastSeq int64 // seq of the newest checkpoint in the file
	// compactAt is the file size past which it is thinned (compact),
	// keeping every one of the newest keepAll checkpoints.
	compactAt int64
	keepAll   int
}

// checkpointCompactAt is the checkpoint file's size past which it is
// thinned: at one line of ~190 bytes every 5 s under load it is reached in
// about a day, and thinned it holds the newest ~11,000 checkpoints, one an
// hour for the week before and one a day before that.
const checkpointCompactAt = 4 << 20

func newCheckpointer(dir string, key ed25519.PrivateKey) (*checkpointer, error) {
	// Checkpoints are verified with audit.pub: signed by another key they
	// would all read as forged, from the first one written on.
	switch pub, found, err := loadPublicKey(dir); {
	case err != nil:
		return nil, err
	case found && !pub.Equal(key.Public()):
		return nil, fmt.Errorf("the audit key %s is not the key of %s: checkpoints it signed would not verify; put back the data folder's own %s (or the %s that goes with this key)",
			filepath.Join(dir, keyFile), filepath.Join(dir, pubFile), keyFile, pubFile)
	}
	c := &checkpointer{path: filepath.Join(dir, checkpointFile), key: key, compactAt: checkpointCompactAt, keepAll: checkpointKeepAll}
	cps, err := readCheckpoints(dir)
	if err != nil {
		return nil, err
	}
	for _, cp := range cps {
		c.lastSeq = max(c.lastSeq, cp.Seq)
	}
	return c, nil
}

// write appends a checkpoint of seq and hash at t and syncs the file.
func (c *checkpointer) write(seq int64, hash string, t time.Time) error {
	msg := fmt.Sprintf("%d %s %s", seq, hash, t.UTC().Format(time.RFC3339Nano))
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(c.key, []byte(msg)))
	f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("write audit checkpoint %s: %w", c.path, err)
	}
	_, werr := f.WriteString(msg + " " + sig + "\n")
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("write audit checkpoint %s: %w", c.path, err)
	}
	c.lastSeq = seq
	if c.compactAt > 0 && size > c.compactAt {
		return c.compact()
	}
	return nil
}

// compact thins the checkpoint file (thinCheckpoints) and replaces it
// atomically: a new file written and synced beside it, renamed over it,
// and the folder synced. A crash leaves the old file or the new one.
func (c *checkpointer) compact() error {
	cps, err := readCheckpoints(filepath.Dir(c.path))
	if err != nil {
		return fmt.Errorf("thin audit checkpoints: %w", err)
	}
	var b strings.Builder
	for _, cp := range thinCheckpoints(cps, c.keepAll) {
		b.WriteString(cp.Msg + " " + base64.StdEncoding.EncodeToString(cp.Sig) + "\n")
	}
	tmp := c.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("thin audit checkpoints: %w", err)
	}
	_, werr := f.WriteString(b.String())
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("thin audit checkpoints: %w", err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("thin audit checkpoints: %w", err)
	}
	if d, err := os.Open(filepath.Dir(c.path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// checkpointKeepAll is how many of the newest checkpoints thinning keeps
// every one of.
const checkpointKeepAll = 11000

// thinCheckpoints returns the checkpoints worth keeping, in order: the
// newest keepAll, and of the older ones the first of each hour within a
// week of the newest and the first of each day before that. The chain's
// hash covers every entry before it, so the newest checkpoint alone
// anchors the whole chain; older ones only still anchor part of it should
// the newest lines of the file be lost or cut. A checkpoint whose time
// does not parse is kept.
func thinCheckpoints(cps []checkpoint, keepAll int) []checkpoint {
	if len(cps) <= keepAll {
		return cps
	}
	newest, err := time.Parse(time.RFC3339Nano, cps[len(cps)-1].Time)
	if err != nil {
		return cps
	}
	old := cps[:len(cps)-keepAll]
	out := make([]checkpoint, 0, keepAll+len(old)/100)
	seen := map[time.Time]bool{}
	for _, cp := range old {
		t, err := time.Parse(time.RFC3339Nano, cp.Time)
		if err != nil {
			out = append(out, cp)
			continue
		}
		slot := t.UTC().Truncate(time.Hour)
		if newest.Sub(t) > 7*24*time.Hour {
			slot = t.UTC().Truncate(24 * time.Hour)
		}
		if !seen[slot] {
			seen[slot] = true
			out = append(out, cp)
		}
	}
	return append(out, cps[len(cps)-keepAll:]...)
}

// checkpoint signs the chain head if it moved since the last checkpoint.
func (w *writer) checkpoint() {
	if err := w.checkpointNow(); err != nil {
		w.log.Error("store audit checkpoint failed", "err", err)
	}
}

func (w *writer) checkpointNow() error {
	if w.cp == nil || w.head.seq == 0 || w.head.seq == w.cp.lastSeq {
		return nil
	}
	return w.cp.write(w.head.seq, w.head.hash, w.clock.Now())
}

// readCheckpoints parses the checkpoint file; a missing file is no
// checkpoints. A last line without its newline is a write cut short by a
// crash and is ignored; any other malformed line is an error naming it.
func readCheckpoints(dir string) ([]checkpoint, error) {
	path := filepath.Join(dir, checkpointFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read audit checkpoints %s: %w", path, err)
	}
	if i := bytes.LastIndexByte(raw, '\n'); i < len(raw)-1 {
		raw = raw[:i+1]
	}
	var cps []checkpoint
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for line := 1; sc.Scan(); line++ {
		cp, err := parseCheckpoint(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("audit checkpoint %s line %d: %w", path, line, err)
		}
		cp.Line = line
		cps = append(cps, cp)
	}
	return cps, sc.Err()
}

func parseCheckpoint(s string) (checkpoint, error) {
	var cp checkpoint
	f := strings.Split(s, " ")
	if len(f) != 4 {
		return cp, fmt.Errorf("want 4 fields, found %d", len(f))
	}
	seq, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || seq < 1 {
		return cp, fmt.Errorf("bad seq %q", f[0])
	}
	if len(f[1]) != 64 {
		return cp, fmt.Errorf("bad hash %q", f[1])
	}
	sig, err := base64.StdEncoding.DecodeString(f[3])
	if err != nil {
		return cp, fmt.Errorf("bad signature encoding: %w", err)
	}
	return checkpoint{Seq: seq, Hash: f[1], Time: f[2], Msg: strings.Join(f[:3], " "), Sig: sig}, nil
}

// Checkpoint signs the audit chain's current head into the checkpoint file
// now, if it moved since the last checkpoint. The writer also does this
// every CheckpointInterval and on Close.
func (s *Store) Checkpoint(ctx context.Context) error {
	return s.do(ctx, func(w *writer) error { return w.checkpointNow() })
}
