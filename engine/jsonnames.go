package engine

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// ScanNames walks data, one JSON value that has already decoded without
// error, for what encoding/json lets through: a name given twice in one
// object, anywhere in the value (the decoder keeps the last, so a check
// that read the first would be fooled). It returns the first such name's
// path ("payload.x", "l[1].b"), or "". top, when set, is called with each
// name of the outermost object in order; its error stops the walk and is
// returned.
//
// It scans the bytes rather than asking a json.Decoder for tokens: every
// submission passes here, and the decoder's tokens cost about as much as
// the decoding itself. Names are compared as the decoder reads them, so an
// escaped "\u0074ype" is "type".
func ScanNames(data []byte, top func(key string) error) (dup string, err error) {
	var stack []jsonFrame
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '{', '[':
			stack = append(stack, jsonFrame{object: c == '{', wantKey: c == '{'})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if f := &stack[len(stack)-1]; f.object {
				f.wantKey = true
			} else {
				f.index++
			}
		case '"':
			end := stringEnd(data, i)
			if n := len(stack); n > 0 && stack[n-1].wantKey {
				f := &stack[n-1]
				key := jsonName(data[i : end+1])
				if f.seen(key) {
					return framePath(stack[:n-1], key), nil
				}
				f.keys = append(f.keys, key)
				if f.set != nil {
					f.set[key] = struct{}{}
				}
				f.wantKey = false
				if n == 1 && top != nil {
					if err := top(key); err != nil {
						return "", err
					}
				}
			}
			i = end
		}
	}
	return "", nil
}

// jsonFrame is one open object or array in checkNames's walk.
type jsonFrame struct {
	object  bool
	keys    []string // an object's names so far; the last is the current one
	index   int      // an array's current index
	wantKey bool     // an object expects a name next
	// set holds keys once there are more than setFrom of them, so that an
	// object of many names (a body of 80,000 took 11 s) is checked in
	// time proportional to its size.
	set map[string]struct{}
}

// setFrom is how many names an object has before its frame keeps a set.
const setFrom = 16

// seen reports whether key is a name of the object already; past setFrom
// names it builds the set.
func (f *jsonFrame) seen(key string) bool {
	if f.set != nil {
		_, ok := f.set[key]
		return ok
	}
	for _, k := range f.keys {
		if k == key {
			return true
		}
	}
	if len(f.keys) >= setFrom {
		f.set = make(map[string]struct{}, 2*len(f.keys))
		for _, k := range f.keys {
			f.set[k] = struct{}{}
		}
	}
	return false
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

// joinPath names a member of the value at path: "payload.x".
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
