package yamldoc

import (
	"bytes"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestSingle(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"one document", "a: 1\nb: 2\n", ""},
		{"a leading marker", "---\na: 1\n", ""},
		{"a trailing marker", "a: 1\n---\n", ""},
		{"an end marker", "a: 1\n...\n", ""},
		{"a second document", "a: 1\n---\nb: 2\n", `line 2: a second YAML document starts here ("---"); a test file is one document`},
		{"after an empty one", "a: 1\n---\n---\nc: [x]\n", "line 3: a second YAML document"},
		{"a broken second document", "a: 1\n---\nb: [\n", "did not find expected node content"},
	} {
		dec := yaml.NewDecoder(bytes.NewReader([]byte(tc.in)))
		var first map[string]any
		if err := dec.Decode(&first); err != nil {
			t.Fatalf("%s: first document: %v", tc.name, err)
		}
		err := Single(dec, "a test file")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v, want it accepted", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
