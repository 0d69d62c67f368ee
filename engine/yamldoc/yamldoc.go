// Package yamldoc holds what every YAML file Grace reads has in common:
// one document a file.
package yamldoc

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Single refuses a second YAML document ("---" then keys) after the one
// dec has read: the file is its first document, and the keys of any other
// would be dropped without a word. An empty document (a "---" or "..." at
// the end) is harmless and passes. what names the file's kind for the
// error: "a scenario file".
func Single(dec *yaml.Decoder, what string) error {
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return errors.New(strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), "\n", " "))
		}
		if len(doc.Content) == 1 && doc.Content[0].Tag == "!!null" {
			continue
		}
		return fmt.Errorf("line %d: a second YAML document starts here (\"---\"); %s is one document: merge its keys into the first", doc.Line, what)
	}
}
