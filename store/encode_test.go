package store

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// TestAppendStringIsJSON checks that appendString's output is valid JSON
// that decodes to the input (invalid UTF-8 aside) and holds no newline.
func TestAppendStringIsJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "new\nline", "tab\t\r\x00\x1f", "naïve ✓ 数据 𞤀", "<html>&"} {
		b := appendString(nil, s)
		if strings.ContainsAny(string(b), "\n\r") {
			t.Errorf("appendString(%q) holds a raw line break: %s", s, b)
		}
		var back string
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("appendString(%q) = %s, decodes to %q, %v", s, b, back, err)
		}
	}
	if got := string(appendString(nil, "a\xffb")); got != `"a\ufffdb"` {
		t.Errorf("invalid UTF-8: %s", got)
	}
}

func TestAppendObjectSortedAndValid(t *testing.T) {
	t.Parallel()
	m := map[string]any{"b": 1, "a": []string{"x"}, "c": map[string]any{"z": nil, "y": true},
		"d": math.NaN(), "e": json.RawMessage(`{ "k" : [1, 2] }`), "f": time.Duration(5), "g": []any{1.5, "s"}}
	got := string(appendObject(nil, m))
	want := `{"a":["x"],"b":1,"c":{"y":true,"z":null},"d":null,"e":{"k":[1,2]},"f":5,"g":[1.5,"s"]}`
	if got != want {
		t.Errorf("appendObject = %s\nwant           %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Error("not valid JSON")
	}
	if got := string(appendObject(nil, nil)); got != "{}" {
		t.Errorf("nil map = %s", got)
	}
}

// TestEntryFormat pins the canonical entry text: auditors rely on it.
func TestEntryFormat(t *testing.T) {
	t.Parallel()
	n := narrative{ID: 7, TS: time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC).UnixNano(), Who: `a"b`, What: "routed",
		Where: "router", Why: `["x"]`, How: "h", Context: "{}", IntentID: "int_1", Result: "ok",
		Confidence: 0.5, Risk: 0.25, Transparency: "COMPLETE", Reasoning: `["x"]`}
	digest, _ := n.digest(nil)
	got := string(n.appendEntry(nil, 12, digest))
	want := `{"seq":12,"ts":"2026-01-02T03:04:05.0000006Z","actor":"a\"b","action":"routed","resource":"router",` +
		`"result":"ok","intent_id":"int_1","narrative_id":7,"digest":"` + digest + `"}`
	if got != want {
		t.Errorf("entry =\n%s\nwant\n%s", got, want)
	}
	if d := string(n.appendDigestInput(nil)); d != `[1767323045000000600,"a\"b","routed","router","[\"x\"]","h","{}","int_1","ok",0.5,0.25,"COMPLETE","[\"x\"]"]` {
		t.Errorf("digest input = %s", d)
	}
	// printf '%s%s' "$(printf '0%.0s' $(seq 64))" '{}' | sha256sum
	if h := chainHash(genesisHash, []byte("{}")); h != "5508d2b710e64bc470079e1b211d9c58e21011e59d0559e422345dc19d659a75" {
		t.Errorf("chainHash = %s", h)
	}
}

// BenchmarkAppendString encodes record-like text with a few escapes.
func BenchmarkAppendString(b *testing.B) {
	text := strings.Repeat(`Submitted by agent.architect: query_knowledge {"q":"status of kernel 7"} priority 5; `, 4)
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		buf = appendString(buf[:0], text)
	}
}
