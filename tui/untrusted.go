package tui

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
	"grace/engine/intent"
)

// What agents write reaches the operator: an intent's type, actor,
// payload, context and idempotency key, the reasons given for it, the
// records told of it, a handler's error, and the engine's errors that
// quote them. None of it may drive the terminal (an escape sequence that
// moves the cursor, sets the window's title, makes a link or writes the
// clipboard) or disguise what the operator reads (a carriage return or
// backspaces that write over it, a direction override that turns it
// round). So it is made safe where it enters the console: Update passes
// every message through untrusted (below) before any screen keeps or
// draws what it carries, and a character that is not printable is written
// as an escape (\u001b, \u202e), so the operator sees that something odd
// was sent. The console's own styles are added after, when drawing, and
// the layout measures the escaped text; View's last pass (safeLine) lets
// no escape sequence but the console's colours reach the terminal, should
// anything come in another way.

// fromEngine is a message carrying what the engine (or a remote server)
// answered: untrusted returns it with every text of the answer, and the
// error, made safe to show. What the console asked (an intent's ID, a
// command's words) comes back as it was sent, to be matched with the
// request. Every message type of the package is one unless it carries
// nothing from the engine (TestEveryMessageIsCleaned).
type fromEngine interface{ untrusted() tea.Msg }

func (m snapshotMsg) untrusted() tea.Msg {
	m.snap, m.err = untrusted(m.snap), untrustedErr(m.err)
	return m
}

func (m eventsMsg) untrusted() tea.Msg {
	m.events = untrusted(m.events)
	return m
}

func (m pendingMsg) untrusted() tea.Msg {
	m.items, m.err = untrusted(m.items), untrustedErr(m.err)
	return m
}

func (m reviewMsg) untrusted() tea.Msg {
	m.items, m.err = untrusted(m.items), untrustedErr(m.err)
	return m
}

func (m searchMsg) untrusted() tea.Msg {
	m.entries, m.err = untrusted(m.entries), untrustedErr(m.err)
	return m
}

func (m storyMsg) untrusted() tea.Msg {
	m.intent, m.entries, m.err = untrusted(m.intent), untrusted(m.entries), untrustedErr(m.err)
	return m
}

func (m verifyMsg) untrusted() tea.Msg {
	m.rep, m.err = untrusted(m.rep), untrustedErr(m.err)
	return m
}

func (m decidedMsg) untrusted() tea.Msg {
	m.intent, m.err = untrusted(m.intent), untrustedErr(m.err)
	return m
}

func (m intentCheckedMsg) untrusted() tea.Msg {
	m.intent, m.err = untrusted(m.intent), untrustedErr(m.err)
	return m
}

func (m schedulerMsg) untrusted() tea.Msg {
	m.err = untrustedErr(m.err)
	return m
}

func (m chaosStatusMsg) untrusted() tea.Msg {
	m.status, m.err = untrusted(m.status), untrustedErr(m.err)
	return m
}

func (m chaosScenariosMsg) untrusted() tea.Msg {
	m.items, m.err = untrusted(m.items), untrustedErr(m.err)
	return m
}

func (m chaosHistoryMsg) untrusted() tea.Msg {
	m.runs, m.err = untrusted(m.runs), untrustedErr(m.err)
	return m
}

func (m chaosStartedMsg) untrusted() tea.Msg {
	m.run, m.err = untrusted(m.run), untrustedErr(m.err)
	return m
}

func (m chaosRunMsg) untrusted() tea.Msg {
	m.run, m.err = untrusted(m.run), untrustedErr(m.err)
	return m
}

func (m chaosHaltedMsg) untrusted() tea.Msg {
	m.res, m.err = untrusted(m.res), untrustedErr(m.err)
	return m
}

func (m alertHistoryMsg) untrusted() tea.Msg {
	m.alerts, m.err = untrusted(m.alerts), untrustedErr(m.err)
	return m
}

func (m silencesMsg) untrusted() tea.Msg {
	m.items, m.err = untrusted(m.items), untrustedErr(m.err)
	return m
}

func (m silencedMsg) untrusted() tea.Msg {
	m.s, m.err = untrusted(m.s), untrustedErr(m.err)
	return m
}

func (m silenceEndedMsg) untrusted() tea.Msg {
	m.s, m.err = untrusted(m.s), untrustedErr(m.err)
	return m
}

// shown reports whether r is written to the terminal as itself: a
// printable character (letters, marks, digits, punctuation, symbols:
// accents, CJK and emoji among them), a space, or a zero-width joiner or
// non-joiner (within an emoji sequence, or a word of the scripts that
// need them). Control characters, format characters (direction
// overrides, zero-width spaces), line and paragraph separators, private
// use and unassigned code points are not.
func shown(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= ' ' && r < 0x7f
	}
	return unicode.IsGraphic(r) || r == '\u200d' || r == '\u200c'
}

// clean reports whether every character of s is shown as itself (see
// shown); bytes that are not UTF-8 are not.
func clean(s string) bool {
	i := asciiPrefix(s)
	return i == len(s) || s[i] >= utf8.RuneSelf && cleanRunes(s[i:])
}

// asciiPrefix is how many bytes s begins with that are printable ASCII
// (' ' to '~'): most of what the engine sends is, and every event is
// read, so it is read eight bytes at a time.
func asciiPrefix[T ~string | ~[]byte](s T) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// A byte below ' ' borrows its high bit in; one from 0x7f up has it
		// set, or gets it from the 1 added.
		if ((x-' '*ones)&^x|(x+ones)|x)&highs != 0 {
			break
		}
	}
	for i < len(s) && s[i]-' ' < 0x7f-' ' {
		i++
	}
	return i
}

// cleanRunes is clean past ASCII.
func cleanRunes(s string) bool {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c-' ' >= 0x7f-' ' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || !shown(r) {
			return false
		}
		i += n
	}
	return true
}

// printable is s with every character that is not shown as itself written
// as an escape, as JSON and Go write them: "\u001b", "\u202e",
// "\U000e0001"; a byte that is not UTF-8 as "\x9b". The rest is kept as it
// is.
func printable(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x` + pad(strconv.FormatUint(uint64(s[i]), 16), 2))
		case shown(r):
			b.WriteString(s[i : i+n])
		case r > 0xffff:
			b.WriteString(`\U` + pad(strconv.FormatInt(int64(r), 16), 8))
		default:
			b.WriteString(`\u` + pad(strconv.FormatInt(int64(r), 16), 4))
		}
		i += n
	}
	return b.String()
}

// printableLines is printable for text whose lines mean something (an
// error's message): its line breaks are kept, a "\r" ending a line goes
// and a tab is a space; anything else that is not printable is escaped.
func printableLines(s string) string {
	if clean(s) {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = printable(strings.ReplaceAll(strings.TrimSuffix(l, "\r"), "\t", " "))
	}
	return strings.Join(lines, "\n")
}

// pad puts zeros before s up to n characters.
func pad(s string, n int) string {
	return strings.Repeat("0", max(n-len(s), 0)) + s
}

// printableJSON is the JSON text raw (a payload) with every character
// that is not shown as itself written as a JSON escape ("\u202e", a pair
// of surrogates past U+FFFF, "\ufffd" for a byte that is not UTF-8), so
// that it still reads as the same JSON value. Tabs, carriage returns and
// line breaks are kept where they can only be spaces between the values
// (raw is valid JSON); in text that is not JSON, line breaks alone are.
func printableJSON(raw json.RawMessage) (json.RawMessage, bool) {
	ok, spaces := true, false
	for i := asciiPrefix(raw); i < len(raw) && ok; i += asciiPrefix(raw[i:]) {
		c := raw[i]
		switch {
		case c == '\n':
			i++
		case c == '\t' || c == '\r':
			spaces = true
			i++
		case c < utf8.RuneSelf:
			ok = false
		default:
			r, n := utf8.DecodeRune(raw[i:])
			ok = (r != utf8.RuneError || n > 1) && shown(r)
			i += n
		}
	}
	valid := spaces || !ok
	if valid {
		valid = json.Valid(raw)
	}
	if ok && (!spaces || valid) {
		return raw, false
	}
	var b bytes.Buffer
	b.Grow(len(raw) + 16)
	u := func(r rune) { b.WriteString(`\u` + pad(strconv.FormatInt(int64(r), 16), 4)) }
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRune(raw[i:])
		switch {
		case r == '\n' || valid && (r == '\t' || r == '\r'):
			b.WriteRune(r)
		case r == utf8.RuneError && n == 1:
			u(utf8.RuneError)
		case shown(r):
			b.Write(raw[i : i+n])
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			u(r1)
			u(r2)
		default:
			u(r)
		}
		i += n
	}
	return b.Bytes(), true
}

// jsonText is a string an agent wrote inside a JSON value of the engine's
// (an intent's or a record's context) that holds a character not shown as
// itself. It keeps the string as sent, so that the JSON the console
// writes of it is the agent's, with that character escaped (json.Marshal
// would write some, such as U+202E, as they are); as text it is
// printable's.
type jsonText string

// MarshalJSON writes s as a JSON string whose every character is shown
// as itself.
func (s jsonText) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(string(s))
	if err != nil {
		return nil, err
	}
	safe, _ := printableJSON(b)
	return safe, nil
}

// String is s with its characters that are not printable escaped.
func (s jsonText) String() string { return printable(string(s)) }

// untrustedError is an error whose message held characters that are not
// printable: its message escapes them (see printableLines). errors.Is
// and errors.As see the error it stands for.
type untrustedError struct {
	text string
	err  error
}

func (e *untrustedError) Error() string { return e.text }
func (e *untrustedError) Unwrap() error { return e.err }

// untrustedErr is err with its message safe to show: err itself when it
// already is.
func untrustedErr(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if text := printableLines(msg); text != msg {
		return &untrustedError{text: text, err: err}
	}
	return err
}

// untrusted returns v with every text it holds safe to show: each string
// (of any string type, however deep in structs, slices, maps and
// pointers: exported fields) through printable, a json.RawMessage through
// printableJSON, a string inside an interface value (a context's JSON) as
// a jsonText, an error through untrustedErr. What changes is copied; v and
// what it points to are left as they were, since the engine may share
// them. Most values need no change: they cost one read, without
// allocating.
func untrusted[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	if nv, changed := cleanValue(rv); changed {
		return nv.Interface().(T)
	}
	return v
}

// multiLine names the string field of an engine type whose text is lines
// (a playbook's YAML): its line breaks are kept, as printableLines keeps
// an error's, for the view to show them as lines. Elsewhere a line break
// is escaped like any control character, so that no text can take more
// lines than the layout gave it.
var multiLine = map[reflect.Type]string{
	reflect.TypeFor[engine.ChaosFinding](): "PlaybookYAML",
}

var (
	errorType   = reflect.TypeFor[error]()
	rawJSONType = reflect.TypeFor[json.RawMessage]()
	stringType  = reflect.TypeFor[string]()
	jsonMapType = reflect.TypeFor[map[string]any]()
	intentType  = reflect.TypeFor[intent.Intent]()
	timeType    = reflect.TypeFor[time.Time]()
	// textTypes caches what holdsText found of each composite type
	// (consoles run side by side in tests).
	textTypes sync.Map // reflect.Type → *textType
)

// textType is what untrusted knows of a composite type: whether its
// values may hold text, and for a struct which fields may.
type textType struct {
	has    bool
	fields []textField
}

// textField is a struct's field that may hold text; lines says its line
// breaks are kept (multiLine).
type textField struct {
	index int
	lines bool
}

// holdsText reports whether a value of type t may hold text untrusted
// cleans: counts, flags and times are passed over without a look.
func holdsText(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Interface:
		return true
	case reflect.Slice, reflect.Array, reflect.Pointer, reflect.Map, reflect.Struct:
		return textOf(t).has
	}
	return false
}

// textOf is what untrusted knows of composite type t, found once.
func textOf(t reflect.Type) *textType {
	if v, ok := textTypes.Load(t); ok {
		return v.(*textType)
	}
	// A type that holds itself is taken to hold text while it is looked at.
	textTypes.Store(t, &textType{has: true})
	tt := &textType{}
	switch t.Kind() {
	case reflect.Slice:
		tt.has = t == rawJSONType || t.Elem().Kind() != reflect.Uint8 && holdsText(t.Elem())
	case reflect.Array, reflect.Pointer:
		tt.has = holdsText(t.Elem())
	case reflect.Map:
		tt.has = holdsText(t.Key()) || holdsText(t.Elem())
	case reflect.Struct:
		if t == timeType {
			break
		}
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && holdsText(f.Type) {
				tt.fields = append(tt.fields, textField{index: i, lines: multiLine[t] == f.Name && f.Type.Kind() == reflect.String})
			}
		}
		tt.has = len(tt.fields) > 0
	}
	textTypes.Store(t, tt)
	return tt
}

// cleanValue is untrusted for one value: it returns the value to use and
// whether it differs from v.
func cleanValue(v reflect.Value) (reflect.Value, bool) {
	t := v.Type()
	switch t.Kind() {
	case reflect.String:
		s := v.String()
		if clean(s) {
			return v, false
		}
		nv := reflect.New(t).Elem()
		nv.SetString(printable(s))
		return nv, true
	case reflect.Interface:
		if v.IsNil() {
			return v, false
		}
		var nv reflect.Value
		switch e := v.Elem(); {
		case t == errorType:
			err := v.Interface().(error)
			safe := untrustedErr(err)
			if safe == err {
				return v, false
			}
			nv = reflect.ValueOf(safe)
		case e.Type() == stringType:
			// A string of a decoded JSON value (a context's).
			if clean(e.String()) {
				return v, false
			}
			nv = reflect.ValueOf(jsonText(e.String()))
		default:
			var changed bool
			if nv, changed = cleanValue(e); !changed {
				return v, false
			}
		}
		out := reflect.New(t).Elem()
		out.Set(nv)
		return out, true
	case reflect.Pointer:
		if v.IsNil() || !holdsText(t) {
			return v, false
		}
		e, changed := cleanValue(v.Elem())
		if !changed {
			return v, false
		}
		p := reflect.New(t.Elem())
		p.Elem().Set(e)
		return p, true
	case reflect.Slice:
		if v.Len() == 0 {
			return v, false
		}
		if t == rawJSONType {
			raw, changed := printableJSON(v.Bytes())
			if !changed {
				return v, false
			}
			return reflect.ValueOf(raw).Convert(t), true
		}
		if !holdsText(t) {
			return v, false
		}
		var out reflect.Value
		for i := range v.Len() {
			e, changed := cleanValue(v.Index(i))
			if !changed {
				continue
			}
			if !out.IsValid() {
				out = reflect.MakeSlice(t, v.Len(), v.Len())
				reflect.Copy(out, v)
			}
			out.Index(i).Set(e)
		}
		return out, out.IsValid()
	case reflect.Array:
		if !holdsText(t) {
			return v, false
		}
		var out reflect.Value
		for i := range v.Len() {
			e, changed := cleanValue(v.Index(i))
			if !changed {
				continue
			}
			if !out.IsValid() {
				out = reflect.New(t).Elem()
				out.Set(v)
			}
			out.Index(i).Set(e)
		}
		return out, out.IsValid()
	case reflect.Map:
		if v.Len() == 0 || !holdsText(t) || t == jsonMapType && jsonClean(v.Interface()) {
			return v, false
		}
		changed := false
		type kv struct{ k, v reflect.Value }
		entries := make([]kv, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			k, kc := cleanValue(it.Key())
			e, ec := cleanValue(it.Value())
			changed = changed || kc || ec
			entries = append(entries, kv{k, e})
		}
		if !changed {
			return v, false
		}
		out := reflect.MakeMapWithSize(t, len(entries))
		for _, e := range entries {
			out.SetMapIndex(e.k, e.v)
		}
		return out, true
	case reflect.Struct:
		if t == intentType && v.CanAddr() && intentClean(v.Addr().Interface().(*intent.Intent)) {
			return v, false
		}
		var out reflect.Value
		for _, tf := range textOf(t).fields {
			fv := v.Field(tf.index)
			f, changed := cleanValue(fv)
			if changed && tf.lines {
				text := fv.String()
				lines := printableLines(text)
				f, changed = reflect.ValueOf(lines).Convert(fv.Type()), lines != text
			}
			if !changed {
				continue
			}
			if !out.IsValid() {
				out = reflect.New(t).Elem()
				out.Set(v)
			}
			out.Field(tf.index).Set(f)
		}
		return out, out.IsValid()
	}
	return v, false
}

// intentClean reports whether it holds no text untrusted would change,
// without reflection: an intent comes with every event, and events come
// by the thousand a second. TestUntrustedCleansEveryText keeps it in step
// with intent.Intent.
func intentClean(it *intent.Intent) bool {
	for _, s := range [...]string{it.ID, it.Type, it.Actor, it.IdempotencyKey, string(it.State), it.LastError,
		it.Worker, it.DecidedBy, it.DecisionReason, it.Decision.RoutedTo} {
		if !clean(s) {
			return false
		}
	}
	for _, r := range it.Decision.Reasoning {
		if !clean(r) {
			return false
		}
	}
	for _, v := range it.Decision.Votes {
		if !clean(v.Voter) || !clean(v.Reason) {
			return false
		}
	}
	if _, changed := printableJSON(it.Payload); changed {
		return false
	}
	return jsonClean(it.Context)
}

// jsonClean reports whether x, a decoded JSON value, holds no text that
// is not printable, without reflection: a context is on every intent.
// A value of another kind is not known to be clean.
func jsonClean(x any) bool {
	switch x := x.(type) {
	case nil, bool, float64, int, int64, json.Number:
		return true
	case string:
		return clean(x)
	case map[string]any:
		for k, v := range x {
			if !clean(k) || !jsonClean(v) {
				return false
			}
		}
		return true
	case []any:
		for _, v := range x {
			if !jsonClean(v) {
				return false
			}
		}
		return true
	}
	return false
}

// safeLine is a line of the frame as it may go to the terminal: the
// console's colours (SGR sequences, "\x1b[…m") pass, and any other
// escape sequence, control or format character is written as an escape,
// as printable writes it. Text is made safe where it enters the console
// (untrusted), so this changes nothing unless something came in another
// way; it costs one read of the line.
func safeLine(l string) string {
	for i := asciiPrefix(l); i < len(l); i += asciiPrefix(l[i:]) {
		n, ok := frameChar(l[i:])
		if !ok {
			return escapeFrame(l)
		}
		i += n
	}
	return l
}

// frameChar measures the character or SGR sequence s begins with, and
// whether it may go to the terminal as it is.
func frameChar(s string) (n int, ok bool) {
	c := s[0]
	switch {
	case c == 0x1b:
		if n := sgrLen(s); n > 0 {
			return n, true
		}
		return 1, false
	case c < ' ' || c == 0x7f:
		return 1, false
	case c < utf8.RuneSelf:
		return 1, true
	}
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && n == 1 {
		return 1, false
	}
	return n, frameRune(r)
}

// frameRune reports whether r may go to the terminal as itself: anything
// but the control and format characters and the line and paragraph
// separators (the zero-width joiners aside). It is looser than shown
// (private use and unassigned code points pass), and quick on the
// console's own box drawing and symbols.
func frameRune(r rune) bool {
	switch {
	case r < 0xa0:
		return r >= ' ' && r < 0x7f
	case r < 0x600:
		return r != '\u00ad'
	case r >= 0x2010 && r < 0x2028, r >= 0x2030 && r < 0x2060, r >= 0x2070 && r < 0xfeff:
		return true // no control, format or separator character here
	}
	return r == '\u200d' || r == '\u200c' || !unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}

// sgrLen is the length of the SGR sequence ("\x1b[1;38;2;90;79;207m") s
// begins with, 0 when it begins with none.
func sgrLen(s string) int {
	if len(s) < 3 || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s) && i < 64; i++ {
		switch c := s[i]; {
		case c == 'm':
			return i + 1
		case c >= '0' && c <= '9' || c == ';' || c == ':':
		default:
			return 0
		}
	}
	return 0
}

// escapeFrame is safeLine's slow path: l with what may not go to the
// terminal escaped.
func escapeFrame(l string) string {
	var b strings.Builder
	b.Grow(len(l) + 16)
	for i := 0; i < len(l); {
		n, ok := frameChar(l[i:])
		switch {
		case ok:
			b.WriteString(l[i : i+n])
		default:
			b.WriteString(printable(l[i : i+n]))
		}
		i += n
	}
	return b.String()
}
