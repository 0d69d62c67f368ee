package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// checkNames walks data, one JSON value that has already decoded without
// error, and refuses two things encoding/json lets through: a name given
// twice in one object (the decoder keeps the last, so a check that read the
// first would be fooled), anywhere in the body; and at the top level a name
// that matches a field only when case is ignored ("Type" for "type"), which
// the decoder quietly takes as that field. fields are the top-level names
// the route takes; nil checks no top-level names.
//
// It scans the bytes rather than asking a json.Decoder for tokens: every
// submission passes here, and the decoder's tokens cost about as much as
// the decoding itself. Names are compared as the decoder reads them, so an
// escaped "\u0074ype" is "type".
func checkNames(data []byte, fields map[string]bool) error {
	var stack []jsonFrame
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '{', '[':
			stack = append(stack, jsonFrame{object: c == '{', wantKey: c == '{'})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if top := &stack[len(stack)-1]; top.object {
				top.wantKey = true
			} else {
				top.index++
			}
		case '"':
			end := stringEnd(data, i)
			if n := len(stack); n > 0 && stack[n-1].wantKey {
				top := &stack[n-1]
				key := jsonName(data[i : end+1])
				for _, k := range top.keys {
					if k == key {
						field := clipText(framePath(stack[:n-1], key), 64)
						return newError(http.StatusBadRequest, CodeDuplicateField, field,
							"%s is given twice; give each name once", field)
					}
				}
				top.keys = append(top.keys, key)
				top.wantKey = false
				if n == 1 && fields != nil && !fields[key] {
					return unknownName(key, fields)
				}
			}
			i = end
		}
	}
	return nil
}

// jsonFrame is one open object or array in checkNames's walk.
type jsonFrame struct {
	object  bool
	keys    []string // an object's names so far; the last is the current one
	index   int      // an array's current index
	wantKey bool     // an object expects a name next
}

// stringEnd returns the index of the quote that closes the string whose
// opening quote is at data[i].
func stringEnd(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return len(data) - 1
}

// jsonName is the name a quoted JSON string stands for; only a name with
// an escape needs decoding.
func jsonName(quoted []byte) string {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1 : len(quoted)-1])
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return string(quoted[1 : len(quoted)-1])
	}
	return s
}

// framePath names the member key of the value inside the open frames:
// "payload.x", "context.l[1].b".
func framePath(frames []jsonFrame, key string) string {
	path := ""
	for _, f := range frames {
		if f.object {
			path = joinPath(path, f.keys[len(f.keys)-1])
		} else {
			path += "[" + strconv.Itoa(f.index) + "]"
		}
	}
	return joinPath(path, key)
}

// unknownName refuses a top-level name the route does not take, naming the
// field it was probably meant to be when only its case differs.
func unknownName(key string, fields map[string]bool) error {
	name := clipText(key, 64)
	for f := range fields {
		if strings.EqualFold(f, key) {
			return newError(http.StatusBadRequest, CodeUnknownField, name,
				"unknown field %q: names are case-sensitive; did you mean %q?", name, f)
		}
	}
	return newError(http.StatusBadRequest, CodeUnknownField, name, "unknown field %q", name)
}

// joinPath names a member of the value at path: "payload.x", "context.k".
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fieldCache holds the JSON names of each request type.
var fieldCache sync.Map // reflect.Type → map[string]bool

// fieldsOf returns the JSON names of the fields of the struct dst points
// to; nil when dst is not a pointer to a struct.
func fieldsOf(dst any) map[string]bool {
	t := reflect.TypeOf(dst)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	t = t.Elem()
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = sf.Name
		}
		m[name] = true
	}
	fieldCache.Store(t, m)
	return m
}
