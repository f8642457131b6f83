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
