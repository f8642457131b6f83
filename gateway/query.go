package gateway

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode/utf8"

	"github.com/beacongate/beacongate/event"
)

// assignQuery sets the event's fields from a raw pixel query string in one
// pass, with the meaning fasthttp's Args gives it (pairs split at '&', a
// key split from its value at the first '=', '+' a space, %XX a byte, a '%'
// without two hex digits kept as is) but without its copy of every key and
// value: a value without escapes is used where it lies, one with escapes is
// unescaped straight into its event field (the plain fields and custom
// properties) or into a buffer on the stack (the short fields with checks
// of their own, and TC and GPP strings), and the value of a key outside the vocabulary is
// never looked at. It stops at the first bad argument, in query order, as
// the loop over Args did.
func assignQuery(e *event.Event, q []byte) problem {
	var p problem
	for len(q) > 0 {
		pair := q
		if i := bytes.IndexByte(q, '&'); i >= 0 {
			pair, q = q[:i], q[i+1:]
		} else {
			q = nil
		}
		key, val := pair, pair[len(pair):]
		if i := bytes.IndexByte(pair, '='); i >= 0 {
			key, val = pair[:i], pair[i+1:]
		}
		var kb [80]byte // the longest known key is "p." and a 64-byte name
		if hasQueryEscape(key) {
			key = appendQueryUnescaped(kb[:0], key)
		}
		if !assignQueryArg(e, key, val, &p) {
			return p
		}
	}
	return problem{}
}

// assignQueryArg sets the field key names from the raw (still escaped)
// value raw, as assignArg does with the unescaped value, and reports
// whether it took it; when not, the problem is in *p (see setIn: returned
// by value, it cost a store-forwarding stall per argument, about 40 % of
// servePixel's own time on the single pixel). *p must hold no problem.
func assignQueryArg(e *event.Event, key, raw []byte, p *problem) bool {
	var dst *[]byte
	var limit int
	var name string
	switch b2s(key) {
	case "site":
		dst, limit, name = &e.Site, maxSiteLen, "site"
	case "url":
		dst, limit, name = &e.URL, maxURLLen, "url"
	case "ref":
		dst, limit, name = &e.Referrer, maxURLLen, "ref"
	case "uid":
		dst, limit, name = &e.UserID, maxIDLen, "uid"
	case "cid":
		dst, limit, name = &e.ClientID, maxIDLen, "cid"
	case "event", "eid", "gdpr", "gdpr_consent", "gcs", "gcd", "us_privacy", "gpp", "gpp_sid", "consent":
		// A TC or GPP string is a few hundred bytes of base64, most often
		// with no escape: one scan finds that and whether it is ASCII,
		// which spares the field its UTF-8 check.
		if escaped, ascii := queryEscapeASCII(raw); !escaped {
			assignText(e, key, raw, ascii, p)
		} else if len(raw) > shortEscapedLen && (b2s(key) == "gdpr_consent" || b2s(key) == "gpp") {
			assignEscapedConsentString(e, key, raw, p)
		} else {
			var vb [shortEscapedLen]byte // holds every value these fields take but TC and GPP strings
			v, ascii := appendQueryUnescapedASCII(vb[:0], raw)
			assignText(e, key, v, ascii, p)
		}
		return !p.bad()
	default:
		if bytes.HasPrefix(key, []byte(propQueryPrefix)) {
			return addQueryProp(e, key[len(propQueryPrefix):], raw, p)
		}
		return true // not in the vocabulary: the value is never read
	}
	// %XX, the only escape that shortens, leaves a third: a longer raw value
	// is too long unescaped too, and is refused before the pooled field
	// grows to hold it.
	if len(raw) > 3*limit {
		*p = inField(name, reasonFieldTooLong, limit)
		return false
	}
	// Unescaped into the field (a plain copy without escapes): if it fails
	// the checks, the request is rejected and the event never used.
	var ascii bool
	*dst, ascii = appendQueryUnescapedASCII(roomFor((*dst)[:0], raw), raw)
	r := reasonNone
	if len(*dst) > limit {
		r = reasonFieldTooLong
	} else if dst == &e.Site && hasControl(*dst) {
		r = reasonInvalidEventName // as setLabel
	} else if !ascii && !utf8.Valid(*dst) {
		r = reasonInvalidUTF8
	}
	p.setIn(name, r, limit)
	return r == reasonNone
}

// shortEscapedLen is the stack room the short fields' escaped values are
// unescaped into: more than any of them may hold.
const shortEscapedLen = 256

// assignEscapedConsentString is assignText for a TC or GPP string (key
// gdpr_consent or gpp) with escapes, longer raw than shortEscapedLen: most
// often a GPP string whose '~' came as %7E, as URLSearchParams writes it.
// It is unescaped on the stack, in room for the longest such string
// (maxConsentLen), so that it does not allocate; one longer than that
// unescaped is refused as too long without being unescaped.
func assignEscapedConsentString(e *event.Event, key, raw []byte, p *problem) {
	if queryUnescapedLen(raw) > maxConsentLen {
		*p = tooLong(vocabularyName(key), maxConsentLen)
		return
	}
	var vb [maxConsentLen]byte
	v, ascii := appendQueryUnescapedASCII(vb[:0], raw)
	assignText(e, key, v, ascii, p)
}

// addQueryProp is addProp for a custom property from the query, whose
// value is unescaped straight into the event's property. It reports
// whether it took the property; a refusal goes in *p (see setIn).
func addQueryProp(e *event.Event, key, raw []byte, p *problem) bool {
	if len(e.Props) >= maxProps {
		return refuseProp(p, reasonTooManyProps, "")
	}
	if len(key) == 0 || len(key) > maxPropKeyLen {
		return refuseProp(p, reasonFieldTooLong, "a property name is empty or longer than 64 bytes")
	}
	if len(raw) > 3*maxPropValueLen { // too long unescaped too (see assignQueryArg)
		return refuseProp(p, reasonFieldTooLong, "a property value is longer than 1024 bytes")
	}
	n := len(e.Props)
	e.AddProp(key, nil, event.PropString)
	pr := &e.Props[n]
	var ascii bool
	pr.Value, ascii = appendQueryUnescapedASCII(roomFor(pr.Value[:0], raw), raw)
	if len(pr.Value) > maxPropValueLen {
		return refuseProp(p, reasonFieldTooLong, "a property value is longer than 1024 bytes")
	}
	if !utf8.Valid(key) || !ascii && !utf8.Valid(pr.Value) {
		return refuseProp(p, reasonInvalidUTF8, "a property name or value is not valid UTF-8")
	}
	pr.Type = textPropType(pr.Value)
	return true
}

// refuseProp puts a property's problem in *p and reports false.
func refuseProp(p *problem, r reason, detail string) bool {
	*p = fieldProblem(r, "props", detail)
	return false
}

// roomFor returns the empty field buffer b with room for raw unescaped as
// it is long, so that appendQueryUnescaped never counts the unescaped
// length first: a pooled event's buffer grown to the exact unescaped
// length of an earlier value would make it count again for each longer
// escaped one.
func roomFor(b, raw []byte) []byte {
	if cap(b) < len(raw) {
		return slices.Grow(b, len(raw))
	}
	return b
}

// hasQueryEscape reports whether b holds a '%' or a '+'.
func hasQueryEscape(b []byte) bool { return indexQueryEscape(b) >= 0 }

// queryEscapeASCII reports whether b holds a '%' or a '+' and, when it does
// not, whether all of it is ASCII, eight bytes at a time.
func queryEscapeASCII(b []byte) (escaped, ascii bool) {
	var high uint64
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if wordHasByte(x, '%')|wordHasByte(x, '+') != 0 {
			return true, false
		}
		high |= x
	}
	for ; i < len(b); i++ {
		c := b[i]
		if c == '%' || c == '+' {
			return true, false
		}
		high |= uint64(c)
	}
	return false, high&lanes80 == 0
}

// indexQueryEscape returns the index of the first '%' or '+' in b, or -1.
func indexQueryEscape(b []byte) int {
	for i, c := range b {
		if c == '%' || c == '+' {
			return i
		}
	}
	return -1
}

// appendQueryUnescaped appends src to dst unescaped as a query argument:
// '+' is a space, %XX the byte XX (hex digits of either case); a '%' not
// followed by two hex digits stays as it is, and so do the at most two
// bytes after a '%' at the very end.
//
// An encoded URL has an escape every few bytes, so the output is written
// by index into room made once, not appended run by run, and the runs
// between escapes are found and copied eight bytes at a time. The room is
// len(src) when dst has it (unescaping never lengthens), else exactly the
// unescaped length, so that a stack buffer that fits the result is used.
func appendQueryUnescaped(dst, src []byte) []byte {
	dst, _ = appendQueryUnescapedASCII(dst, src)
	return dst
}

// appendQueryUnescapedASCII is appendQueryUnescaped, and reports whether
// every byte it wrote is ASCII (so valid UTF-8 without a second pass).
func appendQueryUnescapedASCII(dst, src []byte) (_ []byte, ascii bool) {
	var high uint64 // the bytes written, ORed together lane by lane
	n := len(dst)
	need := len(src)
	if cap(dst)-n < need {
		need = queryUnescapedLen(src)
	}
	dst = slices.Grow(dst, need)[:n+need]
	w, r := n, 0
	for r < len(src) {
		if r+8 <= len(src) && w+8 <= len(dst) {
			// Store the next eight bytes as they are, then keep those
			// before the first escape among them (the rest is written
			// over, or cut off by the final length).
			x := binary.LittleEndian.Uint64(src[r:])
			binary.LittleEndian.PutUint64(dst[w:], x)
			// Bytes after an escape are counted too: they are written
			// later, as they are or as part of an escape, which is ASCII.
			high |= x
			m := wordHasByte(x, '%') | wordHasByte(x, '+')
			if m == 0 {
				r += 8
				w += 8
				continue
			}
			k := bits.TrailingZeros64(m) / 8
			r += k
			w += k
		}
		c := src[r]
		switch c {
		case '+':
			c = ' '
		case '%':
			if len(src)-r < 3 {
				for _, b := range src[r:] {
					high |= uint64(b)
				}
				w += copy(dst[w:], src[r:])
				return dst[:w], high&lanes80 == 0
			}
			if hi, lo := unhexTable[src[r+1]], unhexTable[src[r+2]]; hi|lo < 16 {
				dst[w] = hi<<4 | lo
				high |= uint64(dst[w])
				w++
				r += 3
				continue
			}
		}
		dst[w] = c
		high |= uint64(c)
		w++
		r++
	}
	return dst[:w], high&lanes80 == 0
}

// wordHasByte returns a mask whose lowest set bit is the high bit of the
// first byte (in little-endian order) of x equal to c, or 0 if none is.
// Bits above the first match may be set spuriously (a borrow), so only the
// lowest set bit may be used.
func wordHasByte(x uint64, c byte) uint64 {
	y := x ^ uint64(c)*lanes01
	return (y - lanes01) &^ y & lanes80
}

// queryUnescapedLen is the length of src unescaped by appendQueryUnescaped:
// each %XX with two hex digits before the last two bytes is one byte.
func queryUnescapedLen(src []byte) int {
	n := len(src)
	for r := 0; r+2 < len(src); r++ {
		if src[r] == '%' && unhexTable[src[r+1]]|unhexTable[src[r+2]] < 16 {
			n -= 2
			r += 2
		}
	}
	return n
}

// unhexTable is unhex as a table: a hex digit's value, 16 for any other
// byte, so hi|lo < 16 holds exactly when both are digits.
var unhexTable = func() (t [256]byte) {
	for c := range t {
		t[c] = unhex(byte(c))
	}
	return t
}()

// unhex returns the value of a hex digit, or 16 for any other byte.
func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 16
}
