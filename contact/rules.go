package contact

import (
	"unicode"
	"unicode/utf8"
)

// The normalisers. Each appends to dst, which has room for MaxValueBytes+1
// bytes (an array on the caller's stack), and never grows it: every rule
// only drops or rewrites bytes, except e164's '+', which the +1 covers.

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func trimSpace(v []byte) []byte {
	for len(v) > 0 && isSpace(v[0]) {
		v = v[1:]
	}
	for len(v) > 0 && isSpace(v[len(v)-1]) {
		v = v[:len(v)-1]
	}
	return v
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func appendLower(dst, v []byte) []byte {
	for _, c := range v {
		dst = append(dst, lower(c))
	}
	return dst
}

func trimmed(dst, v []byte) ([]byte, int) { return append(dst, v...), -1 }

// plainEmail lowercases a trimmed address and checks its shape: one '@'
// with something on both sides, no whitespace inside.
func plainEmail(dst, v []byte) ([]byte, int) {
	at := -1
	for i, c := range v {
		switch {
		case c == '@':
			if at >= 0 {
				return dst, errInvalid
			}
			at = i
		case isSpace(c):
			return dst, errInvalid
		}
	}
	if at <= 0 || at == len(v)-1 {
		return dst, errInvalid
	}
	return appendLower(dst, v), -1
}

func metaEmail(dst, v []byte) ([]byte, int) { return plainEmail(dst, v) }

// googleEmail is plainEmail, then removes the dots of the local part of a
// gmail.com or googlemail.com address (Gmail ignores them).
func googleEmail(dst, v []byte) ([]byte, int) {
	dst, kind := plainEmail(dst, v)
	if kind >= 0 {
		return dst, kind
	}
	at := 0
	for i, c := range dst {
		if c == '@' {
			at = i
		}
	}
	domain := string(dst[at+1:])
	if domain != "gmail.com" && domain != "googlemail.com" {
		return dst, -1
	}
	out := dst[:0]
	for i, c := range dst {
		if c == '.' && i < at {
			continue
		}
		out = append(out, c) // in place: out never passes i
	}
	if len(out) > 0 && out[0] == '@' { // the local part was all dots
		return dst, errInvalid
	}
	return out, -1
}

// phoneDigits appends the digits of v, dropping the international prefix 00
// and any leading zero (a trunk prefix), and checks E.164's length: 7 to 15
// digits with the country code. Letters other than separators make the
// value invalid: "call me" is no number.
func phoneDigits(dst, v []byte) ([]byte, int) {
	start := len(dst)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '(' && len(dst) > start && i+2 < len(v) && v[i+1] == '0' && v[i+2] == ')' {
			// "+49 (0)151 ...": the national trunk 0 written after the
			// country code, which an international number leaves out.
			i += 2
			continue
		}
		switch {
		case c >= '0' && c <= '9':
			if len(dst) == start && c == '0' {
				continue // leading zeros: 00 prefix, trunk 0
			}
			dst = append(dst, c)
		case c == '+' || c == '-' || c == '(' || c == ')' || c == '.' || c == '/' || isSpace(c):
		default:
			return dst[:start], errInvalid
		}
	}
	if n := len(dst) - start; n == 0 {
		return dst[:start], errEmpty
	} else if n < 7 || n > 15 {
		return dst[:start], errInvalid
	}
	return dst, -1
}

// metaPhone: digits with the country code, no '+'.
func metaPhone(dst, v []byte) ([]byte, int) { return phoneDigits(dst, v) }

// e164: '+' and digits with the country code.
func e164(dst, v []byte) ([]byte, int) {
	out, kind := phoneDigits(append(dst, '+'), v)
	if kind >= 0 {
		return dst, kind
	}
	return out, -1
}

// lettersOnly lowercases and keeps letters: punctuation, symbols, digits
// and whitespace go, ASCII or not (the typographic apostrophe of
// "O’Brien", dashes, the no-break space); letters and combining marks of
// every script are kept, lower-cased, which is what the platforms' pixels
// hash.
func lettersOnly(dst, v []byte) ([]byte, int) {
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				dst = append(dst, lower(c))
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(v[i:])
		if isLetter(r) {
			dst = appendLowerRune(dst, r, v[i:i+size])
		}
		i += size
	}
	return dst, -1
}

// isLetter reports whether r, a non-ASCII character, is kept in a name or
// city: a letter or a combining mark (an accent written apart). A byte
// that is not UTF-8 (utf8.RuneError) is not: no browser sends one, and
// kept, two such bytes could form a letter that a second pass would
// change.
func isLetter(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsMark(r))
}

// appendLowerRune appends r, whose UTF-8 form is enc, lower-cased as the
// pixels' and tags' toLowerCase() does ("É" → "é"). A character whose
// lower case is longer in UTF-8 is kept as sent, so the buffer never
// grows.
func appendLowerRune(dst []byte, r rune, enc []byte) []byte {
	if lr := unicode.ToLower(r); lr != r && utf8.RuneLen(lr) <= len(enc) {
		return utf8.AppendRune(dst, lr)
	}
	return append(dst, enc...)
}

// googleName lowercases and removes digits, punctuation and symbols (ASCII
// or not, as lettersOnly), keeping the spaces between words (single ones,
// a no-break space counting as one) and letters of every script,
// lower-cased as lettersOnly does ("Émile" → "émile": Google's tag
// lower-cases them too).
func googleName(dst, v []byte) ([]byte, int) {
	start := len(dst)
	space := false
	for i := 0; i < len(v); {
		c, r, size := v[i], rune(v[i]), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(v[i:])
		}
		switch {
		case c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'), c >= utf8.RuneSelf && isLetter(r):
			if space && len(dst) > start {
				dst = append(dst, ' ')
			}
			space = false
			if c < utf8.RuneSelf {
				dst = append(dst, lower(c))
			} else {
				dst = appendLowerRune(dst, r, v[i:i+size])
			}
		case c < utf8.RuneSelf && isSpace(c), c >= utf8.RuneSelf && r != utf8.RuneError && unicode.IsSpace(r):
			space = true
		}
		i += size
	}
	return dst, -1
}

// zip lowercases and drops spaces and dashes; a US ZIP+4 (9 digits) is cut
// to its 5-digit ZIP.
func zip(dst, v []byte) ([]byte, int) {
	start := len(dst)
	digits := true
	for _, c := range v {
		if c == '-' || isSpace(c) {
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return dst[:start], errInvalid
		}
		digits = digits && c >= '0' && c <= '9'
		dst = append(dst, lower(c))
	}
	if digits && len(dst)-start == 9 {
		dst = dst[:start+5]
	}
	if len(dst)-start > maxZip {
		return dst[:start], errInvalid
	}
	return dst, -1
}

// maxZip bounds a postal code: the longest in use have 10 characters.
const maxZip = 16

// googleZip is zip without the ZIP+4 cut: Google takes postal codes as
// written, trimmed.
func googleZip(dst, v []byte) ([]byte, int) {
	start := len(dst)
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == ' ') {
			return dst[:start], errInvalid
		}
		dst = append(dst, lower(c))
	}
	if len(dst)-start > maxZip {
		return dst[:start], errInvalid
	}
	return dst, -1
}

// country: an ISO 3166-1 alpha-2 code, lowercased.
func country(dst, v []byte) ([]byte, int) {
	if len(v) != 2 {
		return dst, errInvalid
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return dst, errInvalid
		}
	}
	return appendLower(dst, v), -1
}
