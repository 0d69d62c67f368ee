package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// chaos.loop.playbooks_dir naming a file, or a folder under a file, was
// refused only by the loop at its start, after grace serve had started
// the engine (and grace config check passed it): Validate refuses it now,
// naming the key and the value, as it does kernels.playbooks_dir.
func TestValidateRefusesAPlaybooksDirTheLoopCannotWriteTo(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	file := filepath.Join(tmp, "playbooks")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	loop := func(dir string) Config {
		c := Default()
		c.DB = filepath.Join(tmp, "data", "grace.db")
		c.Chaos.Loop.Enabled, c.Chaos.Loop.PlaybooksDir = true, dir
		return c
	}
	for _, dir := range []string{file, filepath.Join(file, "sub")} {
		err := loop(dir).Validate()
		want := "chaos.loop.playbooks_dir (" + dir + ") must be a folder or where one can be made, for the loop's playbooks: " + file + " is not a folder"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("playbooks_dir %s: Validate() = %v; want it to say %q", dir, err, want)
		}
	}

	// Left empty, the folder is chaos/playbooks beside the database: a
	// file named chaos there is refused the same way, naming the path.
	if err := os.MkdirAll(filepath.Join(tmp, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	chaosFile := filepath.Join(tmp, "data", "chaos")
	if err := os.WriteFile(chaosFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	want := `chaos.loop.playbooks_dir ("", so ` + filepath.Join(chaosFile, "playbooks") + " beside db) must be a folder or where one can be made, for the loop's playbooks: " + chaosFile + " is not a folder"
	if err := loop("").Validate(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("playbooks_dir empty, chaos a file beside db: Validate() = %v; want it to say %q", err, want)
	}

	// Taken: a folder, one the loop will make (under a folder), and any
	// value while the loop is off (it writes nothing then).
	for _, dir := range []string{tmp, filepath.Join(tmp, "new", "playbooks")} {
		if err := loop(dir).Validate(); err != nil {
			t.Errorf("playbooks_dir %s: Validate() = %v; want it taken", dir, err)
		}
	}
	off := loop(file)
	off.Chaos.Loop.Enabled = false
	if err := off.Validate(); err != nil {
		t.Errorf("playbooks_dir %s with the loop off: Validate() = %v; want it taken", file, err)
	}
}

// chaos.scenarios_dir naming nothing, or a file, was refused only when the
// scenario library loaded, after grace serve had started the engine:
// Validate refuses it now, naming the key and the value.
func TestValidateRefusesAScenariosDirItCannotRead(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	file := filepath.Join(tmp, "scenario.yaml")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	with := func(dir string) Config {
		c := Default()
		c.DB = filepath.Join(tmp, "grace.db")
		c.Chaos.ScenariosDir = dir
		return c
	}
	for dir, why := range map[string]string{file: "not a directory", filepath.Join(tmp, "missing"): "no such file or directory"} {
		err := with(dir).Validate()
		want := "chaos.scenarios_dir (" + dir + ") must be a folder Grace can read, of scenario files: "
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), why) {
			t.Errorf("scenarios_dir %s: Validate() = %v; want it to say %q and %q", dir, err, want, why)
		}
	}
	for _, dir := range []string{"", tmp} {
		if err := with(dir).Validate(); err != nil {
			t.Errorf("scenarios_dir %q: Validate() = %v; want it taken", dir, err)
		}
	}
}
