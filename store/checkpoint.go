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
}

func newCheckpointer(dir string, key ed25519.PrivateKey) (*checkpointer, error) {
	c := &checkpointer{path: filepath.Join(dir, checkpointFile), key: key}
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
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("write audit checkpoint %s: %w", c.path, err)
	}
	c.lastSeq = seq
	return nil
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
