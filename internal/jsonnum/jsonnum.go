// Package jsonnum checks JSON number literals without allocating: the gateway
// refuses bodies holding numbers no consumer can decode, and the engine
// leaves such property values out of records.
package jsonnum

// maxFloatHalfway holds the digits of 2^1024 - 2^970, the number halfway
// between the largest float64 (1.7976931348623157e308) and the next power
// of two: every decimal at or above it rounds to infinity, every decimal
// below it to a finite float64. It has 309 digits, so it is
// 0.<digits> × 10^309.
const maxFloatHalfway = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792"

// ValidNumber reports whether lit is exactly one JSON number by the RFC 8259
// grammar, -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, whose value is
// finite as a float64: what encoding/json and most JSON consumers can
// decode into a double (RFC 8259 section 6). Values too small for a float64
// round to zero and are valid. It reads lit once and does not allocate; it
// agrees with strconv.ParseFloat on every input (FuzzValidNumber).
func ValidNumber(lit []byte) bool {
	i, n := 0, len(lit)
	if i < n && lit[i] == '-' {
		i++
	}
	if i >= n {
		return false
	}
	intStart := i
	switch c := lit[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		for i < n && lit[i] >= '0' && lit[i] <= '9' {
			i++
		}
	default:
		return false
	}
	intEnd := i
	fracStart, fracEnd := i, i
	if i < n && lit[i] == '.' {
		i++
		fracStart = i
		for i < n && lit[i] >= '0' && lit[i] <= '9' {
			i++
		}
		if i == fracStart {
			return false
		}
		fracEnd = i
	}
	exp := 0
	if i < n && (lit[i] == 'e' || lit[i] == 'E') {
		i++
		neg := false
		if i < n && (lit[i] == '+' || lit[i] == '-') {
			neg = lit[i] == '-'
			i++
		}
		start := i
		for i < n && lit[i] >= '0' && lit[i] <= '9' {
			if exp < 1<<30 { // far beyond any float64; stops overflow
				exp = exp*10 + int(lit[i]-'0')
			}
			i++
		}
		if i == start {
			return false
		}
		if neg {
			exp = -exp
		}
	}
	if i != n {
		return false
	}
	// The value is 0.d1d2d3... × 10^point, with d1 the first nonzero digit
	// of the integer and fraction digits taken together.
	digit := func(k int) byte { // k-th digit of integer then fraction
		if k < intEnd-intStart {
			return lit[intStart+k]
		}
		return lit[fracStart+k-(intEnd-intStart)]
	}
	total := (intEnd - intStart) + (fracEnd - fracStart)
	first := 0
	for first < total && digit(first) == '0' {
		first++
	}
	if first == total {
		return true // zero
	}
	point := (intEnd - intStart) - first + exp
	switch {
	case point < len(maxFloatHalfway):
		return true
	case point > len(maxFloatHalfway):
		return false
	}
	// Same magnitude: compare the digits with the halfway value's.
	for k := 0; k < len(maxFloatHalfway); k++ {
		d := byte('0')
		if first+k < total {
			d = digit(first + k)
		}
		if d != maxFloatHalfway[k] {
			return d < maxFloatHalfway[k]
		}
	}
	return false // exactly halfway: rounds to even, which is infinity
}
