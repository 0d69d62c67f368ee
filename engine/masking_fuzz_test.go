package engine

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzMasking feeds masking.fields (one a line) and a payload to the
// masking rules: no panic; each refused field named by its index; a JSON
// pointer accepted reads back as written; and the masked payload is what
// masking every field the rules name gives (the fast path that skips a
// payload holding no masked key never lets one through).
func FuzzMasking(f *testing.F) {
	for _, s := range []struct{ fields, payload string }{
		{"password\napi_key", `{"password":"hunter2","user":"ada"}`},
		{"/payload/db/password", `{"db":{"password":"x","host":"h"}}`},
		{"/payload/items/0", `{"items":["secret","public"]}`},
		{"/payload/a~1b\n/payload/m~0n", `{"a/b":"s","m~n":"t"}`},
		{"/payload/~~01", `{"~~1":"s"}`},
		{"/payload/~", `{}`},
		{"/context/x\n/other/y\n/payload", `{"x":1}`},
		{"API-Key", `{"apiKey":"k","API_KEY":"k2","a.p.i.key":"k3"}`},
		{"token", `{"\u0054oken":"s","\u212aey":"k"}`},
		{"key", `{"\u212aey":"s"}`},
		{"_-.:", `{"":"s"}`},
		{"/payload/", `{"":"s"}`},
		{"secret", `[{"secret":1}]`},
		{"secret", `{"a":[{"b":[{"secret":{"deep":true}}]}]}`},
		{"/payload/0", `{"0":"s"}`},
		{"\x00", "{\"\x00\":1}"},
		{"pass\xffword", "{\"pass\xffword\":1}"},
		{"/payload/n", `{"n":1e999}`},
		{"x", `{"x":1} {"x":2}`},
		{"x", `{"x":1,"x":2}`},
	} {
		f.Add(s.fields, []byte(s.payload))
	}
	f.Fuzz(func(t *testing.T, fieldText string, raw []byte) {
		fields := strings.Split(fieldText, "\n")
		errs := validateMasking(fields)
		for _, err := range errs {
			if !strings.HasPrefix(err.Error(), "masking.fields[") {
				t.Fatalf("validateMasking(%q): %q does not name the field", fields, err)
			}
		}
		for _, fl := range fields {
			fl = strings.TrimSpace(fl)
			if !strings.HasPrefix(fl, "/") {
				continue
			}
			if toks, err := parsePointer(fl); err == nil && pointerOf(toks) != fl {
				t.Fatalf("parsePointer(%q) = %q, which reads back as %q: an invalid pointer was taken", fl, toks, pointerOf(toks))
			}
		}
		if len(errs) > 0 {
			return
		}
		m := newMasker(fields)
		got, hits := m.payload(raw)
		// The slow path alone: decode, walk, encode.
		want, wantHits := json.RawMessage(raw), []string(nil)
		if !m.empty() && len(raw) > 0 {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			var v any
			if dec.Decode(&v) == nil {
				var hs []string
				if out, changed := m.walk(v, []string{"payload"}, &hs); changed {
					b, err := json.Marshal(out)
					if err != nil {
						t.Fatal(err)
					}
					want, wantHits = b, hs
				}
			}
		}
		if !bytes.Equal(got, want) || !reflect.DeepEqual(hits, wantHits) {
			t.Fatalf("masking %q with %q: %s (masked %q); masking every field named gives %s (masked %q)", raw, fields, got, hits, want, wantHits)
		}
	})
}
