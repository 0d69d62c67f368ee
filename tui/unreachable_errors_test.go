package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestUnreachableServerErrorsSayTheCauseAt80Columns: what the operator
// asks of an attached console whose server is gone fails on the status
// line with what was asked and why ("connection refused"), not the
// request's method, URL and dial error, which at 80 columns left no room
// for the cause.
func TestUnreachableServerErrorsSayTheCauseAt80Columns(t *testing.T) {
	t.Parallel()
	b, rf := setupRemote(t)
	rf.setDown(refused("GET", "/v1/telemetry"))
	rf.fakeAPI.mu.Lock()
	rf.searchErr = refused("GET", "/v1/narratives?limit=200&q=charter")
	rf.auditErr = refused("GET", "/v1/audit/verify")
	rf.fakeAPI.mu.Unlock()
	b.refresh(t, time.Second)

	b.run(t, b.press(t, "4"))
	b.press(t, "/")
	b.typeText(t, "charter")
	b.run(t, b.press(t, "<enter>"))
	checkStatusLine(t, b, "search narratives: connection refused")

	b.run(t, b.press(t, "v"))
	checkStatusLine(t, b, "audit verify failed: connection refused")

	// A cause that is not the transport's is still said whole.
	rf.fakeAPI.mu.Lock()
	rf.auditErr = fmt.Errorf("audit entry 12: hash mismatch")
	rf.fakeAPI.mu.Unlock()
	b.run(t, b.press(t, "v"))
	checkStatusLine(t, b, "audit verify failed: audit entry 12: hash mismatch")

	b.run(t, b.command(t, "pause db maintenance"))
	checkStatusLine(t, b, ":pause failed: connection refused")
}

// PauseScheduler fails as the remote client does while the server is
// down.
func (r *remoteFake) PauseScheduler(ctx context.Context, operator, reason string) error {
	if r.LastError() != nil {
		return refused("POST", "/v1/scheduler/pause")
	}
	return r.fakeAPI.PauseScheduler(ctx, operator, reason)
}

// checkStatusLine fails unless the status line says want and shows all
// of it at 80 columns.
func checkStatusLine(t *testing.T, b *testBundle, want string) {
	t.Helper()
	if got := b.statusText(); got != want {
		t.Errorf("status %q, want %q", got, want)
	}
	if !strings.Contains(b.view(), want) {
		t.Errorf("the screen does not show %q whole:\n%s", want, b.view())
	}
}
