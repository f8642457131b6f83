package gateway

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"

	"github.com/beacongate/beacongate/internal/jsonnum"
)

// maxJSONDepth is how many objects and arrays validJSON lets nest. Real beacon
// and BLE bodies nest three levels; 64 fits the open-container kinds in
// one uint64, so the validator keeps its stack in a register and never
// recurses.
const maxJSONDepth = 64

// String byte classes for strClass. Multi-byte UTF-8 leads are encoded as
// (accept range + 1)<<4 | sequence length, so any class >= 0x10 is a lead.
const (
	scPlain  = 0 // printable ASCII other than '"' and '\\'
	scQuote  = 1 // '"' ends the string
	scEscape = 2 // '\\' starts an escape
	scBad    = 3 // control character, continuation byte or impossible lead
)

// utf8Accept gives the allowed range of the second byte of a multi-byte
// sequence; the rest must be continuation bytes (0x80..0xBF). The narrow
// ranges exclude overlong forms (E0, F0), UTF-16 surrogates (ED) and code
// points above U+10FFFF (F4), as in unicode/utf8.
var utf8Accept = [5]struct{ lo, hi byte }{
	{0x80, 0xBF},
	{0xA0, 0xBF}, // E0: no overlong 3-byte forms
	{0x80, 0x9F}, // ED: no surrogates D800..DFFF
	{0x90, 0xBF}, // F0: no overlong 4-byte forms
	{0x80, 0x8F}, // F4: nothing above U+10FFFF
}

// strClass classifies each byte inside a JSON string, so the common case
// (plain ASCII) is one table load and compare per byte.
var strClass = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		lead := func(accept, size int) byte { return byte((accept+1)<<4 | size) }
		switch {
		case c < 0x20:
			t[c] = scBad
		case c == '"':
			t[c] = scQuote
		case c == '\\':
			t[c] = scEscape
		case c < 0x80:
			t[c] = scPlain
		case c < 0xC2: // continuation byte, or overlong 2-byte lead C0/C1
			t[c] = scBad
		case c < 0xE0:
			t[c] = lead(0, 2)
		case c == 0xE0:
			t[c] = lead(1, 3)
		case c == 0xED:
			t[c] = lead(2, 3)
		case c < 0xF0:
			t[c] = lead(0, 3)
		case c == 0xF0:
			t[c] = lead(3, 4)
		case c < 0xF4:
			t[c] = lead(0, 4)
		case c == 0xF4:
			t[c] = lead(4, 4)
		default: // F5..FF never occur in UTF-8
			t[c] = scBad
		}
	}
	return t
}()

// isHex marks the hexadecimal digits allowed in a \uXXXX escape.
var isHex = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()

// jsonFault is what checkJSON found wrong with a body.
type jsonFault uint8

const (
	jsonOK     jsonFault = iota
	jsonSyntax           // not RFC 8259 syntax, not UTF-8, or nested too deep
	jsonEscape           // a \u escape of an unpaired UTF-16 surrogate
	jsonNumber           // a number beyond the range of a float64
)

// checkJSON checks a request body and returns the reason to refuse it, or
// reasonNone. Beyond syntax (validJSON) it refuses what RFC 8259 allows but
// warns consumers cannot rely on (sections 6 and 8.2), and what I-JSON (RFC
// 7493) forbids: unpaired surrogate escapes, which a decoder turns into
// U+FFFD or keeps as literal text, and numbers beyond float64 such as 1e999,
// which encoding/json and most consumers refuse. A syntax error anywhere
// wins, so a body gets one answer whatever order its faults come in.
//
// A value fault is answered with the field it is in, by its vocabulary name
// ("props", "[2].url", "sightings[3].ts"); a member name that is not in the
// vocabulary is client input and is never echoed.
func checkJSON(b []byte) problem {
	var at jsonPath
	switch scanJSON(b, &at) {
	case jsonOK:
		return problem{}
	case jsonEscape:
		return at.problem(b, reasonInvalidEscape, "an unpaired UTF-16 surrogate escape (\\ud800-\\udfff)")
	case jsonNumber:
		return at.problem(b, reasonNumberOutOfRange, "a number beyond the range of a 64-bit float (about 1.8e308)")
	}
	if !utf8.Valid(b) {
		return because(reasonInvalidUTF8)
	}
	return because(reasonInvalidJSON)
}

// jsonPathLevels is how many levels of a body jsonPath follows: enough for
// sightings[3].ts (object, array, object).
const jsonPathLevels = 3

// jsonPath is where scanJSON found a body's first value fault: the member
// name (as offsets into the body) or item index at each of the outer levels.
type jsonPath struct {
	depth     int                    // levels open at the fault
	rootArray bool                   // the body is an array (of events)
	key       [jsonPathLevels][2]int // member name at each object level: start, end
	index     [jsonPathLevels]int    // item index at each array level
}

// problem names the field of the fault at p, or gives reason's fixed
// answer when the fault is outside any field we know.
func (p *jsonPath) problem(b []byte, r reason, detail string) problem {
	name := func(level int) string {
		if p.depth <= level {
			return ""
		}
		k := p.key[level]
		return vocabularyName(b[k[0]:k[1]])
	}
	pr := problem{reason: r, detail: detail}
	if p.rootArray {
		pr.at = int32(p.index[0] + 1)
		pr.field = name(1)
		return pr
	}
	pr.field = name(0)
	if pr.field == "sightings" && p.depth > 1 {
		pr.inSightings, pr.at, pr.field = true, int32(p.index[1]+1), name(2)
	}
	if pr.field == "" && pr.at == 0 {
		return because(r)
	}
	return pr
}

// validJSON reports whether b is exactly one RFC 8259 JSON value, optionally
// surrounded by whitespace, that is also valid UTF-8 throughout and nests at
// most maxJSONDepth objects and arrays. It accepts exactly what
// json.Valid(b) && utf8.Valid(b) accepts up to that depth (lone surrogates in
// \u escapes and numbers beyond float64 included, as RFC 8259 syntax allows
// them; checkJSON refuses those). It reads b once, does not keep it and
// never allocates, so junk is rejected as cheaply as good bodies are
// accepted.
func validJSON(b []byte) bool {
	var at jsonPath
	return scanJSON(b, &at) != jsonSyntax
}

// scanJSON is validJSON, and also reports the first unpaired surrogate
// escape or out-of-range number of a body whose syntax is valid, and in *at
// where it is.
func scanJSON(b []byte, at *jsonPath) jsonFault {
	var (
		kinds uint64 // bit 0 is the innermost open container: 1 object, 0 array
		depth int
		i     int
		n     = len(b)
		fault jsonFault // first value fault; reported only if the syntax holds
		path  jsonPath  // where the scan is, for the first fault's *at
	)
	i = skipJSONSpace(b, 0)
	path.rootArray = i < n && b[i] == '['

value:
	if i >= n {
		return jsonSyntax
	}
	switch c := b[i]; c {
	case '"':
		if i = scanJSONString(b, i+1, &fault); i < 0 {
			return jsonSyntax
		}
		if fault != jsonOK && at.depth == 0 {
			*at, at.depth = path, max(depth, 1)
		}
	case '{':
		if depth == maxJSONDepth {
			return jsonSyntax
		}
		depth++
		kinds = kinds<<1 | 1
		i = skipJSONSpace(b, i+1)
		if i < n && b[i] == '}' {
			i++
			depth--
			kinds >>= 1
			goto next
		}
		goto key
	case '[':
		if depth == maxJSONDepth {
			return jsonSyntax
		}
		if depth < jsonPathLevels {
			path.index[depth] = 0
		}
		depth++
		kinds <<= 1
		i = skipJSONSpace(b, i+1)
		if i < n && b[i] == ']' {
			i++
			depth--
			kinds >>= 1
			goto next
		}
		goto value
	case 't':
		if n-i < 4 || string(b[i:i+4]) != "true" {
			return jsonSyntax
		}
		i += 4
	case 'f':
		if n-i < 5 || string(b[i:i+5]) != "false" {
			return jsonSyntax
		}
		i += 5
	case 'n':
		if n-i < 4 || string(b[i:i+4]) != "null" {
			return jsonSyntax
		}
		i += 4
	default:
		if i = scanJSONNumber(b, i, &fault); i < 0 {
			return jsonSyntax
		}
		if fault != jsonOK && at.depth == 0 {
			*at, at.depth = path, max(depth, 1)
		}
	}

next: // a value ended at i: close containers, or go on after a comma
	i = skipJSONSpace(b, i)
	if depth == 0 {
		if i != n {
			return jsonSyntax
		}
		return fault
	}
	if i >= n {
		return jsonSyntax
	}
	switch b[i] {
	case ',':
		i = skipJSONSpace(b, i+1)
		if kinds&1 == 0 {
			if depth <= jsonPathLevels {
				path.index[depth-1]++
			}
			goto value
		}
		goto key
	case '}':
		if kinds&1 == 0 {
			return jsonSyntax
		}
	case ']':
		if kinds&1 != 0 {
			return jsonSyntax
		}
	default:
		return jsonSyntax
	}
	i++
	depth--
	kinds >>= 1
	goto next

key: // an object member: "name" ws ':' ws value
	if i >= n || b[i] != '"' {
		return jsonSyntax
	}
	if depth <= jsonPathLevels {
		path.key[depth-1] = [2]int{i + 1, i + 1}
	}
	if i = scanJSONString(b, i+1, &fault); i < 0 {
		return jsonSyntax
	}
	if depth <= jsonPathLevels {
		path.key[depth-1][1] = i - 1 // before the closing quote
	}
	if fault != jsonOK && at.depth == 0 {
		*at, at.depth = path, max(depth, 1)
	}
	i = skipJSONSpace(b, i)
	if i >= n || b[i] != ':' {
		return jsonSyntax
	}
	i = skipJSONSpace(b, i+1)
	goto value
}

// skipJSONSpace returns the index of the first byte at or after i that is not
// JSON whitespace, or len(b).
func skipJSONSpace(b []byte, i int) int {
	for ; i < len(b); i++ {
		if c := b[i]; c > ' ' || (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			return i
		}
	}
	return i
}

// scanJSONString checks a string whose opening quote is just before i and
// returns the index after its closing quote, or -1 if it is malformed or not
// valid UTF-8. An unpaired surrogate escape sets *fault to jsonEscape if it
// holds no earlier fault.
func scanJSONString(b []byte, i int, fault *jsonFault) int {
	n := len(b)
	for {
		// Plain ASCII runs are the common case: test eight bytes at a time
		// and jump straight to the first byte that is anything else.
		for i+8 <= n {
			if m := specialBytes8(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto special
			}
			i += 8
		}
		for i < n && strClass[b[i]] == scPlain {
			i++
		}
		if i >= n {
			return -1
		}
	special:
		switch c := strClass[b[i]]; c {
		case scQuote:
			return i + 1
		case scEscape:
			if i+1 >= n {
				return -1
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if n-i < 6 || !isHex[b[i+2]] || !isHex[b[i+3]] || !isHex[b[i+4]] || !isHex[b[i+5]] {
					return -1
				}
				// U+D800..U+DFFF: \u[dD][89a-fA-F]..; the first two hex
				// digits tell, so only surrogates pay for more.
				if b[i+2]|0x20 == 'd' && hexVal(b[i+3]) >= 8 {
					if pairedSurrogate(b, i) {
						i += 12 // both halves, checked
						continue
					}
					if *fault == jsonOK {
						*fault = jsonEscape
					}
				}
				i += 6
			default:
				return -1
			}
		case scBad:
			return -1
		default: // UTF-8 lead byte: c>>4-1 is the accept range, c&7 the length
			size := int(c & 7)
			if n-i < size {
				return -1
			}
			r := utf8Accept[c>>4-1]
			if c2 := b[i+1]; c2 < r.lo || c2 > r.hi {
				return -1
			}
			for k := 2; k < size; k++ {
				if b[i+k]&0xC0 != 0x80 {
					return -1
				}
			}
			i += size
		}
	}
}

// SWAR constants: a byte of each in every lane of a uint64.
const (
	lanes01 = 0x0101010101010101
	lanes80 = 0x8080808080808080
)

// specialBytes8 flags, with bit 7 of its lane, each byte of x that is not
// scPlain: a control character (< 0x20), '"', '\\' or a byte >= 0x80.
// Control characters are the classic "has a byte less than k" test
// ((x - k*lanes01) &^ x & lanes80), '"' and '\\' are found by wordHasByte.
// A borrow only runs upwards, so lanes above the first flagged one may be
// false alarms, but the lowest flagged lane is always exact, and the result
// is zero exactly when all eight bytes are plain.
func specialBytes8(x uint64) uint64 {
	ctl := (x - 0x20*lanes01) &^ x
	return (ctl|x)&lanes80 | wordHasByte(x, '"') | wordHasByte(x, '\\')
}

// hexVal is the value of a hexadecimal digit already checked by isHex.
func hexVal(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// pairedSurrogate reports whether the \u escape at b[i:i+6], a surrogate,
// is a high surrogate (D800..DBFF) directly followed by a \u escape of a low
// one (DC00..DFFF): the only way a surrogate may appear. A low surrogate is
// checked here as the second half of a pair, so one met on its own is
// unpaired.
func pairedSurrogate(b []byte, i int) bool {
	if hexVal(b[i+3]) >= 0xC {
		return false // a low surrogate not preceded by a high one
	}
	j := i + 6
	return len(b)-j >= 6 && b[j] == '\\' && b[j+1] == 'u' && b[j+2]|0x20 == 'd' &&
		isHex[b[j+3]] && hexVal(b[j+3]) >= 0xC && isHex[b[j+4]] && isHex[b[j+5]]
}

// scanJSONNumber checks the number starting at i, per the RFC 8259 grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, and returns the index after
// it, or -1. What follows the number is checked by the caller. A number
// beyond float64 sets *fault to jsonNumber if it holds no earlier fault.
func scanJSONNumber(b []byte, i int, fault *jsonFault) int {
	start := i
	n := len(b)
	if b[i] == '-' {
		i++
		if i >= n {
			return -1
		}
	}
	switch c := b[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i = skipJSONDigits(b, i+1)
	default:
		return -1
	}
	if i < n && b[i] == '.' {
		j := skipJSONDigits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < n && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < n && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipJSONDigits(b, i)
		if j == i {
			return -1
		}
		i = j
		if !jsonnum.ValidNumber(b[start:i]) && *fault == jsonOK {
			*fault = jsonNumber
		}
	} else if i-start > 300 && !jsonnum.ValidNumber(b[start:i]) && *fault == jsonOK {
		*fault = jsonNumber // 309 integer digits or more, no exponent
	}
	return i
}

// skipJSONDigits returns the index of the first byte at or after i that is
// not an ASCII digit, or len(b).
func skipJSONDigits(b []byte, i int) int {
	for i < len(b) && b[i]-'0' <= 9 {
		i++
	}
	return i
}
