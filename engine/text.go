package engine

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Bounds on the free text a decision puts on the record: a reason or a
// review note, and the operator's name.
const (
	MaxReasonBytes   = 2000
	MaxOperatorBytes = 128
)

// TextError refuses a decision's free text: too long, not UTF-8, or
// holding control characters, which would reach the record and the
// console's terminal as they are (an escape sequence repainting the
// operator's screen). Field names it ("reason", "note", "operator"; "actor"
// for an actor pause's name, see ErrActorRequired).
type TextError struct {
	Field, Reason string
}

func (e *TextError) Error() string { return e.Field + " " + e.Reason }

// CheckText returns a *TextError when s is longer than max bytes, not
// valid UTF-8, or holds a control character; multiline allows newlines
// and tabs, never a carriage return (which lets one line overwrite
// another).
func CheckText(field, s string, max int, multiline bool) error {
	if len(s) > max {
		return &TextError{field, fmt.Sprintf("is %d bytes; the limit is %d", len(s), max)}
	}
	if !utf8.ValidString(s) {
		return &TextError{field, "is not valid UTF-8"}
	}
	for _, c := range s {
		if multiline && (c == '\n' || c == '\t') {
			continue
		}
		if unicode.IsControl(c) {
			return &TextError{field, fmt.Sprintf("holds a control character (%U); send printable text", c)}
		}
	}
	return nil
}

// checkDecisionText checks a decision's operator and reason (or note).
func checkDecisionText(operator, reasonField, reason string) error {
	if err := CheckText("operator", operator, MaxOperatorBytes, false); err != nil {
		return err
	}
	return CheckText(reasonField, reason, MaxReasonBytes, true)
}
