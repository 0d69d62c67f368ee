package engine

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"grace/engine/intent"
)

// minScrubLen is the shortest masked value scrubbed from free text (a
// handler's error): a shorter one ("on", "1") would also blank out the
// words around it, and is no secret worth the name.
const minScrubLen = 4

// secrets returns the clear values of in's masked fields (the leaves
// below each masked key or pointer, as text, with their JSON-escaped form
// where it differs), longest first, for scrubbing free text that a
// handler wrote: an exec command that echoes its input into its error, a
// webhook that quotes the request in its answer. Nil when nothing is
// masked.
func (m *masker) secrets(in intent.Intent) []string {
	if m.empty() {
		return nil
	}
	var out []string
	if len(in.Payload) > 0 && m.mayHold(in.Payload) {
		dec := json.NewDecoder(bytes.NewReader(in.Payload))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			m.collect(v, []string{"payload"}, false, &out)
		}
	}
	if len(in.Context) > 0 {
		m.collect(map[string]any(in.Context), []string{"context"}, false, &out)
	}
	if len(out) == 0 {
		return nil
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// collect appends to out the leaves of v that masking hides: all of v
// when under (a masked key or pointer is above it), else those below the
// masked keys and pointers inside it.
func (m *masker) collect(v any, path []string, under bool, out *[]string) {
	under = under || m.pointerAt(path)
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			m.collect(val, append(path[:len(path):len(path)], k), under || m.names[maskName(k)], out)
		}
	case []any:
		for i, val := range x { // a pointer may name an element by its index
			m.collect(val, append(path[:len(path):len(path)], strconv.Itoa(i)), under, out)
		}
	case string:
		if under {
			addSecret(out, x)
		}
	case json.Number:
		if under {
			addSecret(out, x.String())
		}
	case float64: // a context decoded without UseNumber
		if under {
			b, _ := json.Marshal(x)
			addSecret(out, string(b))
		}
	}
}

// addSecret appends s, and its JSON-escaped form when that differs, if
// long enough to scrub.
func addSecret(out *[]string, s string) {
	if len(s) < minScrubLen {
		return
	}
	*out = append(*out, s)
	if b, err := json.Marshal(s); err == nil && len(b) >= 2 {
		if esc := string(b[1 : len(b)-1]); esc != s {
			*out = append(*out, esc)
		}
	}
}

// scrubError returns err with every masked value of in that its text
// holds replaced by MaskedValue, still wrapping err (errors.Is and As see
// through it); err itself when its text holds none. Handlers get the real
// values, so what they say back may quote them: this keeps those values
// out of last_error, the records and every read view.
func (m *masker) scrubError(in intent.Intent, err error) error {
	if err == nil || m.empty() {
		return err
	}
	secrets := m.secrets(in)
	if len(secrets) == 0 {
		return err
	}
	msg := err.Error()
	clean := msg
	for _, s := range secrets {
		clean = strings.ReplaceAll(clean, s, MaskedValue)
	}
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}

// ErrorScrubber returns what scrubs a handler's error of the values of
// its intent's masked fields (fields as masking.fields), for a process
// that runs handlers away from the engine (grace worker): their errors
// then leave it, for its log, the wire and the record, already scrubbed.
func ErrorScrubber(fields []string) func(intent.Intent, error) error {
	return newMasker(fields).scrubError
}

// scrubbedError is a handler's error whose text had masked values in it.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

var _ interface{ Unwrap() error } = (*scrubbedError)(nil)
