package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// validateChaosFolders checks chaos.scenarios_dir, when set: a folder
// Grace can list (the scenario library reads its *.yaml files; each file
// is checked when the library loads, and grace config check loads it).
// It also checks, with chaos.loop.enabled on, the folder the
// loop writes its playbooks to (chaos.loop.playbooks_dir; empty: chaos/playbooks
// beside the database), as the loop checks it at its start: a folder, or
// a path where one can be made. Checked here too, grace serve refuses a
// bad value with the other keys, before it starts anything, and so does
// grace config check; the loop's own check came only after the engine was
// running.
func (c Config) validateChaosFolders() error {
	var errs []error
	if dir := c.Chaos.ScenariosDir; dir != "" {
		if _, err := os.ReadDir(dir); err != nil {
			errs = append(errs, fmt.Errorf("chaos.scenarios_dir (%s) must be a folder Grace can read, of scenario files: %w", dir, err))
		}
	}
	if c.Chaos.Loop.Enabled { // off, the loop writes nothing and checks nothing at its start
		errs = append(errs, c.validatePlaybooksDir())
	}
	return errors.Join(errs...)
}

// validatePlaybooksDir checks chaos.loop.playbooks_dir as the loop does.
func (c Config) validatePlaybooksDir() error {
	dir, shown := c.Chaos.Loop.PlaybooksDir, c.Chaos.Loop.PlaybooksDir
	if dir == "" {
		if c.DB == "" {
			return nil // "db must not be empty" says it
		}
		dir = filepath.Join(filepath.Dir(c.DB), "chaos", "playbooks")
		shown = `"", so ` + dir + " beside db"
	}
	if err := FolderPossible(dir); err != nil {
		return fmt.Errorf("chaos.loop.playbooks_dir (%s) must be a folder or where one can be made, for the loop's playbooks: %w", shown, err)
	}
	return nil
}

// FolderPossible checks that dir is a folder or can be made one: its
// nearest existing ancestor (itself, when it exists) must be a folder,
// and every part of the path up to it must be one Grace may look into.
func FolderPossible(dir string) error {
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		switch {
		case err == nil && !st.IsDir():
			return fmt.Errorf("%s is not a folder", p)
		case err == nil:
			return nil
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR): // ENOTDIR: a file on the way, found above
			return err
		case filepath.Dir(p) == p:
			return nil
		}
	}
}
