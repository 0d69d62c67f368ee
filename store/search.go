package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// Search limits.
const (
	defaultSearchLimit = 50
	maxSearchLimit     = 1000
)

// Search returns the narratives matching q, newest first, at most q.Limit
// (50 when zero, never more than 1000). Text is split into terms at the
// spaces outside double quotes (a quote left open runs to the end); every
// term is required; a term's words must stand side by side, in order,
// within one field, so "disk full" in quotes, worker_1 and 10.0.0.1 are
// phrases; a term ending in '*' has its last word match as a prefix; a
// term beginning with '-' must not occur (text of such terms alone reads
// the rows in order, not the index); text that is an intent's ID alone
// finds that intent's records; characters other than letters and digits
// only separate words, so no input is a syntax error; blank text does not
// filter, and text that is not blank but has no words (no letter or
// digit: "!!!", "--", "*") is refused with clarity.ErrNoWords, also an
// *engine.TextError for "q" naming the text, rather than read as no text
// and answered with every record. Records committed but not yet indexed are found
// by a plain scan under the same rule. Actor, Action and IntentID match
// exactly; Since and Until bound the record time (Since inclusive, Until
// exclusive); BeforeID pages.
//
// A phrase is checked on the records the index finds holding all its
// words; a page reads at most maxPhraseCandidates of them. Past that it
// ends early with the matches found (a short page, as at the end of the
// results; SearchPage says where it stopped). With none found, the first
// page (no BeforeID) fails with an *engine.TextError for "q" that says so,
// rather than reading on through a million records; a later page is empty,
// and SearchPage says where to read on. A text of words to leave out
// alone reads the records themselves, under the same bound.
func (s *Store) Search(ctx context.Context, q clarity.Query) ([]clarity.Entry, error) {
	p, err := s.SearchPage(ctx, q)
	return p.Entries, err
}

// SearchPage is Search, saying in ResumeBefore where a page that ended
// early at its read budget stopped, so that a client paging through the
// results can go on past it rather than take the short page for the end.
func (s *Store) SearchPage(ctx context.Context, q clarity.Query) (clarity.Page, error) {
	if err := s.readable(); err != nil {
		return clarity.Page{}, err
	}
	p, err := s.search(ctx, q)
	if err != nil {
		return clarity.Page{}, fmt.Errorf("search narratives: %w", err)
	}
	return p, nil
}

func (s *Store) search(ctx context.Context, q clarity.Query) (clarity.Page, error) {
	q.IntentID = intent.CanonicalID(q.IntentID)
	if id := intent.CanonicalID(strings.TrimSpace(q.Text)); q.IntentID == "" && intent.IsID(id) {
		// An intent's ID pasted as the whole query: its records. (The
		// index holds the record's words, not the intent it concerns.)
		q.IntentID, q.Text = id, ""
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultSearchLimit
	}
	limit = min(limit, maxSearchLimit)
	terms := parseQuery(q.Text)
	if len(terms) == 0 && strings.TrimSpace(q.Text) != "" {
		return clarity.Page{}, noWords(q.Text)
	}
	conn, err := s.rdb.Conn(ctx)
	if err != nil {
		return clarity.Page{}, err
	}
	defer conn.Close()
	// One read transaction: the index mark, the time spans and the rows
	// they describe are read from the same snapshot.
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return clarity.Page{}, err
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK") //nolint:errcheck // read-only
	lo, hi, err := idRange(ctx, conn, q)
	if err != nil || lo > hi {
		return clarity.Page{}, err
	}
	f := filters(q, lo, hi)
	if len(terms) == 0 {
		out, err := queryEntries(ctx, conn, entryCols+" FROM narratives n"+entryJoins+f.where()+
			" ORDER BY n.id DESC LIMIT ?", append(f.args, int64(limit))...)
		return clarity.Page{Entries: out}, err
	}
	hwm, err := indexMark(ctx, conn)
	if err != nil {
		return clarity.Page{}, err
	}
	if !positive(terms) {
		// Only words to exclude: the index finds what holds a word, not
		// what lacks one, so the rows are read newest first and judged
		// here until the page is full, at most maxPhraseCandidates of
		// them, as a phrase's candidates are.
		out, resume, err := scanTailUpTo(ctx, conn, lo-1, f, terms, limit, maxPhraseCandidates)
		if err == nil && len(out) == 0 && resume > 0 && q.BeforeID == 0 {
			return clarity.Page{}, &engine.TextError{Field: "q", Reason: fmt.Sprintf(
				"has only words to leave out, and the %d newest records all hold them; the search stopped there: add a word to find, or narrow it with since, until, actor or action", maxPhraseCandidates)}
		}
		return clarity.Page{Entries: out, ResumeBefore: resume}, err
	}
	var out []clarity.Entry
	if hi > hwm {
		if out, _, err = scanTailUpTo(ctx, conn, hwm, f, terms, limit, 0); err != nil || len(out) >= limit || hwm == 0 {
			return clarity.Page{Entries: out}, err
		}
	}
	ff := f
	ff.add("f.narratives_fts MATCH ?", ftsQuery(terms))
	ff.add("f.rowid BETWEEN ? AND ?", lo, min(hi, hwm))
	if phrased(terms) {
		more, resume, err := checkCandidates(ctx, conn, ff, terms, limit-len(out), len(out) == 0 && q.BeforeID == 0)
		return clarity.Page{Entries: append(out, more...), ResumeBefore: resume}, err
	}
	more, err := queryEntries(ctx, conn,
		entryCols+" FROM search.narratives_fts f CROSS JOIN narratives n ON n.id = f.rowid"+entryJoins+
			ff.where()+" ORDER BY f.rowid DESC LIMIT ?",
		append(ff.args, int64(limit-len(out)))...)
	return clarity.Page{Entries: append(out, more...)}, err
}

// noWordsError refuses a search text that is not blank but has nothing
// to search for: an *engine.TextError for "q" naming the text (the API's
// 422) that is also clarity.ErrNoWords (the CLI's usage error).
type noWordsError struct{ te *engine.TextError }

func (e *noWordsError) Error() string   { return e.te.Error() }
func (e *noWordsError) Unwrap() []error { return []error{e.te, clarity.ErrNoWords} }

// maxShownQuery is how many characters of a refused query its error shows.
const maxShownQuery = 40

// noWords is the refusal of text, which has no words.
func noWords(text string) error {
	if r := []rune(text); len(r) > maxShownQuery {
		text = string(r[:maxShownQuery]) + "…"
	}
	// Quoted, so that control and invisible characters show as escapes.
	return &noWordsError{&engine.TextError{Field: "q", Reason: strconv.Quote(text) + " " + clarity.ErrNoWords.Error() +
		": search for a word, or leave the query out to list the newest records"}}
}

// maxPhraseCandidates is the most records one page of a phrase search
// reads from the index to check the phrase on: about 0.3 s of work on a
// 2-core machine (~3 µs a record; BenchmarkSearch/text/phrase-worst).
// Phrases of rare words never come near it; a phrase of words common
// apart and rare together (over a million records) would otherwise read
// them all. A variable so that a test can lower it.
var maxPhraseCandidates = 100_000

// checkCandidates finds, newest first, up to need records among those the
// index finds (f holds the MATCH), judging each candidate's text in Go,
// and then reads the matches whole. Past maxPhraseCandidates it stops,
// returning the matches and the id of the last candidate read (0 when it
// did not stop early); with none, and refuse set (the first page, and
// none from the scan of unindexed rows either), it fails with a TextError.
func checkCandidates(ctx context.Context, conn *sql.Conn, f filter, terms []term, need int, refuse bool) ([]clarity.Entry, int64, error) {
	rows, err := conn.QueryContext(ctx, `SELECT n.id, n.who, n.what, n."where", n.why, n.how
		FROM search.narratives_fts f CROSS JOIN narratives n ON n.id = f.rowid`+f.where()+" ORDER BY f.rowid DESC", f.args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	m := newMatcher(terms)
	var ids []any
	read := 0
	var id int64
	var who, what, where, why, how string
	for len(ids) < need && read < maxPhraseCandidates && rows.Next() {
		read++
		if err := rows.Scan(&id, &who, &what, &where, &why, &how); err != nil {
			return nil, 0, err
		}
		if m.match(who, what, where, why, how) {
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var resume int64
	if len(ids) < need && read == maxPhraseCandidates && rows.Next() {
		resume = id
	}
	rows.Close()
	if len(ids) == 0 {
		if resume > 0 && refuse {
			return nil, 0, &engine.TextError{Field: "q", Reason: fmt.Sprintf(
				"has a phrase whose words stand apart in the %d newest records that hold them all; the search stopped there: narrow it with since, until, actor, action or a rarer word", read)}
		}
		return nil, resume, nil
	}
	out, err := queryEntries(ctx, conn, entryCols+" FROM narratives n"+entryJoins+
		" WHERE n.id IN (?"+strings.Repeat(", ?", len(ids)-1)+") ORDER BY n.id DESC", ids...)
	return out, resume, err
}

// idRange turns q's time bounds into the range of narrative ids that can
// hold them, from the narrative_blocks spans, BeforeID into its upper end
// and AfterID into its lower end. lo > hi means nothing can match.
func idRange(ctx context.Context, conn *sql.Conn, q clarity.Query) (lo, hi int64, err error) {
	lo, hi = 0, math.MaxInt64
	if q.BeforeID > 0 {
		hi = q.BeforeID - 1
	}
	if !q.Since.IsZero() {
		var b sql.NullInt64
		err := conn.QueryRowContext(ctx, "SELECT min(block) FROM narrative_blocks WHERE max_ts >= ?", boundNanos(q.Since)).Scan(&b)
		if err != nil || !b.Valid {
			return 1, 0, err
		}
		lo = b.Int64 << blockShift
	}
	if !q.Until.IsZero() {
		var b sql.NullInt64
		err := conn.QueryRowContext(ctx, "SELECT max(block) FROM narrative_blocks WHERE min_ts < ?", boundNanos(q.Until)).Scan(&b)
		if err != nil || !b.Valid {
			return 1, 0, err
		}
		hi = min(hi, (b.Int64+1)<<blockShift-1)
	}
	if q.AfterID > 0 {
		lo = max(lo, q.AfterID+1)
	}
	return lo, hi, nil
}

// scanTailUpTo finds, newest first, the matching rows above hwm (the
// index mark, or below the range for a scan of the whole range), reading
// at most budget rows (0: no bound). A page the budget cut short says the
// id of the last row it read (0 when it did not stop early).
func scanTailUpTo(ctx context.Context, conn *sql.Conn, hwm int64, f filter, terms []term, limit, budget int) ([]clarity.Entry, int64, error) {
	f.add("n.id > ?", hwm)
	rows, err := conn.QueryContext(ctx, entryCols+" FROM narratives n"+entryJoins+f.where()+" ORDER BY n.id DESC", f.args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	m := newMatcher(terms)
	var out []clarity.Entry
	read := 0
	var last int64
	for len(out) < limit && (budget == 0 || read < budget) && rows.Next() {
		read++
		e, why, err := scanEntry(rows)
		if err != nil {
			return nil, 0, err
		}
		last = e.ID
		if m.match(e.Who, e.What, e.Where, why, e.How) {
			out = append(out, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(out) < limit && budget > 0 && read == budget && rows.Next() {
		return out, last, rows.Err()
	}
	return out, 0, nil
}

// filter is a list of SQL conditions on narratives n and their arguments.
type filter struct {
	conds []string
	args  []any
}

func (f *filter) add(cond string, args ...any) {
	f.conds = append(f.conds[:len(f.conds):len(f.conds)], cond)
	f.args = append(f.args[:len(f.args):len(f.args)], args...)
}

func (f filter) where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}

// filters returns the conditions of q on narratives n, ids within lo..hi.
// The time conditions are written +n.ts so that SQLite walks ids (newest
// first, stopping at the limit) rather than sorting a time range.
func filters(q clarity.Query, lo, hi int64) filter {
	var f filter
	if q.Actor != "" {
		f.add("n.who = ?", q.Actor)
	}
	if q.Action != "" {
		f.add("n.what = ?", q.Action)
	}
	if q.IntentID != "" {
		f.add("n.intent_id = ?", q.IntentID)
	}
	if !q.Since.IsZero() {
		f.add("+n.ts >= ?", boundNanos(q.Since))
	}
	if !q.Until.IsZero() {
		f.add("+n.ts < ?", boundNanos(q.Until))
	}
	if lo > 0 {
		f.add("n.id >= ?", lo)
	}
	if hi < math.MaxInt64 {
		f.add("n.id <= ?", hi)
	}
	return f
}
