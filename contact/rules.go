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

// lettersOnly lowercases and keeps letters: ASCII punctuation, digits and
// whitespace go; bytes of UTF-8 sequences (accented and non-Latin letters)
// are kept as sent, which is what the platforms' pixels hash.
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
		var size int
		dst, size = appendLowerRune(dst, v[i:])
		i += size
	}
	return dst, -1
}

// appendLowerRune appends the UTF-8 character v starts with (v[0] is not
// ASCII), lower-cased as the pixels' and tags' toLowerCase() does ("É" →
// "é"), and returns how many bytes of v it read. A character whose lower
// case is longer in UTF-8 is kept as sent, so the buffer never grows;
// other characters are kept as sent, and a byte that is not UTF-8 is
// dropped (no browser sends one, and kept, two such bytes could form a
// letter that a second pass would change).
func appendLowerRune(dst, v []byte) ([]byte, int) {
	r, size := utf8.DecodeRune(v)
	switch lr := unicode.ToLower(r); {
	case r == utf8.RuneError && size == 1:
	case lr != r && utf8.RuneLen(lr) <= size:
		dst = utf8.AppendRune(dst, lr)
	default:
		dst = append(dst, v[:size]...)
	}
	return dst, size
}

// googleName lowercases and removes digits and symbols, keeping the spaces
// between words (single ones) and UTF-8 letters, lower-cased as
// lettersOnly does ("Émile" → "émile": Google's tag lower-cases them too).
func googleName(dst, v []byte) ([]byte, int) {
	start := len(dst)
	space := false
	for i := 0; i < len(v); {
		c := v[i]
		if c >= utf8.RuneSelf {
			if r, size := utf8.DecodeRune(v[i:]); r == utf8.RuneError && size == 1 {
				i++ // not UTF-8: dropped, as by lettersOnly
				continue
			}
		}
		switch {
		case c >= utf8.RuneSelf || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			if space && len(dst) > start {
				dst = append(dst, ' ')
			}
			space = false
			if c >= utf8.RuneSelf {
				var size int
				dst, size = appendLowerRune(dst, v[i:])
				i += size
				continue
			}
			dst = append(dst, lower(c))
		case isSpace(c):
			space = true
		}
		i++
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
