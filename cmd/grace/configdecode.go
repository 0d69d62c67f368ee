package main

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"go.yaml.in/yaml/v3"
)

// keyProblem is one thing wrong with one config key.
type keyProblem struct {
	key     string
	reason  string
	unknown bool
	near    string // for an unknown key, the known one it may be a typo of
}

func (p keyProblem) String() string {
	if p.unknown && p.near != "" {
		return fmt.Sprintf("unknown key %q (did you mean %q?)", p.key, p.near)
	}
	if p.unknown {
		return fmt.Sprintf("unknown key %q", p.key)
	}
	if p.key == "" {
		return p.reason
	}
	return p.key + ": " + p.reason
}

// decodeStrict decodes viper's merged settings into out: an unknown key is
// a problem, and so is a value of the wrong type. Strings (from the
// environment and --set) are parsed into the key's type; durations must be
// strings such as "2s". Problems come back sorted by key.
func decodeStrict(settings map[string]any, out any) []keyProblem {
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook:  strictHook,
		ErrorUnused: true,
		Result:      out,
		TagName:     "mapstructure",
	})
	if err != nil {
		return []keyProblem{{reason: "config decoder: " + err.Error()}}
	}
	var problems []keyProblem
	collectDecodeErrors(dec.Decode(settings), &problems)
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].key < problems[j].key })
	return problems
}

// unusedPrefix starts mapstructure's ErrorUnused message.
const unusedPrefix = "has invalid keys: "

// collectDecodeErrors flattens mapstructure's joined and nested errors into
// one problem per key.
func collectDecodeErrors(err error, out *[]keyProblem) {
	switch e := err.(type) {
	case nil:
	case interface{ Unwrap() []error }:
		for _, sub := range e.Unwrap() {
			collectDecodeErrors(sub, out)
		}
	case *mapstructure.DecodeError:
		inner := e.Unwrap()
		switch inner.(type) {
		case *mapstructure.DecodeError, interface{ Unwrap() []error }:
			collectDecodeErrors(inner, out)
			return
		}
		name := cleanKey(e.Name())
		// ErrorUnused's error lists a struct's unknown keys in one message.
		if list, ok := strings.CutPrefix(inner.Error(), unusedPrefix); ok {
			for _, k := range strings.Split(list, ", ") {
				if name != "" {
					k = name + "." + k
				}
				*out = append(*out, keyProblem{key: k, unknown: true})
			}
			return
		}
		*out = append(*out, keyProblem{key: name, reason: describeDecodeError(inner)})
	case interface{ Unwrap() error }: // "decoding failed due to the following error(s)"
		collectDecodeErrors(e.Unwrap(), out)
	default:
		*out = append(*out, keyProblem{reason: err.Error()})
	}
}

func describeDecodeError(err error) string {
	switch e := err.(type) {
	case *valueError:
		return e.Error()
	case *mapstructure.UnconvertibleTypeError:
		return (&valueError{want: kindName(e.Expected.Type()), got: e.Value}).Error()
	case *mapstructure.ParseError:
		return (&valueError{want: kindName(e.Expected.Type()), got: e.Value}).Error()
	}
	return err.Error()
}

// mapIndex matches mapstructure's "[key]" for map entries (not slice indexes).
var mapIndex = regexp.MustCompile(`\[([^\]]*[^\]0-9][^\]]*)\]`)

// cleanKey turns mapstructure's "handlers[default].latency" into the config
// key "handlers.default.latency".
func cleanKey(name string) string {
	return mapIndex.ReplaceAllString(name, ".$1")
}

// valueError is a value of the wrong type for its key.
type valueError struct {
	want string
	got  any
}

func (e *valueError) Error() string {
	return fmt.Sprintf("expected %s, got %s", e.want, showValue(e.got))
}

func showValue(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case map[string]any, map[any]any:
		return "a mapping"
	case []any, []string:
		return "a list"
	case nil:
		return "nothing"
	}
	return fmt.Sprint(v)
}

var durationType = reflect.TypeFor[time.Duration]()

// kindName says what a key of type t holds, as an error message puts it.
func kindName(t reflect.Type) string {
	if t == durationType {
		return `a duration like "2s"`
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

// strictHook converts and checks each value before mapstructure stores it.
// Values of the right type pass; strings are parsed into numbers, booleans,
// durations and comma-separated lists (so the environment and --set can
// set any scalar); everything else is a *valueError.
func strictHook(from, to reflect.Type, data any) (any, error) {
	if data == nil {
		return nil, nil
	}
	bad := func() (any, error) { return nil, &valueError{want: kindName(to), got: data} }
	s, isString := data.(string)
	if to == durationType {
		switch x := data.(type) {
		case time.Duration:
			return x, nil
		case string:
			d, err := time.ParseDuration(strings.TrimSpace(x))
			if err != nil {
				return bad()
			}
			return d, nil
		}
		return bad()
	}
	switch to.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		switch {
		case isString:
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return bad()
			}
			return n, nil
		case isIntKind(from.Kind()):
			return data, nil
		case from.Kind() == reflect.Float64 || from.Kind() == reflect.Float32:
			f := reflect.ValueOf(data).Float()
			// -2^63 is exact as a float64; 2^63 is just past int64.
			if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
				return bad()
			}
			return int64(f), nil
		}
		return bad()
	case reflect.Float32, reflect.Float64:
		switch {
		case isString:
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return bad()
			}
			return f, nil
		case isIntKind(from.Kind()), from.Kind() == reflect.Float64, from.Kind() == reflect.Float32:
			return data, nil
		}
		return bad()
	case reflect.Bool:
		switch {
		case isString:
			b, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				return bad()
			}
			return b, nil
		case from.Kind() == reflect.Bool:
			return data, nil
		}
		return bad()
	case reflect.String:
		if isString {
			return data, nil
		}
		if t, ok := data.(time.Time); ok { // YAML reads an unquoted 2027-01-31T00:00:00Z (or 2027-01-31) as a time
			return t.Format(time.RFC3339Nano), nil
		}
		return bad()
	case reflect.Slice:
		switch {
		case isString:
			return splitList(s)
		case from.Kind() == reflect.Slice:
			return data, nil
		}
		return bad()
	case reflect.Map, reflect.Struct:
		if from.Kind() == reflect.Map {
			return data, nil
		}
		return bad()
	}
	return data, nil
}

// splitList reads a list given as one string (by the environment or
// --set): comma-separated (a, b), or a YAML flow list ([a, b]) as the
// file writes it, where a quoted item may hold a comma or a bracket
// (["[ -f x ]", b]). Any other item holding [ or ] is refused: it is a
// list written half as one ("[a, b" or "a, b]"), which would otherwise
// become items named "[a" and "b]".
func splitList(s string) ([]string, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return []string{}, nil
	}
	if strings.HasPrefix(t, "[") {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(t), &doc); err != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("%s is not a list: write it as a, b or [a, b] (quote an item that holds a comma or a bracket)", strconv.Quote(s))
		}
		items := make([]string, 0, len(doc.Content[0].Content))
		for _, n := range doc.Content[0].Content {
			if n.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("%s: a list item must be a single value, not a list or mapping", strconv.Quote(s))
			}
			items = append(items, n.Value)
		}
		return items, nil
	}
	items := strings.Split(t, ",")
	for i := range items {
		items[i] = strings.TrimSpace(items[i])
		if strings.ContainsAny(items[i], "[]") {
			return nil, fmt.Errorf("list item %s holds a bracket: write the list as a, b or [a, b] (quote an item that holds a bracket: [\"[x]\"])", strconv.Quote(items[i]))
		}
	}
	return items, nil
}

func isIntKind(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}
