package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// noFloor is newLogger's floor for a command that logs at whatever level
// the config names, debug included (slog.LevelInfo is 0: a zero floor
// would silently drop debug).
const noFloor = slog.LevelDebug

// newLogger returns a text logger writing to w at the named level (debug,
// info, warn or error; info when unknown). A floor raises the level for
// commands that should only report trouble; noFloor leaves it.
func newLogger(w io.Writer, level string, floor slog.Level) *slog.Logger {
	lvl := parseLevel(level)
	if lvl < floor {
		lvl = floor
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

func parseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// lazyFile is a log file that is created on the first write, so that a
// command that fails before logging anything (a database that cannot be
// opened, say) leaves no file behind. It is safe for concurrent use.
type lazyFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
	err  error
}

// Write appends p to the file, creating it (mode 0600) on first use.
func (l *lazyFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil && l.err == nil {
		if l.err = os.MkdirAll(filepath.Dir(l.path), 0o700); l.err == nil {
			l.f, l.err = os.OpenFile(l.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		}
		if l.err != nil {
			l.err = fmt.Errorf("open log file: %w", l.err)
		}
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.f.Write(p)
}

// Close closes the file if it was opened.
func (l *lazyFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f, l.err = nil, os.ErrClosed
	return err
}
