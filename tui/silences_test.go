package tui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/httpapi"
	"grace/engine/watchdog"
	"grace/engine/worker"
)

// openAlerts shows the Alerts screen.
func openAlerts(t *testing.T, b *testBundle) {
	t.Helper()
	b.run(t, b.press(t, "5"))
	if b.m.screens[b.m.active].id() != screenAlerts {
		t.Fatalf("5 did not show the Alerts screen:\n%s", b.view())
	}
}

// TestSilencedAlertIsMarked: a firing alert that a silence mutes is
// marked on the Alerts screen, in place of "firing" (with until when
// where the column is wide), counted in the title, and its detail says
// who silenced it, until when by the console's clock, how long is left
// and why; once the silence's end has come by that clock, the mark goes.
func TestSilencedAlertIsMarked(t *testing.T) {
	t.Parallel()
	b, _ := setupSilences(t)
	openAlerts(t, b)
	b.press(t, "j") // HTM/queue_depth
	v := ansi.Strip(b.view())
	checkBounds(t, b.view(), 80, 24)
	for _, want := range []string{
		"Alerts · 2 firing (1 silenced) · 1 resolved",
		"▲ warn     HTM/queue_depth               15:02:26 15:09:22    ×28 silenced",
		"✗ critical Trigger Mesh/dead_letters     15:07:01 15:09:22    ×10 firing",
		"state      silenced by alice until 15:39:26 (ends in 30m00s) · firing for",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("the Alerts screen lacks %q:\n%s", want, v)
		}
	}
	b.send(tea.WindowSizeMsg{Width: 160, Height: 48})
	v = ansi.Strip(b.view())
	for _, want := range []string{"silenced 15:39:26", "silence    queue migration · sil_20250314T145926_0a1b2c3d4e"} {
		if !strings.Contains(v, want) {
			t.Errorf("the wide Alerts screen lacks %q:\n%s", want, v)
		}
	}
	// The dashboard's alerts panel says it too.
	b.run(t, b.press(t, "1"))
	if v := ansi.Strip(b.view()); !strings.Contains(v, "silenced by alice until 15:39:26") {
		t.Errorf("the dashboard does not mark the silenced alert:\n%s", v)
	}
	b.run(t, b.press(t, "5"))
	b.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	b.clock.advance(31 * time.Minute)
	b.m.frame.stale = true
	if v := ansi.Strip(b.view()); strings.Contains(v, "silenced") || !strings.Contains(v, "2 firing · 1 resolved") {
		t.Errorf("a silence whose end has come by the console's clock still marks the alert:\n%s", v)
	}
}

// TestSilenceKeyAsksHowLongAndWhy: the silence key on the selected alert
// asks for how long and why on the status line and silences that alert's
// key, under the console's operator; nothing is asked of the engine
// until both are given and readable, and esc leaves the alert alone.
func TestSilenceKeyAsksHowLongAndWhy(t *testing.T) {
	t.Parallel()
	b, s := setupSilences(t)
	openAlerts(t, b)
	b.press(t, "s")
	if v := ansi.Strip(b.view()); !strings.Contains(v, "Silence trigger_mesh/dead_letters · for,") ||
		!strings.Contains(v, "enter silence • esc cancel") {
		t.Fatalf("s did not ask how long and why:\n%s", v)
	}
	b.run(t, b.press(t, "<esc>"))
	if made, _, _ := s.calls(); len(made) != 0 || b.statusText() != "silence cancelled: no silence of trigger_mesh/dead_letters was made" {
		t.Fatalf("esc: silences made %+v, status %q", made, b.statusText())
	}

	b.press(t, "j", "s")
	for _, tc := range []struct{ typed, status string }{
		{"", "silence needs how long and why, as 2h queue migration (esc cancels)"},
		{"2x migration", `silence: "2x" is not how long: give it first, as 30m, 2h, 1d or 1d12h, then why`},
		{"31d migration", `silence: "31d" is longer than a silence lasts: 30d at most`},
		{"2h", "silence needs a reason after how long, as 2h queue migration (esc cancels)"},
	} {
		b.m.silence.input.SetValue(tc.typed)
		b.run(t, b.press(t, "<enter>"))
		if made, _, _ := s.calls(); len(made) != 0 || b.statusText() != tc.status || !b.m.silence.prompting() {
			t.Fatalf("%q: silences made %+v, status %q (prompt open %v), want %q", tc.typed, made, b.statusText(), b.m.silence.prompting(), tc.status)
		}
	}
	// The refusal shows beside the prompt, which stays.
	if v := ansi.Strip(b.view()); !strings.Contains(v, "Silence htm_orchestrator/queue_depth · for, why:") ||
		!strings.Contains(v, "silence needs a reason after how long") {
		t.Errorf("the prompt or its refusal is not shown:\n%s", v)
	}
	b.m.silence.input.SetValue("")
	b.typeText(t, "1d12h queue migration, phase 2")
	b.run(t, b.press(t, "<enter>"))
	made, _, lists := s.calls()
	want := engine.SilenceRequest{Match: "htm_orchestrator/queue_depth", For: 36 * time.Hour, Reason: "queue migration, phase 2", Operator: "ops"}
	if len(made) != 1 || made[0] != want {
		t.Fatalf("silences made %+v, want %+v", made, want)
	}
	if got := b.statusText(); !strings.HasPrefix(got, "silenced htm_orchestrator/queue_depth until 03-16 03:09:26 (1d12h): its webhooks are not told · sil_") {
		t.Errorf("status %q", got)
	}
	if len(lists) < 2 {
		t.Errorf("the silences were not listed again after one was made: %v", lists)
	}
	if b.m.silence.prompting() {
		t.Error("the prompt is still open")
	}
}

// TestSilenceCommand: ":silence MATCH DURATION REASON" silences a match
// (with wildcards) at once; without how long and why it asks for them; a
// match the engine would refuse is said before asking it, and the
// engine's own refusal is said too.
func TestSilenceCommand(t *testing.T) {
	t.Parallel()
	b, s := setupSilences(t)
	b.run(t, b.command(t, "silence htm_orchestrator/* 90m queue migration"))
	made, _, _ := s.calls()
	if len(made) != 1 || made[0] != (engine.SilenceRequest{Match: "htm_orchestrator/*", For: 90 * time.Minute, Reason: "queue migration", Operator: "ops"}) {
		t.Fatalf("silences made %+v", made)
	}
	if got := b.statusText(); !strings.HasPrefix(got, "silenced htm_orchestrator/* until 16:39:26 (1h30m)") || b.statusLevel() != levelWarn {
		t.Errorf("status (level %d) %q", b.statusLevel(), got)
	}
	if b.m.screens[b.m.active].id() != screenDashboard {
		t.Error("the command left the screen it was typed on")
	}

	for line, want := range map[string]string{
		"silence":        ":silence needs an alert key or match, as in :silence htm_orchestrator/* 2h queue migration",
		"silence htm 2h": `:silence: match "htm" is not a silence match: it has no "/"`,
	} {
		b.run(t, b.command(t, line))
		if got := b.statusText(); !strings.HasPrefix(got, want) || b.m.silence.prompting() {
			t.Errorf(":%s: status %q, want %q", line, got, want)
		}
	}
	if made, _, _ := s.calls(); len(made) != 1 {
		t.Fatalf("the engine was asked for refused matches: %+v", made)
	}

	// Without a reason it asks, keeping what was typed.
	b.run(t, b.command(t, "silence */dead_letters 2h"))
	if !b.m.silence.prompting() || b.m.silence.input.Value() != "2h" {
		t.Fatalf(":silence MATCH 2h did not ask why (prompt %v, %q)", b.m.silence.prompting(), b.m.silence.input.Value())
	}
	b.typeText(t, " mesh rebuild")
	b.run(t, b.press(t, "<enter>"))
	if made, _, _ := s.calls(); len(made) != 2 || made[1].Match != "*/dead_letters" || made[1].Reason != "mesh rebuild" {
		t.Fatalf("silences made %+v", made)
	}

	// The engine's refusal, said as such.
	s.setErr(fmt.Errorf("silence alerts: %w", &engine.TextError{Field: "reason", Reason: "holds a control character (U+0007)"}))
	b.run(t, b.command(t, "silence */x 1h ring"))
	if got := b.statusText(); got != "silence */x failed: reason holds a control character (U+0007)" || b.statusLevel() != levelError {
		t.Errorf("status (level %d) %q", b.statusLevel(), got)
	}
}

// TestSilencesListAndUnsilence: ":silences" lists the active silences on
// the Alerts screen (h/l switch there too) with who, why and until when;
// the silence key on one asks why and ends it; ":silences all" lists the
// ended ones too; ":unsilence ID REASON" ends one at once, and a silence
// that ended already or that the engine does not know is said so.
func TestSilencesListAndUnsilence(t *testing.T) {
	t.Parallel()
	b, s := setupSilences(t)
	b.run(t, b.command(t, "silence */dead_letters 2h mesh rebuild"))
	b.run(t, b.command(t, "silences"))
	v := ansi.Strip(b.view())
	checkBounds(t, b.view(), 80, 24)
	for _, want := range []string{
		"Silences · 2 active · newest first",
		"▸ active   */dead_letters     ops        17:09:26    mesh rebuild",
		"  active   htm_orchestrator/* alice      15:39:26    queue migration",
		"silence    sil_20250314T150926_0000000001 · */dead_letters",
		"state      active, by ops until 17:09:26 (ends in 2h00m)",
		"active silences, as of 15:09:26 · :silences all for the ended ones too",
		"j/k move • s end it • h alerts • / filter",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("the silences lack %q:\n%s", want, v)
		}
	}
	b.press(t, "j")
	b.send(tea.WindowSizeMsg{Width: 80, Height: 34})
	if v := ansi.Strip(b.view()); !strings.Contains(v, "mutes      1 firing alert: htm_orchestrator/queue_depth") {
		t.Errorf("the selected silence does not say what it mutes:\n%s", v)
	}
	b.send(tea.WindowSizeMsg{Width: 80, Height: 24})

	// The silence key ends the selected one, asking why.
	b.press(t, "s")
	if v := ansi.Strip(b.view()); !strings.Contains(v, "End silence htm_orchestrator/* · why:") || !strings.Contains(v, "enter end it • esc keep it") {
		t.Fatalf("s on a silence did not ask why to end it:\n%s", v)
	}
	b.run(t, b.press(t, "<enter>"))
	if _, ends, _ := s.calls(); len(ends) != 0 || b.statusText() != "unsilence needs a reason: type why, then enter (esc cancels)" {
		t.Fatalf("ended without a reason: %+v, %q", ends, b.statusText())
	}
	b.typeText(t, "migration done")
	b.run(t, b.press(t, "<enter>"))
	if _, ends, _ := s.calls(); len(ends) != 1 || ends[0] != (decisionCall{ID: fixtureSilence().ID, Operator: "ops", Reason: "migration done"}) {
		t.Fatalf("ends %+v", ends)
	}
	if got := b.statusText(); got != "ended silence "+fixtureSilence().ID+" of htm_orchestrator/*: its alerts notify again (those still firing now)" {
		t.Errorf("status %q", got)
	}
	if v := ansi.Strip(b.view()); !strings.Contains(v, "Silences · 1 active") || strings.Contains(v, "queue migration") {
		t.Errorf("the ended silence is still listed as active:\n%s", v)
	}

	// All of them, the ended one with who ended it and why.
	b.run(t, b.command(t, "silences all"))
	b.press(t, "G")
	v = ansi.Strip(b.view())
	for _, want := range []string{"Silences · 1 active, 1 ended or expired", "▸ ended    htm_orchestrator/* alice      15:09:26",
		"state      was ended by ops at 15:09:26: migration done · made by alice"} {
		if !strings.Contains(v, want) {
			t.Errorf(":silences all lacks %q:\n%s", want, v)
		}
	}
	b.press(t, "s")
	if b.m.silence.prompting() || !strings.Contains(b.statusText(), "was ended by ops at 15:09:26: migration done: nothing to end") {
		t.Errorf("s on an ended silence: prompt %v, status %q", b.m.silence.prompting(), b.statusText())
	}
	b.run(t, b.command(t, "unsilence "+fixtureSilence().ID))
	if b.m.silence.prompting() || !strings.Contains(b.statusText(), "nothing to end") {
		t.Errorf(":unsilence of an ended silence: prompt %v, status %q", b.m.silence.prompting(), b.statusText())
	}

	// :unsilence ID REASON ends one at once; an unknown ID is said so.
	id := b.m.alerts.sil.items[0].ID
	b.run(t, b.command(t, "unsilence "+id+" rebuild done"))
	if _, ends, _ := s.calls(); len(ends) != 2 || ends[1] != (decisionCall{ID: id, Operator: "ops", Reason: "rebuild done"}) {
		t.Fatalf("ends %+v", ends)
	}
	b.run(t, b.command(t, "unsilence sil_nope because"))
	if got := b.statusText(); got != "unsilence sil_nope failed: no such silence (:silences lists them)" {
		t.Errorf(":unsilence of an unknown silence: %q", got)
	}
	b.run(t, b.command(t, "unsilence"))
	if got := b.statusText(); !strings.HasPrefix(got, ":unsilence needs a silence's ID") {
		t.Errorf(":unsilence alone: %q", got)
	}
	// h, or esc, goes back to the alerts.
	b.run(t, b.press(t, "h"))
	if v := ansi.Strip(b.view()); !strings.Contains(v, "Alerts · 2 firing") {
		t.Errorf("h did not go back to the alerts:\n%s", v)
	}
	b.run(t, b.press(t, "l"))
	b.run(t, b.press(t, "<esc>"))
	if v := ansi.Strip(b.view()); !strings.Contains(v, "Alerts · 2 firing") {
		t.Errorf("esc did not go back to the alerts:\n%s", v)
	}
}

// TestReadOnlyConsoleListsSilencesOnly: a read-only console shows the
// marks and lists the silences, but neither silences nor ends one, by key
// or command, and its hints and help do not offer to.
func TestReadOnlyConsoleListsSilencesOnly(t *testing.T) {
	t.Parallel()
	b, s := setupSilences(t, func(o *Options) { o.ReadOnly = true })
	openAlerts(t, b)
	b.press(t, "s")
	if got := b.statusText(); got != "read-only console: silence is disabled" || b.m.silence.prompting() {
		t.Errorf("s: status %q", got)
	}
	for line, want := range map[string]string{
		"silence */x 1h why":   "read-only console: silence is disabled",
		"unsilence sil_x why":  "read-only console: unsilence is disabled",
		"unsilence sil_x":      "read-only console: unsilence is disabled",
		"silence htm_orch/* 1": "read-only console: silence is disabled",
	} {
		b.run(t, b.command(t, line))
		if got := b.statusText(); got != want {
			t.Errorf(":%s: status %q, want %q", line, got, want)
		}
	}
	if v := ansi.Strip(b.view()); strings.Contains(v, "s silence") {
		t.Errorf("a read-only console offers to silence:\n%s", v)
	}
	b.run(t, b.command(t, "silences"))
	b.press(t, "s")
	v := ansi.Strip(b.view())
	if !strings.Contains(v, "htm_orchestrator/* alice") || strings.Contains(v, "s end it") || b.statusText() != "read-only console: unsilence is disabled" {
		t.Errorf("read-only silences list (status %q):\n%s", b.statusText(), v)
	}
	b.press(t, "?")
	if v := ansi.Strip(b.view()); strings.Contains(v, ":silence M") || strings.Contains(v, ":unsilence") || !strings.Contains(v, ":silences all") {
		t.Errorf("the read-only help offers to silence, or does not list them:\n%s", v)
	}
	if made, ends, _ := s.calls(); len(made)+len(ends) != 0 {
		t.Errorf("a read-only console silenced %+v or ended %+v", made, ends)
	}
}

// noSilencesServer is an attached server older than silences: the real
// client, whose answers say errors.ErrUnsupported.
type noSilencesServer struct {
	*fakeAPI
	c     *httpapi.Client
	asked *int
}

func (n noSilencesServer) SilenceAlerts(ctx context.Context, req engine.SilenceRequest) (watchdog.Silence, error) {
	*n.asked++
	return n.c.SilenceAlerts(ctx, req)
}

func (n noSilencesServer) EndSilence(ctx context.Context, id, operator, reason string) (watchdog.Silence, error) {
	*n.asked++
	return n.c.EndSilence(ctx, id, operator, reason)
}

func (n noSilencesServer) Silences(ctx context.Context, all bool) ([]watchdog.Silence, error) {
	*n.asked++
	return n.c.Silences(ctx, all)
}

// TestSilencesUnavailableAreSaidPlainly: an engine that cannot silence
// (no AlertSilencer), an attached server older than silences (the
// client's errors.ErrUnsupported) and an engine that keeps none
// (engine.ErrNoSilences) are said so in plain words, and the console asks
// no more once told.
func TestSilencesUnavailableAreSaidPlainly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.send(snapshotMsg{snap: alertsSnapshot()})
	openAlerts(t, b)
	b.press(t, "s")
	if got := b.statusText(); got != "silence unavailable: this engine cannot silence alerts" {
		t.Errorf("s on an engine without silences: %q", got)
	}
	b.run(t, b.command(t, "silences"))
	if v := ansi.Strip(b.view()); !strings.Contains(v, "▲ This engine cannot silence alerts.") || strings.Contains(v, "s end it") {
		t.Errorf(":silences on an engine without silences:\n%s", v)
	}

	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error":{"code":"not_found","message":"no route %s"}}`, r.URL.Path)
	}))
	t.Cleanup(old.Close)
	asked := 0
	b = setupWith(t, func(a *fakeAPI) engine.OperatorAPI {
		return noSilencesServer{fakeAPI: a, c: httpapi.NewClient(old.URL, "tok", old.Client()), asked: &asked}
	})
	b.send(snapshotMsg{snap: alertsSnapshot()})
	b.run(t, b.command(t, "silence */x 1h why"))
	if got := b.statusText(); got != "silence unavailable: the server keeps no alert silences (it may be older than them)" || asked != 1 {
		t.Errorf(":silence on an older server (asked %d): %q", asked, got)
	}
	openAlerts(t, b)
	b.run(t, b.press(t, "l"))
	b.press(t, "s")
	if v := ansi.Strip(b.view()); !strings.Contains(v, "▲ The server keeps no alert silences") || asked != 1 {
		t.Errorf("the console asked an older server again (%d) or does not say why:\n%s", asked, v)
	}

	b, s := setupSilences(t)
	s.setErr(fmt.Errorf("silence alerts: %w", engine.ErrNoSilences))
	b.run(t, b.command(t, "silence */x 1h why"))
	if got := b.statusText(); got != "silence unavailable: this engine keeps no alert silences" {
		t.Errorf(":silence on an engine that keeps none: %q", got)
	}
	b.run(t, b.command(t, "unsilence sil_x why"))
	if got := b.statusText(); got != "unsilence unavailable: this engine keeps no alert silences" {
		t.Errorf(":unsilence on an engine that keeps none: %q", got)
	}
	if made, ends, _ := s.calls(); len(made) != 1 || len(ends) != 0 {
		t.Errorf("asked again once told: made %d, ends %d", len(made), len(ends))
	}
}

// TestAlertsHelpFitsWithSilences: the full help of the Alerts screen at
// 80×24 names the silence key and commands, and still fits.
func TestAlertsHelpFitsWithSilences(t *testing.T) {
	t.Parallel()
	for _, ro := range []bool{false, true} {
		b, _ := setupSilences(t, func(o *Options) { o.ReadOnly = ro })
		openAlerts(t, b)
		b.press(t, "?")
		v := ansi.Strip(b.view())
		if strings.Contains(v, "a larger terminal shows more") {
			t.Errorf("read-only %v: the Alerts help no longer fits 80×24:\n%s", ro, v)
		}
		for _, g := range b.m.helpGroups() {
			for _, r := range g.rows {
				if !strings.Contains(v, r[0]) || !strings.Contains(v, r[1]) {
					t.Errorf("read-only %v: help row %q %q is not shown whole:\n%s", ro, r[0], r[1], v)
				}
			}
		}
		if want := "s              silence it (for, why)"; !ro && !strings.Contains(v, want) {
			t.Errorf("the help does not name the silence key:\n%s", v)
		}
	}
}

// TestSilencesOverTheEngine: the console over the engine itself (its
// store keeping silences): the silence key on a firing alert's row makes
// the engine's silence of that key, :silences lists it with who and why,
// and the silence key there ends it, as the engine records.
func TestSilencesOverTheEngine(t *testing.T) {
	t.Parallel()
	cfg := engine.Default()
	cfg.DB = "test.db"
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	st := enginetest.NewStore(64)
	t.Cleanup(func() { _ = st.Close() })
	clk := clock.NewFake(fixedNow)
	eng, err := engine.New(cfg, engine.Deps{Store: st, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	b := setupWith(t, func(*fakeAPI) engine.OperatorAPI { return eng }, func(o *Options) { o.Now = clk.Now })
	b.send(snapshotMsg{snap: alertsSnapshot()}) // the alerts to silence (the engine's own raise none here)
	openAlerts(t, b)
	b.press(t, "j", "s")
	b.typeText(t, "2h queue migration")
	b.run(t, b.press(t, "<enter>"))
	got, err := eng.Silences(t.Context(), false)
	if err != nil || len(got) != 1 || got[0].Match != "htm_orchestrator/queue_depth" || got[0].By != "ops" ||
		got[0].Reason != "queue migration" || !got[0].EndsAt.Equal(fixedNow.Add(2*time.Hour)) {
		t.Fatalf("the engine's silences: %+v, %v", got, err)
	}
	if s := b.statusText(); !strings.HasPrefix(s, "silenced htm_orchestrator/queue_depth until 17:09:26 (2h00m)") {
		t.Errorf("status %q", s)
	}
	b.run(t, b.command(t, "silences"))
	if v := ansi.Strip(b.view()); !strings.Contains(v, "▸ active   htm_orchestrator/queue_depth ops        17:09:26    queue migrat…") {
		t.Errorf("the engine's silence is not listed:\n%s", v)
	}
	b.press(t, "s")
	b.typeText(t, "done early")
	b.run(t, b.press(t, "<enter>"))
	all, err := eng.Silences(t.Context(), true)
	if err != nil || len(all) != 1 || all[0].State != watchdog.SilenceEnded || all[0].EndedBy != "ops" || all[0].EndReason != "done early" {
		t.Fatalf("the engine's silences after the end: %+v, %v", all, err)
	}
	if v := ansi.Strip(b.view()); !strings.Contains(v, "Silences · 0 active") || !strings.Contains(v, "no active silence (s on an alert silences it)") {
		t.Errorf("the ended silence is still listed as active:\n%s", v)
	}
}

// TestSilencedAlertDetailKeepsTheSilenceID: the selected alert's detail
// names its silence's reason and ID; a reason too long for the line is
// cut, not the ID after it (the ID is what :unsilence takes).
func TestSilencedAlertDetailKeepsTheSilenceID(t *testing.T) {
	t.Parallel()
	b, store := setupSilences(t)
	store.mu.Lock()
	store.items[0].Reason = strings.Repeat("very long reason ", 40)
	store.mu.Unlock()
	b.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	openAlerts(t, b)
	b.press(t, "j") // HTM/queue_depth
	v := ansi.Strip(b.view())
	checkBounds(t, b.view(), 120, 40)
	if !strings.Contains(v, "silence    very long reason") || !strings.Contains(v, "… · sil_20250314T145926_0a1b2c3d4e") {
		t.Errorf("the silenced alert's detail lost its silence's reason or ID:\n%s", v)
	}
}

// TestDashboardLineSaysSilenced: at 80×24, where the Layer 2 panel gives
// way to one line naming the firing alerts, that line says how many of
// them a silence mutes, as the Alerts screen's title does.
func TestDashboardLineSaysSilenced(t *testing.T) {
	t.Parallel()
	b := setupWith(t, func(a *fakeAPI) engine.OperatorAPI { return newChaosFake(a) })
	b.run(t, b.send(snapshotMsg{snap: silencedSnapshot()}))
	v := b.view()
	checkBounds(t, v, 80, 24)
	if !strings.Contains(ansi.Strip(v), "✗ 2 alerts firing (1 silenced): Trigger Mesh/dead_letters · Layer 2") {
		t.Errorf("the dashboard's alerts line does not say one is silenced:\n%s", v)
	}
}

// TestSilenceForRefusesASignAfterDays: how long a silence lasts is read
// as written: "1d-2h" is refused, not taken as 22 hours (nor "1d+2h" as
// 26); days and hours together still read as their sum.
func TestSilenceForRefusesASignAfterDays(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"1d-2h", "1d+2h", "2d-47h"} {
		if d, err := parseSilenceFor(in); err == nil {
			t.Errorf("parseSilenceFor(%q) = %v, want it refused", in, d)
		}
	}
	for in, want := range map[string]time.Duration{"1d12h": 36 * time.Hour, "2h": 2 * time.Hour, "1d": 24 * time.Hour, "90m": 90 * time.Minute} {
		if d, err := parseSilenceFor(in); err != nil || d != want {
			t.Errorf("parseSilenceFor(%q) = %v, %v; want %v", in, d, err, want)
		}
	}
}

// TestSilencesTitleCountsNoneNotFetched: a list of silences the engine
// could not be asked for (the server down as :silences all is asked)
// says so, and its title counts nothing: none fetched is not "0 active".
func TestSilencesTitleCountsNoneNotFetched(t *testing.T) {
	t.Parallel()
	b, store := setupSilences(t)
	openAlerts(t, b)
	store.setErr(errors.New("connection refused"))
	b.run(t, b.command(t, "silences all"))
	v := ansi.Strip(b.view())
	checkBounds(t, b.view(), 80, 24)
	if !strings.Contains(v, "The silences could not be fetched") || !strings.Contains(v, "Silences · newest first") ||
		strings.Contains(v, "0 active") || strings.Contains(v, "0 ended") {
		t.Errorf("the silences not fetched are counted as none:\n%s", v)
	}
	store.setErr(nil)
	b.run(t, b.command(t, "silences all"))
	if v := ansi.Strip(b.view()); !strings.Contains(v, "Silences · 1 active, 0 ended or expired") {
		t.Errorf("the list fetched again is not counted:\n%s", v)
	}
}

// TestSilenceOfLessThanAMinuteAndPastTheCap: a silence shorter than a
// minute is refused in the console before the engine is asked, naming
// what was typed; the engine's refusal of one more silence than it keeps
// active is said as such, with where to end one.
func TestSilenceOfLessThanAMinuteAndPastTheCap(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"1ns", "500ms", "59s"} {
		if d, err := parseSilenceFor(in); err == nil || !strings.Contains(err.Error(), `"`+in+`" is shorter than a silence lasts: 1m at least`) {
			t.Errorf("parseSilenceFor(%q) = %v, %v; want it refused as shorter than a minute", in, d, err)
		}
	}
	if d, err := parseSilenceFor("1m"); err != nil || d != time.Minute {
		t.Errorf("parseSilenceFor(1m) = %v, %v", d, err)
	}
	b, s := setupSilences(t)
	b.run(t, b.command(t, "silence */x 30s quick"))
	if made, _, _ := s.calls(); len(made) != 0 {
		t.Fatalf("the engine was asked for a silence of 30s: %+v", made)
	}
	if got := b.statusText(); !strings.Contains(got, `"30s" is shorter than a silence lasts: 1m at least`) || b.statusLevel() != levelError {
		t.Errorf("status (level %d) %q", b.statusLevel(), got)
	}
	b.run(t, b.press(t, "<esc>")) // it asks again; give up
	s.setErr(fmt.Errorf("silence alerts: %w: 1000 are active and at most 1000 may be; nothing was made", engine.ErrTooManySilences))
	b.run(t, b.command(t, "silence */x 1h rework"))
	if got := b.statusText(); !strings.HasPrefix(got, "silence */x refused: too many active alert silences: 1000 are active") ||
		!strings.HasSuffix(got, "(:silences lists them)") || b.statusLevel() != levelError {
		t.Errorf("status (level %d) %q", b.statusLevel(), got)
	}
}
