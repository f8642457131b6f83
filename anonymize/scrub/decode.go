package scrub

import (
	"bytes"
	"slices"
)

// maxDecodeRounds bounds nested percent-decoding ("%2540" → "%40" → "@"):
// a URL inside a parameter of a URL inside a parameter is seen through,
// and adversarial input cannot make decoding loop. A value still holding
// escapes after that many rounds is treated as a token (fail closed).
const maxDecodeRounds = 8

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

// hasEscape reports whether s holds a valid %XX escape.
func hasEscape(s []byte) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '%' && unhex(s[i+1]) < 16 && unhex(s[i+2]) < 16 {
			return true
		}
	}
	return false
}

// appendUnescape appends s to dst with valid %XX escapes decoded; invalid
// ones are kept as they are, and '+' becomes ' ' when plusSpace is set
// (form encoding) or stays '+'. dst may share s's memory when
// dst[len(dst):] starts at or before s (decoding never writes ahead of
// where it reads).
func appendUnescape(dst, s []byte, plusSpace bool) []byte {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '%' && i+2 < len(s) {
			if h, l := unhex(s[i+1]), unhex(s[i+2]); h < 16 && l < 16 {
				ch = h<<4 | l
				i += 2
			}
		} else if ch == '+' && plusSpace {
			ch = ' '
		}
		dst = append(dst, ch)
	}
	return dst
}

// decodeView returns s decoded for scanning. Without escapes (and, with
// plusSpace, without '+') it returns s itself. Otherwise it decodes into the
// spare capacity of dst, beyond len(dst), growing dst if needed; the caller
// keeps the returned dst (so the growth is reused next time) and must finish
// with view before appending to dst, which overwrites it. With plusSpace,
// '+' in s (not in what the escapes decode to) reads as a space.
func decodeView(dst, s []byte, plusSpace bool) (grown, view []byte) {
	if !hasEscape(s) && !(plusSpace && bytes.IndexByte(s, '+') >= 0) {
		return dst, s
	}
	dst = slices.Grow(dst, len(s))
	view = appendUnescape(dst[len(dst):], s, plusSpace)
	for r := 1; r < maxDecodeRounds && hasEscape(view); r++ {
		view = appendUnescape(view[:0], view, false)
	}
	return dst, view
}
