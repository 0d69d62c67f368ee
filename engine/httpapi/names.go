package httpapi

import (
	"net/http"
	"reflect"
	"strings"
	"sync"

	"grace/engine"
)

// checkNames walks data, one JSON value that has already decoded without
// error, and refuses two things encoding/json lets through: a name given
// twice in one object (the decoder keeps the last, so a check that read the
// first would be fooled), anywhere in the body; and at the top level a name
// that matches a field only when case is ignored ("Type" for "type"), which
// the decoder quietly takes as that field. fields are the top-level names
// the route takes; nil checks no top-level names.
func checkNames(data []byte, fields map[string]bool) error {
	dup, err := engine.ScanNames(data, func(key string) error {
		if fields != nil && !fields[key] {
			return unknownName(key, fields)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if dup != "" {
		field := clipText(dup, 64)
		shown := field
		if strings.HasSuffix(dup, ".") {
			// The empty name, {"":1,"":2} in an object at path: named
			// as it is, the message would read "path. is given twice".
			shown = `the name "" in ` + strings.TrimSuffix(field, ".")
		}
		return newError(http.StatusBadRequest, CodeDuplicateField, field,
			"%s is given twice; give each name once", shown)
	}
	return nil
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
