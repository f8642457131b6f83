package anonymize

import (
	"strconv"
	"time"

	"github.com/beacongate/beacongate/internal/jsonstr"
)

// appendString appends s as a quoted JSON string (jsonstr.Append).
func appendString(dst, s []byte) []byte { return jsonstr.Append(dst, s) }

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
	dst = append(appendKey(dst, key), '"')
	dst = appendDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, sec, 2)
	dst = append(dst, '.')
	dst = appendDigits(dst, t.Nanosecond()/1e6, 3)
	return append(dst, 'Z', '"')
}

// appendDigits appends n, zero-padded to width digits.
func appendDigits(dst []byte, n, width int) []byte {
	var b [4]byte
	for i := width - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return append(dst, b[:width]...)
}
