package chaos

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"grace/engine"
	"grace/scenarios"
)

// scenarioFuzzSeeds are nasty scenario files: bytes yaml and the loader
// must refuse clearly, not choke on.
var scenarioFuzzSeeds = []string{
	"", "\x00", "id: x\x00", "\xff\xfe", "\xfe\xff\x00i\x00d", "id: \xc3\x28", "- a\n- b\n", "id: [", "{{{{",
	"id: a\nid: b\n", "id: a\nID: b\n", "\tid: a\n", "id:\ta\n", "---\nid: a\n---\nid: b\n",
	"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n" +
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\ni: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n",
	"invariants: &a [*a]\n", "parameters: &p {workers: *p}\n",
	strings.Repeat("[", 10000), strings.Repeat("- ", 5000) + "x", "deadline: 99999999999999999999h\n",
	"deadline: -1s\n", "deadline: 1e400\n", "parameters: {workers: {base: .nan}}\n",
	"parameters: {workers: {base: 1e308, growth: 1e308}}\n", "faults: [{kind: !!binary aGk=}]\n",
	"id: !!int 1\n", "? [a]\n: b\n", "!<tag:yaml.org,2002:str> x\n",
}

// FuzzParseScenario feeds scenario files to the loader: no panic and no
// hang (an alias bomb included); a refusal is a *FileError naming the
// file, on one line; a scenario that loads passes the checks a run makes
// before it starts (scale and engine config, at its difficulties), and
// written out again loads as the same scenario.
func FuzzParseScenario(f *testing.F) {
	files, err := fs.Glob(scenarios.Library, "*.yaml")
	if err != nil || len(files) == 0 {
		f.Fatalf("the scenario library: %v, %d files", err, len(files))
	}
	for _, name := range files {
		b, err := scenarios.Library.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range scenarioFuzzSeeds {
		f.Add([]byte(s))
	}
	const file = "fuzzed.yaml"
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := Parse(file, b)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != file {
				t.Fatalf("Parse: %v (%T); want a *FileError naming %s", err, err, file)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "scenario "+file+": ") || strings.Contains(msg, "\n") {
				t.Fatalf("Parse refuses %q: want one line naming the file", msg)
			}
			return
		}
		if sc.Source != file {
			t.Fatalf("Source = %q, want %q", sc.Source, file)
		}
		base := engine.Default()
		for _, d := range []int{1, 2, 5, 20, 1000} {
			if why := scaleProblem(sc, d); why != "" {
				if d == 1 {
					t.Fatalf("a scenario that loads cannot run at difficulty 1: %s", why)
				}
				continue
			}
			if why := configProblemAt(base, sc, d); why != "" && d == 1 {
				t.Fatalf("a scenario that loads cannot run at difficulty 1: %s", why)
			}
			if l := sc.UsedLevel(d); l < 1 || l > d {
				t.Fatalf("UsedLevel(%d) = %d", d, l)
			}
		}
		out, err := yaml.Marshal(sc)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		again, err := Parse(file, out)
		if err != nil {
			t.Fatalf("a scenario that loads, written out, is refused: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(sc, again) {
			t.Fatalf("round trip: %+v\nbecame %+v", sc, again)
		}
	})
}
