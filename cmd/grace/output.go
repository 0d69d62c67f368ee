package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"grace/engine"
	"grace/engine/httpapi"
)

// writeJSON prints v as the invocation's one JSON document.
func (a *app) writeJSON(v any) error {
	if a.wroteJSON {
		return errors.New("internal: a second JSON document") // never two on stdout
	}
	a.wroteJSON = true
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// writeJSONError prints err in the HTTP API's error shape, so that a script
// reading --json output gets a document on failure too.
func (a *app) writeJSONError(err error) {
	body := httpapi.ErrorResponse{Error: httpapi.ErrorBody{Code: "error", Message: strings.Join(errorLines(err), "; ")}}
	var ve *engine.ValidationError
	var he *httpapi.Error
	var ue *usageError
	switch {
	case errors.As(err, &ve):
		body.Error.Code = httpapi.CodeInvalidIntent
		body.Problems = ve.Problems
		if len(ve.Problems) > 0 {
			body.Error.Field = ve.Problems[0].Field
		}
	case errors.As(err, &he):
		body.Error.Code, body.Error.Field = he.Code, he.Field
	case errors.As(err, &ue):
		body.Error.Code = "usage"
	case errors.Is(err, engine.ErrNotFound):
		body.Error.Code = httpapi.CodeNotFound
	case errors.Is(err, engine.ErrNotPending):
		body.Error.Code = httpapi.CodeNotPending
	}
	_ = a.writeJSON(body)
}

// table prints aligned columns, two spaces apart; the first row is the
// header. As text/tabwriter does, a column is aligned over each run of
// consecutive rows that have a cell after it, and a row's last cell is
// not padded; unlike it, a cell's width is what a terminal shows (an
// East Asian character or an emoji takes two columns), so a wide actor
// or payload does not push the rest of its row out of line.
func (a *app) table(rows [][]string) {
	const gap = 2
	safe := make([][]string, len(rows))
	for r, row := range rows {
		safe[r] = make([]string, len(row))
		for c, cell := range row {
			safe[r][c] = terminalSafe(cell)
		}
	}
	rows = safe
	widths := make([][]int, len(rows)) // widths[r][c]: the padded width of row r's cell c
	for r, row := range rows {
		widths[r] = make([]int, max(len(row)-1, 0))
	}
	for r := range rows {
		for c := range widths[r] {
			if c < len(widths[r]) && widths[r][c] > 0 {
				continue // set with its run
			}
			end, w := r, 0
			for end < len(rows) && c < len(rows[end])-1 {
				w = max(w, ansi.StringWidth(rows[end][c]))
				end++
			}
			for i := r; i < end; i++ {
				widths[i][c] = w + gap
			}
		}
	}
	var b strings.Builder
	for r, row := range rows {
		b.Reset()
		for c, cell := range row {
			b.WriteString(cell)
			if c < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[r][c]-ansi.StringWidth(cell)))
			}
		}
		b.WriteByte('\n')
		if _, err := io.WriteString(a.stdout, b.String()); err != nil {
			return
		}
	}
}

// terminalSafe writes the characters of s that a terminal acts on rather
// than shows (C0 and C1 controls, DEL, bidirectional overrides and
// isolates) as \u escapes, and bytes that are not UTF-8 as \x escapes:
// text an agent sent (a payload, a record's lines) cannot repaint, retitle
// or reorder what the operator reads, or write to the clipboard, and what
// was sent stays visible.
func terminalSafe(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeRune reports whether a terminal would act on r instead of showing
// it: a control character, or one that reorders the text around it.
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// oneLine collapses whitespace (newlines included) to single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	s = oneLine(s)
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// quoteClip quotes s for an error message, cut to its first n bytes (a
// value given at fault may be long or hold control characters).
func quoteClip(s string, n int) string {
	if len(s) > n {
		return strconv.Quote(s[:n]) + "…"
	}
	return strconv.Quote(s)
}

// shownID is an intent ID as an error message shows it: as typed when
// it could be one (short printable text), else quoted and cut, so that a
// pasted screenful or a terminal escape is not echoed back whole.
func shownID(id string) string {
	if len(id) <= maxShownID && strings.IndexFunc(id, func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) }) < 0 {
		return id
	}
	return quoteClip(id, maxShownID)
}

// stamp formats a time for tables: local, to the second.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
