package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// ErrInUse means another process has the database open read-write: a
// running engine (grace serve or the console) or a brief CLI write. Two
// engines on one record would each take the other's running intents for
// a crash's leftovers and run them again, so only one may open it. The
// error is an *InUseError saying who holds it.
var ErrInUse = errors.New("the database is in use by another Grace process")

// InUseError names the process holding a database's lock.
type InUseError struct {
	// Holder is what the holder said it is (Options.Holder), PID its
	// process and Since when it took the lock; empty or zero when the
	// lock file could not be read.
	Holder string    `json:"holder"`
	PID    int       `json:"pid"`
	Since  time.Time `json:"since"`
	// Brief is true when the holder said it would hold the lock briefly.
	Brief bool `json:"brief,omitempty"`
}

func (e *InUseError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInUse.Error())
	if who := e.Who(); who != "" {
		b.WriteString(": " + who)
	}
	b.WriteString(" (one process at a time may open it read-write; read-only commands may still read it)")
	return b.String()
}

// Who names the holder: "pid 812, grace serve, API http://127.0.0.1:7420,
// since 2026-11-29 13:16:47"; "" when the lock file said nothing.
func (e *InUseError) Who() string {
	if e.PID <= 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "pid %d", e.PID)
	if e.Holder != "" {
		b.WriteString(", " + e.Holder)
	}
	if !e.Since.IsZero() {
		b.WriteString(", since " + e.Since.Local().Format("2006-01-02 15:04:05"))
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInUse) true.
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// lockPath is the lock file beside the database at abs.
func lockPath(abs string) string { return abs + ".lock" }

// lockWaitStep is how often a process waiting for a brief holder looks
// again.
const lockWaitStep = 20 * time.Millisecond

// takeLock takes the exclusive lock of the database at abs for this
// process, until release: it fails with an *InUseError when a process
// holds it, at once if that process is an engine, after waiting up to
// wait for one holding it briefly (a CLI write) or not saying who it is. The lock is the kernel's
// (flock), so a killed holder leaves none behind.
func takeLock(ctx context.Context, abs, holder string, brief bool, wait time.Duration) (release func() error, err error) {
	f, err := os.OpenFile(lockPath(abs), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", lockPath(abs), err)
		}
		if ok {
			break
		}
		// A note not there (yet, or any more: its holder is writing or
		// clearing it) is waited on as a brief holder's; only an engine's
		// note refuses at once.
		inUse := readHolder(f)
		if (inUse.PID > 0 && !inUse.Brief) || time.Now().After(deadline) {
			f.Close()
			return nil, inUse
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("%w while waiting: %s", ctx.Err(), inUse)
		case <-time.After(lockWaitStep):
		}
	}
	note, _ := json.Marshal(InUseError{Holder: holder, PID: os.Getpid(), Since: time.Now().UTC(), Brief: brief})
	note = append(note, '\n')
	if _, err := f.WriteAt(note, 0); err == nil {
		_ = f.Truncate(int64(len(note))) // what a longer note before left
	}
	return func() error {
		// Emptied first: a reader that opens it between the unlock and
		// the close reads no stale holder.
		_ = f.Truncate(0)
		unlock(f)
		return f.Close()
	}, nil
}

// readHolder reads who holds the lock from its file.
func readHolder(f *os.File) *InUseError {
	var e InUseError
	buf := make([]byte, 4096)
	n, _ := f.ReadAt(buf, 0)
	_ = json.Unmarshal(buf[:n], &e)
	return &e
}
