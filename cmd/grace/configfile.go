package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// readConfigFile reads and parses the YAML file, lower-casing its keys as
// viper does. With path empty it reads ./config.yaml if there is one and
// returns ("", nil, nil) otherwise; a named file must exist.
func readConfigFile(path string) (string, map[string]any, error) {
	explicit := path != ""
	if !explicit {
		path = defaultConfigFile
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return "", nil, nil
		}
		return "", nil, fmt.Errorf("read config %s: %w", path, unwrapPathError(err))
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return "", nil, fmt.Errorf("%s: %s", path, yamlReason(err))
	}
	if err := lowerKeys(raw, ""); err != nil {
		return "", nil, fmt.Errorf("%s: %w", path, err)
	}
	return path, raw, nil
}

// yamlReason shortens a YAML error to one line that keeps its line number.
func yamlReason(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return strings.TrimSpace(te.Errors[0]) + " (the file must be a mapping of keys to values)"
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return strings.ReplaceAll(msg, "\n", " ")
}

// lowerKeys lower-cases m's keys in place, recursively, refusing two keys
// that differ only in case (viper would silently keep one of them).
func lowerKeys(m map[string]any, prefix string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		val := m[k]
		lower := strings.ToLower(k)
		if sub, ok := val.(map[string]any); ok {
			if err := lowerKeys(sub, prefix+lower+"."); err != nil {
				return err
			}
		}
		if lower == k {
			continue
		}
		if _, dup := m[lower]; dup {
			return fmt.Errorf("key %q is given twice (keys are not case-sensitive)", prefix+lower)
		}
		delete(m, k)
		m[lower] = val
	}
	return nil
}

// unwrapPathError drops the path from an *fs.PathError (the caller names it).
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
