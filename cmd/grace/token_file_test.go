package main

import (
	"log/slog"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"grace/engine"
)

// TestTokenFileThatIsNoFileIsNamed: a data folder whose api.token is a
// named pipe (or a device) is refused naming the file, by the server
// starting and by the CLI: read, it hung them both.
func TestTokenFileThatIsNoFileIsNamed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := engine.Default()
	cfg.DB = filepath.Join(dir, "grace.db")
	if err := syscall.Mkfifo(tokenPath(cfg), 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	if _, err := ensureToken(cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), tokenPath(cfg)) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("the server's token from a named pipe: %v; want a refusal naming %s", err, tokenPath(cfg))
	}
	if _, err := clientToken(cfg); err == nil || !strings.Contains(err.Error(), tokenPath(cfg)) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("the CLI's token from a named pipe: %v; want a refusal naming %s", err, tokenPath(cfg))
	}
}
