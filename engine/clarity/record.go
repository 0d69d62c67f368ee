// Package clarity defines the 5W1H record: the one shape in which Grace
// writes down every decision it makes. A Journal (implemented by the store)
// writes each record three ways in one transaction: a searchable narrative
// row, a clarity row (confidence, risk, transparency) and an entry in the
// tamper-evident audit chain.
package clarity

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
)

// Transparency levels used in clarity rows.
const (
	TransparencyComplete = "COMPLETE"
	TransparencyPartial  = "PARTIAL"
)

// Record is one decision told as who did what, when, where, why and how.
// Who and What are required; When is filled by the engine's clock.
type Record struct {
	Who     string         `json:"who"`
	What    string         `json:"what"`
	When    time.Time      `json:"when"`
	Where   string         `json:"where"`
	Why     []string       `json:"why"`
	How     string         `json:"how"`
	Context map[string]any `json:"context,omitempty"`
	// IntentID links the record to an intent's story; empty for records
	// that concern no single intent (a shedding batch, a rejection).
	IntentID string `json:"intent_id,omitempty"`
	// Result is the audit entry's short outcome ("dispatched", "denied").
	Result       string  `json:"result"`
	Confidence   float64 `json:"confidence"`
	Risk         float64 `json:"risk"`
	Transparency string  `json:"transparency"`
}

// Entry is a Record as stored: with its narrative ID and audit position.
type Entry struct {
	Record
	// ID is the narrative row's ID; larger is newer.
	ID int64 `json:"id"`
	// Seq is the audit chain sequence number of the record's entry.
	Seq int64 `json:"audit_seq"`
	// Hash is the hex SHA-256 chain hash of the record's audit entry.
	Hash string `json:"audit_hash"`
}

// Query selects narratives. Text is a full-text query: terms (SplitTerms)
// are ANDed, a term's words must stand side by side (a phrase in double
// quotes, or a word of several parts such as worker_1), a term beginning
// with '-' must not occur, a trailing '*' makes the last word a prefix;
// other fields filter exactly. A Text that is blank is no text (every
// record matches); one that is not blank but has no letter or digit ("!!!",
// "--", "*") is refused with ErrNoWords. Results are newest first. BeforeID pages:
// only entries with ID < BeforeID are returned when it is non-zero.
// AfterID follows: only entries with ID > AfterID when it is non-zero.
type Query struct {
	Text     string
	Actor    string
	Action   string
	IntentID string
	Since    time.Time
	Until    time.Time
	Limit    int
	BeforeID int64
	AfterID  int64
}

// ErrNoWords refuses a search whose text is not blank but has no letter
// or digit: only punctuation, symbols or marks ("!!!", "--", "*"), which
// only separate words. Read as no text it would list every record, as
// though the operator had typed nothing; so the store refuses it, wrapped
// with the text and the field "q" (an *engine.TextError too), and the API
// answers 422 (httpapi.CodeNoWords), the CLI exits 2, the console shows
// the error. Blank text (spaces alone, or none) is no query, as before.
var ErrNoWords = errors.New("has no letters or digits to search for")

// Journal durably records decisions.
type Journal interface {
	// Record writes the records in one transaction and returns once they
	// are durable.
	Record(ctx context.Context, recs ...Record) error
}

// Searcher reads narratives back.
type Searcher interface {
	// Search returns entries matching q, newest first.
	Search(ctx context.Context, q Query) ([]Entry, error)
}

// Page is one page of search results, newest first. A page shorter than
// its limit is the end of the results, unless ResumeBefore is set: then
// the search stopped early, at the most records one page may read (a
// phrase's candidates, or the records judged for words to leave out
// alone), having judged every record down to ResumeBefore. Older matches
// may remain; the query again with BeforeID = ResumeBefore reads on.
type Page struct {
	Entries      []Entry
	ResumeBefore int64
}

// PageSearcher is a Searcher that says where a page stopped early.
type PageSearcher interface {
	SearchPage(ctx context.Context, q Query) (Page, error)
}

// SearchPage is s.SearchPage when s is a PageSearcher, else s.Search's
// entries as a page that never stops early.
func SearchPage(ctx context.Context, s Searcher, q Query) (Page, error) {
	if ps, ok := s.(PageSearcher); ok {
		return ps.SearchPage(ctx, q)
	}
	es, err := s.Search(ctx, q)
	return Page{Entries: es}, err
}

// typographicQuotes turns the typographic double quotes into '"'.
var typographicQuotes = strings.NewReplacer("“", `"`, "”", `"`, "„", `"`)

// SplitTerms splits a search text into its terms at the spaces outside
// double quotes, as strings.Fields does when there are none; the quotes
// stay in the terms, and a quote left open runs to the end. Typographic
// double quotes (“ ” „), which the console shows phrases in and editors
// and chats type for ", are read as " and returned as ". The store and
// the console read a query the same way through it.
func SplitTerms(text string) []string {
	text = typographicQuotes.Replace(text)
	var out []string
	start, quoted := -1, false
	for i, r := range text {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && unicode.IsSpace(r):
			if start >= 0 {
				out = append(out, text[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, text[start:])
	}
	return out
}
