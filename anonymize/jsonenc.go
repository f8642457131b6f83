package anonymize

import (
	"strconv"
	"time"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendString appends s as a quoted JSON string. Invalid UTF-8 is replaced
// by U+FFFD, and the characters that could break an HTML context (<, >, &)
// and the JS line separators are escaped, as encoding/json does.
func appendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
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

// appendKey appends ,"key": (or "key": right after an opening brace).
func appendKey(dst []byte, key string) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '{' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// appendStringField appends "key":"value".
func appendStringField(dst []byte, key string, v []byte) []byte {
	return appendString(appendKey(dst, key), v)
}

// appendIntField appends "key":n.
func appendIntField(dst []byte, key string, n int64) []byte {
	return strconv.AppendInt(appendKey(dst, key), n, 10)
}

// appendTimeField appends "key":"2006-01-02T15:04:05.000Z" (UTC,
// milliseconds). It formats by hand: time.AppendFormat parses its layout on
// every call, a measurable share of the per-event cost.
func appendTimeField(dst []byte, key string, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year < 0 || year > 9999 {
		dst = append(appendKey(dst, key), '"')
		return append(t.AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00"), '"')
	}
	ms := t.Nanosecond() / 1e6
	b := [24]byte{4: '-', 7: '-', 10: 'T', 13: ':', 16: ':', 19: '.', 23: 'Z'}
	put2(b[0:2], year/100)
	put2(b[2:4], year%100)
	put2(b[5:7], int(month))
	put2(b[8:10], day)
	put2(b[11:13], hour)
	put2(b[14:16], minute)
	put2(b[17:19], sec)
	b[20] = byte('0' + ms/100)
	put2(b[21:23], ms%100)
	dst = append(appendKey(dst, key), '"')
	dst = append(dst, b[:]...)
	return append(dst, '"')
}

// digitPairs holds "00" to "99": two digits per table load.
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// put2 writes n (0..99) as two digits into b[0:2].
func put2(b []byte, n int) {
	b[0], b[1] = digitPairs[2*n], digitPairs[2*n+1]
}
