package store

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"grace/engine/clarity"
)

// Search text is split into words the way FTS5's default unicode61
// tokenizer splits the narratives: runs of letters, digits and private-use
// characters, folded to lower case with the diacritics of Latin letters
// removed. Each token is then sent to FTS5 as a quoted string, so no user
// input can be read as FTS5 syntax; the same folding lets Search match rows
// the index has not reached yet. Where FTS5's older Unicode tables read a
// character otherwise than Go's, FTS5's reading is taken (classify), so
// that a record is found by the same words before and after the index
// reaches it.
//
// The index keeps no positions (detail=none), so it finds the records that
// hold every token of a query anywhere; that a term's tokens stand side by
// side, in order, within one field is checked here, on those candidates,
// with the same tokens.

// term is one term of a query: a run of characters up to a space outside
// double quotes. tok holds its tokens joined by single spaces; a term of
// several tokens is a phrase, matched where they occur side by side and in
// order within one field ("worker_1", "10.0.0.1" and "disk full" in quotes
// are phrases). prefix is set by a trailing '*', which makes the last
// token a prefix; an excluded term (not, a leading '-') must not occur.
type term struct {
	tok    string
	prefix bool
	not    bool
}

// phrase reports whether t has more than one token.
func (t term) phrase() bool { return strings.IndexByte(t.tok, ' ') >= 0 }

// parseQuery returns the distinct terms of text, in order. Double quotes
// group: a space inside them does not end the term, and a quote left open
// runs to the end of text; a quote itself separates words, as any
// character but letters and digits does. A '-' that begins a term (before any
// quote) excludes it; a '*' that ends it (inside or after the quotes)
// marks a prefix. A term without tokens is dropped.
func parseQuery(text string) []term {
	var out []term
	seen := map[term]bool{}
	for _, raw := range clarity.SplitTerms(text) {
		not := len(raw) > 1 && raw[0] == '-'
		body := strings.ReplaceAll(raw, `"`, " ") // a quote separates, as in the records
		toks := tokens(body, nil)
		if len(toks) == 0 {
			continue
		}
		tm := term{tok: strings.Join(toks, " "), prefix: strings.HasSuffix(strings.TrimRightFunc(body, unicode.IsSpace), "*"), not: not}
		if !seen[tm] {
			seen[tm] = true
			out = append(out, tm)
		}
	}
	return out
}

// positive reports whether terms has a term that must occur: only those
// can be looked up in the index (FTS5 has no query of absences alone).
func positive(terms []term) bool {
	for _, t := range terms {
		if !t.not {
			return true
		}
	}
	return false
}

// phrased reports whether terms has a phrase, whose adjacency the index
// cannot judge.
func phrased(terms []term) bool {
	for _, t := range terms {
		if t.phrase() {
			return true
		}
	}
	return false
}

// ftsQuery renders terms as an FTS5 query for the records that may match:
// every token of the required terms as a quoted string, implicitly ANDed,
// in parentheses, then NOT the excluded terms of one token, ORed in one
// group (FTS5 nests each NOT a level deeper and refuses past 256; an OR of
// many is one level). An excluded phrase is not in it (a record may hold
// its tokens apart); matcher judges it. terms must hold a required term
// (positive).
func ftsQuery(terms []term) string {
	var b strings.Builder
	b.WriteByte('(')
	n := 0
	for _, t := range terms {
		if t.not {
			continue
		}
		if n > 0 {
			b.WriteByte(' ')
		}
		n++
		writeFTSTokens(&b, t)
	}
	b.WriteByte(')')
	n = 0
	for _, t := range terms {
		if t.not && !t.phrase() {
			if n == 0 {
				b.WriteString(" NOT (")
			} else {
				b.WriteString(" OR ")
			}
			n++
			writeFTSTokens(&b, t)
		}
	}
	if n > 0 {
		b.WriteByte(')')
	}
	return b.String()
}

// writeFTSTokens writes t's tokens as FTS5 strings, the last one a prefix
// when t is.
func writeFTSTokens(b *strings.Builder, t term) {
	toks := strings.Split(t.tok, " ")
	for i, tok := range toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(tok, `"`, `""`))
		b.WriteByte('"')
		if t.prefix && i == len(toks)-1 {
			b.WriteByte('*')
		}
	}
}

// matcher judges records against terms as Search does: every required
// term's tokens side by side, in order, within one field, and no excluded
// term's so. It reuses its buffers from record to record: one goroutine
// at a time.
type matcher struct {
	terms  []term
	words  [][]string  // each term's tokens
	fields []tokenList // scratch: the tokens of each field of the record judged
}

func newMatcher(terms []term) *matcher {
	m := &matcher{terms: terms}
	for _, t := range terms {
		m.words = append(m.words, strings.Split(t.tok, " "))
	}
	return m
}

// match reports whether the record with these fields (the text the index
// holds: who, what, where, why as stored, how) matches.
func (m *matcher) match(fields ...string) bool {
	for len(m.fields) < len(fields) {
		m.fields = append(m.fields, tokenList{})
	}
	for i, f := range fields {
		m.fields[i].reset()
		m.fields[i].add(f)
	}
	for i, t := range m.terms {
		found := false
		for j := range fields {
			if m.fields[j].hasPhrase(m.words[i], t.prefix) {
				found = true
				break
			}
		}
		if found == t.not {
			return false
		}
	}
	return true
}

// tokenList holds folded tokens in one buffer, so that judging a record
// allocates nothing: token i is buf[ends[i-1]:ends[i]] (from 0 for the
// first).
type tokenList struct {
	buf  []byte
	ends []int
}

func (l *tokenList) reset() { l.buf, l.ends = l.buf[:0], l.ends[:0] }

// at returns token i.
func (l *tokenList) at(i int) []byte {
	start := 0
	if i > 0 {
		start = l.ends[i-1]
	}
	return l.buf[start:l.ends[i]]
}

// add appends the folded tokens of s: runs of letters, digits and
// private-use characters, as FTS5's unicode61 reads them.
func (l *tokenList) add(s string) {
	start := len(l.buf)
	flush := func() {
		if len(l.buf) > start {
			l.ends = append(l.ends, len(l.buf))
			start = len(l.buf)
		}
	}
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			// ASCII, most text: letters and digits only.
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				l.buf = append(l.buf, c)
			case 'A' <= c && c <= 'Z':
				l.buf = append(l.buf, c+'a'-'A')
			default:
				flush()
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch k, f := classify(r); k {
		case runeDropped:
			// a combining mark: removed, as a diacritic, without a split
		case runeWord:
			l.buf = utf8.AppendRune(l.buf, f)
		default:
			flush()
		}
	}
	flush()
}

// hasPhrase reports whether l holds words side by side, in order, the
// last one as a prefix with prefix set.
func (l *tokenList) hasPhrase(words []string, prefix bool) bool {
	last := len(words) - 1
	for i := 0; i+last < len(l.ends); i++ {
		j := 0
		for j < last && string(l.at(i+j)) == words[j] {
			j++
		}
		if j < last {
			continue
		}
		t, w := l.at(i+last), words[last]
		if string(t) == w || (prefix && len(t) > len(w) && string(t[:len(w)]) == w) {
			return true
		}
	}
	return false
}

// tokens appends the folded tokens of s to dst.
func tokens(s string, dst []string) []string {
	var l tokenList
	l.add(s)
	for i := range l.ends {
		dst = append(dst, string(l.at(i)))
	}
	return dst
}

// runeKind is how FTS5's unicode61 tokenizer reads a character.
type runeKind uint8

const (
	runeSeparator runeKind = iota // splits words
	runeDropped                   // removed, without a split (a diacritic)
	runeWord                      // part of a word, folded
)

// classify returns how FTS5's unicode61 tokenizer (remove_diacritics=1)
// reads r, and for a character of a word its folded form. Its tables are
// of an older Unicode than Go's and fold otherwise in places (letters
// assigned since, which it keeps whole and unfolded; characters Go leaves
// unassigned, which it keeps in words; diacritics it removes beyond
// Latin-1); fts5Runes lists where it differs from Go's reading
// (baseClass), as read from FTS5 itself, so that the index and the scan
// of unindexed records find the same records.
func classify(r rune) (runeKind, rune) {
	if e, ok := fts5Lookup(r); ok {
		if e.to == 0 {
			return e.kind, r
		}
		return e.kind, e.to
	}
	return baseClass(r)
}

// fts5Lookup returns the range of fts5Runes that holds r, if any.
func fts5Lookup(r rune) (fts5Rune, bool) {
	i, ok := slices.BinarySearchFunc(fts5Runes, r, func(e fts5Rune, r rune) int {
		switch {
		case r < e.lo:
			return 1
		case r > e.hi:
			return -1
		}
		return 0
	})
	if !ok {
		return fts5Rune{}, false
	}
	return fts5Runes[i], true
}

// baseClass is Go's reading of r, beyond ASCII: combining marks dropped,
// letters, numbers and private-use characters kept, folded (fold), the
// rest separators.
func baseClass(r rune) (runeKind, rune) {
	switch {
	case unicode.Is(unicode.Mn, r):
		return runeDropped, 0
	case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r):
		return runeWord, fold(r)
	}
	return runeSeparator, 0
}

// fts5Rune is a range of characters that FTS5 reads otherwise than
// baseClass: as kind, folded to to (0: to itself).
type fts5Rune struct {
	lo, hi rune
	kind   runeKind
	to     rune
}

// latinBase maps U+00C0–U+017F to the base letter of a letter with a
// diacritic, or 0 where there is none (Æ, Ð, ß, Ł, …).
const latinBase = "aaaaaa\x00ceeeeiiii\x00nooooo\x00\x00uuuuy\x00\x00" + // C0–DF
	"aaaaaa\x00ceeeeiiii\x00nooooo\x00\x00uuuuy\x00y" + // E0–FF
	"aaaaaaccccccccdd\x00\x00eeeeeeeeeegggggggghh\x00\x00iiiiiiiii\x00\x00\x00jjkk\x00" + // 100–138
	"llllll\x00\x00\x00\x00nnnnnn\x00\x00\x00oooooo\x00\x00rrrrrrsssssssstttt\x00\x00" + // 139–167
	"uuuuuuuuuuuuwwyyyzzzzzz\x00" // 168–17F

// fold lower-cases r and strips a Latin diacritic.
func fold(r rune) rune {
	if r >= 0xC0 && r <= 0x17F {
		if c := latinBase[r-0xC0]; c != 0 {
			return rune(c)
		}
	}
	return unicode.ToLower(r)
}
