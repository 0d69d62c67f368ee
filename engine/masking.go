package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// MaskedValue replaces the value of a masked field wherever an intent is
// shown: in records, in the operator API's answers and in events.
const MaskedValue = "[masked]"

// masker hides the values of the fields named by masking.fields. The store
// keeps the real values and handlers receive them; everything built for
// people to read (records, Get, List, Pending, events, decision answers)
// goes through the masker. It is immutable and safe for concurrent use.
type masker struct {
	// names are key names masked at any depth, in normal form (maskName):
	// "API-Key" and "api.key" are the key api_key names.
	names map[string]bool
	// pointers are parsed JSON pointers, each starting with "payload" or
	// "context".
	pointers [][]string
	// needles are lower-cased key names (and each pointer's pointerKey)
	// for the fast path: a payload holding none of them (a '_' in a
	// needle standing for any separator), and no escaped or non-ASCII
	// characters, has nothing to mask.
	needles [][]byte
}

// newMasker builds the masker for masking.fields; validateMasking has
// checked the fields.
func newMasker(fields []string) *masker {
	m := &masker{names: map[string]bool{}}
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if strings.HasPrefix(f, "/") {
			toks, err := parsePointer(f)
			if err != nil || len(toks) < 2 {
				continue
			}
			m.pointers = append(m.pointers, toks)
			m.needles = append(m.needles, []byte(strings.ToLower(pointerKey(toks))))
			continue
		}
		if n := maskName(f); n != "" {
			m.names[n] = true
			m.needles = append(m.needles, []byte(n))
		}
	}
	return m
}

// validateMasking checks masking.fields: key names and JSON pointers
// rooted at /payload or /context.
func validateMasking(fields []string) []error {
	var v problems
	for i, f := range fields {
		key := fmt.Sprintf("masking.fields[%d]", i)
		f = strings.TrimSpace(f)
		switch {
		case f == "":
			v.add("%s is empty; name a key (password) or a JSON pointer (/payload/db/password)", key)
		case !strings.HasPrefix(f, "/") && maskName(f) == "":
			v.add("%s (%q) is only separators; name a key (password) or a JSON pointer (/payload/db/password)", key, f)
		case strings.HasPrefix(f, "/"):
			toks, err := parsePointer(f)
			switch {
			case err != nil:
				v.add("%s (%q): %v", key, f, err)
			case len(toks) < 2 || (toks[0] != "payload" && toks[0] != "context"):
				v.add("%s (%q): a JSON pointer must start with /payload/ or /context/ and name a field below it", key, f)
			}
		}
	}
	return v
}

// parsePointer splits an RFC 6901 JSON pointer into its unescaped tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" || p[0] != '/' {
		return nil, fmt.Errorf("a JSON pointer starts with /")
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		for j := strings.IndexByte(t, '~'); j >= 0; {
			if j+1 == len(t) || (t[j+1] != '0' && t[j+1] != '1') {
				return nil, fmt.Errorf("token %q has a ~ that is not ~0 or ~1", t)
			}
			k := strings.IndexByte(t[j+2:], '~')
			if k < 0 {
				break
			}
			j += 2 + k
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

// pointerKey is the token of a pointer below /payload or /context that a
// payload holding the field must spell as an object's key: the last that
// is not an array index (the elements of an array have none), else the
// first (the payload is an object).
func pointerKey(toks []string) string {
	for i := len(toks) - 1; i > 1; i-- {
		if strings.Trim(toks[i], "0123456789") != "" || toks[i] == "" {
			return toks[i]
		}
	}
	return toks[1]
}

// pointerOf writes a path as a JSON pointer.
func pointerOf(path []string) string {
	var b strings.Builder
	for _, t := range path {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// empty reports whether the masker masks nothing.
func (m *masker) empty() bool { return m == nil || (len(m.names) == 0 && len(m.pointers) == 0) }

// intent returns in with its masked fields' values replaced by
// MaskedValue. in itself is not changed; when nothing is masked it is
// returned as it is.
func (m *masker) intent(in intent.Intent) intent.Intent {
	out, _ := m.view(in)
	return out
}

// intents masks each intent of list in place and returns it.
func (m *masker) intents(list []intent.Intent) []intent.Intent {
	if m.empty() {
		return list
	}
	for i := range list {
		list[i] = m.intent(list[i])
	}
	return list
}

// payload returns a masked copy of raw and the pointers of the fields it
// masked; with none masked it returns raw and nil. A payload that is not
// a JSON object is returned as it is (intake refuses those).
func (m *masker) payload(raw json.RawMessage) (json.RawMessage, []string) {
	if m.empty() || len(raw) == 0 || !m.mayHold(raw) {
		return raw, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw, nil
	}
	var hits []string
	v, changed := m.walk(v, []string{"payload"}, &hits)
	if !changed {
		return raw, nil
	}
	out, err := json.Marshal(v)
	if err != nil {
		// Cannot happen for decoded JSON; fail closed all the same.
		return json.RawMessage(`{"masked":"` + MaskedValue + `"}`), hits
	}
	return out, hits
}

// context returns a masked copy of ctx and the pointers it masked; with
// none masked it returns ctx and nil.
func (m *masker) context(ctx map[string]any) (map[string]any, []string) {
	if m.empty() || len(ctx) == 0 {
		return ctx, nil
	}
	var hits []string
	out, changed := m.walk(ctx, []string{"context"}, &hits)
	if !changed {
		return ctx, nil
	}
	mm, _ := out.(map[string]any)
	return mm, hits
}

// walk returns v with masked values replaced, copying only the containers
// that change (changed reports whether any did), and appends the pointer
// of each masked field to hits.
func (m *masker) walk(v any, path []string, hits *[]string) (out any, changed bool) {
	switch x := v.(type) {
	case map[string]any:
		var cp map[string]any
		for _, k := range sortedKeys(x) {
			nv, ch := m.child(x[k], append(path[:len(path):len(path)], k), m.names[maskName(k)], hits)
			if !ch {
				continue
			}
			if cp == nil {
				cp = make(map[string]any, len(x))
				for kk, vv := range x {
					cp[kk] = vv
				}
			}
			cp[k] = nv
		}
		if cp != nil {
			return cp, true
		}
	case []any:
		var cp []any
		for i, val := range x {
			nv, ch := m.child(val, append(path[:len(path):len(path)], strconv.Itoa(i)), false, hits)
			if !ch {
				continue
			}
			if cp == nil {
				cp = append([]any(nil), x...)
			}
			cp[i] = nv
		}
		if cp != nil {
			return cp, true
		}
	}
	return v, false
}

// child masks one value found at path: all of it when its key is a masked
// name or path is a masked pointer, else whatever walk finds inside it.
func (m *masker) child(v any, path []string, named bool, hits *[]string) (any, bool) {
	if named || m.pointerAt(path) {
		*hits = append(*hits, pointerOf(path))
		return MaskedValue, true
	}
	return m.walk(v, path, hits)
}

// pointerAt reports whether path is one of the configured pointers.
func (m *masker) pointerAt(path []string) bool {
	for _, p := range m.pointers {
		if len(p) == len(path) && equalTokens(p, path) {
			return true
		}
	}
	return false
}

func equalTokens(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// maskName is a key name as masking compares it: in lower case and
// without the separators '_', '-', '.', ':' and spaces, so that a
// payload's "API-Key", "api.key" and "apiKey" (as camelCase JSON spells
// it) are all masked by a rule on api_key.
func maskName(k string) string {
	return strings.Map(func(r rune) rune {
		if isMaskSep(r) {
			return -1
		}
		return r
	}, strings.ToLower(k))
}

// isMaskSep reports whether r is a separator maskName leaves out.
func isMaskSep[T rune | byte](r T) bool {
	return r == '_' || r == '-' || r == '.' || r == ':' || r == ' ' || r == '\t'
}

// mayHold is the fast path: false when raw certainly holds no masked key,
// because no needle occurs in it (ignoring ASCII case and which separator)
// and it has no escapes, nor non-ASCII letters, that could spell one.
func (m *masker) mayHold(raw []byte) bool {
	if bytes.IndexByte(raw, '\\') >= 0 || !isASCII(raw) {
		return true
	}
	for _, n := range m.needles {
		if containsFold(raw, n) {
			return true
		}
	}
	return false
}

// containsFold reports whether lower-case needle occurs in s, ignoring
// ASCII case, a '_' of needle matching any separator maskName leaves out,
// and separators of s between needle's bytes passed over ("api_key" and
// "a.p.i.key" hold the needle apikey; non-ASCII bytes must match exactly).
func containsFold(s, needle []byte) bool {
	if len(needle) == 0 {
		return true
	}
	same := func(c, n byte) bool {
		c = lower(c)
		if n == '_' {
			return isMaskSep(c)
		}
		return c == n
	}
	for i := range s {
		if !same(s[i], needle[0]) {
			continue
		}
		j := 1
		for k := i + 1; j < len(needle) && k < len(s); k++ {
			switch {
			case same(s[k], needle[j]):
				j++
			case !isMaskSep(s[k]):
				k = len(s) // not here: try from the next i
			}
		}
		if j == len(needle) {
			return true
		}
	}
	return false
}

// isASCII reports whether s is all ASCII: a non-ASCII key may lower-case
// to a masked name ("\u212a" is K), so the fast path does not judge it.
func isASCII(s []byte) bool {
	for _, c := range s {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// view returns in masked and the pointers of the fields masked, for
// building records.
func (m *masker) view(in intent.Intent) (intent.Intent, []string) {
	if m.empty() {
		return in, nil
	}
	var hits []string
	if p, hit := m.payload(in.Payload); hit != nil {
		in.Payload, hits = p, hit
	}
	if c, hit := m.context(in.Context); hit != nil {
		in.Context, hits = c, append(hits, hit...)
	}
	return in, hits
}

// withMasked notes on an intent_received record which fields were masked:
// the record keeps their names, never their values.
func withMasked(r clarity.Record, fields []string) clarity.Record {
	if len(fields) == 0 {
		return r
	}
	r.Why = append(r.Why, fmt.Sprintf("Masked (masking.fields): %s; their values are kept from the record and every read view, handlers still get them",
		strings.Join(fields, ", ")))
	r.Context["masked_fields"] = fields
	return r
}
