package chaos_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"grace/engine/chaos"
	"grace/scenarios"
)

// libraryFile is the embedded scenario file of id, with each of the
// replacements applied (old, new, old, new...).
func libraryFile(t *testing.T, id string, replace ...string) []byte {
	t.Helper()
	b, err := scenarios.Library.ReadFile(id + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(s, replace[i]) {
			t.Fatalf("%s.yaml holds no %q", id, replace[i])
		}
		s = strings.Replace(s, replace[i], replace[i+1], 1)
	}
	return []byte(s)
}

// A file of chaos.scenarios_dir that cannot be read (here a symbolic link
// to nothing) is refused naming it and why; the built-in library and the
// folder's other files still load. It failed the whole library: chaos
// list, chaos run and the loop had no scenario at all.
func TestLoadRefusesAFileItCannotReadAndKeepsTheRest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok := libraryFile(t, "L2_worker_dropout_chaos", "id: L2_worker_dropout_chaos", "id: QA_mine")
	if err := os.WriteFile(filepath.Join(dir, "mine.yaml"), ok, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "gone", "scenario.yaml")
	if err := os.Symlink(missing, filepath.Join(dir, "dangling.yaml")); err != nil {
		t.Fatal(err)
	}
	lib, err := chaos.LoadLibrary(dir)
	if err != nil {
		t.Fatalf("LoadLibrary with a broken symbolic link: %v; want the file refused and the rest loaded", err)
	}
	if lib.Get("QA_mine") == nil || lib.Get("L2_worker_dropout_chaos") == nil || len(lib.Scenarios) < 19 {
		t.Errorf("library: %d scenarios; want the 18 built-in and QA_mine", len(lib.Scenarios))
	}
	if len(lib.Refused) != 1 {
		t.Fatalf("refused %v; want dangling.yaml alone", lib.Refused)
	}
	var fe *chaos.FileError
	if !errors.As(lib.Refused[0], &fe) || fe.File != "dangling.yaml" ||
		!strings.Contains(fe.Error(), "cannot be read: it is a symbolic link to "+missing+", which does not exist") {
		t.Errorf("refusal %v; want dangling.yaml named as a symbolic link to %s", lib.Refused[0], missing)
	}
}

// Each refusal is one line naming the file, the key at fault where there
// is one, and the reason in words an operator can act on.
func TestParseRefusesWithOneLineNamingKeyAndReason(t *testing.T) {
	t.Parallel()
	dropout := func(replace ...string) []byte { return libraryFile(t, "L2_worker_dropout_chaos", replace...) }
	cases := []struct {
		name  string
		body  []byte
		field string
		want  string
	}{
		// yaml's io.EOF came out as "EOF".
		{"empty", nil, "", "holds no scenario: the file is empty or only comments"},
		{"comments only", []byte("# to do\n\n# later\n"), "", "holds no scenario: the file is empty or only comments"},
		// yaml's two-line "unmarshal errors:\n  line 1: cannot unmarshal !!seq into chaos.Scenario".
		{"a list", []byte("- id: a\n- id: b\n"), "", "line 1: a list is not a scenario (a mapping of keys)"},
		{"a scalar", []byte("just words\n"), "", `line 1: "just words" is not a scenario (a mapping of keys)`},
		// yaml said "invalid trailing UTF-8 octet", with no line.
		{"Latin-1", dropout("Keeps every worker", "Keeps \xe9very worker"), "", "line 4, column 9: byte 0xE9 is not UTF-8: save the file as UTF-8"},
		// Absurd deadlines were taken: 1ns failed every run on time
		// alone, ten years held a run whose safeguard did not fire.
		{"deadline 1ns", dropout("deadline: 10s", "deadline: 1ns"), "deadline", "(1ns) must be at least 1s (or left out: 10s)"},
		{"deadline ten years", dropout("deadline: 10s", "deadline: 87600h"), "deadline", "(87600h0m0s) must be at most 1h0m0s"},
		// Taken at load, refused only when run, as if lowering the
		// difficulty below 1 could help.
		{"base past any run", dropout("tasks: {base: 40, growth: 2, max: 2000}", "tasks: {base: 1e12}"), "parameters.tasks.base", "(1e+12) is beyond 1e+09"},
	}
	for _, tc := range cases {
		_, err := chaos.Parse("mine.yaml", tc.body)
		var fe *chaos.FileError
		if !errors.As(err, &fe) {
			t.Errorf("%s: Parse = %v; want a FileError", tc.name, err)
			continue
		}
		msg := fe.Error()
		if fe.File != "mine.yaml" || fe.Field != tc.field || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("%s: refused as %q (field %q); want one line naming mine.yaml, field %q and %q", tc.name, msg, fe.Field, tc.field, tc.want)
		}
	}
	// The bounds themselves are taken, and so is a file written as
	// UTF-8 with its byte order mark.
	for _, body := range [][]byte{dropout("deadline: 10s", "deadline: 1s"), dropout("deadline: 10s", "deadline: 1h"),
		append([]byte("\xef\xbb\xbf"), dropout()...)} {
		if _, err := chaos.Parse("mine.yaml", body); err != nil {
			t.Errorf("Parse: %v; want it taken", err)
		}
	}
}

// A scenario file named .yml (as many tools write YAML) or .YAML was
// passed over without a word: the operator took it for loaded until a
// chaos run said there was no such scenario.
func TestLoadNamesAScenarioFileNotNamedYAML(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	body := libraryFile(t, "L2_worker_dropout_chaos", "id: L2_worker_dropout_chaos", "id: QA_yml")
	for _, name := range []string{"experiment.yml", "SHOUT.YAML", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	lib, err := chaos.LoadLibrary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if lib.Get("QA_yml") != nil {
		t.Fatalf("a file not named *.yaml was loaded")
	}
	var got []string
	for _, r := range lib.Refused {
		got = append(got, r.Error())
	}
	want := []string{
		"scenario SHOUT.YAML: not loaded: only files named *.yaml are scenarios (rename it SHOUT.yaml)",
		"scenario experiment.yml: not loaded: only files named *.yaml are scenarios (rename it experiment.yaml)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("refused:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
