package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"
)

// decodeBody reads exactly one JSON object from r's body into dst, refusing
// a Content-Encoding it would have to undo (415), a body that is not valid
// UTF-8, null or not an object, unknown fields (names match exactly, case
// included), a name given twice in any object of the body, wrong types,
// trailing data and bodies over the limit (which the handler has already
// wrapped with http.MaxBytesReader). An empty body is accepted when
// allowEmpty is set, leaving dst as it is. The Content-Type is not
// checked: the body is judged by what it holds, so that
// "curl -d '{...}'" (which says form data) works.
func decodeBody(r *http.Request, dst any, allowEmpty bool) error {
	if err := checkEncoding(r.Header); err != nil {
		return err
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return readError(err)
	}
	// A byte order mark, which some editors and tools put before JSON,
	// is ignored (RFC 8259 allows it): it is not part of the document.
	data = bytes.TrimPrefix(data, utf8BOM)
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		if allowEmpty {
			return nil
		}
		return newError(http.StatusBadRequest, CodeMalformed, "", "request body is empty; expected a JSON object")
	}
	if !utf8.Valid(data) {
		return newError(http.StatusBadRequest, CodeMalformed, "", "request body is not valid UTF-8 (first bad byte at offset %d)", invalidUTF8At(data))
	}
	if bytes.HasPrefix(trimmed, []byte("null")) {
		return newError(http.StatusBadRequest, CodeWrongType, "", "expected a JSON object, got null")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber() // a submission's context numbers as written: keptContext reads them
	if err := dec.Decode(dst); err != nil {
		return classifyDecodeError(err)
	}
	// Exactly one document: anything but whitespace after it is malformed.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return newError(http.StatusBadRequest, CodeMalformed, "", "request body has data after the JSON object")
	}
	return checkNames(data, fieldsOf(dst))
}

// utf8BOM is the UTF-8 byte order mark.
var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// checkEncoding refuses a body the client says is encoded (gzip and the
// like): the API reads plain JSON only, and reading an encoded body as
// JSON would give a misleading error, or a wrong reading of a plain one.
func checkEncoding(h http.Header) error {
	for _, v := range h.Values("Content-Encoding") {
		for _, enc := range strings.Split(v, ",") {
			if enc = strings.TrimSpace(enc); enc != "" && !strings.EqualFold(enc, "identity") {
				return newError(http.StatusUnsupportedMediaType, CodeUnsupportedEncoding, "",
					"Content-Encoding %q is not accepted: send the JSON body unencoded", clipText(enc, 32))
			}
		}
	}
	return nil
}

// invalidUTF8At returns the offset of the first byte of data that is not
// part of valid UTF-8.
func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// readError is the answer to a body that could not be read: over the
// limit (413), not arriving in time (408), or broken on the wire (400
// bad_body, naming what broke: the JSON was never looked at).
func readError(err error) error {
	var (
		mbe *http.MaxBytesError
		ne  net.Error
	)
	switch {
	case errors.As(err, &mbe):
		return newError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "", "request body is larger than %d bytes (api.max_body_bytes)", mbe.Limit)
	case errors.As(err, &ne) && ne.Timeout():
		return newError(http.StatusRequestTimeout, CodeTimeout, "", "the request body did not arrive within the server's read timeout")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return newError(http.StatusBadRequest, CodeBadBody, "", "the request body could not be read: the connection ended before the whole body arrived")
	}
	return newError(http.StatusBadRequest, CodeBadBody, "", "the request body could not be read: %v", err)
}

// classifyDecodeError is the answer to a body, read whole, that is not
// the JSON the route takes.
func classifyDecodeError(err error) error {
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &se):
		return newError(http.StatusBadRequest, CodeMalformed, "", "malformed JSON at byte %d: %v", se.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return newError(http.StatusBadRequest, CodeMalformed, "", "malformed JSON: the body ends early")
	case errors.As(err, &te):
		reason, _ := JSONTypeReason(te)
		return newError(http.StatusBadRequest, CodeWrongType, te.Field, "%s", reason)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return newError(http.StatusBadRequest, CodeUnknownField, clipText(name, 64), "unknown field %q", clipText(name, 64))
	}
	return newError(http.StatusBadRequest, CodeMalformed, "", "malformed JSON: %v", err)
}

// JSONTypeReason says what is wrong with a JSON value of the wrong type
// as a JSON author thinks of it ("priority: expected an integer, got a
// string"), not in Go's terms ("cannot unmarshal string into Go struct
// field SubmitRequest.priority of type int"). ok is false when err holds
// no *json.UnmarshalTypeError.
func JSONTypeReason(err error) (reason string, ok bool) {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return "", false
	}
	if te.Field == "" {
		return "expected a JSON object, got " + jsonValue(te.Value), true
	}
	if inContext := te.Field == "context" || strings.HasPrefix(te.Field, "context."); inContext && strings.HasPrefix(te.Value, "number ") {
		// A value inside the mission context that did not decode: a
		// number past float64's range. Its digits are not repeated, here
		// or on the refusal record, because it may be a masked field's.
		return te.Field + ": a number is out of range (the largest is about 1.8e308); its digits are not repeated, " +
			"since a context value may be masked", true
	}
	return te.Field + ": expected " + jsonKind(te.Type.Kind().String()) + ", got " + jsonValue(te.Value), true
}

// jsonValue names what encoding/json found ("string", "number 1.5") as a
// JSON author thinks of it.
func jsonValue(v string) string {
	switch v {
	case "string", "number":
		return "a " + v
	case "bool":
		return "a boolean"
	case "array", "object":
		return "an " + v
	}
	if n, ok := strings.CutPrefix(v, "number "); ok {
		return "the number " + n
	}
	return v
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
