package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"grace/store"

	"go.yaml.in/yaml/v3"
	"grace/engine/yamldoc"
)

// readConfigFile reads and parses the YAML file, lower-casing its keys as
// viper does. With path empty it reads ./config.yaml if there is one and
// returns ("", nil, nil) otherwise; a named file must exist.
func readConfigFile(path string) (string, map[string]any, error) {
	explicit := path != ""
	if !explicit {
		path = defaultConfigFile
	}
	data, err := readRegularFile(path, maxConfigBytes)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return "", nil, nil
		}
		return "", nil, fmt.Errorf("read config %s: %w", path, unwrapPathError(err))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return "", nil, fmt.Errorf("%s: %s", path, yamlReason(err))
	}
	if err := yamldoc.Single(dec, "a config file"); err != nil {
		return "", nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := lowerKeys(raw, ""); err != nil {
		return "", nil, fmt.Errorf("%s: %w", path, err)
	}
	return path, raw, nil
}

// maxConfigBytes bounds a config file: far above any real one, it keeps a
// file that never ends from being read into memory.
const maxConfigBytes = 16 << 20

// notRegularError is readRegularFile's refusal of a path that is no
// regular file: a folder, a FIFO, a device.
type notRegularError struct{ kind string }

func (e *notRegularError) Error() string { return "not a regular file (" + e.kind + ")" }

// readRegularFile reads the regular file at path, up to limit bytes. It
// refuses, before opening it, what is not a regular file: reading a
// directory fails, but a named pipe without a writer or a device such as
// /dev/zero would block or never end. os.DevNull reads as empty, so that
// --config /dev/null still means "no config file".
func readRegularFile(path string, limit int64) ([]byte, error) {
	if path == os.DevNull {
		return nil, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &notRegularError{kind: store.FileKind(st.Mode())}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d MiB", limit>>20)
	}
	return data, nil
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

// maxConfigDepth bounds how deep a config file's mappings nest: no key
// is more than a few levels deep, and viper's lookups take time that
// grows with the cube of the depth (a file of mappings nested 3000 deep,
// 12 KB, took over a minute to refuse).
const maxConfigDepth = 16

// lowerKeys lower-cases m's keys in place, recursively, refusing two keys
// that differ only in case (viper would silently keep one of them) and
// mappings nested deeper than maxConfigDepth.
func lowerKeys(m map[string]any, prefix string) error {
	if depth := strings.Count(prefix, "."); depth >= maxConfigDepth {
		return fmt.Errorf("key %q: mappings nest more than %d deep here; no config key is that deep", clipKey(strings.TrimSuffix(prefix, ".")), maxConfigDepth)
	}
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

// clipKey shortens a long dotted key for a message, keeping its start.
func clipKey(key string) string {
	limit := 80
	if len(key) <= limit {
		return key
	}
	for limit > 0 && !utf8.RuneStart(key[limit]) {
		limit--
	}
	return key[:limit] + "…"
}
