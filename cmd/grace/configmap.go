package main

import (
	"fmt"
	"reflect"
	"strings"
)

// structToMap turns a config value into the nested map viper layers:
// structs by their mapstructure tags, maps by key; nil maps and slices are
// left out (they have no default to override).
func structToMap(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Struct:
		out := map[string]any{}
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("mapstructure"), ",")[0]
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			if val := structToMap(v.Field(i)); val != nil {
				out[tag] = val
			}
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := map[string]any{}
		iter := v.MapRange()
		for iter.Next() {
			if val := structToMap(iter.Value()); val != nil {
				out[strings.ToLower(fmt.Sprint(iter.Key().Interface()))] = val
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		return v.Interface()
	}
	return v.Interface()
}

// hasPath reports whether the dotted key is set in the nested map m.
func hasPath(m map[string]any, key string) bool {
	parts := strings.Split(key, ".")
	cur := m
	for i, p := range parts {
		val, ok := cur[p]
		if !ok {
			return false
		}
		if i == len(parts)-1 {
			return true
		}
		if cur, ok = val.(map[string]any); !ok {
			return false
		}
	}
	return false
}

// deletePath removes the dotted key from the nested map m.
func deletePath(m map[string]any, key string) {
	parts := strings.Split(key, ".")
	cur := m
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			return
		}
		cur = next
	}
	delete(cur, parts[len(parts)-1])
}
