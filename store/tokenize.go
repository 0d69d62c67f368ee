package store

import (
	"strings"
	"unicode"
)

// Search text is split into words the way FTS5's default unicode61
// tokenizer splits the narratives: runs of letters, digits and private-use
// characters, folded to lower case with the diacritics of Latin letters
// removed. Each word is then sent to FTS5 as a quoted string, so no user
// input can be read as FTS5 syntax; the same folding lets Search match rows
// the index has not reached yet. (For scripts beyond Latin the two may
// disagree on rare characters; that affects only rows not yet indexed.)

// term is one word of a query; prefix is set by a trailing '*'. An
// excluded word (not, a leading '-') must not occur: tok holds its tokens
// joined by single spaces, and a record holding all of them is left out
// ("-load_shed" leaves out the records with both "load" and "shed"; the
// index keeps no positions, so it cannot tell a phrase).
type term struct {
	tok    string
	prefix bool
	not    bool
}

// parseQuery returns the distinct terms of text, in order.
func parseQuery(text string) []term {
	var out []term
	seen := map[term]bool{}
	add := func(tm term) {
		if !seen[tm] {
			seen[tm] = true
			out = append(out, tm)
		}
	}
	for _, word := range strings.Fields(text) {
		prefix := strings.HasSuffix(word, "*")
		toks := tokens(word, nil)
		if len(word) > 1 && word[0] == '-' {
			if len(toks) > 0 {
				add(term{tok: strings.Join(toks, " "), prefix: prefix, not: true})
			}
			continue
		}
		for i, t := range toks {
			add(term{tok: t, prefix: prefix && i == len(toks)-1})
		}
	}
	return out
}

// positive reports whether terms has a word that must occur: only those
// can be looked up in the index (FTS5 has no query of absences alone).
func positive(terms []term) bool {
	for _, t := range terms {
		if !t.not {
			return true
		}
	}
	return false
}

// ftsQuery renders terms as an FTS5 query: the required words as quoted
// strings, implicitly ANDed, in parentheses, then NOT each excluded word's
// tokens, ANDed in parentheses. terms must hold a required word
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
		writeFTSTerm(&b, t)
	}
	b.WriteByte(')')
	for _, t := range terms {
		if t.not {
			b.WriteString(" NOT ")
			writeFTSTerm(&b, t)
		}
	}
	return b.String()
}

// writeFTSTerm writes t as FTS5 strings: one for a required word; for an
// excluded one, each of its tokens, ANDed in parentheses.
func writeFTSTerm(b *strings.Builder, t term) {
	toks := []string{t.tok}
	if t.not {
		toks = strings.Split(t.tok, " ")
		b.WriteByte('(')
	}
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
	if t.not {
		b.WriteByte(')')
	}
}

// tokens appends the folded tokens of s to dst.
func tokens(s string, dst []string) []string {
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			dst = append(dst, b.String())
			b.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining mark: removed, as a diacritic, without a split
		case ftsSeparator(r):
			flush()
		case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r):
			b.WriteRune(fold(r))
		default:
			flush()
		}
	}
	flush()
	return dst
}

// ftsSeparator reports whether r is one of the letters of Go's Unicode
// tables that FTS5's older ones file as marks, and so split words at: the
// New Tai Lue vowel signs and two Vedic signs. Kept inside a word, they
// would make it a phrase of two, which the index (detail=none) refuses.
func ftsSeparator(r rune) bool {
	return (r >= 0x19B0 && r <= 0x19C0) || r == 0x19C8 || r == 0x19C9 || r == 0x1CF2 || r == 0x1CF3
}

// matches reports whether every required term occurs among the tokens of
// fields and no excluded word has all its tokens there, as FTS5 judges
// them.
func matches(terms []term, fields ...string) bool {
	var toks []string
	for _, f := range fields {
		toks = tokens(f, toks)
	}
	for _, t := range terms {
		words := []string{t.tok}
		if t.not {
			words = strings.Split(t.tok, " ")
		}
		all := true
		for i, w := range words {
			if !hasToken(toks, w, t.prefix && i == len(words)-1) {
				all = false
				break
			}
		}
		if all == t.not {
			return false
		}
	}
	return true
}

// hasToken reports whether toks holds w (as a prefix, with prefix set).
func hasToken(toks []string, w string, prefix bool) bool {
	for _, tok := range toks {
		if tok == w || (prefix && strings.HasPrefix(tok, w)) {
			return true
		}
	}
	return false
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
