package chaos

import (
	"fmt"
	"io/fs"
	"os"

	"grace/scenarios"
)

// LoadLibrary loads the embedded scenario library and, when dir is not
// empty (chaos.scenarios_dir), the *.yaml files in dir, which add
// scenarios or override embedded ones by ID.
func LoadLibrary(dir string) (*Library, error) {
	fsyss := []fs.FS{scenarios.Library}
	if dir != "" {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("chaos.scenarios_dir: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("chaos.scenarios_dir %s: not a directory", dir)
		}
		fsyss = append(fsyss, os.DirFS(dir))
	}
	return Load(fsyss...)
}
