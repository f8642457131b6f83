// Package recordtest checks output records for tests: each must decode with
// encoding/json and pass a strict, hand-written RFC 8259 checker that also
// applies the interoperability rules of RFC 8259 sections 4, 6 and 8.2 as
// I-JSON (RFC 7493) makes them binding. Only tests import it.
//
// The two checks catch different things. encoding/json's decoder replaces
// invalid UTF-8 and unpaired surrogate escapes with U+FFFD without an error,
// and keeps the last of duplicate member names; it refuses a number beyond
// float64 (1e999) only when decoding into a float, never in json.Valid. The
// strict checker refuses all of these. Neither accepts NaN or Infinity, which
// are not JSON at all.
package recordtest

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Check decodes rec with encoding/json into an untyped value (numbers as
// float64) and with the strict checker, and returns the first problem.
func Check(rec []byte) error {
	var v any
	if err := json.Unmarshal(rec, &v); err != nil {
		return fmt.Errorf("encoding/json: %w", err)
	}
	if err := Strict(rec); err != nil {
		return fmt.Errorf("strict RFC 8259: %w", err)
	}
	return nil
}

// Strict reports whether b is exactly one JSON text by the RFC 8259 grammar,
// encoded as UTF-8 without a byte order mark, whose strings hold only Unicode
// scalar values (no unpaired surrogate escapes), whose numbers fit a float64
// (RFC 8259 section 6), and whose objects have unique member names (section
// 4). It is written for clarity, not speed.
func Strict(b []byte) error { return strict(b, true) }

// StrictValues is Strict without the rule on unique member names: what a
// gateway that reads duplicate names last-wins may accept as input.
func StrictValues(b []byte) error { return strict(b, false) }

func strict(b []byte, uniqueNames bool) error {
	p := &parser{b: b, uniqueNames: uniqueNames}
	p.ws()
	if err := p.value(0); err != nil {
		return err
	}
	p.ws()
	if p.i != len(p.b) {
		return p.errf("data after the value")
	}
	return nil
}

type parser struct {
	b           []byte
	i           int
	uniqueNames bool
}

func (p *parser) errf(format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) lit(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

func (p *parser) value(depth int) error {
	if depth > 1000 {
		return p.errf("nested too deep")
	}
	if p.i >= len(p.b) {
		return p.errf("value expected")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		_, err := p.str()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case p.lit("true"), p.lit("false"), p.lit("null"):
		return nil
	}
	return p.errf("unexpected byte %q", p.b[p.i])
}

func (p *parser) object(depth int) error {
	p.i++ // {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return nil
	}
	seen := map[string]bool{}
	for {
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return p.errf("member name expected")
		}
		name, err := p.str()
		if err != nil {
			return err
		}
		if seen[name] && p.uniqueNames {
			return p.errf("duplicate member name %q", name)
		}
		seen[name] = true
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return p.errf("':' expected")
		}
		p.i++
		p.ws()
		if err := p.value(depth + 1); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.b) {
			return p.errf("unterminated object")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
			p.ws()
		case '}':
			p.i++
			return nil
		default:
			return p.errf("',' or '}' expected")
		}
	}
}

func (p *parser) array(depth int) error {
	p.i++ // [
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return nil
	}
	for {
		if err := p.value(depth + 1); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.b) {
			return p.errf("unterminated array")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
			p.ws()
		case ']':
			p.i++
			return nil
		default:
			return p.errf("',' or ']' expected")
		}
	}
}

// str reads a string and returns its decoded value.
func (p *parser) str() (string, error) {
	p.i++ // opening quote
	var out []rune
	for {
		if p.i >= len(p.b) {
			return "", p.errf("unterminated string")
		}
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(out), nil
		case c < 0x20:
			return "", p.errf("unescaped control character %#x", c)
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return "", err
			}
			out = append(out, r)
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && size <= 1 {
				return "", p.errf("invalid UTF-8")
			}
			out = append(out, r)
			p.i += size
		}
	}
}

func (p *parser) escape() (rune, error) {
	if p.i+1 >= len(p.b) {
		return 0, p.errf("unterminated escape")
	}
	e := p.b[p.i+1]
	p.i += 2
	switch e {
	case '"', '\\', '/':
		return rune(e), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, err := p.hex4()
		if err != nil {
			return 0, err
		}
		if !utf16.IsSurrogate(r) {
			return r, nil
		}
		if r >= 0xDC00 {
			return 0, p.errf("unpaired low surrogate \\u%04x", r)
		}
		if !p.lit(`\u`) {
			return 0, p.errf("unpaired high surrogate \\u%04x", r)
		}
		r2, err := p.hex4()
		if err != nil {
			return 0, err
		}
		if r2 < 0xDC00 || r2 > 0xDFFF {
			return 0, p.errf("high surrogate \\u%04x followed by \\u%04x", r, r2)
		}
		return utf16.DecodeRune(r, r2), nil
	}
	return 0, p.errf("invalid escape \\%c", e)
}

func (p *parser) hex4() (rune, error) {
	if len(p.b)-p.i < 4 {
		return 0, p.errf("short \\u escape")
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, p.errf("bad hex digit %q", c)
		}
		r = r<<4 | rune(d)
	}
	p.i += 4
	return r, nil
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and requires
// a finite float64 value.
func (p *parser) number() error {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case p.i < len(p.b) && p.b[p.i] >= '1' && p.b[p.i] <= '9':
		digits()
	default:
		return p.errf("digit expected")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return p.errf("digit expected after '.'")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return p.errf("digit expected in exponent")
		}
	}
	f, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	if err != nil || math.IsInf(f, 0) {
		return p.errf("number %s is beyond float64", p.b[start:p.i])
	}
	return nil
}
