// Package jsonstr writes JSON strings without allocating: the records the
// engine encodes and the requests the ad platform connectors send share it.
package jsonstr

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// safe tells for each byte whether it stands for itself in a JSON string
// written by Append: ASCII from 0x20 on except '"', '\\', '<', '>' and '&'.
// Bytes from 0x80 on are not: they start UTF-8 sequences, checked one by
// one. One table load per byte is faster than six comparisons.
var safe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// NeedsEscape reports whether Append writes any byte of b other than as
// itself: a control character, '"', '\\', '<', '>', '&', or any byte from
// 0x80 on (UTF-8, checked and possibly replaced). Without one, the quoted
// form is b between quotes.
func NeedsEscape(b []byte) bool {
	for _, c := range b {
		if !safe[c] {
			return true
		}
	}
	return false
}

// Append appends s as a quoted JSON string. Invalid UTF-8 is replaced
// by U+FFFD, and the characters that could break an HTML context (<, >, &)
// and the JS line separators are escaped, as encoding/json does.
func Append(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if safe[s[i]] {
			i++
			for i < len(s) && safe[s[i]] {
				i++
			}
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"':
				dst = append(dst, '\\', '"')
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
