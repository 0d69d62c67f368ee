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

// term is one word of a query; prefix is set by a trailing '*'.
type term struct {
	tok    string
	prefix bool
}

// parseQuery returns the distinct terms of text, in order.
func parseQuery(text string) []term {
	var out []term
	seen := map[term]bool{}
	for _, word := range strings.Fields(text) {
		prefix := strings.HasSuffix(word, "*")
		toks := tokens(word, nil)
		for i, t := range toks {
			tm := term{tok: t, prefix: prefix && i == len(toks)-1}
			if !seen[tm] {
				seen[tm] = true
				out = append(out, tm)
			}
		}
	}
	return out
}

// ftsQuery renders terms as an FTS5 query: quoted strings, implicitly ANDed.
func ftsQuery(terms []term) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(t.tok, `"`, `""`))
		b.WriteByte('"')
		if t.prefix {
			b.WriteByte('*')
		}
	}
	return b.String()
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
		case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r):
			b.WriteRune(fold(r))
		default:
			flush()
		}
	}
	flush()
	return dst
}

// matches reports whether every term occurs among the tokens of fields.
func matches(terms []term, fields ...string) bool {
	var toks []string
	for _, f := range fields {
		toks = tokens(f, toks)
	}
	for _, t := range terms {
		found := false
		for _, tok := range toks {
			if tok == t.tok || (t.prefix && strings.HasPrefix(tok, t.tok)) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
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
