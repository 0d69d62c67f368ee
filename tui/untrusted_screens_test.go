package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// What an agent may put in the text it submits to take over the
// operator's terminal or disguise what the operator approves.
const (
	evilClear   = "\x1b[2J\x1b[H"                                         // clear the screen, cursor home
	evilHide    = "\x1b[8m"                                               // SGR conceal: an agent's own "colour"
	evilClip    = "\x1b]52;c;cm0gLXJmIH4=\x07"                            // OSC 52: "rm -rf ~" to the clipboard
	evilLink    = "\x1b]8;;https://evil.example/\x1b\\docs\x1b]8;;\x1b\\" // OSC 8 hyperlink
	evilTitle   = "\x1b]0;pwned\x07"                                      // the window's title
	evilRLO     = "\u202e"                                                // right-to-left override
	evilC1      = "\u009b"                                                // C1 CSI
	evilUnicode = "café 日本 🚀"                                             // printable: kept as it is
)

// evilID is the intent whose every text is an attack.
var evilID = "int_01JPB9EV1L" + strings.Repeat("0", 14) + "AA"

// evilIntent is a Tier 0 intent pending approval whose type, actor,
// payload, context, reasons, first approver and idempotency key carry
// terminal controls.
func evilIntent() intent.Intent {
	it := pendingIntent(evilID, "ship"+evilTitle, "agent:"+evilRLO+"tob-esaeler", time.Minute)
	it.Payload = json.RawMessage(`{"cmd":"deploy","note":"\u001b]52;c;cm0gLXJmIH4=\u0007","lbl":"a` + evilRLO +
		`b","c1":"x` + evilC1 + `31m","uni":"` + evilUnicode + `"}`)
	it.Context = map[string]any{"ticket": "OPS-1" + evilHide + "hidden", "nested": map[string]any{"file": evilRLO + "txt.exe"}}
	it.IdempotencyKey = "k" + evilClear
	it.DecidedBy = "mallory\x1b[1A\x1b[2K" // the first approval of two
	it.Decision.Reasoning = []string{
		"all checks passed\r\x1b[2KAPPROVED BY SECURITY\b\b\b",
		"see " + evilLink,
		"written in " + evilUnicode,
	}
	return it
}

// evilRecord is the narrative record of evilIntent's arrival.
func evilRecord(id int64) clarity.Entry {
	it := evilIntent()
	return clarity.Entry{ID: id, Seq: id + 1000, Hash: "ab" + evilClear, Record: clarity.Record{
		Who: it.Actor, What: "intent_received" + evilTitle, Where: "api" + evilHide, How: "submit\b\b\b\b\b\bexec",
		Why: it.Decision.Reasoning, Result: "received" + evilClip, IntentID: evilID,
		Context: map[string]any{"note": evilLink}, When: fixedNow.Add(-time.Second), Transparency: "COMPLETE" + evilC1,
	}}
}

// sgrSeq is an SGR sequence: the console's colours.
var sgrSeq = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// checkFrame fails unless frame v (drawn in colour) keeps the console's
// colours, fits w×h, and, its colours aside, holds no character that is
// not printable but its line breaks: no escape sequence, BEL, carriage
// return, backspace, C1 control or direction override reaches the
// terminal. Each of want must show in it.
func checkFrame(t *testing.T, name, v string, w, h int, want ...string) {
	t.Helper()
	checkBounds(t, v, w, h)
	if !sgrSeq.MatchString(v) {
		t.Errorf("%s: the frame has no colours: the console's own styles are gone", name)
	}
	plain := sgrSeq.ReplaceAllString(v, "")
	for _, bad := range []string{"\x1b", "\x07", "\r", "\b", evilRLO, evilC1} {
		if strings.Contains(plain, bad) {
			t.Errorf("%s: %q reaches the terminal:\n%q", name, bad, plain)
		}
	}
	for i := 0; i < len(plain); {
		r, n := utf8.DecodeRuneInString(plain[i:])
		if r != '\n' && (r == utf8.RuneError && n == 1 || !unicode.IsGraphic(r) && r != '\u200d' && r != '\u200c') {
			t.Errorf("%s: %U at byte %d reaches the terminal", name, r, i)
		}
		i += n
	}
	for _, s := range want {
		if !strings.Contains(plain, s) {
			t.Errorf("%s: the frame does not show %q:\n%s", name, s, plain)
		}
	}
}

// setupColour is setup drawing in true colour at w×h, as on a real
// terminal, with the fake engine holding evilIntent first in the inbox,
// a failed Tier 1 intent whose error is an attack, and evilRecord as the
// newest narrative (and the newest decision of the snapshot).
func setupColour(t *testing.T, w, h int) *testBundle {
	t.Helper()
	t.Setenv("NO_COLOR", "")
	api := newFakeAPI()
	snap := fixtureSnapshot()
	snap.PendingApprovals++
	snap.Recent = append([]clarity.Record{evilRecord(601).Record}, snap.Recent...)
	snap.Health = fixtureHealth()
	snap.Health.Alerts[0].Summary = "Queue depth" + evilRLO + "1234" + evilClip
	api.setSnapshot(snap)
	api.setPending(append([]intent.Intent{evilIntent()}, fixturePending()...))
	failed := tier1Intent("int_01JPB8A2REVIEW0000000000EV", "modify"+evilTitle, "agent:"+evilRLO+"renut", intent.StateFailed, time.Minute)
	failed.LastError = "exit 1\r\x1b[32mOK" + evilClip
	api.tier1 = append([]intent.Intent{failed}, fixtureTier1()...)
	api.narratives = append([]clarity.Entry{evilRecord(601)}, fixtureNarratives(600)...)
	api.audit = fixtureAudit()
	api.approveErr = fmt.Errorf("approve intent %s: %w", evilID, errors.New("refused"+evilRLO+"by policy"+evilClip))
	clock := &testClock{t: fixedNow}
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(true)
	ctx, cancel := context.WithCancel(context.Background())
	cf := newChaosFake(api)
	cf.scenarios[0].Description = "Kill a kernel" + evilTitle + " and watch" + evilRLO
	cf.status.Findings[0].Summary = "bus_acl did not fire" + evilHide + "fine"
	cf.status.Findings[0].PlaybookYAML = "id: bus_acl\nsteps:\n  - run: " + evilClip + "\n"
	m := newModel(ctx, cancel, cf, Options{Operator: "ops", Refresh: time.Hour, Now: clock.now}, r)
	t.Cleanup(m.cancel)
	b := &testBundle{api: api, m: m, clock: clock}
	b.send(tea.WindowSizeMsg{Width: w, Height: h})
	b.run(t, b.send(snapshotMsg{snap: api.Snapshot()}))
	return b
}

// TestAgentTextCannotDriveTheTerminal: an intent whose type, actor,
// payload, context, reasons and records carry escape sequences (CSI, SGR,
// OSC 52 to the clipboard, OSC 8 links, OSC 0 titles), carriage returns,
// backspaces, C1 controls and a direction override reaches no screen's
// frame as controls: the popup, the Approvals list and detail (both
// sections), the intent's story, the Narratives list and detail, the
// dashboard's decisions, the status line, :messages, the Alerts and the
// Chaos screens (a scenario, a finding's playbook) show them as
// escapes (\u001b, \u202e), printable Unicode as it is, in the console's
// own colours, and every line fits.
func TestAgentTextCannotDriveTheTerminal(t *testing.T) {
	for _, size := range [][2]int{{160, 48}, {80, 24}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			b := setupColour(t, w, h)
			frame := func(name string, want ...string) {
				t.Helper()
				b.m.frame.stale = true
				checkFrame(t, name, b.view(), w, h, want...)
			}
			frame("dashboard")

			b.run(t, b.send(eventsMsg{events: []engine.Event{{Kind: "intent", Intent: evilIntent()}}}))
			frame("popup", `ship\u001b]0;pwned\u0007`, `agent:\u202etob-esaeler`, `\u000d\u001b[2KAPPROVED`,
				`"\u001b]52;c;cm0gLXJmIH4=\u0007"`, `"a\u202eb"`, `"x\u009b31m"`, `"`+evilUnicode+`"`)

			b.run(t, b.press(t, "2"))
			wantDetail := []string{`agent:\u202etob-esaeler`, `ship\u001b]0;pwned\u0007`,
				`mallory\u001b[1A\u001b[2K approved`, `1\u001b[8mhidden"`, `"\u202etxt.exe"`,
				`• see \u001b]8;;https://evil.example/\u001b\docs`, `written in ` + evilUnicode}
			if h >= 48 {
				wantDetail = append(wantDetail, `"note": "\u001b]52;c;cm0gLXJmIH4=\u0007"`, `"lbl": "a\u202eb"`,
					`"c1": "x\u009b31m"`, `"uni": "`+evilUnicode+`"`)
			}
			if w >= splitLayout {
				frame("approvals list and detail", wantDetail...)
			} else {
				frame("approvals list", `\u202e`)
			}
			b.press(t, "<enter>")
			frame("approvals detail", append(wantDetail, `all checks passed\u000d\u001b[2KAPPROVED BY SECURITY\u0008`)...)

			b.run(t, b.press(t, "a"))
			b.run(t, b.press(t, "y"))
			frame("status line", `failed: refused\u202eby policy`)
			b.press(t, "<esc>")

			b.run(t, b.press(t, "l"))
			b.press(t, "<enter>")
			frame("review detail", `agent:\u202erenut`, `modify\u001b]0;pwned\u0007`, `exit 1\u000d\u001b[32mOK`)
			b.press(t, "<esc>")
			b.run(t, b.press(t, "h"))

			b.run(t, b.press(t, "s"))
			frame("story", `ship\u001b]0;pwned\u0007`)

			b.press(t, "<esc>")
			if w >= splitLayout {
				frame("narratives list and detail", `intent_received\u001b]0;pwned\u0007`, `submit\u0008`,
					`\u001b]8;;https://evil.example/\u001b\docs`)
			}
			b.press(t, "<enter>")
			frame("narratives detail", `received\u001b]52;c;`, `who         agent:\u202etob-esaeler`, `api\u001b[8m`,
				`submit\u0008`, `ab\u001b[2J`, `COMPLETE\u009b`, `• see \u001b]8;;https://evil.example/\u001b\docs`)

			b.run(t, b.command(t, "messages"))
			frame(":messages", `failed: refused\u202eby`, `policy\u001b]52;c;cm0gLXJmIH4=\u0007`)
			b.press(t, "<esc>")

			b.run(t, b.press(t, "5"))
			frame("alerts", `Queue depth\u202e1234`)
			b.run(t, b.press(t, "3"))
			b.press(t, "<enter>")
			frame("chaos scenario", `Kill a kernel\u001b]0;pwned\u0007 and watch\u202e`)
			b.press(t, "<esc>")
			b.press(t, "l")
			b.press(t, "l")
			b.press(t, "<enter>")
			frame("chaos finding", `bus_acl did not fire\u001b[8mfine`, `  - run: \u001b]52;c;cm0gLXJmIH4=\u0007`)
		})
	}
}
