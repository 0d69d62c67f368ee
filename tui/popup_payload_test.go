package tui

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"grace/engine"
	"grace/engine/intent"
)

// arriveWith delivers a Tier 0 arrival carrying payload.
func (b *testBundle) arriveWith(t *testing.T, id, payload string) {
	t.Helper()
	it := pendingIntent(id, "grant_permissions", "agent:steward", time.Minute)
	it.Payload = json.RawMessage(payload)
	b.run(t, b.send(eventsMsg{events: []engine.Event{{Kind: "intent", Intent: it}}}))
}

// TestPopupShowsPayload: the operator approves from the popup, so it shows
// what the intent will do, its payload, a field a line in the payload's
// own order, beside the reasons and above the keys that decide.
func TestPopupShowsPayload(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.arrive(t, "int_01JPBNEW0000000000000000AA")
	raw := b.view()
	checkBounds(t, raw, 80, 24)
	v := ansi.Strip(raw)
	want := []string{
		`payload    service = "billing-api"`,
		`           version = "2.14.0"`,
		`           regions = ["eu-west-1","us-east-1"]`,
		`           canary  = {"percent":10,"minutes":15}`,
		"a approve · d deny · esc later",
	}
	for _, w := range want {
		if !strings.Contains(v, w) {
			t.Errorf("the popup lacks %q:\n%s", w, v)
		}
	}
	if strings.Index(v, "service =") > strings.Index(v, "canary  =") {
		t.Errorf("the payload's fields are not in its own order:\n%s", v)
	}
	if strings.Contains(v, "see Approvals") {
		t.Errorf("a payload that fits is said to be cut:\n%s", v)
	}
}

// TestPopupCutsLongPayloadToFit: a payload longer than the popup has room
// for is cut, never the popup's facts or its keys, and the last line says
// how much more there is and where it is shown whole, at 80×24, a short
// terminal and a large one. A long value wraps under its key.
func TestPopupCutsLongPayloadToFit(t *testing.T) {
	t.Parallel()
	var fields []string
	fields = append(fields, `"command":"rotate every credential of the billing service, then restart all of its pods one region at a time"`)
	for i := 1; i <= 40; i++ {
		fields = append(fields, fmt.Sprintf(`"field_%02d":%d`, i, i))
	}
	payload := "{" + strings.Join(fields, ",") + "}"
	more := regexp.MustCompile(`… (\d+) more lines: see Approvals \(2\)`)
	for _, size := range [][2]int{{80, 24}, {80, 16}, {100, 30}, {160, 48}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			b.arriveWith(t, "int_01JPBNEW0000000000000000AB", payload)
			raw := b.view()
			checkBounds(t, raw, size[0], size[1])
			v := ansi.Strip(raw)
			for _, w := range []string{"int_01JPBNEW0000000000000000AB", "payload    command  = \"rotate", "a approve · d deny"} {
				if !strings.Contains(v, w) {
					t.Errorf("the popup lacks %q:\n%s", w, v)
				}
			}
			if strings.Contains(v, "field_40") {
				t.Errorf("all 41 fields shown: the popup has no room for them:\n%s", v)
			}
			m := more.FindStringSubmatch(v)
			if m == nil {
				t.Fatalf("the cut payload does not say how much more there is and where:\n%s", v)
			}
			// What is shown and what is said to be left make the whole.
			shown := len(regexp.MustCompile(`field_\d\d = `).FindAllString(v, -1))
			commandLines := 0
			for _, frag := range []string{`"rotate every`, "restart all", `region at a time"`} {
				if strings.Contains(v, frag) {
					commandLines++
				}
			}
			left, _ := strconv.Atoi(m[1])
			if shown+commandLines+left != 40+3 {
				t.Errorf("%d field lines and %d of the command's 3 shown, %d said to be left: want 43 in all:\n%s", shown, commandLines, left, v)
			}
			if size[1] >= 24 && commandLines != 3 {
				t.Errorf("the long command is not wrapped whole under its key:\n%s", v)
			}
		})
	}
}

// TestPopupPayloadAsSent: the payload is shown as the engine sent it,
// masked values masked, and nothing in it reaches the terminal as a
// control character or a direction override: those are written as
// escapes. A payload that is not an object is shown as indented JSON.
func TestPopupPayloadAsSent(t *testing.T) {
	t.Parallel()
	t.Run("object", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.arriveWith(t, "int_01JPBNEW0000000000000000AC",
			`{"user":"bob","password":"[masked]","note":"ok\u001b[2J","lbl":"a`+"\u202e"+`b","c1":"x`+"\u009b"+`31m"}`)
		raw := b.view()
		for _, bad := range []string{"\x1b", "\u202e", "\u009b"} {
			if strings.Contains(raw, bad) {
				t.Errorf("the popup sends %q from the payload to the terminal", bad)
			}
		}
		v := ansi.Strip(raw)
		for _, w := range []string{`password = "[masked]"`, `note     = "ok\u001b[2J"`, `lbl      = "a\u202eb"`, `c1       = "x\u009b31m"`} {
			if !strings.Contains(v, w) {
				t.Errorf("the popup lacks %q:\n%s", w, v)
			}
		}
	})
	t.Run("array", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.arriveWith(t, "int_01JPBNEW0000000000000000AD", `["eu-west-1","us-east-1"]`)
		v := ansi.Strip(b.view())
		for _, w := range []string{"payload    [", `             "eu-west-1",`, `             "us-east-1"`} {
			if !strings.Contains(v, w) {
				t.Errorf("the popup lacks %q:\n%s", w, v)
			}
		}
	})
}

// TestDeepPayloadStaysInSight: a payload nested deeper than half the
// width is shown with its deeper lines starting at half the width, in
// the Approvals detail and in the popup (a payload that is not one
// object), so that no line is wider than its room (cut to "…", it showed
// nothing) and its deepest value can be read.
func TestDeepPayloadStaysInSight(t *testing.T) {
	t.Parallel()
	const w = 74
	deepObject := strings.Repeat(`{"k":`, 60) + `{"leaf":"leafvalue"}` + strings.Repeat("}", 60)
	deepArray := strings.Repeat("[", 60) + `"leafvalue"` + strings.Repeat("]", 60)
	var pc prettyCache
	for name, lines := range map[string][]string{
		"detail": pc.lines(intent.Intent{ID: "int_deep", Payload: json.RawMessage(deepObject)}, w),
		"popup":  payloadLines(json.RawMessage(deepArray), w),
	} {
		found := false
		for _, l := range lines {
			if lw := ansi.StringWidth(l); lw > w {
				t.Errorf("%s: a line of %d cells in %d: %q", name, lw, w, l)
			}
			found = found || strings.Contains(l, `"leafvalue"`)
		}
		if !found {
			t.Errorf("%s: the deepest value is not in sight:\n%s", name, strings.Join(lines, "\n"))
		}
	}
}

// TestPopupHugeFieldLeavesRoomForTheOthers: a payload whose first field is
// huge (a 60 KB script) showed nothing but that field, the others left to
// the Approvals screen: a value takes at most a few lines, says how many
// it leaves out, and the fields after it stay in the popup.
func TestPopupHugeFieldLeavesRoomForTheOthers(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("rm -rf /srv/cache/shard; ", 2500)
	payload := `{"script":"` + huge + `","target":"billing-db","region":"eu-west-1","dry_run":false}`
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			b.arriveWith(t, "int_01JPBNEW0000000000000000AC", payload)
			raw := b.view()
			checkBounds(t, raw, size[0], size[1])
			v := ansi.Strip(raw)
			for _, w := range []string{`target  = "billing-db"`, `region  = "eu-west-1"`, `dry_run = false`, "a approve · d deny"} {
				if !strings.Contains(v, w) {
					t.Errorf("the popup lacks %q:\n%s", w, v)
				}
			}
			if !regexp.MustCompile(`…\(\+[\d,]+ lines\)`).MatchString(v) {
				t.Errorf("the cut value does not say how much of it is left out:\n%s", v)
			}
		})
	}
}
