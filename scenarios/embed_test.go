package scenarios_test

import (
	"io/fs"
	"testing"

	"grace/engine/chaos"
	"grace/scenarios"
)

// Every file of the embedded library is a valid scenario, and the
// playbooks are still embedded beside it.
func TestLibraryFilesAreValidScenarios(t *testing.T) {
	names, err := fs.Glob(scenarios.Library, "*.yaml")
	if err != nil || len(names) < 5 {
		t.Fatalf("library files %v (%v)", names, err)
	}
	for _, name := range names {
		b, err := fs.ReadFile(scenarios.Library, name)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := chaos.Parse(name, b)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if sc.ID+".yaml" != name {
			t.Errorf("%s holds scenario %s: one scenario per file, named by its id", name, sc.ID)
		}
	}
	if pb, err := fs.Glob(scenarios.Playbooks, "playbooks/*.yaml"); err != nil || len(pb) == 0 {
		t.Fatalf("playbooks %v (%v)", pb, err)
	}
}
