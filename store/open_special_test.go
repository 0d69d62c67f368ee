//go:build unix

package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOpenRefusesSpecialFiles: a path that is not a regular file is
// refused before SQLite opens it, read-only or not. A named pipe used to
// block the header check; a device such as /dev/null took SQLite's journal
// beside it (/dev/null-journal).
func TestOpenRefusesSpecialFiles(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "pipe.db")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, tc := range []struct {
		path, want string
	}{
		{fifo, "not a regular file (a named pipe)"},
		{os.DevNull, "not a regular file (a device)"},
	} {
		for _, ro := range []bool{false, true} {
			done := make(chan error, 1)
			go func() {
				s, err := Open(context.Background(), tc.path, Options{ReadOnly: ro})
				if err == nil {
					s.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Open(%s, read-only %v) = %v; want %q", tc.path, ro, err, tc.want)
				}
				checkOneLine(t, err, tc.path)
			case <-time.After(10 * time.Second):
				t.Fatalf("Open(%s, read-only %v) blocked", tc.path, ro)
			}
		}
	}
}
