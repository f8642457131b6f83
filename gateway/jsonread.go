package gateway

import (
	"bytes"
	"unicode/utf8"

	"github.com/valyala/fastjson/fastfloat"
)

// jsonKind is the type of the value a jsonReader stands on.
type jsonKind uint8

const (
	jsonString jsonKind = iota
	jsonNumberKind
	jsonTrue
	jsonFalse
	jsonNull
	jsonObject
	jsonArray
)

// jsonReader walks a JSON body once, checking it with the rules of
// checkJSON (RFC 8259 syntax, UTF-8, nesting up to maxJSONDepth, no unpaired
// surrogate escape, no number beyond float64) while its caller takes the
// values it wants. It never allocates once its scratch buffers have grown:
// strings without escapes are slices of the body, escaped ones are decoded
// into key or val.
//
// At the first fault the reader goes bad and stops; the caller then answers
// with checkJSON(body), which names the fault exactly as the validating pass
// does, so both paths give one answer.
type jsonReader struct {
	b     []byte
	i     int
	depth int  // containers open at i
	bad   bool // the body breaks a rule
	key   []byte
	val   []byte
}

func (r *jsonReader) reset(b []byte) {
	r.b, r.i, r.depth, r.bad = b, 0, 0, false
}

// fail marks the body bad and moves to its end, so every later read fails
// at once.
func (r *jsonReader) fail() {
	r.bad = true
	r.i = len(r.b)
}

func (r *jsonReader) ws() { r.i = skipJSONSpace(r.b, r.i) }

// end reports whether only whitespace is left after the top-level value.
func (r *jsonReader) end() bool {
	r.ws()
	if r.i != len(r.b) {
		r.fail()
	}
	return !r.bad
}

// peek tells the kind of the value at i (whitespace already skipped); a
// byte that starts no value reads as a number and fails there.
func (r *jsonReader) peek() jsonKind {
	if r.i >= len(r.b) {
		r.fail()
		return jsonNull
	}
	switch r.b[r.i] {
	case '"':
		return jsonString
	case '{':
		return jsonObject
	case '[':
		return jsonArray
	case 't':
		return jsonTrue
	case 'f':
		return jsonFalse
	case 'n':
		return jsonNull
	}
	return jsonNumberKind
}

// open steps into the object or array at i.
func (r *jsonReader) open() bool {
	if r.depth == maxJSONDepth {
		r.fail()
		return false
	}
	r.depth++
	r.i++
	return true
}

// member reads the next member name of the object just opened (first) or
// whose last value was just read, decoded into scratch when it has escapes
// (nil scratch: not decoded, for skipped objects), and leaves i at its
// value. It returns false, past the '}', when the object ends, or when the
// body is bad.
func (r *jsonReader) member(first bool, scratch *[]byte) ([]byte, bool) {
	r.ws()
	if r.i >= len(r.b) {
		r.fail()
		return nil, false
	}
	switch c := r.b[r.i]; {
	case c == '}':
		r.i++
		r.depth--
		return nil, false
	case !first && c == ',':
		r.i++
		r.ws()
	case !first:
		r.fail()
		return nil, false
	}
	if r.i >= len(r.b) || r.b[r.i] != '"' {
		r.fail()
		return nil, false
	}
	k := r.str(scratch)
	r.ws()
	if r.i >= len(r.b) || r.b[r.i] != ':' {
		r.fail()
		return nil, false
	}
	r.i++
	r.ws()
	return k, !r.bad
}

// item moves to the next value of the array just opened (first) or whose
// last value was just read. It returns false, past the ']', when the array
// ends, or when the body is bad.
func (r *jsonReader) item(first bool) bool {
	r.ws()
	if r.i >= len(r.b) {
		r.fail()
		return false
	}
	switch c := r.b[r.i]; {
	case c == ']' && first:
		r.i++
		r.depth--
		return false
	case first:
	case c == ',':
		r.i++
		r.ws()
	case c == ']':
		r.i++
		r.depth--
		return false
	default:
		r.fail()
		return false
	}
	return !r.bad
}

// str reads the string at i and returns its decoded bytes: a slice of the
// body, or of *scratch when it has escapes (nil scratch: the raw bytes).
func (r *jsonReader) str(scratch *[]byte) []byte {
	var fault jsonFault
	end := scanJSONString(r.b, r.i+1, &fault)
	if end < 0 || fault != jsonOK {
		r.fail()
		return nil
	}
	raw := r.b[r.i+1 : end-1]
	r.i = end
	if scratch == nil || bytes.IndexByte(raw, '\\') < 0 {
		return raw
	}
	*scratch = unescapeJSON((*scratch)[:0], raw)
	return *scratch
}

// scalar reads the string, number or literal at i and returns its kind and
// bytes (a string decoded into scratch when needed, a number as written).
// An object or array is skipped, and only its kind returned.
func (r *jsonReader) scalar(scratch *[]byte) (jsonKind, []byte) {
	k := r.peek()
	switch k {
	case jsonString:
		return k, r.str(scratch)
	case jsonObject, jsonArray:
		r.skip()
	case jsonTrue:
		r.literal("true")
	case jsonFalse:
		r.literal("false")
	case jsonNull:
		r.literal("null")
	default:
		var fault jsonFault
		start := r.i
		end := scanJSONNumber(r.b, r.i, &fault)
		if end < 0 || fault != jsonOK {
			r.fail()
			return k, nil
		}
		r.i = end
		return k, r.b[start:end]
	}
	return k, nil
}

func (r *jsonReader) literal(s string) {
	if len(r.b)-r.i < len(s) || string(r.b[r.i:r.i+len(s)]) != s {
		r.fail()
		return
	}
	r.i += len(s)
}

// skip checks and steps over the value at i, whatever it holds.
func (r *jsonReader) skip() {
	switch r.peek() {
	case jsonObject:
		if !r.open() {
			return
		}
		for first := true; ; first = false {
			if _, ok := r.member(first, nil); !ok {
				return
			}
			r.skip()
		}
	case jsonArray:
		if !r.open() {
			return
		}
		for first := true; r.item(first); first = false {
			r.skip()
		}
	default:
		r.scalar(nil)
	}
}

// jsonFloat is a number's value as fastjson reads it (GetFloat64), so the
// one pass and the reference agree on every rounding.
func jsonFloat(num []byte) float64 { return fastfloat.ParseBestEffort(b2s(num)) }

// unescapeJSON appends the decoded form of a string's raw bytes, checked by
// scanJSONString (valid escapes, surrogates paired), to dst.
func unescapeJSON(dst, raw []byte) []byte {
	for len(raw) > 0 {
		j := bytes.IndexByte(raw, '\\')
		if j < 0 {
			return append(dst, raw...)
		}
		dst = append(dst, raw[:j]...)
		c := raw[j+1]
		raw = raw[j+2:]
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			x := hex4(raw)
			raw = raw[4:]
			if x >= 0xD800 && x <= 0xDBFF && len(raw) >= 6 && raw[0] == '\\' && raw[1] == 'u' {
				lo := hex4(raw[2:])
				x = 0x10000 + (x-0xD800)<<10 + (lo - 0xDC00)
				raw = raw[6:]
			}
			dst = utf8.AppendRune(dst, x)
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
	}
	return dst
}

// hex4 is the value of four hex digits checked by scanJSONString.
func hex4(b []byte) rune {
	return rune(hexVal(b[0]))<<12 | rune(hexVal(b[1]))<<8 | rune(hexVal(b[2]))<<4 | rune(hexVal(b[3]))
}
