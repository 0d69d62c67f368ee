package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
	"grace/engine/intent"
)

// jsonFuzzSeeds are nasty JSON texts: what a submission's payload or
// context, or a batch line, must be read from or refused for clearly.
var jsonFuzzSeeds = []string{
	"", " ", "\x00", "{}", "[]", "null", "1", `"x"`, "\xef\xbb\xbf{}", "{\x00}", "{\"a\":\"\xff\"}", "{\"a\":1}\r\n",
	`{"a":1,"a":2}`, `{"a":{"b":1,"b":2}}`, `{"a":12345678901234567891}`, `{"a":1e400}`, `{"a":1e-400}`, `{"a":-0}`,
	`{"a":0.1}`, `{"a":1.50}`, `{"a":[1,2,{"b":3}]}`, `{"a":"\u0000"}`, `{"a":"\ud800"}`, "{\"a\":\t1}",
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat(`{"a":`, 3000) + "1" + strings.Repeat("}", 3000),
	`{"a":1}{"b":2}`, `{"a":1} x`, "@", "@-",
}

// batchFuzzSeeds are batch files: the README's and the help's examples,
// and nasty ones.
var batchFuzzSeeds = []string{
	`{"type":"query_knowledge","payload":{"q":1}}` + "\n\n" + `{"type":"change_charter","idempotency_key":"a"}` + "\n" + `{"type":""}` + "\n",
	`[{"type":"query_knowledge","actor":"agent:a","payload":{"query":"q3 revenue"},"context":{"revenue_impact":true},"priority":7,"idempotency_key":"k1"}]`,
	`{"type":"deploy","not_before":"2026-11-29T18:00:00Z","priority":9}`,
	"\xef\xbb\xbf" + `{"type":"a"}` + "\r\n" + `{"type":"b"}` + "\r\n",
	"\xef\xbb\xbf[{\"type\":\"a\"}]", "{\"type\":\"a\xff\"}", "{\"type\":\"a\",\"payload\":\"\xc3\x28\"}", "{\"type\":\"a\",\"context\":{\"\xff\":1}}", `{"type":"a","Type":"b"}`, `{"type":"a","type":"b"}`,
	`{"type":"a","context":{"n":12345678901234567891}}`, `{"type":"a","context":{"n":1e400}}`, `{"type":"a","context":{"n":[0.1,1e-400]}}`,
	`{"type":"a","priority":1e3}`, `{"type":"a","priority":99999999999999999999}`, `{"type":"a","priority":"1"}`,
	`{"type":"a","payload":null}`, `{"type":"a","context":null}`, `{"type":"a","context":[]}`, `{"type":"a","not_before":"soon"}`,
	`{"type":"a","extra":1}`, "[]", "[null]", "[1]", "[{}", "\n\n", "\x00", "{\"type\":\"a\"}\x00", "{\"type\":\"a\"}\n\x00\n",
	strings.Repeat(`{"type":"a"}`+"\n", 50), `[{"type":"a"},{"type":"b","payload":{"x":[1,{"y":2}]}}]`, "\t{\"type\":\"a\"}\t\n",
	`{"type":"a","payload":{"a":1,"a":2}}`,
}

// batchRefusal is what follows the file's name in a refused batch.
var batchRefusal = regexp.MustCompile(`^( line [1-9][0-9]*: |: item [1-9][0-9]*: |: not a JSON array of submissions: | holds no submissions$)`)

// FuzzBatchFile reads a fuzzed batch file as intent batch does: no
// panic; a refusal is one line that names the file and, for a line or an
// item at fault, its number; a file that reads turns into the
// submissions it writes, field for field, in order (a context number as
// written, never rounded).
func FuzzBatchFile(f *testing.F) {
	for _, s := range batchFuzzSeeds {
		f.Add([]byte(s))
	}
	for _, s := range jsonFuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "batch.jsonl")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		subs, err := readBatch(&cobra.Command{}, path)
		if err != nil {
			var ue *usageError
			msg := err.Error()
			if !errors.As(err, &ue) || !strings.HasPrefix(msg, path) || strings.Contains(msg, "\n") ||
				!batchRefusal.MatchString(strings.TrimPrefix(msg, path)) {
				t.Fatalf("readBatch refuses with %q (%T): want one usage line naming %s and the line or item at fault", msg, err, path)
			}
			return
		}
		items := batchItems(t, data)
		if len(items) != len(subs) {
			t.Fatalf("%d submissions read, the file writes %d", len(subs), len(items))
		}
		for i, raw := range items {
			checkSubmission(t, strconv.Itoa(i+1), raw, subs[i])
		}
	})
}

// batchItems splits a batch file the way a reader of it does: one JSON
// array, or one object per non-blank line (a leading byte order mark
// aside).
func batchItems(t *testing.T, data []byte) [][]byte {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(trimmed, &items); err != nil {
			t.Fatalf("a batch that reads is not a JSON array: %v", err)
		}
		out := make([][]byte, len(items))
		for i := range items {
			out[i] = items[i]
		}
		return out
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			out = append(out, bytes.Clone(line))
		}
	}
	return out
}

// checkSubmission checks that sub is what the JSON object raw writes.
func checkSubmission(t *testing.T, at string, raw []byte, sub intent.Submission) {
	t.Helper()
	if !utf8.Valid(raw) {
		t.Fatalf("submission %s: accepted, but it is not UTF-8 (its strings would be changed): %q", at, raw)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("submission %s: accepted, but it is not a JSON object: %v", at, err)
	}
	str := func(name string) string {
		var s string
		if v, ok := fields[name]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, &s); err != nil {
				t.Fatalf("submission %s: %s %s accepted, not a string", at, name, v)
			}
		}
		return s
	}
	if sub.Type != str("type") || sub.Actor != str("actor") || sub.IdempotencyKey != str("idempotency_key") {
		t.Fatalf("submission %s: read as type %q actor %q key %q from %s", at, sub.Type, sub.Actor, sub.IdempotencyKey, raw)
	}
	wantPrio := httpapi.DefaultPriority
	if v, ok := fields["priority"]; ok && string(v) != "null" {
		n, err := strconv.Atoi(string(v))
		if err != nil {
			t.Fatalf("submission %s: priority %s accepted as %d", at, v, sub.Priority)
		}
		wantPrio = n
	}
	if sub.Priority != wantPrio {
		t.Fatalf("submission %s: priority %d, the file writes %s", at, sub.Priority, fields["priority"])
	}
	if p, ok := fields["payload"]; ok && string(p) != "null" && !bytes.Equal(sub.Payload, p) {
		t.Fatalf("submission %s: payload %s, the file writes %s", at, sub.Payload, p)
	}
	if nb := strings.TrimSpace(str("not_before")); nb != "" {
		want, err := time.Parse(time.RFC3339Nano, nb)
		if err != nil || !sub.NotBefore.Equal(want) {
			t.Fatalf("submission %s: not_before %v, the file writes %q", at, sub.NotBefore, nb)
		}
	}
	checkContext(t, "submission "+at, fields["context"], sub.Context)
}

// checkContext checks that ctx holds what the JSON text written holds,
// numbers included: each as written, not rounded to a nearby float64.
func checkContext(t *testing.T, what string, written []byte, ctx map[string]any) {
	t.Helper()
	if len(written) == 0 || string(written) == "null" {
		if len(ctx) != 0 {
			t.Fatalf("%s: context %v, none written", what, ctx)
		}
		return
	}
	dec := json.NewDecoder(bytes.NewReader(written))
	dec.UseNumber()
	var want any
	if err := dec.Decode(&want); err != nil {
		t.Fatalf("%s: context accepted, but it does not decode: %v", what, err)
	}
	if !sameJSON(want, ctx) {
		t.Fatalf("%s: context read as %#v from %s", what, ctx, written)
	}
}

// sameJSON compares want (decoded with UseNumber) with got (numbers as
// float64): a number matches when its value is the float's shortest
// form, digit for digit.
func sameJSON(want, got any) bool {
	switch w := want.(type) {
	case json.Number:
		g, ok := got.(float64)
		return ok && sameNumber(string(w), strconv.FormatFloat(g, 'e', -1, 64))
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, v := range w {
			if x, ok := g[k]; !ok || !sameJSON(v, x) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameJSON(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return want == got
}

// sameNumber reports whether two decimal numbers ("1.50", "15e-1") have
// the same value.
func sameNumber(a, b string) bool {
	norm := func(s string) (string, int64, bool) {
		neg := strings.HasPrefix(s, "-")
		mant, e, _ := strings.Cut(strings.TrimPrefix(strings.ToLower(s), "-"), "e")
		exp := int64(0)
		if e != "" {
			n, err := strconv.ParseInt(e, 10, 64)
			if err != nil {
				return "", 0, false
			}
			exp = n
		}
		whole, frac, _ := strings.Cut(mant, ".")
		digits := strings.TrimLeft(whole+frac, "0")
		sig := strings.TrimRight(digits, "0")
		if sig == "" {
			return "0", 0, true
		}
		if neg {
			sig = "-" + sig
		}
		return sig, exp - int64(len(frac)) + int64(len(digits)-len(strings.TrimLeft(sig, "-"))), true
	}
	ad, ae, aok := norm(a)
	bd, be, bok := norm(b)
	return aok && bok && ad == bd && ae == be
}

// FuzzPayloadContext builds a submission from fuzzed --payload and
// --context values, given inline or as @FILE: no panic; a refusal names
// --payload or --context; an accepted payload is sent as written (byte
// order mark and surrounding spaces aside; one not UTF-8 is the
// engine's to refuse), an accepted context holds what it writes (UTF-8,
// each number as written, no name given twice).
func FuzzPayloadContext(f *testing.F) {
	f.Add(`{"query":"q3 revenue"}`, `{"revenue_impact":true}`, false)
	f.Add(`{"query":"q3 revenue"}`, `{"revenue_impact":true}`, true)
	for _, s := range jsonFuzzSeeds {
		f.Add(s, s, false)
		f.Add(s, s, true)
	}
	f.Fuzz(func(t *testing.T, payload, ctxArg string, files bool) {
		fl := submissionFlags{typ: "query_knowledge", actor: "cli:fuzz", payload: payload, context: ctxArg, priority: 5}
		if files {
			dir := t.TempDir()
			for name, arg := range map[string]*string{"payload.json": &fl.payload, "context.json": &fl.context} {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(*arg), 0o600); err != nil {
					t.Fatal(err)
				}
				*arg = "@" + p
			}
		}
		sub, err := fl.submission()
		if err != nil {
			msg := err.Error()
			var ve *engine.ValidationError
			var ue *usageError
			switch {
			case errors.As(err, &ve):
				for _, p := range ve.Problems {
					if p.Field != "payload" && p.Field != "context" && !strings.HasPrefix(p.Field, "context.") {
						t.Fatalf("refused for field %q: %v", p.Field, err)
					}
				}
			case errors.As(err, &ue):
				if !strings.HasPrefix(msg, "--payload ") && !strings.HasPrefix(msg, "--context ") {
					t.Fatalf("usage error %q names neither --payload nor --context", msg)
				}
			default:
				t.Fatalf("refused with %v (%T)", err, err)
			}
			if strings.Contains(msg, "\n") {
				t.Fatalf("refusal on more than one line: %q", msg)
			}
			return
		}
		wantPayload := strings.TrimSpace(strings.TrimPrefix(payload, "\xef\xbb\xbf"))
		if wantPayload == "" {
			if sub.Payload != nil {
				t.Fatalf("payload %q sent for --payload %q", sub.Payload, payload)
			}
		} else if string(sub.Payload) != wantPayload {
			t.Fatalf("payload %q sent for --payload %q", sub.Payload, payload)
		}
		c := []byte(strings.TrimSpace(strings.TrimPrefix(ctxArg, "\xef\xbb\xbf")))
		if len(c) > 0 {
			if dup, _ := engine.ScanNames(c, nil); dup != "" {
				t.Fatalf("context %s accepted, giving %s twice", c, dup)
			}
			if !utf8.Valid(c) {
				t.Fatalf("context accepted that is not UTF-8: %q", c)
			}
		}
		checkContext(t, "--context", c, sub.Context)
		if sub.Type != fl.typ || sub.Actor != fl.actor || sub.Priority != fl.priority {
			t.Fatalf("submission %+v from flags %+v", sub, fl)
		}
	})
}

// TestBatchAndPayloadFilesWithBOM: a batch file, a --payload @FILE and a
// --context @FILE that an editor began with a byte order mark (and ended
// its lines with CRLF) read as the JSON they hold, as the API reads such
// a body; the mark was read as the JSON's first character.
func TestBatchAndPayloadFilesWithBOM(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("\xef\xbb\xbf"+body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	subs, err := readBatch(&cobra.Command{}, write("b.jsonl", `{"type":"a"}`+"\r\n"+`{"type":"b"}`+"\r\n"))
	if err != nil || len(subs) != 2 || subs[0].Type != "a" || subs[1].Type != "b" {
		t.Fatalf("batch with a BOM: %+v, %v", subs, err)
	}
	fl := submissionFlags{typ: "t", actor: "a", payload: "@" + write("p.json", `{"q":1}`), context: "@" + write("c.json", `{"r":true}`)}
	sub, err := fl.submission()
	if err != nil || string(sub.Payload) != `{"q":1}` || sub.Context["r"] != true {
		t.Fatalf("--payload and --context files with a BOM: %+v, %v", sub, err)
	}
}
