package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// decodeBody reads exactly one JSON object from r's body into dst, refusing
// unknown fields, wrong types, trailing data and bodies over the limit
// (which the handler has already wrapped with http.MaxBytesReader). An empty
// body is accepted when allowEmpty is set, leaving dst as it is.
func decodeBody(r *http.Request, dst any, allowEmpty bool) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if errors.Is(err, io.EOF) {
			if allowEmpty {
				return nil
			}
			return newError(http.StatusBadRequest, CodeMalformed, "", "request body is empty; expected a JSON object")
		}
		return classifyDecodeError(err)
	}
	// Exactly one document: anything but whitespace after it is malformed.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return classifyDecodeError(err)
		}
		return newError(http.StatusBadRequest, CodeMalformed, "", "request body has data after the JSON object")
	}
	return nil
}

func classifyDecodeError(err error) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return newError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "", "request body is larger than %d bytes", mbe.Limit)
	case errors.As(err, &se):
		return newError(http.StatusBadRequest, CodeMalformed, "", "malformed JSON at byte %d: %v", se.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return newError(http.StatusBadRequest, CodeMalformed, "", "malformed JSON: the body ends early")
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return newError(http.StatusBadRequest, CodeWrongType, "", "expected a JSON object, got %s", te.Value)
		}
		return newError(http.StatusBadRequest, CodeWrongType, field, "%s: expected %s, got %s", field, jsonKind(te.Type.Kind().String()), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return newError(http.StatusBadRequest, CodeUnknownField, name, "unknown field %q", name)
	}
	return newError(http.StatusBadRequest, CodeMalformed, "", "malformed JSON: %v", err)
}

// jsonKind names a Go kind the way a JSON author thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	}
	return kind
}
