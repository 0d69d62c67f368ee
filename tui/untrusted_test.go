package tui

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/engine/watchdog"
)

// TestPrintable: a character that is not printable is written as an
// escape, JSON's and Go's way; printable Unicode (accents, CJK, emoji and
// their joiners, other scripts' spaces) is kept as it is.
func TestPrintable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"deploy_model", "deploy_model"},
		{evilUnicode + " 👨‍👩‍👧 ✓ │ ▲ · —", evilUnicode + " 👨‍👩‍👧 ✓ │ ▲ · —"},
		{"日本語\u3000テキスト\u00a0x", "日本語\u3000テキスト\u00a0x"},
		{"a\x1b[31mb", `a\u001b[31mb`},
		{evilClip, `\u001b]52;c;cm0gLXJmIH4=\u0007`},
		{evilLink, `\u001b]8;;https://evil.example/\u001b\docs\u001b]8;;\u001b\`},
		{"ok\rno\bx\x7f\ty\nz", `ok\u000dno\u0008x\u007f\u0009y\u000az`},
		{"exe." + evilRLO + "txt", `exe.\u202etxt`},
		{"x" + evilC1 + "31m", `x\u009b31m`},
		{"zero\u200bwidth\ufeff\u2066", `zero\u200bwidth\ufeff\u2066`},
		{"tag\U000e0041", `tag\U000e0041`},
		{"bad\x9b\xffutf8", `bad\x9b\xffutf8`},
	} {
		if got := printable(c.in); got != c.want {
			t.Errorf("printable(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := printable(c.want); got != c.want {
			t.Errorf("printable is not idempotent on %q: %q", c.want, got)
		}
	}
	if got, want := printableLines("line 1\r\nline\t2\x1b[2K\n"), "line 1\nline 2\\u001b[2K\n"; got != want {
		t.Errorf("printableLines = %q, want %q", got, want)
	}
	// The quick look, eight bytes at a time, stops at the first byte that
	// is not printable ASCII wherever it is.
	for b := range 256 {
		for at := range 17 {
			s := []byte(strings.Repeat("a", 17))
			s[at] = byte(b)
			want := 17
			if b < ' ' || b >= 0x7f {
				want = at
			}
			if got := asciiPrefix(string(s)); got != want {
				t.Fatalf("asciiPrefix with %#x at %d = %d, want %d", b, at, got, want)
			}
		}
	}
}

// TestUntrustedCopiesWhatItChanges: the engine's value is left as it was
// (it may be shared), what needs no change is not copied, and every text
// of an intent, however deep, comes out printable.
func TestUntrustedCopiesWhatItChanges(t *testing.T) {
	t.Parallel()
	in := []intent.Intent{evilIntent(), pendingIntent("int_01JPB7Q4Z8XK3M2N5R6T7V8W9A", "deploy_production", "agent:release-bot", time.Minute)}
	before, _ := json.Marshal(in)
	out := untrusted(in)
	if after, _ := json.Marshal(in); string(after) != string(before) {
		t.Fatalf("untrusted changed the engine's value:\n%s\n%s", before, after)
	}
	if &out[0] == &in[0] {
		t.Fatal("untrusted changed nothing")
	}
	clean := untrusted(in[1:])
	if &clean[0] != &in[1] {
		t.Error("a clean value was copied")
	}
	ev := out[0]
	for _, s := range append([]string{ev.Type, ev.Actor, ev.IdempotencyKey, ev.DecidedBy}, ev.Decision.Reasoning...) {
		if printable(s) != s {
			t.Errorf("%q is not printable", s)
		}
	}
	if ev.Actor != `agent:\u202etob-esaeler` || ev.IdempotencyKey != `k\u001b[2J\u001b[H` {
		t.Errorf("actor %q, idempotency key %q", ev.Actor, ev.IdempotencyKey)
	}
	if out[1].Type != "deploy_production" || out[1].Decision.Reasoning[0] != in[1].Decision.Reasoning[0] {
		t.Errorf("a clean intent was changed: %+v", out[1])
	}

	// The payload is the same JSON value, its characters escaped.
	if !json.Valid(ev.Payload) || strings.Contains(string(ev.Payload), evilRLO) || strings.Contains(string(ev.Payload), evilC1) {
		t.Errorf("payload %s", ev.Payload)
	}
	var was, is map[string]any
	if json.Unmarshal(in[0].Payload, &was) != nil || json.Unmarshal(ev.Payload, &is) != nil || fmt.Sprint(was) != fmt.Sprint(is) {
		t.Errorf("the payload's value changed: %v, now %v", was, is)
	}
	// The context's JSON is the agent's, escaped once.
	b, err := json.Marshal(ev.Context)
	if want := `{"nested":{"file":"\u202etxt.exe"},"ticket":"OPS-1\u001b[8mhidden"}`; err != nil || string(b) != want {
		t.Errorf("context JSON %s (%v), want %s", b, err, want)
	}
	if got := fmt.Sprint(ev.Context["ticket"]); got != `OPS-1\u001b[8mhidden` {
		t.Errorf("context value as text %q", got)
	}

	// Text that is not JSON keeps its lines, nothing else.
	raw, changed := printableJSON(json.RawMessage("not\tjson\r\n" + evilClear))
	if want := `not\u0009json\u000d` + "\n" + `\u001b[2J\u001b[H`; !changed || string(raw) != want {
		t.Errorf("printableJSON of text = %q, want %q", raw, want)
	}
	// JSON's own spaces are kept.
	if raw, changed := printableJSON(json.RawMessage("{\r\n\t\"a\": 1\n}")); changed {
		t.Errorf("printableJSON changed JSON spaces: %q", raw)
	}
	// A character past U+FFFF is a pair of JSON escapes.
	raw, _ = printableJSON(json.RawMessage(`{"t":"` + "\U000e0041" + `"}`))
	var tag map[string]string
	if string(raw) != `{"t":"\udb40\udc41"}` || json.Unmarshal(raw, &tag) != nil || tag["t"] != "\U000e0041" {
		t.Errorf("printableJSON past U+FFFF = %s", raw)
	}

	// A pointer's value is copied, not written over.
	p := &in[0]
	if q := untrusted(p); q == p || p.Actor != in[0].Actor || q.Actor != ev.Actor {
		t.Errorf("untrusted of a pointer: %p %p %q", p, q, q.Actor)
	}
}

// TestUntrustedErrorKeepsWhatItIs: an error's message is escaped, its
// lines kept, and errors.Is still sees what it wraps; an error that needs
// nothing is itself.
func TestUntrustedErrorKeepsWhatItIs(t *testing.T) {
	t.Parallel()
	base := fmt.Errorf("get %s: %w", evilID, engine.ErrNotFound)
	if untrustedErr(base) != base || untrustedErr(nil) != nil {
		t.Error("a clean error was replaced")
	}
	joined := errors.Join(errors.New("first"+evilClip), fmt.Errorf("second: %w", engine.ErrNotFound))
	err := untrustedErr(joined)
	if want := `first\u001b]52;c;cm0gLXJmIH4=\u0007` + "\nsecond: " + engine.ErrNotFound.Error(); err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
	if !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("%v does not wrap engine.ErrNotFound any more", err)
	}
	msg := pendingMsg{err: errors.New("x" + evilRLO)}.untrusted().(pendingMsg).err
	if msg == nil || msg.Error() != `x\u202e` {
		t.Errorf("an error field: %v", msg)
	}
}

// TestSafeLine: the last pass over the frame lets the console's colours
// through and writes any other control as an escape.
func TestSafeLine(t *testing.T) {
	t.Parallel()
	own := "\x1b[1;38;2;157;149;255m[2 Approvals]\x1b[0m \x1b[38;5;245m│ ✓ 日本 🚀\x1b[m"
	if got := safeLine(own); got != own {
		t.Errorf("safeLine changed the console's own styles: %q", got)
	}
	in := "\x1b[31mred\x1b[0m" + evilClip + evilTitle + "a\rb\bc" + evilRLO + evilC1 + "\x1b[2J\x1b[" + "\xff"
	want := "\x1b[31mred\x1b[0m" + `\u001b]52;c;cm0gLXJmIH4=\u0007\u001b]0;pwned\u0007a\u000db\u0008c\u202e\u009b\u001b[2J\u001b[\xff`
	if got := safeLine(in); got != want {
		t.Errorf("safeLine(%q)\n = %q\nwant %q", in, got, want)
	}
}

// TestFrameRune: the last pass stops exactly the control, format and
// separator characters (the joiners aside), and lets through all that
// untrusted keeps.
func TestFrameRune(t *testing.T) {
	t.Parallel()
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r == 0x30000 {
			r = 0xe0000 // planes 3 to 13 hold nothing of either kind
		}
		stop := unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) && r != '\u200d' && r != '\u200c'
		if frameRune(r) == stop {
			t.Errorf("frameRune(%U) = %v", r, frameRune(r))
		}
		if shown(r) && !frameRune(r) {
			t.Errorf("%U is kept by untrusted but stopped by the frame's last pass", r)
		}
	}
}

// TestEveryMessageIsCleaned: every message type of the package has an
// untrusted method, so that Update makes what it carries safe to show,
// unless it carries nothing from the engine.
func TestEveryMessageIsCleaned(t *testing.T) {
	t.Parallel()
	carryNothing := []string{"tickMsg", "subscribedMsg", "eventsClosedMsg", "openStoryMsg", "commandLineMsg"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	msgs, cleaned := map[string]bool{}, map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok && strings.HasSuffix(ts.Name.Name, "Msg") {
						msgs[ts.Name.Name] = true
					}
				}
			case *ast.FuncDecl:
				if d.Recv != nil && d.Name.Name == "untrusted" {
					if id, ok := d.Recv.List[0].Type.(*ast.Ident); ok {
						cleaned[id.Name] = true
					}
				}
			}
		}
	}
	if len(msgs) < 10 {
		t.Fatalf("found %d message types: the test does not read the package", len(msgs))
	}
	for name := range msgs {
		if !cleaned[name] && !slices.Contains(carryNothing, name) {
			t.Errorf("%s has no untrusted method: what it carries from the engine would reach the screen as sent", name)
		}
	}
	for _, name := range carryNothing {
		if !msgs[name] || cleaned[name] {
			t.Errorf("%s is listed as carrying nothing from the engine, but is no such message", name)
		}
	}
	for name := range cleaned {
		if !msgs[name] {
			t.Errorf("untrusted is a method of %s, which is no message", name)
		}
	}
}

// dirtyText is what the variants below put in each text of a value.
const dirtyText = "x\x1b]52;c;eA==\x07\u202e"

// textVariant sets one text somewhere in a value of its type (an
// addressable zero value) to dirtyText; path says where.
type textVariant struct {
	path string
	set  func(v reflect.Value)
}

// textVariants are the ways of putting dirtyText in a value of type t:
// one per string, however deep in exported fields, slices, pointers and
// maps, a payload, a JSON value's string and key.
func textVariants(t reflect.Type, path string, depth int) []textVariant {
	if depth > 8 {
		return nil
	}
	var out []textVariant
	switch t.Kind() {
	case reflect.String:
		out = append(out, textVariant{path, func(v reflect.Value) { v.SetString(dirtyText) }})
	case reflect.Interface:
		if t.NumMethod() == 0 {
			out = append(out, textVariant{path, func(v reflect.Value) { v.Set(reflect.ValueOf(dirtyText)) }})
		}
	case reflect.Pointer:
		for _, e := range textVariants(t.Elem(), path, depth+1) {
			out = append(out, textVariant{e.path, func(v reflect.Value) {
				p := reflect.New(t.Elem())
				e.set(p.Elem())
				v.Set(p)
			}})
		}
	case reflect.Slice:
		if t == reflect.TypeFor[json.RawMessage]() {
			out = append(out, textVariant{path, func(v reflect.Value) {
				v.SetBytes([]byte(`{"note":"x` + "\u202e\u009b\U000e0041" + `\u001b[2J"}`))
			}})
			break
		}
		for _, e := range textVariants(t.Elem(), path+"[0]", depth+1) {
			out = append(out, textVariant{e.path, func(v reflect.Value) {
				s := reflect.MakeSlice(t, 1, 1)
				e.set(s.Index(0))
				v.Set(s)
			}})
		}
	case reflect.Map:
		for _, k := range textVariants(t.Key(), path+"{key}", depth+1) {
			out = append(out, textVariant{k.path, func(v reflect.Value) {
				key := reflect.New(t.Key()).Elem()
				k.set(key)
				m := reflect.MakeMap(t)
				m.SetMapIndex(key, reflect.Zero(t.Elem()))
				v.Set(m)
			}})
		}
		for _, e := range textVariants(t.Elem(), path+"{value}", depth+1) {
			out = append(out, textVariant{e.path, func(v reflect.Value) {
				val := reflect.New(t.Elem()).Elem()
				e.set(val)
				m := reflect.MakeMap(t)
				m.SetMapIndex(reflect.Zero(t.Key()), val)
				v.Set(m)
			}})
		}
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			for _, e := range textVariants(f.Type, path+"."+f.Name, depth+1) {
				out = append(out, textVariant{e.path, func(v reflect.Value) { e.set(v.Field(i)) }})
			}
		}
	}
	return out
}

// dirtyAt is where v holds text that is not printable ("" where it holds
// none): a string (a line break allowed in lines), a payload, or a
// JSON value's string as the console writes it.
func dirtyAt(v reflect.Value, path string, lines bool) string {
	bad := func(s string) bool {
		for _, r := range s {
			if !(r == '\n' && lines) && (r == utf8.RuneError || !unicode.IsGraphic(r) && r != '\u200d' && r != '\u200c') {
				return true
			}
		}
		return false
	}
	switch v.Kind() {
	case reflect.String:
		if j, ok := v.Interface().(jsonText); ok {
			b, _ := json.Marshal(j)
			if bad(string(b)) || bad(j.String()) {
				return path
			}
			return ""
		}
		if bad(v.String()) {
			return path
		}
	case reflect.Interface, reflect.Pointer:
		if !v.IsNil() {
			if err, ok := v.Interface().(error); ok && v.Kind() == reflect.Interface {
				if bad(err.Error()) {
					return path
				}
				return ""
			}
			return dirtyAt(v.Elem(), path, lines)
		}
	case reflect.Slice, reflect.Array:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			if bad(string(v.Bytes())) || v.Len() > 0 && !json.Valid(v.Bytes()) {
				return path
			}
			return ""
		}
		for i := range v.Len() {
			if p := dirtyAt(v.Index(i), path+"[i]", lines); p != "" {
				return p
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if p := dirtyAt(it.Key(), path+"{key}", false); p != "" {
				return p
			}
			if p := dirtyAt(it.Value(), path+"{value}", lines); p != "" {
				return p
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				if p := dirtyAt(v.Field(i), path+"."+f.Name, f.Name == "PlaybookYAML"); p != "" {
					return p
				}
			}
		}
	}
	return ""
}

// TestUntrustedCleansEveryText: whichever text of whatever the engine
// sends holds controls (each string of a snapshot, an event, an intent,
// a record, an audit report, the chaos service's answers, an alert, a
// silence),
// untrusted makes it printable and leaves the engine's value as it was;
// intentClean, the quick look at every event's intent, sees each of an
// intent's texts.
func TestUntrustedCleansEveryText(t *testing.T) {
	t.Parallel()
	for _, v := range []any{engine.Snapshot{}, engine.Event{}, intent.Intent{}, clarity.Entry{}, engine.AuditReport{},
		engine.ChaosStatus{}, engine.ChaosScenario{}, engine.ChaosRun{}, engine.ChaosHaltResult{}, watchdog.Alert{}, watchdog.Silence{}} {
		typ := reflect.TypeOf(v)
		variants := textVariants(typ, typ.String(), 0)
		if len(variants) == 0 {
			t.Fatalf("%s: no text found", typ)
		}
		for _, tv := range variants {
			in := reflect.New(typ).Elem()
			tv.set(in)
			if dirtyAt(in, "", false) == "" {
				t.Fatalf("%s: the variant puts nothing to clean", tv.path)
			}
			out, changed := cleanValue(in)
			if !changed {
				t.Errorf("%s: untrusted left %q as it was", tv.path, dirtyText)
				continue
			}
			if p := dirtyAt(out, typ.String(), false); p != "" {
				t.Errorf("%s: untrusted left text that is not printable at %s", tv.path, p)
			}
			if dirtyAt(in, "", false) == "" {
				t.Errorf("%s: untrusted changed the engine's value", tv.path)
			}
			if it, ok := in.Addr().Interface().(*intent.Intent); ok && intentClean(it) {
				t.Errorf("%s: intentClean does not look at it", tv.path)
			}
		}
	}
	for _, it := range append(fixturePending(), fixtureTier1()...) {
		if !intentClean(&it) {
			t.Errorf("intentClean finds %s not clean", it.ID)
		}
	}
}

// TestStatusLineKeepsToOneLine: an error of several lines (errors.Join's,
// whose line breaks untrusted keeps) is one line on the status line, the
// frame keeping its height, and its lines in :messages.
func TestStatusLineKeepsToOneLine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.api.approveErr = errors.Join(errors.New("refused"), errors.New("by the hub"))
	b.run(t, b.press(t, "2", "a", "y"))
	v := b.view()
	checkBounds(t, v, 80, 24)
	if row := statusRow(v); !strings.Contains(row, "failed: refused by the hub") {
		t.Errorf("the status line does not say the error on one line: %q", row)
	}
	b.run(t, b.command(t, "messages"))
	v = b.view()
	checkBounds(t, v, 80, 24)
	if p := strings.Split(ansi.Strip(v), "\n"); !slices.ContainsFunc(p, func(l string) bool {
		return strings.HasSuffix(strings.TrimRight(l, " │"), "failed: refused")
	}) {
		t.Errorf(":messages does not show the error's lines:\n%s", ansi.Strip(v))
	}
}
