package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// keptContext returns a submission's context with its numbers as the
// engine keeps them (float64), read from the json.Number a body decoded
// with UseNumber gives; it refuses (400 wrong_type, field naming the
// number's place, "context.build") a number a float64 would not keep as
// written: past its range (1e400), or with more digits than it holds
// (12345678901234567891 read back as 12345678901234567000: an ID or a
// build number silently changed). A number's digits are not repeated in
// the error, since a context value may be masked. Values that are
// already float64 (a context decoded without UseNumber) pass as they are.
func keptContext(ctx map[string]any) (map[string]any, error) {
	if ctx == nil {
		return nil, nil
	}
	v, err := keptNumbers(ctx, "context")
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// keptNumbers is v, found at path, with its json.Numbers made float64.
func keptNumbers(v any, path string) (any, error) {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if errors.Is(err, strconv.ErrRange) {
			return nil, newError(http.StatusBadRequest, CodeWrongType, path,
				"%s: a number is out of range (the largest is about 1.8e308); its digits are not repeated, since a context value may be masked", path)
		}
		if err != nil || !keptExactly(string(v), f) {
			return nil, newError(http.StatusBadRequest, CodeWrongType, path,
				"%s: a number has more digits than a context number keeps (a 64-bit float: about 15 significant digits), "+
					"so it would read back changed; send it as a string to keep every digit (its digits are not repeated, "+
					"since a context value may be masked)", path)
		}
		return f, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			y, err := keptNumbers(x, path+"."+k)
			if err != nil {
				return nil, err
			}
			out[k] = y
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			y, err := keptNumbers(x, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	}
	return v, nil
}

// keptExactly reports whether the JSON number s writes the same value as
// f does in its shortest form: 0.1 and 1.50 are kept; 12345678901234567891
// (f writes 12345678901234567000) and 1e-400 (f is 0) are not.
func keptExactly(s string, f float64) bool {
	a, ok := decimalOf(s)
	b, okf := decimalOf(strconv.FormatFloat(f, 'e', -1, 64))
	return ok && okf && a == b
}

// decimal is a number's value as sign, significant digits (no leading or
// trailing zeros) and power of ten; zero is the zero decimal, either sign.
type decimal struct {
	neg    bool
	digits string
	exp    int64
}

// decimalOf reads a JSON number (or FormatFloat's 'e' form) as a decimal;
// ok is false when its exponent is past what it can count.
func decimalOf(s string) (d decimal, ok bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, e, hasExp := strings.Cut(strings.ToLower(s), "e")
	var exp int64
	if hasExp {
		n, err := strconv.ParseInt(e, 10, 64)
		if err != nil || n < -1<<40 || n > 1<<40 {
			return d, false
		}
		exp = n
	}
	whole, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(whole+frac, "0")
	exp -= int64(len(frac))
	sig := strings.TrimRight(digits, "0")
	exp += int64(len(digits) - len(sig))
	if sig == "" {
		return decimal{}, true
	}
	return decimal{neg: neg, digits: sig, exp: exp}, true
}
