package tui

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// searchHint is the search box's placeholder: the query syntax in brief.
const searchHint = "words -word actor:A action:X intent:ID since:1h until:15:04"

// narrQuery is a parsed narrative search: free words for the full-text
// index and the filters written as field:value.
type narrQuery struct {
	Text     string
	Actor    string
	Action   string
	IntentID string
	Since    time.Time
	Until    time.Time
}

// parseNarrQuery reads the search box. Words are full-text terms (ANDed;
// word* is a prefix; -word excludes; "a phrase" in double quotes, or a
// word of several parts such as worker_1, needs its words side by side; an
// intent's ID alone is intent:ID); actor: (or who:), action: (or what:), intent:,
// since: and until: filter. Times are relative to now ("1h", "30m", "2d"),
// "now", "today", "yesterday", a time of day today ("15:04", "15:04:05"),
// a date ("2025-03-14") or a date and time ("2025-03-14T15:04",
// RFC 3339), in now's location. It fails naming the field it cannot read.
func parseNarrQuery(s string, now time.Time) (narrQuery, error) {
	var q narrQuery
	var words []string
	for _, tok := range clarity.SplitTerms(s) {
		field, val, ok := strings.Cut(tok, ":")
		val = strings.ReplaceAll(val, `"`, "") // actor:"a b" is a b
		if !ok {
			words = append(words, tok)
			continue
		}
		var dst *string
		switch strings.ToLower(field) {
		case "actor", "who":
			dst = &q.Actor
		case "action", "what":
			dst = &q.Action
		case "intent", "id":
			dst = &q.IntentID
		case "since", "from", "until", "to":
			t, err := parseWhen(val, now)
			if err != nil {
				return narrQuery{}, fmt.Errorf("%s: %w", field, err)
			}
			if f := strings.ToLower(field); f == "since" || f == "from" {
				q.Since = t
			} else {
				q.Until = t
			}
			continue
		default:
			// Not a filter: a word with a colon in it (say, a time).
			words = append(words, tok)
			continue
		}
		if val == "" {
			return narrQuery{}, fmt.Errorf("%s: needs a value, as in %s:x", field, field)
		}
		*dst = val
	}
	q.Text = strings.Join(words, " ")
	if id := intent.CanonicalID(strings.Join(words, "")); len(words) == 1 && q.IntentID == "" && intent.IsID(id) {
		// An intent's ID pasted alone: its records (as the store reads it).
		q.IntentID, q.Text = id, ""
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return narrQuery{}, errors.New("since must be before until")
	}
	return q, nil
}

// errWhen explains the time forms the search box reads.
var errWhen = errors.New("use 1h, 30m, 2d, today, 15:04, 2025-03-14 or 2025-03-14T15:04")

// parseWhen reads one time of a search, relative to now.
func parseWhen(v string, now time.Time) (time.Time, error) {
	loc := now.Location()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	switch strings.ToLower(v) {
	case "":
		return time.Time{}, fmt.Errorf("needs a time: %w", errWhen)
	case "now":
		return now, nil
	case "today":
		return midnight, nil
	case "yesterday":
		return midnight.AddDate(0, 0, -1), nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if n, ok := strings.CutSuffix(v, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days >= 0 {
			return now.AddDate(0, 0, -days), nil
		}
	}
	for _, layout := range []string{"15:04", "15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return midnight.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second), nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read %q: %w", v, errWhen)
}

// clarityQuery is q as the engine takes it, one page of limit entries
// older than beforeID (0: the newest).
func (q narrQuery) clarityQuery(limit int, beforeID int64) clarity.Query {
	return clarity.Query{Text: q.Text, Actor: q.Actor, Action: q.Action, IntentID: q.IntentID,
		Since: q.Since, Until: q.Until, Limit: limit, BeforeID: beforeID}
}

// describe says in words what q selects, as the operator should read it.
func (q narrQuery) describe(now time.Time) string {
	loc := now.Location()
	var parts []string
	if q.Text != "" {
		required, phrases, excluded := searchWords(q.Text)
		if len(required) > 0 {
			parts = append(parts, "words “"+strings.Join(required, " ")+"”")
		}
		switch len(phrases) {
		case 0:
		case 1:
			parts = append(parts, "phrase “"+phrases[0]+"”")
		default:
			parts = append(parts, "phrases “"+strings.Join(phrases, "”, “")+"”")
		}
		if len(excluded) > 0 {
			parts = append(parts, "without “"+strings.Join(excluded, "”, “")+"”")
		}
		if len(required)+len(phrases)+len(excluded) == 0 {
			parts = append(parts, noWordsText(q.Text))
		}
	}
	if q.Actor != "" {
		parts = append(parts, "actor "+q.Actor)
	}
	if q.Action != "" {
		parts = append(parts, "action "+q.Action)
	}
	if q.IntentID != "" {
		parts = append(parts, "intent "+q.IntentID)
	}
	when := func(t time.Time) string {
		return t.In(loc).Format("01-02 15:04:05") + " (" + fmtDur(now.Sub(t)) + " ago)"
	}
	if !q.Since.IsZero() {
		parts = append(parts, "since "+when(q.Since))
	}
	if !q.Until.IsZero() {
		parts = append(parts, "until "+when(q.Until))
	}
	if len(parts) == 0 {
		return "all narratives · newest first"
	}
	return strings.Join(parts, " · ") + " · newest first"
}

// searchWords are the terms of a search's text as the full-text search
// reads them (clarity.Query): the text splits at spaces outside double
// quotes (a quote left open runs to the end); a term's words are runs of
// letters and digits, a trailing '*' kept as the prefix mark; every other
// character (quotes, '(', emoji…) only separates words, so FTS syntax is
// never an operator. A term of one word is a required word; of several
// ("disk full" in quotes, worker_1), a phrase, its words side by side;
// written with a leading '-', it is excluded. Text with none does not
// filter at all, which describe says rather than showing every narrative
// as a match.
func searchWords(text string) (required, phrases, excluded []string) {
	for _, term := range clarity.SplitTerms(text) {
		not := len(term) > 1 && term[0] == '-'
		body := strings.ReplaceAll(term, `"`, " ")
		words := fieldWords(body)
		if len(words) > 0 && strings.HasSuffix(strings.TrimRightFunc(body, unicode.IsSpace), "*") {
			words[len(words)-1] += "*"
		}
		switch {
		case len(words) == 0:
		case not:
			excluded = append(excluded, strings.Join(words, " "))
		case len(words) == 1:
			required = append(required, words[0])
		default:
			phrases = append(phrases, strings.Join(words, " "))
		}
	}
	return required, phrases, excluded
}

// fieldWords splits one field of the search text into its words.
func fieldWords(field string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	for _, r := range field {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining mark: part of its letter, if any
			if b.Len() > 0 {
				b.WriteRune(r)
			}
		case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r):
			b.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// hasWords reports whether a search's text has a word to search for (see
// searchWords). The engine refuses text that is not blank and has none
// (clarity.ErrNoWords), so the console says so before asking it. Where
// the console's reading and the store's differ (the store splits words at
// a few marks that Go files as letters), the console finds words where
// the store may not, never the other way: it refuses nothing the engine
// would search.
func hasWords(text string) bool {
	required, phrases, excluded := searchWords(text)
	return len(required)+len(phrases)+len(excluded) > 0
}

// maxShownQuery is how many characters of a query its refusal shows, as
// the engine's does.
const maxShownQuery = 40

// noWordsText says that text has nothing to search for, in the engine's
// words (clarity.ErrNoWords): “!!!” has no letters or digits to search for.
func noWordsText(text string) string {
	if r := []rune(text); len(r) > maxShownQuery {
		text = string(r[:maxShownQuery]) + "…"
	}
	return "“" + text + "” " + clarity.ErrNoWords.Error()
}

// searchRefusal says why the engine refused a search, in the operator's
// words, or "" when err is a failure that trying again may mend (the
// store busy, the server unreachable). A refusal is the engine's answer
// to the query itself, the same on every try: text with no letters or
// digits (clarity.ErrNoWords), a query the store will not read through (a
// phrase whose words stand apart, or only words to leave out, in all the
// records its budget reads: an *engine.TextError on "q"), or, from an
// attached server, any other 4xx answer but a refused token, a timeout
// or a rate limit. noWords reports the first kind. text is the search's
// words as they were sent.
func searchRefusal(err error, text string) (why string, noWords bool) {
	var te *engine.TextError
	var he interface {
		HTTPStatus() int
		Error() string
	}
	switch {
	case err == nil:
		return "", false
	case errors.Is(err, clarity.ErrNoWords):
		return noWordsText(text), true
	case errors.As(err, &te) && te.Field == "q":
		return "the query " + te.Reason, false
	case errors.As(err, &he):
		switch s := he.HTTPStatus(); {
		case s < 400 || s >= 500, s == http.StatusUnauthorized, s == http.StatusRequestTimeout, s == http.StatusTooManyRequests:
			return "", false
		}
		msg := he.Error()
		if rest, ok := strings.CutPrefix(msg, "q "); ok { // the API names the field first
			msg = "the query " + rest
		}
		return msg, false
	}
	return "", false
}
