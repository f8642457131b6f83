package adplatform

import (
	"strconv"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/beacongate/beacongate/internal/jsonstr"
)

// appendString appends s as a JSON string (jsonstr.Append): invalid UTF-8
// becomes U+FFFD, and <, > and & are escaped as encoding/json does.
func appendString(dst []byte, s []byte) []byte { return jsonstr.Append(dst, s) }

// appendKey appends ,"key": (no comma right after '{' or '[').
func appendKey(dst []byte, key string) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '{' && dst[n-1] != '[' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

func appendStringField(dst []byte, key string, v []byte) []byte {
	return appendString(appendKey(dst, key), v)
}

func appendIntField(dst []byte, key string, n int64) []byte {
	return strconv.AppendInt(appendKey(dst, key), n, 10)
}

// jsonInt returns v's value if v is a JSON number holding an integer that
// fits an int; false if v is nil, another type, a fraction or too large.
// (fastjson's GetInt reads all of these as 0.)
func jsonInt(v *fastjson.Value) (int, bool) {
	if v == nil || v.Type() != fastjson.TypeNumber {
		return 0, false
	}
	i, err := v.Int()
	return i, err == nil
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s []byte, n int) []byte {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// truncateRunes cuts s to at most n characters (UTF-8 sequences; a byte
// that is not UTF-8 counts as one, as it becomes one U+FFFD when written).
func truncateRunes(s []byte, n int) []byte {
	i := 0
	for k := 0; k < n; k++ {
		if i >= len(s) {
			return s
		}
		_, size := utf8.DecodeRune(s[i:])
		i += size
	}
	return s[:i]
}

// appendScalar appends a string, number or boolean JSON value as valid
// JSON; it returns false (dst unchanged) for anything else. fastjson
// parses numbers leniently ("." and "nan" pass): a number is written only
// if it is one by RFC 8259.
func appendScalar(dst []byte, v *fastjson.Value) ([]byte, bool) {
	switch v.Type() {
	case fastjson.TypeString:
		return appendString(dst, v.GetStringBytes()), true
	case fastjson.TypeNumber:
		n := v.MarshalTo(dst[len(dst):])
		if !validNumber(n) {
			return dst, false
		}
		return append(dst, n...), true
	case fastjson.TypeTrue:
		return append(dst, "true"...), true
	case fastjson.TypeFalse:
		return append(dst, "false"...), true
	}
	return dst, false
}

// validNumber reports whether b is a JSON number (RFC 8259 section 6).
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(b)
}
