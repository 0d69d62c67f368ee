package tui

import (
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
)

// remoteFake is the fake engine seen through a remote client
// (httpapi.Remote): while down, Snapshot returns the last snapshot with
// Ready false and LastError says why, and every request fails with that
// error.
type remoteFake struct {
	*fakeAPI
	mu   sync.Mutex
	down error
}

func (r *remoteFake) Snapshot() engine.Snapshot {
	s := r.fakeAPI.Snapshot()
	if r.LastError() != nil {
		s.Ready = false
	}
	return s
}

func (r *remoteFake) LastError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.down
}

// setDown makes the server unreachable with err (nil: it is back).
func (r *remoteFake) setDown(err error) {
	r.mu.Lock()
	r.down = err
	r.mu.Unlock()
	r.fakeAPI.mu.Lock()
	defer r.fakeAPI.mu.Unlock()
	r.pendingErr, r.approveErr = err, err
}

// refused is what the remote client returns for a server that is gone.
func refused(method, path string) error {
	return fmt.Errorf("%s http://127.0.0.1:7651%s: %w", method, path,
		&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
}

// statusErr is an HTTP error answer as the remote client returns it.
type statusErr struct {
	status int
	msg    string
}

func (e *statusErr) Error() string   { return e.msg }
func (e *statusErr) HTTPStatus() int { return e.status }

// setupRemote is setup over the fake engine seen as a remote one.
func setupRemote(t *testing.T, opts ...func(*Options)) (*testBundle, *remoteFake) {
	t.Helper()
	var rf *remoteFake
	b := setupWith(t, func(a *fakeAPI) engine.OperatorAPI {
		rf = &remoteFake{fakeAPI: a}
		return rf
	}, opts...)
	return b, rf
}

// refresh advances the clock by d and takes a snapshot, as a tick does.
func (b *testBundle) refresh(t *testing.T, d time.Duration) {
	t.Helper()
	b.clock.advance(d)
	b.run(t, b.m.refreshSnapshot())
}

// TestUnreachableServerIsSaidInTheHeader: when the server an attached
// console reads stops answering, the header says since when and why
// (not "engine not ready"), the dashboard's figures are marked with the
// time they are from, and all of it goes when the server answers again.
func TestUnreachableServerIsSaidInTheHeader(t *testing.T) {
	t.Parallel()
	b, rf := setupRemote(t)
	if h := header(b.view()); !strings.Contains(h, "● live") {
		t.Fatalf("header before the failure: %q", h)
	}
	rf.setDown(refused("GET", "/v1/telemetry"))
	b.refresh(t, time.Second) // 15:09:27
	b.refresh(t, 4*time.Second)
	v := b.view()
	h := header(v)
	if !strings.Contains(h, "▲ connection refused since 15:09:27") || strings.Contains(h, "not ready") {
		t.Errorf("at 80 columns the header does not say the server is unreachable, since when and why: %q", h)
	}
	if !strings.Contains(v, "Queue ▲ as of 15:09:26") || !strings.Contains(v, "Throughput ▲ as of 15:09:26") {
		t.Errorf("the dashboard's figures are not marked stale:\n%s", v)
	}
	b.send(tea.WindowSizeMsg{Width: 160, Height: 24})
	if h := header(b.view()); !strings.Contains(h, "▲ server unreachable since 15:09:27 (connection refused)") {
		t.Errorf("at 160 columns the header does not say it whole: %q", h)
	}
	checkBounds(t, b.view(), 160, 24)

	// Back: live again, the marks gone.
	rf.setDown(nil)
	b.refresh(t, time.Second)
	v = b.view()
	if h := header(v); !strings.Contains(h, "● live") || strings.Contains(h, "unreachable") || strings.Contains(v, "as of") {
		t.Errorf("after the server came back: header %q\n%s", h, v)
	}
}

// TestRefusedTokenIsSaidInTheHeader: a server that answers but refuses the
// console's token (restarted with a new one) is said as such.
func TestRefusedTokenIsSaidInTheHeader(t *testing.T) {
	t.Parallel()
	b, rf := setupRemote(t)
	rf.setDown(&statusErr{status: 401, msg: "missing or wrong bearer token"})
	b.refresh(t, time.Second)
	if h := header(b.view()); !strings.Contains(h, "▲ token refused since 15:09:27") {
		t.Errorf("the header does not say the token is refused: %q", h)
	}
}
