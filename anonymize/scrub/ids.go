package scrub

// Detectors for addresses, national ids, device names and encoded e-mails.
// Each starts at a word boundary, reads a bounded distance and returns the
// end of its match or 0, like the detectors in detect.go.

import (
	"encoding/binary"
	"math/bits"
	"unicode"
	"unicode/utf8"
)

func isHex(ch byte) bool { return class[ch]&(cDigit|cHexLetter) != 0 }

// endsWord reports whether a match ending at e is not glued to more of a
// word (an alphanumeric byte follows).
func endsWord(b []byte, e int) bool {
	return e >= len(b) || class[b[e]]&cAlnum == 0
}

// addressLike is the cheap pre-check for MAC and IPv6 addresses: a run of
// at most four hex digits followed by ':', '-' or '.', or a run of 12.
func addressLike(b []byte, i int) bool {
	p := i
	for p < len(b) && p-i < 13 && isHex(b[p]) {
		p++
	}
	if p-i == 12 {
		return true
	}
	return p-i <= 4 && p < len(b) && (b[p] == ':' || b[p] == '-' || b[p] == '.')
}

// matchIPv4 returns the end of a dotted-quad IPv4 address at i, or 0. A
// fifth group ("1.2.3.4.5") or a glued word is not an address.
func matchIPv4(b []byte, i int) int {
	p := i
	for g := 0; g < 4; g++ {
		if g > 0 {
			if p >= len(b) || b[p] != '.' {
				return 0
			}
			p++
		}
		s, v := p, 0
		for p < len(b) && p-s < 4 && class[b[p]]&cDigit != 0 {
			v = v*10 + int(b[p]-'0')
			p++
		}
		if p == s || p-s > 3 || v > 255 {
			return 0
		}
	}
	if !endsWord(b, p) || p+1 < len(b) && b[p] == '.' && class[b[p+1]]&cDigit != 0 {
		return 0
	}
	return p
}

// matchIPv6 returns the end of an IPv6 address at i (hex groups of 1 to 4
// separated by ':', eight of them or fewer with one "::"), or 0. The last
// two groups may be written as a dotted-quad IPv4 address
// ("::ffff:81.2.69.142", "64:ff9b::81.2.69.142"): the match then takes it
// whole, so no part of the IPv4 address is left behind.
func matchIPv6(b []byte, i int) int {
	if i > 0 && b[i] == ':' && b[i-1] == ':' {
		return 0 // inside a run of three or more colons: no address starts here
	}
	p, groups, hexDigits := i, 0, 0
	double := false
	last := -1 // where the last hex group starts
	limit := min(len(b), i+45)
	for p < limit {
		s := p
		for p < limit && p-s < 5 && isHex(b[p]) {
			p++
		}
		n := p - s
		if n > 4 {
			return 0
		}
		if n > 0 {
			groups++
			hexDigits += n
			last = s
		}
		if p+1 < limit && b[p] == ':' && b[p+1] == ':' {
			if double {
				return 0
			}
			double = true
			p += 2
			if p >= limit || !isHex(b[p]) {
				break
			}
			continue
		}
		if n > 0 && p+1 < limit && b[p] == ':' && isHex(b[p+1]) {
			p++
			continue
		}
		if n == 0 && !double {
			return 0
		}
		break
	}
	if p < len(b) && b[p] == '.' && last > i && b[last-1] == ':' {
		// An IPv4 tail: the group read last is its first number.
		if e := matchIPv4(b, last); e > 0 {
			groups++ // the tail counts as two groups, its first one counted already
			p = e
		}
	}
	if groups > 8 || hexDigits < 3 || !double && groups != 8 || double && groups > 7 || double && groups < 2 {
		return 0
	}
	if p < len(b) && (class[b[p]]&cAlnum != 0 || b[p] == ':') {
		return 0
	}
	return p
}

// addressRunStart returns where the span of an IPv6 address matched at i
// begins: at i, or earlier when hex digits and colons run up to i from a
// word boundary ("00:0::0::0:00" matches at its third group; the whole run
// is replaced). Leaving such a prefix would not be stable: "00:0::" before
// the marker reads as an address on a second pass. A run glued to a word
// ("ip:", "g12:") stays, and so does anything before from.
func addressRunStart(b []byte, from, i int) int {
	s := i
	for s > from && i-s < 45 && (isHex(b[s-1]) || b[s-1] == ':') {
		s--
	}
	if s > from && class[b[s-1]]&cAlnum != 0 {
		return i
	}
	return s
}

// matchMAC returns the end of a MAC address at i: six pairs of hex digits
// separated by ':' or '-', three quads separated by '.', or 12 hex digits
// with both letters and at least two digits; or 0.
func matchMAC(b []byte, i int) int {
	if i+12 > len(b) {
		return 0
	}
	// 12 hex digits in one run.
	p, digits, letters := i, 0, 0
	for p < len(b) && p-i < 13 && isHex(b[p]) {
		if class[b[p]]&cDigit != 0 {
			digits++
		} else {
			letters++
		}
		p++
	}
	if p-i == 12 && endsWord(b, p) && digits >= 2 && letters >= 1 {
		return p
	}
	if p-i < 2 {
		return 0
	}
	switch sep := b[i+2]; {
	case sep == ':' || sep == '-':
		p = i
		for g := 0; g < 6; g++ {
			if g > 0 {
				if p >= len(b) || b[p] != sep {
					return 0
				}
				p++
			}
			if p+2 > len(b) || !isHex(b[p]) || !isHex(b[p+1]) {
				return 0
			}
			p += 2
		}
	case i+4 < len(b) && b[i+4] == '.':
		p = i
		letters = 0
		for g := 0; g < 3; g++ {
			if g > 0 {
				if p >= len(b) || b[p] != '.' {
					return 0
				}
				p++
			}
			for k := 0; k < 4; k++ {
				if p >= len(b) || !isHex(b[p]) {
					return 0
				}
				if class[b[p]]&cLetter != 0 {
					letters++
				}
				p++
			}
		}
		if letters == 0 {
			return 0 // "4111.1111.1111": digits in dotted groups are a number
		}
	default:
		return 0
	}
	if !endsWord(b, p) || p < len(b) && (b[p] == ':' || (b[p] == '-' || b[p] == '.') && p+1 < len(b) && isHex(b[p+1])) {
		return 0
	}
	return p
}

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// matchDNI returns the end of a Spanish DNI (8 digits and a check letter)
// or NIE (X, Y or Z, 7 digits and a check letter), with an optional '-'
// or ' ' before the letter, or 0. The number may be written with
// thousands dots, as documents print it ("12.345.678-Z", "X-1.234.567-L");
// a dotted number is as often a quantity, so it then takes only a '-' or
// nothing before an upper-case letter ("12.345.678 m" is a length).
func matchDNI(b []byte, i int) int {
	p, v := i, 0
	switch b[i] | 0x20 {
	case 'x', 'y', 'z':
		v = int(b[i] | 0x20 - 'x')
		p++
		if p < len(b) && b[p] == '-' {
			p++
		}
	}
	s := p
	for p < len(b) && p-s < 9 && class[b[p]]&cDigit != 0 {
		v = v*10 + int(b[p]-'0')
		p++
	}
	want := 8
	if s > i {
		want = 7
	}
	dotted := false
	if p-s == want-6 {
		// "12" of "12.345.678": two more groups of three after dots.
		for g := 0; g < 2; g++ {
			if p+4 > len(b) || b[p] != '.' {
				return 0
			}
			for _, ch := range b[p+1 : p+4] {
				if class[ch]&cDigit == 0 {
					return 0
				}
				v = v*10 + int(ch-'0')
			}
			p += 4
		}
		if p < len(b) && class[b[p]]&cDigit != 0 {
			return 0
		}
		dotted = true
	} else if p-s != want {
		return 0
	}
	if p < len(b) && (b[p] == '-' || b[p] == ' ' && !dotted) {
		p++
	}
	if p >= len(b) || b[p]&^0x20 != dniLetters[v%23] || dotted && b[p] != dniLetters[v%23] || !endsWord(b, p+1) {
		return 0
	}
	return p + 1
}

// matchNINO returns the end of a UK National Insurance number (two
// letters, six digits, optionally in pairs separated by spaces, or '+' as
// a form encodes them, and A to D), or 0.
func matchNINO(b []byte, i int) int {
	if i+9 > len(b) {
		return 0
	}
	for _, ch := range b[i : i+2] {
		switch ch &^ 0x20 {
		case 'D', 'F', 'I', 'Q', 'U', 'V':
			return 0
		}
		if class[ch]&cLetter == 0 {
			return 0
		}
	}
	p := i + 2
	for g := 0; g < 3; g++ {
		if p < len(b) && (b[p] == ' ' || b[p] == '+') {
			p++
		}
		if p+2 > len(b) || class[b[p]]&cDigit == 0 || class[b[p+1]]&cDigit == 0 {
			return 0
		}
		p += 2
	}
	if p < len(b) && (b[p] == ' ' || b[p] == '+') {
		p++
	}
	if p >= len(b) {
		return 0
	}
	if c := b[p] &^ 0x20; c < 'A' || c > 'D' || !endsWord(b, p+1) {
		return 0
	}
	return p + 1
}

var cfOdd = [36]uint8{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// matchCodiceFiscale returns the end of an Italian codice fiscale (16
// characters, the last a check letter), or 0. Digits may be replaced by
// letters (omocodia), so only the check is strict.
func matchCodiceFiscale(b []byte, i int) int {
	const n = 16
	if i+n > len(b) || !endsWord(b, i+n) {
		return 0
	}
	sum := 0
	for k := 0; k < n-1; k++ {
		ch := b[i+k]
		var idx int
		switch cl := class[ch]; {
		case cl&cDigit != 0:
			if k < 6 {
				return 0
			}
			idx = int(ch - '0')
		case cl&cLetter != 0:
			if k == 6 || k == 7 || k == 9 || k == 10 || k >= 12 {
				// omocodia letters only: L M N P Q R S T U V
				switch ch &^ 0x20 {
				case 'L', 'M', 'N', 'P', 'Q', 'R', 'S', 'T', 'U', 'V':
				default:
					return 0
				}
			}
			idx = 10 + int(ch&^0x20-'A')
		default:
			return 0
		}
		if k%2 == 0 {
			sum += int(cfOdd[idx])
		} else if idx >= 10 {
			sum += idx - 10
		} else {
			sum += idx
		}
	}
	if class[b[i+8]]&cLetter == 0 || class[b[i+11]]&cLetter == 0 {
		return 0
	}
	if b[i+n-1]&^0x20 != byte('A'+sum%26) {
		return 0
	}
	return i + n
}

// steuerIDValid checks a German tax id: 11 digits, first not 0, in the
// first ten one digit twice or three times and the check digit by ISO 7064
// MOD 11,10.
func steuerIDValid(d []byte) bool {
	if len(d) != 11 || d[0] == 0 {
		return false
	}
	var count [10]uint8
	for _, x := range d[:10] {
		count[x]++
	}
	multi := 0
	for _, n := range count {
		switch {
		case n == 2 || n == 3:
			multi++
		case n > 3:
			return false
		}
	}
	if multi != 1 {
		return false
	}
	product := 10
	for _, x := range d[:10] {
		sum := (int(x) + product) % 10
		if sum == 0 {
			sum = 10
		}
		product = (sum * 2) % 11
	}
	ck := 11 - product
	if ck == 10 {
		ck = 0
	}
	return int(d[10]) == ck
}

// bsnValid checks a Dutch BSN: 9 digits passing the eleven test.
func bsnValid(d []byte) bool {
	if len(d) != 9 || d[0] == 0 {
		return false
	}
	s := 0
	for k := 0; k < 8; k++ {
		s += int(d[k]) * (9 - k)
	}
	s -= int(d[8])
	return s%11 == 0
}

// nirValid checks a French NIR: 15 digits, sex 1 or 2 (or 3, 4, 7, 8),
// a month, and a key of 97 minus the first 13 digits mod 97.
func nirValid(d []byte) bool {
	if len(d) != 15 {
		return false
	}
	switch d[0] {
	case 1, 2, 3, 4, 7, 8:
	default:
		return false
	}
	var n int64
	for _, x := range d[:13] {
		n = n*10 + int64(x)
	}
	return int64(d[13])*10+int64(d[14]) == 97-n%97
}

// cpfCheckGroup reports whether a number read so far as groups gs joined
// by dots (mask), then separator m, is a Brazilian CPF as printed
// ("529.982.247-25": three groups of three digits joined by dots, the two
// check digits after a dash): the one place a dot mixes with another
// separator.
func cpfCheckGroup(gs []uint8, mask, m uint8) bool {
	return m == sepDash && mask == sepDot && len(gs) == 3 && gs[0] == 3 && gs[1] == 3 && gs[2] == 3
}

// cpfShape reports whether groups gs with separators mask are a CPF's:
// as printed ("529.982.247-25") or with the dash alone ("529982247-25").
// Its eleven digits alone are not read as one: order and account numbers
// of eleven digits pass its check one time in a hundred.
func cpfShape(gs []uint8, mask uint8) bool {
	switch len(gs) {
	case 2:
		return mask == sepDash && gs[0] == 9 && gs[1] == 2
	case 4:
		return mask == sepDot|sepDash && gs[0] == 3 && gs[1] == 3 && gs[2] == 3 && gs[3] == 2
	}
	return false
}

// cpfValid checks a Brazilian CPF's two check digits (mod 11).
func cpfValid(d []byte) bool {
	if len(d) != 11 {
		return false
	}
	for k := 9; k <= 10; k++ {
		sum := 0
		for j := 0; j < k; j++ {
			sum += int(d[j]) * (k + 1 - j)
		}
		ck := sum * 10 % 11
		if ck == 10 {
			ck = 0
		}
		if int(d[k]) != ck {
			return false
		}
	}
	return true
}

// ahvShape reports whether d in groups gs with separators mask has the
// shape of a Swiss social security number (AHV/AVS, 13 digits starting
// with the country code 756): as printed ("756.1234.5678.97") or compact.
func ahvShape(d []byte, gs []uint8, mask uint8) bool {
	if len(d) != 13 || d[0] != 7 || d[1] != 5 || d[2] != 6 {
		return false
	}
	return len(gs) == 1 || len(gs) == 4 && mask == sepDot && gs[0] == 3 && gs[1] == 4 && gs[2] == 4 && gs[3] == 2
}

// ean13Valid checks an EAN-13 check digit, which AHV numbers carry.
func ean13Valid(d []byte) bool {
	if len(d) != 13 {
		return false
	}
	sum := 0
	for j, x := range d[:12] {
		sum += int(x) * (1 + 2*(j&1))
	}
	return int(d[12]) == (10-sum%10)%10
}

// chinaIDWeights are the weights of a Chinese resident identity number's
// first 17 digits, 2^(17-k) mod 11 (ISO 7064 MOD 11-2).
var chinaIDWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// matchChinaID returns the end of a Chinese resident identity number at i
// (GB 11643: six digits of region, the birth date as YYYYMMDD, three
// digits and a check digit or 'X'), or 0. The date must be one and the
// check must hold; the number must not go on as a word.
func matchChinaID(b []byte, i int) int {
	if i+18 > len(b) || b[i] == '0' {
		return 0
	}
	// Most numbers end well before: two bytes rule them out first.
	if class[b[i+9]]&cDigit == 0 || class[b[i+16]]&cDigit == 0 {
		return 0
	}
	sum := 0
	for k := 0; k < 17; k++ {
		c := b[i+k]
		if class[c]&cDigit == 0 {
			return 0
		}
		sum += int(c-'0') * chinaIDWeights[k]
	}
	ck := (12 - sum%11) % 11
	last := b[i+17]
	if ck == 10 && last&^0x20 != 'X' || ck < 10 && last != byte('0'+ck) {
		return 0
	}
	if e := i + 18; e < len(b) && class[b[e]]&cAlnum != 0 {
		return 0
	}
	num := func(k, n int) int {
		v := 0
		for _, c := range b[i+k : i+k+n] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	if y, m, d := num(6, 4), num(10, 2), num(12, 2); y < 1900 || y > 2099 || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0
	}
	return i + 18
}

// personnummerValid reports whether d in groups gs joined by mask is a
// Swedish personal identity number as written, "YYMMDD-NNNC" or
// "YYYYMMDD-NNNC" (Klarna asks for it at checkout): a date (the day plus
// 60 for a coordination number), and a Luhn check over the ten digits
// from YYMMDD on. Without the dash it is not read: ten or twelve digits
// alone are order numbers as often. A date from 2010 on (YY 10..29 with
// the dash, which says under a hundred; 2010.. in twelve digits) followed
// by a time of day ("20240103-2210", "240103-2210") is a build or backup
// stamp, one in ten of which passes the check: the numbers of those born
// since 2010 whose last four digits read as a time are let go for it.
func personnummerValid(d []byte, gs []uint8, mask uint8) bool {
	if len(gs) != 2 || mask != sepDash || gs[1] != 4 || gs[0] != 6 && gs[0] != 8 {
		return false
	}
	recent := false
	if gs[0] == 8 {
		c := d[0]*10 + d[1]
		if c < 18 || c > 20 {
			return false
		}
		d = d[2:]
		recent = c == 20 && d[0] >= 1
	} else {
		recent = d[0] == 1 || d[0] == 2
	}
	m, day := d[2]*10+d[3], d[4]*10+d[5]
	if m < 1 || m > 12 || (day < 1 || day > 31) && (day < 61 || day > 91) {
		return false
	}
	if recent && d[6]*10+d[7] < 24 && d[8] < 6 {
		return false // "20240103-2210": a stamp
	}
	return luhn(d)
}

// hetuSeparator reports whether c is the century sign of a Finnish
// personal identity code: '+' (1800s), '-' or Y..U (1900s), A..F (2000s).
func hetuSeparator(c byte) bool {
	return c == '+' || c == '-' || c >= 'A' && c <= 'F' || c >= 'U' && c <= 'Y'
}

// matchHETU returns the end of a Finnish personal identity code at i
// ("DDMMYY-NNNC": a birth date, the century sign, three digits and a
// check character, DDMMYYNNN mod 31), or 0.
func matchHETU(b []byte, i int) int {
	if i+11 > len(b) || !hetuSeparator(b[i+6]) {
		return 0
	}
	n := 0
	for k := 0; k < 10; k++ {
		if k == 6 {
			continue
		}
		if class[b[i+k]]&cDigit == 0 {
			return 0
		}
		n = n*10 + int(b[i+k]-'0')
	}
	day, month := (n/10000000)%100, (n/100000)%100
	if day < 1 || day > 31 || month < 1 || month > 12 {
		return 0
	}
	// "010124-2210", "240101-1402": a date and a time of day, a stamp,
	// which reads as someone born before 1932 (the dash) whose last four
	// read as a time; one stamp in 31 passes the check.
	if b[i+6] == '-' && (n/1000)%100 < 32 && n%1000/10 < 24 && n%10 < 6 && class[b[i+10]]&cDigit != 0 {
		return 0
	}
	if b[i+10] != "0123456789ABCDEFHJKLMNPRSTUVWXY"[n%31] {
		return 0
	}
	if e := i + 11; e < len(b) && class[b[e]]&cAlnum != 0 {
		return 0
	}
	return i + 11
}

// matchDevice returns the end of a device named after its owner, such as
// "Jane's iPhone", "Jörg’s MacBook Pro" or "Jane Doe's iPhone" (a first
// name before the owner's, both capitalised), or 0.
func matchDevice(b []byte, i int) int {
	if end := matchOwnedDevice(b, i); end > 0 {
		return end
	}
	p := nameWordEnd(b, i)
	if p == i || p+1 >= len(b) || b[p] != ' ' || !capital(b[i]) || !capital(b[p+1]) {
		return 0
	}
	return matchOwnedDevice(b, p+1)
}

// capital reports whether a name may start with c: an upper-case ASCII
// letter, or a non-ASCII letter's first byte (whose case is not read).
func capital(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 0x80 }

// nameWordEnd returns the end of the word of letters at i (at most 32
// bytes; non-ASCII letters included, the typographic apostrophe not).
func nameWordEnd(b []byte, i int) int {
	p := i
	for p < len(b) && p-i < 32 && (class[b[p]]&cLetter != 0 || b[p] >= 0x80 && !(b[p] == 0xe2 && p+2 < len(b) && b[p+1] == 0x80 && b[p+2] == 0x99)) {
		p++
	}
	return p
}

// matchOwnedDevice returns the end of "Owner's device model" at i, or 0.
func matchOwnedDevice(b []byte, i int) int {
	p := nameWordEnd(b, i)
	if p == i {
		return 0
	}
	switch {
	case p+2 < len(b) && b[p] == '\'' && b[p+1]|0x20 == 's' && b[p+2] == ' ':
		p += 3
	case p+4 < len(b) && b[p] == 0xe2 && b[p+1] == 0x80 && b[p+2] == 0x99 && b[p+3]|0x20 == 's' && b[p+4] == ' ':
		p += 5
	default:
		return 0
	}
	kw := false
	for _, k := range deviceWords {
		if hasPrefixFold(b[p:], k) && endsWord(b, p+len(k)) {
			p += len(k)
			kw = true
			break
		}
	}
	if !kw {
		return 0
	}
	return deviceModelEnd(b, p)
}

// deviceModelEnd returns the end of a device's model after its device
// word, which ends at p: up to two short words with a digit or from a list
// ("S23", "8", "Pro", "Max"), not glued to what follows ("at 00:1A:...").
func deviceModelEnd(b []byte, p int) int {
	for w := 0; w < 2; w++ {
		if p+1 >= len(b) || b[p] != ' ' {
			break
		}
		q, digit := p+1, false
		for q < len(b) && q-p <= 5 && class[b[q]]&cAlnum != 0 {
			digit = digit || class[b[q]]&cDigit != 0
			q++
		}
		if q == p+1 || q-p > 5 || !endsWord(b, q) || q < len(b) && (b[q] == ':' || b[q] == '-' || b[q] == '.') {
			break
		}
		if !digit && !modelWord(b[p+1:q]) {
			break
		}
		p = q
	}
	return p
}

func modelWord(w []byte) bool {
	for _, m := range [...]string{"pro", "max", "mini", "air", "plus", "ultra", "lite", "se", "fe"} {
		if equalFold(w, m) {
			return true
		}
	}
	return false
}

// localDeviceWords are the devices whose default names in other
// languages put the owner last: iOS names an iPhone "iPhone de Marie" in
// French, Spanish and Portuguese, "iPhone von Jana" in German, "iPhone di
// Giulia", "iPhone van Jan", "iPhone från Anna"; Samsung and Google do
// likewise.
var localDeviceWords = []string{"iphone", "ipad", "ipod", "imac", "macbook", "apple watch", "airpods", "galaxy", "pixel"}

// ownerWords are the words that introduce the owner in such names, as
// written: in lower case (capitalised, "iPhone Do Not Disturb", "iPad Da
// Vinci Resolve", they are a title's words).
var ownerWords = []string{"de", "da", "do", "di", "del", "della", "von", "van", "från", "fra", "af", "av", "od", "użytkownika"}

// hasOwnerWord reports whether b holds one of ownerWords between two
// spaces, then a letter that may start a name: the pre-check of
// matchDeviceOf, one pass over b's spaces.
func hasOwnerWord(b []byte) bool {
	// Spaces found eight bytes at a time: a call per word, or a test per
	// byte, cost more than the rest. A candidate is read only up to its end
	// and the capital after it before the list.
	n := len(b)
	for k := 0; k+4 < n; k++ {
		if k+8 <= n {
			x := binary.LittleEndian.Uint64(b[k:]) ^ 0x2020202020202020
			t := (x - 0x0101010101010101) &^ x & 0x8080808080808080
			if t == 0 {
				k += 7
				continue
			}
			if k += bits.TrailingZeros64(t) / 8; k+4 >= n {
				return false
			}
		} else if b[k] != ' ' {
			continue
		}
		if c := b[k+1]; c != 'd' && c != 'v' && c != 'f' && c != 'a' && c != 'o' && c != 'u' {
			continue
		}
		e := k + 2
		for e < n && e-k <= maxOwnerWord && b[e] != ' ' {
			e++
		}
		if e+1 >= n || b[e] != ' ' || !capital(b[e+1]) {
			continue
		}
		for _, w := range ownerWords {
			if string(b[k+1:e]) == w {
				return true
			}
		}
	}
	return false
}

// maxOwnerWord is the longest of ownerWords in bytes ("użytkownika").
const maxOwnerWord = 12

// notOwners are capitalised words after an owner word that name a maker
// or a carrier, not a person ("Pixel de Google", "iPhone de Orange",
// "Galaxy S24 de Vodafone": an offer). Before a device word they are no
// title's word either ("Samsung Galaxy S23 de Marie").
var notOwners = []string{"apple", "google", "samsung", "microsoft", "amazon",
	"orange", "vodafone", "movistar", "verizon", "telekom", "sfr", "bouygues", "free", "o2", "wind", "tre",
	"telcel", "claro", "vivo", "yoigo", "swisscom", "sunrise", "proximus", "kpn", "telia", "telenor", "tele2", "iliad"}

// afterTitleWord reports whether the word right before i (after one
// space, not before from) is capitalised and names no maker: "Funda
// iPhone de Silicona", "Le Pixel de Vermeer", "Oferta iPhone 15 de
// Movistar" are a title's words, not a device named after its owner.
func afterTitleWord(b []byte, from, i int) bool {
	if i-2 < from || b[i-1] != ' ' {
		return false
	}
	s := i - 1
	for s > from && (class[b[s-1]]&cLetter != 0 || b[s-1] >= 0x80) {
		s--
	}
	if s == i-1 {
		return false
	}
	if r, _ := utf8.DecodeRune(b[s : i-1]); !unicode.IsUpper(r) {
		return false
	}
	for _, w := range notOwners {
		if equalFold(b[s:i-1], w) {
			return false
		}
	}
	return true
}

// isLocalDeviceLead reports whether a word starting with c may be one of
// localDeviceWords: the cheap test before the list.
func isLocalDeviceLead(c byte) bool {
	switch c | 0x20 {
	case 'i', 'm', 'a', 'g', 'p':
		return true
	}
	return false
}

// matchDeviceOf returns the end of a device named after its owner with the
// owner last ("iPhone de Marie", "MacBook Pro von Jana", "Galaxy S23 de
// Marie-Claire Dupont": the device word, its model, an owner word, one or
// two capitalised names, hyphens within a name allowed), or 0; not after
// a title's word (afterTitleWord, reading back to from).
func matchDeviceOf(b []byte, from, i int) int {
	p := -1
	for _, k := range localDeviceWords {
		if hasPrefixFold(b[i:], k) && endsWord(b, i+len(k)) {
			p = i + len(k)
			break
		}
	}
	if p < 0 {
		return 0
	}
	p = deviceModelEnd(b, p)
	if p+1 >= len(b) || b[p] != ' ' {
		return 0
	}
	q := nameWordEnd(b, p+1)
	of := false
	for _, w := range ownerWords {
		if string(b[p+1:q]) == w { // lower case: "iPhone Do Not Disturb" is none
			of = true
			break
		}
	}
	if !of || q+1 >= len(b) || b[q] != ' ' {
		return 0
	}
	end := 0
	for n, s := 0, q+1; n < 2 && s < len(b) && capital(b[s]); n++ {
		e := nameWordEnd(b, s)
		for e+1 < len(b) && b[e] == '-' && capital(b[e+1]) {
			e = nameWordEnd(b, e+1) // Marie-Claire
		}
		if e == s || !endsWord(b, e) {
			break
		}
		if n == 0 {
			for _, w := range notOwners {
				if equalFold(b[s:e], w) {
					return 0
				}
			}
		}
		end = e
		if e+1 >= len(b) || b[e] != ' ' {
			break
		}
		s = e + 1
	}
	if end > 0 && afterTitleWord(b, from, i) {
		return 0
	}
	return end
}

var deviceWords = []string{"iphone", "ipad", "macbook", "imac", "ipod", "galaxy", "pixel", "android", "phone", "airpods", "watch", "apple watch", "homepod", "mac mini", "mac studio", "mac pro", "laptop", "pc", "tablet", "kindle", "surface"}

// maxBase64Run bounds the base64 run decoded to look for an e-mail.
const maxBase64Run = 128

// matchBase64Email returns the end of a base64 or base64url run at i that
// decodes to text holding an e-mail address, or 0.
func matchBase64Email(b []byte, i int) int {
	p := i
	upper, lower := false, false
	for p < len(b) && p-i <= maxBase64Run && (class[b[p]]&cToken != 0 || b[p] == '+' || b[p] == '/') {
		upper = upper || b[p] >= 'A' && b[p] <= 'Z'
		lower = lower || b[p] >= 'a' && b[p] <= 'z'
		p++
	}
	// Base64 of text mixes cases; slugs and words do not get decoded.
	if p-i < 12 || p-i > maxBase64Run || !upper || !lower {
		return 0
	}
	end := p
	for end < len(b) && end-p < 2 && b[end] == '=' {
		end++
	}
	var dec [maxBase64Run * 3 / 4]byte
	n, acc, bits := 0, uint(0), 0
	at := false
	for _, ch := range b[i:p] {
		var v byte
		switch {
		case ch >= 'A' && ch <= 'Z':
			v = ch - 'A'
		case ch >= 'a' && ch <= 'z':
			v = ch - 'a' + 26
		case ch >= '0' && ch <= '9':
			v = ch - '0' + 52
		case ch == '+' || ch == '-':
			v = 62
		default:
			v = 63
		}
		acc = acc<<6 | uint(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			dec[n] = byte(acc >> bits)
			if dec[n] == '@' {
				at = true
			}
			n++
		}
	}
	if !at {
		return 0
	}
	for k := 0; k < n; k++ {
		if class[dec[k]]&cLocal != 0 && (k == 0 || class[dec[k-1]]&cLocal == 0) {
			if matchEmail(dec[:n], k) > 0 {
				return end
			}
		}
	}
	return 0
}

// awsKeyIDLen is the length of an AWS access key id: a four-letter prefix
// and 16 characters of base32 ([A-Z2-7]).
const awsKeyIDLen = 20

// matchAWSKeyID returns the end of an AWS access key id at i ("AKIA" for a
// long-term key, "ASIA" for a temporary one, then 16 of [A-Z2-7]) that is
// a word of its own, or 0. Its exact prefix, alphabet and length keep
// ordinary upper-case words out; the token rule misses most such ids (20
// characters, upper case only).
func matchAWSKeyID(b []byte, i int) int {
	e := i + awsKeyIDLen
	if e > len(b) || b[i] != 'A' || b[i+2] != 'I' || b[i+3] != 'A' || b[i+1] != 'K' && b[i+1] != 'S' || !endsWord(b, e) {
		return 0
	}
	for _, ch := range b[i+4 : e] {
		if (ch < 'A' || ch > 'Z') && (ch < '2' || ch > '7') {
			return 0
		}
	}
	return e
}
