package tui

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"grace/engine/intent"
)

// The approval popup shows what the intent will do, its payload, as the
// engine sent it: masked fields arrive as "[masked]" and are shown so. It is
// a glance, not the whole record: what does not fit the popup is left to
// the Approvals screen's detail, and the popup says how much.

// payloadCache keeps the popup's payload lines for the intent on show, so
// that drawing the frame again does not parse the payload again.
type payloadCache struct {
	id     string
	w      int
	groups [][]string
}

// lines returns it's payload laid out in w cells, a group of lines per
// field of an object (see payloadGroups).
func (c *payloadCache) lines(it intent.Intent, w int) payloadLayout {
	if c.id != it.ID || c.w != w || c.groups == nil {
		c.id, c.w, c.groups = it.ID, w, payloadGroups(it.Payload, w)
	}
	return payloadLayout{groups: c.groups, w: max(w, 1)}
}

// payloadLayout is a payload laid out in w cells: a group of lines per
// field of an object payload, a group per line of any other.
type payloadLayout struct {
	groups [][]string
	w      int
}

// payloadLines lays a payload out in lines of at most w cells (see
// payloadGroups).
func payloadLines(raw json.RawMessage, w int) []string {
	return slices.Concat(payloadGroups(raw, w)...)
}

// payloadGroups lays a payload out in lines of at most w cells. A JSON
// object is one "key = value" group of lines per field, in the payload's own order,
// the keys aligned and each value compact JSON wrapped under its key (a
// string keeps its quotes: "10" is not 10). Anything else is indented JSON,
// or the raw text when it is not JSON. No payload is empty of lines: none
// at all is "—". Characters that are not printable (escape sequences,
// bidirectional overrides) are written as \u escapes, so that a payload
// can neither drive the terminal nor disguise what it says.
func payloadGroups(raw json.RawMessage, w int) [][]string {
	w = max(w, 1)
	if len(bytes.TrimSpace(raw)) == 0 {
		return [][]string{{"—"}}
	}
	if fields, ok := payloadFields(raw); ok {
		if len(fields) == 0 {
			return [][]string{{"{}"}}
		}
		return fieldLines(fields, w)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	var out [][]string
	for _, l := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		for _, part := range wrapUnder(printable(strings.TrimRight(l, "\r")), w) {
			out = append(out, []string{part})
		}
	}
	return out
}

// payloadField is one field of an object payload: its key, and its value
// as compact JSON.
type payloadField struct{ key, value string }

// payloadFields reads a JSON object's fields in order; ok is false when raw
// is not one JSON object.
func payloadFields(raw []byte) (fields []payloadField, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return nil, false
		}
		fields = append(fields, payloadField{key: k, value: buf.String()})
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return fields, true
}

// fieldLines lays fields out as "key = value" lines of w cells, a group
// of lines per field.
func fieldLines(fields []payloadField, w int) [][]string {
	keys := make([]string, len(fields))
	kw := 0
	for i, f := range fields {
		keys[i] = payloadKey(f.key)
		kw = max(kw, ansi.StringWidth(keys[i]))
	}
	kw = min(kw, max(w/3, 4)) // a longer key is cut, its value keeps the room
	valW := w - kw - 3
	out := make([][]string, len(fields))
	for i, f := range fields {
		value := printable(f.value)
		if valW < 8 {
			out[i] = wrapUnder(keys[i]+" = "+value, w)
			continue
		}
		head := fit(keys[i], kw) + " = "
		for j, part := range strings.Split(ansi.Wrap(value, valW, ","), "\n") {
			if j > 0 {
				head = strings.Repeat(" ", kw+3)
			}
			out[i] = append(out[i], head+part)
		}
	}
	return out
}

// fieldLinesMax bounds the lines a field's value keeps when the popup
// cannot show every field even in one line each.
const fieldLinesMax = 4

// capLines keeps the first n of a value's lines (of w cells); the last
// one kept ends saying how many were left out.
func capLines(lines []string, n, w int) []string {
	hidden := len(lines) - n
	if hidden <= 0 {
		return lines
	}
	lines = slices.Clone(lines[:n])
	more := "…(+" + plural(hidden, "line") + ")"
	lines[n-1] = ansi.Truncate(lines[n-1], max(w-ansi.StringWidth(more), 0), "") + more
	return lines
}

// payloadKey is how a key is written: bare when it is plain, quoted (with
// escapes) when it is empty or holds a space, "=" or a character that is
// not printable, so that every key reads as exactly what it is.
func payloadKey(k string) string {
	if k == "" || strings.ContainsAny(k, " =\"") || printable(k) != k {
		return strconv.Quote(k)
	}
	return k
}

// wrapUnder wraps line l to w cells, its continuation lines indented two
// cells under the line's own indentation.
func wrapUnder(l string, w int) []string {
	if ansi.StringWidth(l) <= w || w < 8 {
		return []string{l}
	}
	body := strings.TrimLeft(l, " ")
	// Nesting deeper than half the width starts at half the width too:
	// indented further, the line would show nothing but "…".
	lead := min(len(l)-len(body), w/2)
	ind := strings.Repeat(" ", min(lead+2, w/2))
	var out []string
	for i, part := range strings.Split(ansi.Wrap(body, w-len(ind), " ,"), "\n") {
		if i == 0 {
			out = append(out, l[:lead]+part)
			continue
		}
		out = append(out, ind+part)
	}
	return out
}

// payloadRows are the popup's payload rows, at most n (at least one).
// When the lines do not all fit, the fields' values are cut to as many
// lines each as lets every field show (a huge first field would otherwise
// push the others out of the popup), each cut value saying how many lines
// it leaves out. When not even that fits, values keep at most
// fieldLinesMax lines, and the last row says how many more lines there are
// and that the Approvals screen (its key approvalsKey) shows them whole.
func payloadRows(p payloadLayout, n int, approvalsKey string) (rows []string, cut bool) {
	n = max(n, 1)
	lines := slices.Concat(p.groups...)
	if len(lines) <= n {
		return lines, false
	}
	capped := func(c int) []string {
		var out []string
		for _, g := range p.groups {
			out = append(out, capLines(g, c, p.w)...)
		}
		return out
	}
	for c := n; c >= 1 && len(p.groups) <= n; c-- { // the most lines a value may keep with every field shown
		total := 0
		for _, g := range p.groups {
			total += min(len(g), c)
		}
		if total <= n {
			return capped(c), false
		}
	}
	lines = capped(fieldLinesMax)
	if len(lines) <= n {
		return lines, false
	}
	rows = slices.Clone(lines[:n-1])
	what := plural(len(lines)-len(rows), "more line")
	if len(rows) == 0 {
		what = plural(len(lines), "line")
	}
	return append(rows, "… "+what+": see Approvals ("+approvalsKey+")"), true
}
