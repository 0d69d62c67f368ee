// Package scenarios holds Grace's chaos scenario library and recovery
// playbooks as YAML files, embedded into the binary.
package scenarios

import "embed"

// Playbooks holds the recovery playbooks (playbooks/*.yaml): each file is
// one playbook whose id is its file name without .yaml.
//
//go:embed playbooks/*.yaml
var Playbooks embed.FS
