package gateway

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/beacongate/beacongate/anonymize/recordtest"
)

// jsonDepth returns the deepest nesting of objects and arrays in b, counting
// brackets outside strings. For valid JSON this is the true depth; for
// anything else it is only an estimate, which is enough because invalid JSON
// must be rejected whatever its depth.
func jsonDepth(b []byte) int {
	depth, max := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				max = depth
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return max
}

// wantValidJSON is the reference validJSON must match on every input: the
// standard library's syntax check, the standard library's UTF-8 check, and
// the depth limit.
func wantValidJSON(b []byte) bool {
	return json.Valid(b) && utf8.Valid(b) && jsonDepth(b) <= maxJSONDepth
}

func nested(open, close string, depth int, inner string) string {
	return strings.Repeat(open, depth) + inner + strings.Repeat(close, depth)
}

func TestValidJSON(t *testing.T) {
	f := func(s string, want bool) {
		t.Helper()
		b := []byte(s)
		if got := validJSON(b); got != want {
			t.Fatalf("validJSON(%q) = %v; want %v", s, got, want)
		}
		// The table itself is checked against the reference, so a wrong
		// expectation here cannot hide a wrong validator.
		if ref := wantValidJSON(b); ref != want {
			t.Fatalf("reference for %q = %v; table says %v", s, ref, want)
		}
	}

	// Literals and whitespace.
	f(`true`, true)
	f(`false`, true)
	f(`null`, true)
	f(" \t\r\n null \t\r\n", true)
	f(``, false)
	f(` `, false)
	f(`tru`, false)
	f(`truex`, false)
	f(`True`, false)
	f(`nul`, false)
	f(`nulll`, false)
	f(`fals`, false)
	f(`falsey`, false)
	f(`undefined`, false)
	f("\vnull", false)
	f("\fnull", false)
	f("null\x00", false)
	f("\u00a0null", false) // NBSP is not JSON whitespace
	f("\ufeffnull", false) // nor is a byte-order mark
	f(`null null`, false)
	f(`true,`, false)

	// Numbers.
	f(`0`, true)
	f(`-0`, true)
	f(`7`, true)
	f(`1234567890`, true)
	f(`-12`, true)
	f(`0.5`, true)
	f(`-0.0`, true)
	f(`1.25e10`, true)
	f(`1E10`, true)
	f(`1e+10`, true)
	f(`1e-10`, true)
	f(`0e0`, true)
	f(`-0.0E-00`, true)
	f(`123456789012345678901234567890e999999`, true) // syntax only, no range check
	f(`-`, false)
	f(`+1`, false)
	f(`01`, false)
	f(`-01`, false)
	f(`00`, false)
	f(`1.`, false)
	f(`.5`, false)
	f(`-.5`, false)
	f(`1.e5`, false)
	f(`1e`, false)
	f(`1e+`, false)
	f(`1e-`, false)
	f(`1e+-1`, false)
	f(`1.5.5`, false)
	f(`1x`, false)
	f(`0x10`, false)
	f(`1_000`, false)
	f(`NaN`, false)
	f(`Infinity`, false)
	f(`-Infinity`, false)
	f(`- 1`, false)
	f(`--1`, false)
	f(`1 2`, false)
	f(`[1,-]`, false)
	f(`[01]`, false)
	f(`{"a":1.}`, false)

	// Strings and escapes.
	f(`""`, true)
	f(`"abc"`, true)
	f(`"\"\\\/\b\f\n\r\t"`, true)
	f(`"\u0000\u001f\uABCD\uabcd\uFFFF"`, true)
	f(`"\ud83d\ude00"`, true) // surrogate pair
	f(`"\ud800"`, true)       // lone high surrogate: RFC 8259 syntax allows it
	f(`"\udc00x"`, true)      // lone low surrogate
	f(`"\u12"`, false)
	f(`"\u12g4"`, false)
	f(`"\uXXXX"`, false)
	f(`"\U0041"`, false)
	f(`"\u`, false)
	f(`"\u123`, false)
	f(`"\x41"`, false)
	f(`"\a"`, false)
	f(`"\'"`, false)
	f(`"\0"`, false)
	f(`"\ "`, false)
	f(`"\`, false)
	f(`"\"`, false)
	f(`"abc`, false)
	f(`"`, false)
	f(`'abc'`, false)
	f(`"a"b"`, false)
	f(`"a" "b"`, false)
	f("\"\x00\"", false)
	f("\"\x1f\"", false)
	f("\"\t\"", false) // raw tab inside a string
	f("\"\n\"", false)
	f("\"\x7f\"", true) // DEL is not a control character for JSON
	f("\"a long run of plain ascii text long enough for the unrolled loop\"", true)
	f("\"a long run of plain ascii text with a \x01 in it, then more text\"", false)
	f("\"abc\\", false)
	f("\"abcd\"", true)
	f("\"abcde\"", true)
	f("\"abcdef\\n\"", true)

	// UTF-8 inside strings.
	f("\"\u00e9\"", true)                    // 2 bytes, C3 A9
	f("\"\xc2\x80\"", true)                  // U+0080, smallest 2-byte
	f("\"\xdf\xbf\"", true)                  // U+07FF
	f("\"\xe0\xa0\x80\"", true)              // U+0800, smallest 3-byte
	f("\"\u20ac\"", true)                    // €
	f("\"\xed\x9f\xbf\"", true)              // U+D7FF, just below surrogates
	f("\"\xee\x80\x80\"", true)              // U+E000, just above surrogates
	f("\"\xef\xbf\xbf\"", true)              // U+FFFF
	f("\"\xf0\x90\x80\x80\"", true)          // U+10000, smallest 4-byte
	f("\"\U0001F600\"", true)                // 😀
	f("\"\xf4\x8f\xbf\xbf\"", true)          // U+10FFFF, the largest
	f("\"\xf3\xbf\xbf\xbf\"", true)          // U+FFFFF
	f("\"\xc0\x80\"", false)                 // overlong NUL
	f("\"\xc1\xbf\"", false)                 // overlong 2-byte
	f("\"\xe0\x80\x80\"", false)             // overlong 3-byte
	f("\"\xe0\x9f\xbf\"", false)             // overlong 3-byte, top
	f("\"\xf0\x80\x80\x80\"", false)         // overlong 4-byte
	f("\"\xf0\x8f\xbf\xbf\"", false)         // overlong 4-byte, top
	f("\"\xed\xa0\x80\"", false)             // U+D800 encoded in UTF-8
	f("\"\xed\xbf\xbf\"", false)             // U+DFFF encoded in UTF-8
	f("\"\xed\xa0\xbd\xed\xb8\x80\"", false) // CESU-8 surrogate pair
	f("\"\xf4\x90\x80\x80\"", false)         // U+110000
	f("\"\xf5\x80\x80\x80\"", false)         // F5 lead
	f("\"\xff\"", false)
	f("\"\xfe\"", false)
	f("\"\x80\"", false) // lone continuation
	f("\"\xbf\"", false)
	f("\"a\xc3\"", false)    // truncated 2-byte before the quote
	f("\"\xc3", false)       // truncated at end of input
	f("\"\xe2\x82\"", false) // truncated 3-byte
	f("\"\xe2\x82", false)
	f("\"\xf0\x9f\x98\"", false) // truncated 4-byte
	f("\"\xf0\x9f\x98", false)
	f("\"\xc3\x28\"", false) // bad continuation
	f("\"\xe2\x28\xa1\"", false)
	f("\"\xe2\x82\x28\"", false)
	f("\"\xf0\x9f\x28\x80\"", false)
	f("\"\xf0\x9f\x98\x28\"", false)
	f("\"\xc3\xa9\xc3\"", false)

	// UTF-8 outside strings.
	f("\xc3\xa9", false)
	f("[\u00e9]", false)
	f("{\"a\":1}\xff", false)
	f("\xef\xbb\xbf{}", false)

	// Arrays.
	f(`[]`, true)
	f(`[ ]`, true)
	f("[\n]", true)
	f(`[1]`, true)
	f(`[1,2,3]`, true)
	f(` [ 1 , "a" , true , null , [ ] , { } ] `, true)
	f(`[[[]]]`, true)
	f(`[`, false)
	f(`]`, false)
	f(`[1`, false)
	f(`[1,`, false)
	f(`[1,]`, false)
	f(`[,1]`, false)
	f(`[,]`, false)
	f(`[1 2]`, false)
	f(`[1,,2]`, false)
	f(`[}`, false)
	f(`[1}`, false)
	f(`[]]`, false)
	f(`[][]`, false)
	f(`[1]x`, false)
	f(`[1:2]`, false)

	// Objects.
	f(`{}`, true)
	f(`{ }`, true)
	f(`{"a":1}`, true)
	f(` { "a" : 1 , "b" : [ ] , "c" : { } } `, true)
	f(`{"":""}`, true)
	f(`{"a":1,"a":2}`, true) // duplicate names are syntax-valid
	f(`{"a":{"b":{"c":[{"d":null}]}}}`, true)
	f(`{`, false)
	f(`}`, false)
	f(`{"a"}`, false)
	f(`{"a":}`, false)
	f(`{"a" 1}`, false)
	f(`{"a"::1}`, false)
	f(`{"a":1,}`, false)
	f(`{,"a":1}`, false)
	f(`{"a":1 "b":2}`, false)
	f(`{"a":1,,"b":2}`, false)
	f(`{a:1}`, false)
	f(`{'a':1}`, false)
	f(`{1:1}`, false)
	f(`{null:1}`, false)
	f(`{"a":1]`, false)
	f(`{"a":1}}`, false)
	f(`{"a":1`, false)
	f(`{"a":`, false)
	f(`{"a"`, false)
	f(`{"a`, false)
	f(`{"a":1}{}`, false)
	f(`{"a\u0000":1}`, true)
	f("{\"\xff\":1}", false) // invalid UTF-8 in a name
	f(`{"a":[1,2}`, false)
	f(`{"a":[1,2]]`, false)

	// Depth: exactly the limit is fine, one more is not.
	f(nested("[", "]", maxJSONDepth, ""), true)
	f(nested("[", "]", maxJSONDepth+1, ""), false)
	f(nested("[", "]", maxJSONDepth, "1"), true)
	f(nested("[", "]", maxJSONDepth, "[]"), false)
	f(nested("[", "]", maxJSONDepth, "{}"), false)
	f(nested(`{"a":`, "}", maxJSONDepth, "null"), true)
	f(nested(`{"a":`, "}", maxJSONDepth+1, "null"), false)
	f(nested(`{"a":[`, "]}", maxJSONDepth/2, `"x"`), true)
	f(nested(`{"a":[`, "]}", maxJSONDepth/2, `{}`), false)
	f(nested(`[{"a":`, "}]", maxJSONDepth/2, `0`), true)
	f(nested("[", "]", 10000, ""), false) // far deeper: no recursion, just false
	f(strings.Repeat("[", 100000), false)
	f(nested("[", "]", maxJSONDepth, "")+"]", false)
	f(nested("[", "]", maxJSONDepth-1, "")+"[]", false)
	f("["+nested("[", "]", maxJSONDepth-1, "")+","+nested("[", "]", maxJSONDepth-1, "")+"]", true)
	// Kinds are tracked per level, across the whole 64-bit stack.
	f(nested("[", "]", maxJSONDepth-1, "{}"), true)
	f(nested("[", "]", maxJSONDepth-1, "{]"), false)
	f("{\"a\":"+nested("[", "]", maxJSONDepth-1, "")+"}", true)
	f("{\"a\":"+nested("[", "]", maxJSONDepth-1, "")+"]", false)
	f("["+nested(`{"a":`, "}", maxJSONDepth-1, "1")+"}", false)

	// The gateway's own bodies.
	f(string(beaconBody()), true)
	f(string(bleBody(40)), true)
	f(string(bleBody(0)), true)
	body := beaconBody()
	f(string(body[:len(body)-1]), false)
	f(string(body)+",", false)
}

// TestValidJSONTruncations checks every prefix of real bodies: all but the
// whole body are invalid, and every answer matches the reference.
func TestValidJSONTruncations(t *testing.T) {
	for _, body := range [][]byte{beaconBody(), bleBody(3), []byte(`{"a":[1.5e-3,"\u00e9\ud83d\ude00",true,{"b":null}],"c":"😀€é"}`)} {
		for i := 0; i < len(body); i++ {
			p := body[:i]
			if got, want := validJSON(p), wantValidJSON(p); got != want {
				t.Fatalf("validJSON(%q) = %v; reference says %v", p, got, want)
			}
			if validJSON(p) {
				// A strict prefix of an object is never complete.
				t.Fatalf("validJSON accepted the prefix %q", p)
			}
		}
		if !validJSON(body) {
			t.Fatalf("validJSON rejected %q", body)
		}
	}
}

// TestValidJSONAcceptsOnlyWhatFastjsonParses makes sure the gate never lets
// through a body the real parser then fails on.
func TestValidJSONAcceptsOnlyWhatFastjsonParses(t *testing.T) {
	var p fastjson.Parser
	for _, s := range []string{
		string(beaconBody()), string(bleBody(40)), `"\ud800"`, `"\udc00x"`, "\"\xf4\x8f\xbf\xbf\"",
		`-0.0E-00`, `123456789012345678901234567890e999999`, nested("[", "]", maxJSONDepth, ""),
		nested(`{"a":`, "}", maxJSONDepth, `"\u0000"`),
	} {
		if !validJSON([]byte(s)) {
			t.Fatalf("validJSON rejected %q", s)
		}
		if _, err := p.Parse(s); err != nil {
			t.Fatalf("fastjson rejected %q that validJSON accepts: %v", s, err)
		}
	}
}

// FuzzValidJSON checks, for every input, that
//
//	validJSON(b) == json.Valid(b) && utf8.Valid(b) && jsonDepth(b) <= maxJSONDepth
//
// json.Valid alone accepts invalid UTF-8 inside strings (its scanner only
// rejects bytes below 0x20 there) and rejects any byte >= 0x80 outside them,
// so the utf8.Valid term makes the two exactly comparable. No input is
// skipped: deeper than the limit, validJSON must say false (and a jsonDepth
// over the limit on invalid JSON changes nothing, since the answer is false
// anyway). Whatever validJSON accepts, fastjson must parse, and outside -race
// validJSON must not allocate.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{
		``, `null`, `true`, `false`, `0`, `-0.5e+10`, `01`, `1.`, `""`, `"\u12ab\ud800"`, `"\x"`,
		`1e999`, `[1e308,-1e309]`, `"\ud83d\ude00"`, `"\udc00\ud800"`, `"\ud800\ud800\udc00"`, `{"\uDBFF\uDFFF":1}`,
		"\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xf4\x8f\xbf\xbf\"", "\"\xc0\x80\"", "\"\xe2\x82\"",
		"\"\x1f\"", "\xff", `[1,2,]`, `{"a":1,}`, `{"a":[{"b":null}]}`, `[}`, ` [ ] `, `{"a" 1}`,
		nested("[", "]", maxJSONDepth, ""), nested("[", "]", maxJSONDepth+1, ""),
		nested(`{"a":`, "}", maxJSONDepth, "1"),
		string(beaconBody()), string(bleBody(2)),
	} {
		f.Add([]byte(s))
	}
	var p fastjson.Parser
	f.Fuzz(func(t *testing.T, b []byte) {
		got := validJSON(b)
		if want := wantValidJSON(b); got != want {
			t.Fatalf("validJSON(%q) = %v; json.Valid=%v utf8.Valid=%v depth=%d",
				b, got, json.Valid(b), utf8.Valid(b), jsonDepth(b))
		}
		// Past the syntax, checkJSON's value rules match the strict
		// reference checker (duplicate names allowed, as the gateway
		// reads them last-wins).
		if got {
			var at jsonPath
			fault := scanJSON(b, &at)
			if err := recordtest.StrictValues(b); (fault == jsonOK) != (err == nil) {
				t.Fatalf("scanJSON(%q) = %d; strict checker says %v", b, fault, err)
			}
		}
		if got {
			if _, err := p.ParseBytes(b); err != nil {
				t.Fatalf("fastjson rejected %q that validJSON accepts: %v", b, err)
			}
		}
		if !raceEnabled {
			if n := testing.AllocsPerRun(2, func() { validJSON(b) }); n != 0 {
				t.Fatalf("validJSON(%q): %v allocs; want 0", b, n)
			}
		}
	})
}

// TestValidJSONSpecialBytes8 checks the eight-byte fast path against the table: for
// every byte value in every lane, next to the plain bytes closest to the
// special ones (where borrow tricks go wrong), and with a second special
// byte above it, the lowest flagged lane must be the first non-plain byte.
func TestValidJSONSpecialBytes8(t *testing.T) {
	first := func(w [8]byte) int {
		for k, c := range w {
			if strClass[c] != scPlain {
				return k
			}
		}
		return 8
	}
	for _, filler := range []byte{' ', '!', '#', '[', ']', '~', 0x7f, 'a', 0x00, 0x1f, '"', '\\', 0x80, 0xff} {
		for lane := 0; lane < 8; lane++ {
			for c := 0; c < 256; c++ {
				var w [8]byte
				for k := range w {
					w[k] = ' '
					if k > lane {
						w[k] = filler
					}
				}
				w[lane] = byte(c)
				m := specialBytes8(binary.LittleEndian.Uint64(w[:]))
				got := 8
				if m != 0 {
					got = bits.TrailingZeros64(m) >> 3
				}
				if want := first(w); got != want {
					t.Fatalf("specialBytes8(%q) points at byte %d; want %d", w, got, want)
				}
			}
		}
	}
}
