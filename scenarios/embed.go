// Package scenarios holds Grace's chaos scenario library and recovery
// playbooks as YAML files, embedded into the binary.
package scenarios

import "embed"

// Playbooks holds the recovery playbooks (playbooks/*.yaml): each file is
// one playbook whose id is its file name without .yaml.
//
//go:embed playbooks/*.yaml
var Playbooks embed.FS

// Library holds the chaos scenarios (*.yaml at the top of this folder):
// one scenario per file, in the schema of package grace/engine/chaos.
//
//go:embed *.yaml
var Library embed.FS
