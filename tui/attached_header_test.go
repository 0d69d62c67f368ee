package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
)

// attachedFake is the fake engine seen through the remote client of
// "grace console --attach URL": it says where it answers.
type attachedFake struct {
	*remoteFake
	base string
}

func (a attachedFake) BaseURL() string { return a.base }

// setupAttached is setup over the fake engine attached to at base.
func setupAttached(t *testing.T, base string, opts ...func(*Options)) (*testBundle, *remoteFake) {
	t.Helper()
	var rf *remoteFake
	b := setupWith(t, func(a *fakeAPI) engine.OperatorAPI {
		rf = &remoteFake{fakeAPI: a}
		return attachedFake{remoteFake: rf, base: base}
	}, opts...)
	return b, rf
}

// TestAttachedHeaderNamesTheServer: a console attached to a remote engine
// says so in the header, and to which host and port, at 80 columns as
// wider: the operator sees at a glance which engine they drive. A long
// host name is cut, its port kept; an IP address is never cut. The
// embedded console's header names no server.
func TestAttachedHeaderNamesTheServer(t *testing.T) {
	t.Parallel()
	if h := header(setup(t).view()); strings.Contains(h, "attached") || strings.Contains(h, "⇄") {
		t.Errorf("the embedded console's header names a server: %q", h)
	}

	b, _ := setupAttached(t, "http://127.0.0.1:7420")
	if h := header(b.view()); !strings.Contains(h, "ops · attached 127.0.0.1:7420 · ● live") {
		t.Errorf("at 80 columns the attached header does not say where: %q", h)
	}
	checkBounds(t, b.view(), 80, 24)
	b.send(tea.WindowSizeMsg{Width: 160, Height: 24})
	if h := header(b.view()); !strings.Contains(h, "2 Approvals ⚑ 3") || !strings.Contains(h, "ops · attached 127.0.0.1:7420 · ● live") {
		t.Errorf("at 160 columns: %q", h)
	}

	// Read-only, popups off, paused: the address stays whole.
	ro, _ := setupAttached(t, "http://127.0.0.1:7420/", func(o *Options) { o.ReadOnly, o.PopupsOff = true, true })
	snap := fixtureSnapshot()
	snap.Layer2.Paused = true
	ro.send(snapshotMsg{snap: snap})
	if h := header(ro.view()); !strings.Contains(h, "⇄ 127.0.0.1:7420 · ● live") {
		t.Errorf("at 80 columns, read-only, muted and paused, the attached header does not say where: %q", h)
	}
	checkBounds(t, ro.view(), 80, 24)

	long, rf := setupAttached(t, "https://grace-prod-eu-west-1.internal.example.com:7420")
	if h := header(long.view()); !strings.Contains(h, "⇄ grace-prod-eu-west-…:7420 · ● live") {
		t.Errorf("at 80 columns a long host is not cut to fit: %q", h)
	}
	checkBounds(t, long.view(), 80, 24)
	rf.setDown(refused("GET", "/v1/telemetry"))
	long.refresh(t, time.Second)
	if h := header(long.view()); !strings.Contains(h, "⇄ grace-p…:7420 · ▲ unreachable 15:09:27") {
		t.Errorf("at 80 columns an unreachable server is not named: %q", h)
	}
	checkBounds(t, long.view(), 80, 24)
}
