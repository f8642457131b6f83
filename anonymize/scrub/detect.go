package scrub

import "bytes"

// Character classes, one table lookup per byte.
const (
	cDigit     uint8 = 1 << iota
	cLetter          // ASCII letter
	cHexLetter       // a-f, A-F
	cLocal           // e-mail local part: A-Za-z0-9 . _ + - and non-ASCII bytes
	cDomain          // e-mail domain label: A-Za-z0-9 - and non-ASCII bytes
	cToken           // token run: A-Za-z0-9 _ -
	cSpace           // white space between words of free text
)

const cAlnum = cDigit | cLetter

var class = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		var k uint8
		switch {
		case c >= '0' && c <= '9':
			k = cDigit | cLocal | cDomain | cToken
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			k = cLetter | cLocal | cDomain | cToken
			if c|0x20 <= 'f' {
				k |= cHexLetter
			}
		case c >= 0x80:
			k = cLocal | cDomain
		}
		switch c {
		case '.', '+':
			k |= cLocal
		case '_':
			k |= cLocal | cToken
		case '-':
			k |= cLocal | cDomain | cToken
		case ' ', '\t', '\n', '\r', '\v', '\f':
			k |= cSpace
		}
		t[c] = k
	}
	return t
}()

// Scan flags: the context a value comes from.
const (
	// fCampaign: a utm_* value. Campaign ids are hex or base64 ids that
	// name a campaign, not a person, so the token rule does not apply
	// (every other detector does).
	fCampaign uint8 = 1 << iota
	// fUserAgent: a User-Agent header. In-app browsers put 9-digit build
	// numbers there ("FBBV/598463201", Instagram's "...; de_DE;
	// 520702220)"), and one in eleven passes the Dutch BSN's eleven test,
	// so the BSN rule does not apply (every other detector does).
	fUserAgent
)

// scan returns the kinds of all personal-data spans in b.
func (c *Cleaner) scan(b []byte) Found { return c.scanFlags(b, 0) }

func (c *Cleaner) scanFlags(b []byte, flags uint8) Found {
	if bytes.IndexByte(b, '%') >= 0 && hasEscape(b) {
		// Still encoded after maxDecodeRounds: fail closed.
		return KindToken.bit()
	}
	feat := features(b)
	if feat&featWide != 0 && hasInvisible(b) {
		// Read as it is, and without what shows nothing (see wide.go).
		return c.scanFold(b, flags, feat, false) | c.scanFold(b, flags, feat, true)
	}
	return c.scanFold(b, flags, feat, false)
}

// scanFold is scanFlags for b with features feat, scanned in its folded
// copy (see foldWidth) when it has characters to fold.
func (c *Cleaner) scanFold(b []byte, flags, feat uint8, leaveOut bool) Found {
	if feat&featWide != 0 {
		if w := foldWidth(b, leaveOut); w != nil {
			defer w.release()
			b = w.text
			feat = features(b)
		}
		feat &^= featWide
	}
	if feat == 0 {
		return 0
	}
	var f Found
	var m runMemo
	for i := 0; i < len(b); {
		s, e, k := c.nextSpan(b, i, flags, feat, &m)
		if s < 0 {
			break
		}
		f |= k.bit()
		i = e
	}
	return f
}

// Features of a scanned value, found by [features] in one pass; each
// detector runs only when what it needs is there.
const (
	featAt     uint8 = 1 << iota // an '@': e-mail
	featDigit                    // a digit: numbers, ids, addresses, most tokens
	featDevice                   // an apostrophe, or an owner word after a blank (hasOwnerWord): device names
	featRun                      // 12+ letters (or '+', '/') in a row: letter tokens, base64
	featWide                     // a lead byte of a character foldWidth may fold (isFoldLead)
	featObf                      // an at sign written out ("(at)", " at "): obfuscated e-mail (hasAtToken)
	// Bytes that features reads only to decide featObf; it returns
	// neither.
	featT     // 't', 'T' (in "at") or '@'
	featBlank // a space, tab, '+' or opening bracket (around "at")
)

// features is a fast pre-check: every detector needs an '@', a digit, an
// apostrophe or an owner word (device names), a run of 12 or more letters (letter tokens,
// base64) or an at sign written out (obfuscated e-mail), so most path
// segments ("products", "shoes") are done in one pass. It returns 0 when
// no detector can match. Only a value with a 't' or '@' and a space or
// bracket is read a second time, for an at sign written out.
func features(b []byte) uint8 {
	var f uint8
	for _, ch := range b {
		f |= featOf[ch]
	}
	if f&(featT|featBlank) == featT|featBlank && hasAtToken(b) {
		f |= featObf
	}
	if f&(featBlank|featDevice) == featBlank && hasOwnerWord(b) {
		f |= featDevice
	}
	f &^= featT | featBlank
	// The run matters only without digits: every detector that needs it
	// also runs when there is a digit.
	if f&featDigit != 0 || len(b) < 12 {
		return f
	}
	run := 0
	for _, ch := range b {
		if runOf[ch] == 0 {
			run = 0
			continue
		}
		if run++; run >= 12 {
			return f | featRun
		}
	}
	return f
}

var featOf, runOf = func() (f, r [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case class[c]&cDigit != 0:
			f[c] = featDigit
		case c == '@':
			f[c] = featAt | featT
		case c == 't' || c == 'T':
			f[c] = featT
		case c == ' ' || c == '\t' || c == '+' || c == '(' || c == '[' || c == '{' || c == '<':
			f[c] = featBlank
		case c == '\'' || c == 0xe2:
			f[c] = featDevice
		}
		if isFoldLead(byte(c)) {
			f[c] |= featWide
		}
		if class[c]&cLetter != 0 || c == '+' || c == '/' {
			r[c] = 1
		}
	}
	return f, r
}()

// nextSpan returns the first personal-data span b[start:end] that begins at
// or after from, or start = -1. from is 0 or the end of the previous span,
// which will be a marker, so it counts as a word boundary. Each detector
// starts only at its own word boundary, and each is bounded, so a scan is
// linear in len(b).
func (c *Cleaner) nextSpan(b []byte, from int, flags, feat uint8, m *runMemo) (start, end int, k Kind) {
	if feat == featObf {
		if start, end = nextObfuscated(b, from); start >= 0 {
			return localPartStart(b, from, start), end, KindEmail
		}
		return -1, -1, KindNone
	}
	digit := feat&featDigit != 0
	for i := from; i < len(b); i++ {
		ch := b[i]
		cl := class[ch]
		var prev byte
		var pcl uint8
		if i > from {
			prev = b[i-1]
			pcl = class[prev]
		}
		if feat&featAt != 0 && ch == '"' {
			if e := matchQuotedEmail(b, i); e > 0 {
				return i, e, KindEmail
			}
		}
		if feat&(featAt|featObf) != 0 && cl&cLocal != 0 && pcl&cLocal == 0 {
			if feat&featAt != 0 {
				if e := matchEmail(b, i); e > 0 {
					return localPartStart(b, from, i), e, KindEmail
				}
			}
			// With featAt: a real '@' with the dots written out.
			if e := matchObfuscated(b, i); e > 0 {
				return localPartStart(b, from, i), e, KindEmail
			}
		} else if feat&(featAt|featObf) != 0 && afterGluedAt(b, from, i) {
			// "find+me+at+jane.doe(at)example.org". No matchEmail: an
			// address with a real '@' was read whole from the run's
			// start, and reading the run again from each glued at sign
			// would make the scan quadratic.
			if e := matchObfuscated(b, i); e > 0 {
				return i, e, KindEmail
			}
		}
		if pcl&cAlnum != 0 {
			continue // inside a word
		}
		if digit && (cl&(cDigit|cHexLetter) != 0 || ch == ':' && i+1 < len(b) && b[i+1] == ':') && addressLike(b, i) {
			if e := matchMAC(b, i); e > 0 {
				return i, e, KindMAC
			}
			if e := matchIPv6(b, i); e > 0 {
				return addressRunStart(b, from, i), e, KindIP
			}
		}
		if digit && cl&cLetter != 0 && i+8 < len(b) && class[b[i+1]]&cLetter != 0 {
			// IBAN and NINO: two letters, then a digit (or a space, or
			// '+' as a form encodes one).
			if c2 := class[b[i+2]]; c2&cDigit != 0 || b[i+2] == ' ' || b[i+2] == '+' {
				if e := matchIBAN(b, i); e > 0 {
					return i, e, KindIBAN
				}
				if e := matchNINO(b, i); e > 0 {
					return i, e, KindNationalID
				}
			}
			// Codice fiscale: six letters, then a digit (or omocodia letter).
			if i+16 <= len(b) && class[b[i+5]]&cLetter != 0 {
				if e := matchCodiceFiscale(b, i); e > 0 {
					return i, e, KindNationalID
				}
			}
		}
		if feat&featDevice != 0 && (cl&cLetter != 0 || ch >= 0xc0) { // ASCII, or a UTF-8 lead byte ("Élodie's iPhone")
			if e := matchDevice(b, i); e > 0 {
				return i, e, KindDevice
			}
		}
		if feat&featDevice != 0 && isLocalDeviceLead(ch) && i+8 < len(b) {
			if e := matchDeviceOf(b, from, i); e > 0 {
				return i, e, KindDevice
			}
		}
		if digit && i+8 < len(b) && (class[b[i+6]]&cDigit != 0 || b[i+2] == '.' || b[i+3] == '.') &&
			(cl&cDigit != 0 || ch&^0x20 == 'X' || ch&^0x20 == 'Y' || ch&^0x20 == 'Z') {
			if e := matchDNI(b, i); e > 0 {
				return i, e, KindNationalID
			}
		}
		if digit && cl&cDigit != 0 && i+18 <= len(b) {
			if e := matchChinaID(b, i); e > 0 {
				return i, e, KindNationalID
			}
		}
		if digit && cl&cDigit != 0 && i+11 <= len(b) && hetuSeparator(b[i+6]) {
			if e := matchHETU(b, i); e > 0 {
				return i, e, KindNationalID
			}
		}
		if digit && (cl&cDigit != 0 || ch == '-') && i+12 < len(b) && decimalPointNear(b, i) && prev != '.' &&
			!((prev == ',' || prev == '-') && i-2 >= from && class[b[i-2]]&cDigit != 0) {
			if e := matchCoordinates(b, i); e > 0 {
				return i, e, KindCoordinates
			}
		}
		if digit && cl&cDigit != 0 && i+6 < len(b) && (b[i+1] == '.' || b[i+2] == '.' || b[i+3] == '.') &&
			prev != '.' && !(prev == '/' && i-2 >= from && class[b[i-2]]&cLetter != 0) {
			// "Chrome/120.0.0.0" is a version, not an address.
			if e := matchIPv4(b, i); e > 0 {
				return i, e, KindIP
			}
		}
		if feat&(featDigit|featRun) != 0 && ch == 'A' {
			if e := matchAWSKeyID(b, i); e > 0 {
				return i, e, KindToken
			}
		}
		if feat&(featDigit|featRun) != 0 && cl&cToken != 0 && pcl&cToken == 0 && longRun(b, i) {
			// Both need a run of 12 (base64) or 16 (tokens) characters.
			if prev != '+' && prev != '/' {
				if e := matchBase64Email(b, i); e > 0 {
					return i, e, KindEmail
				}
			}
			if flags&fCampaign == 0 {
				if e := m.tok.match(b, i, c.keepUUIDs); e > 0 {
					return i, e, KindToken
				}
				if prev != '+' && prev != '/' {
					if e := m.b64.match(b, i); e > 0 {
						return i, e, KindToken
					}
				}
			}
		}
		if digit && (cl&cDigit != 0 || ch == '+' || ch == '(') {
			if prev == '+' && (i-1 == from || class[b[i-2]]&cAlnum == 0) {
				continue // the number was tried from the '+'
			}
			if i-2 >= from && class[b[i-2]]&cAlnum != 0 {
				switch prev {
				case '.', ',', '-', '/', '+':
					if class[b[i-2]]&cDigit != 0 {
						// Inside a number tried from its start: a decimal
						// ("3.14159265358"), a date ("2024-01-15") or a
						// code. Starting again after a space is allowed.
						continue
					}
				}
				if (prev == '-' || prev == '_') && class[b[i-2]]&cLetter != 0 {
					continue // identifier: "INV-2024-000123"
				}
			}
			if e, k := matchNumber(b, i, flags); e > 0 {
				return i, e, k
			}
		}
		// Nothing starts here: the rest of this word starts nothing either
		// (no detector starts inside a word, and an e-mail's local part
		// starts only after a byte that cannot be in it).
		for cl&cAlnum != 0 && i+1 < len(b) && class[b[i+1]]&cAlnum != 0 {
			i++
		}
	}
	return -1, -1, KindNone
}

// Coordinates: a latitude and a longitude in decimal degrees, each with at
// least minCoordDecimals decimals (0.0001 degree is about 11 m: finer than
// a postcode), at most maxCoordDecimals read.
const (
	minCoordDecimals = 4
	maxCoordDecimals = 15
)

// matchCoordinates returns the end of a latitude and longitude pair
// starting at i ("52.520008,13.404954", "-33.8688, 151.2093"), in either
// order (GeoJSON and WKT write the longitude first: "[151.2093,
// -33.8688]", "POINT(-118.243683 34.052235)"), or 0: two decimal degrees,
// one within the latitude's range and the other within the longitude's,
// separated by a comma or a semicolon (and at most one space) or by one
// space, the second not followed by a letter, a digit or a decimal point.
// Also written with decimal commas, both alike ("52,520008 13,404954",
// separated by a space, a semicolon or a comma and a space), with a degree
// sign or a hemisphere letter after each ("52.520008° N, 13.404954° E"),
// and with the second one's label between ("lat 52.520008 lon 13.404954",
// "latitude: 52.520008, longitude: 13.404954", "lat=52.5200&lng=13.4049",
// `"lat":52.520008,"lng":13.404954`): only a coordinate's name (lat, lng,
// lon, long, latitude, longitude), never any word, so that "1.23456 and
// 2.34567" stays. A trailing ",17z" (a map's zoom) is left to the text
// around it.
func matchCoordinates(b []byte, i int) int {
	j, dec, ok := matchDegrees(b, i, 180, 0)
	if !ok || j >= len(b) {
		return 0
	}
	j = skipHemisphere(b, j)
	if j >= len(b) {
		return 0
	}
	k := j // where the separator starts
	switch b[j] {
	case ',':
		j++
		if j < len(b) && b[j] == ' ' {
			j++
		} else if dec == ',' {
			return 0 // "52,520008,13,404954": which comma is which?
		}
	case ';', '&':
		j++
		if j < len(b) && b[j] == ' ' {
			j++
		}
	case ' ':
		j++
	default:
		return 0
	}
	if l := matchCoordLabel(b, j); l > 0 {
		j = l
	} else if b[k] == '&' {
		return 0 // "&" only before a label ("lat=52.5200&lng=13.4049")
	}
	e, _, ok := matchDegrees(b, j, 180, dec)
	if !ok {
		return 0
	}
	e = skipHemisphere(b, e)
	if e < len(b) && (class[b[e]]&cAlnum != 0 || (b[e] == '.' || b[e] == dec) && e+1 < len(b) && class[b[e+1]]&cDigit != 0) {
		return 0
	}
	if _, _, lat := matchDegrees(b, i, 90, dec); !lat {
		if _, _, lat = matchDegrees(b, j, 90, dec); !lat {
			return 0 // neither is a latitude
		}
	}
	return e
}

// skipHemisphere returns the end of a degree sign ("°", U+00B0), and of a
// hemisphere letter (N, S, E, W, after the sign or one space) that ends
// its word, written after decimal degrees ending at j; j when there is
// neither.
func skipHemisphere(b []byte, j int) int {
	if j+1 < len(b) && b[j] == 0xc2 && b[j+1] == 0xb0 {
		j += 2
	}
	h := j
	if h < len(b) && b[h] == ' ' {
		h++
	}
	if h < len(b) {
		switch b[h] | 0x20 {
		case 'n', 's', 'e', 'w':
			if h+1 == len(b) || class[b[h+1]]&cAlnum == 0 {
				return h + 1
			}
		}
	}
	return j
}

// matchCoordLabel returns the end of a coordinate's name at b[j:] ("lng",
// "Longitude", quoted or not) and what may follow it before the number:
// spaces, and one ':' or '=' with spaces around; 0 when there is none.
func matchCoordLabel(b []byte, j int) int {
	if j < len(b) && b[j] == '"' {
		j++
	}
	w := j
	for w < len(b) && w-j < len("longitude") && class[b[w]]&cLetter != 0 {
		w++
	}
	if w < len(b) && class[b[w]]&cAlnum != 0 {
		return 0
	}
	switch word := b[j:w]; {
	case equalFold(word, "lat"), equalFold(word, "lng"), equalFold(word, "lon"), equalFold(word, "long"),
		equalFold(word, "latitude"), equalFold(word, "longitude"):
	default:
		return 0
	}
	if w < len(b) && b[w] == '"' {
		w++
	}
	for w < len(b) && b[w] == ' ' {
		w++
	}
	if w < len(b) && (b[w] == ':' || b[w] == '=') {
		w++
		for w < len(b) && b[w] == ' ' {
			w++
		}
	}
	return w
}

// decimalPointNear reports whether a '.' or a ',' follows the sign and one
// to three digits of a number starting at i, as in every coordinate: most
// numbers are no coordinate, and are passed over without reading them.
// i+4 < len(b).
func decimalPointNear(b []byte, i int) bool {
	if b[i] == '-' {
		i++
	}
	return b[i+1] == '.' || b[i+2] == '.' || b[i+3] == '.' || b[i+1] == ',' || b[i+2] == ',' || b[i+3] == ','
}

// matchDegrees reads decimal degrees at b[i:]: an optional '-', one to
// three digits, a decimal mark, and minCoordDecimals to maxCoordDecimals
// digits, at most limit in absolute value. The mark is dec ('.' or ','),
// or either when dec is 0. It returns the end, the mark, and whether it
// matched.
func matchDegrees(b []byte, i int, limit int, dec byte) (int, byte, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	whole, n := 0, 0
	for ; i < len(b) && n < 4 && class[b[i]]&cDigit != 0; i++ {
		whole = whole*10 + int(b[i]-'0')
		n++
	}
	if n == 0 || n > 3 || i >= len(b) || b[i] != '.' && b[i] != ',' || dec != 0 && b[i] != dec {
		return 0, 0, false
	}
	dec = b[i]
	i++
	frac, zero := 0, true
	for ; i < len(b) && class[b[i]]&cDigit != 0; i++ {
		if frac++; frac > maxCoordDecimals {
			return 0, 0, false
		}
		zero = zero && b[i] == '0'
	}
	if frac < minCoordDecimals || whole > limit || whole == limit && !zero {
		return 0, 0, false
	}
	return i, dec, true
}

// joinsLocalPart reports whether c is one of the characters RFC 5322
// allows in a local part that cLocal leaves out, since around other text
// they part words: "sean.o'connor@example.ie", "tom&jerry@example.org",
// "user%host@relay.example". Not '/', '=' and '?', which part a URL's
// path and query, nor '|' and '#', which join the fields of event labels
// and references ("2024-11-28|order-1234|jane@example.org"), nor brackets
// and braces, which frame an at sign or dot written out, nor '"', which
// quotes.
func joinsLocalPart(c byte) bool {
	switch c {
	case '\'', '!', '$', '%', '&', '*', '^', '`', '~':
		return true
	}
	return false
}

// localPartStart returns where an address whose local part the scan
// found starting at i (a run of local-part characters) begins: earlier,
// when a joinsLocalPart character glues that run to a run before it, and
// so on back, never before from. Only between two runs: a quote or sign
// before the address ("'jane@example.org'") stays in the text.
func localPartStart(b []byte, from, i int) int {
	for i-2 >= from && joinsLocalPart(b[i-1]) && class[b[i-2]]&cLocal != 0 {
		i -= 2
		for i > from && class[b[i-1]]&cLocal != 0 {
			i--
		}
	}
	return i
}

// matchEmail returns the end of an e-mail address whose local part starts
// at i, or 0.
func matchEmail(b []byte, i int) int {
	j := i
	for j < len(b) && class[b[j]]&cLocal != 0 {
		j++
	}
	if j == i || j >= len(b) || b[j] != '@' {
		return 0
	}
	return matchDomain(b, j)
}

// matchQuotedEmail returns the end of an address whose local part is a
// quoted string starting at i ("\"jane doe\"@example.org", as RFC 5322
// allows: a name, often), or 0. The quoted part is at most 64 bytes on one
// line.
func matchQuotedEmail(b []byte, i int) int {
	j := i + 1
	for ; j < len(b) && j-i <= 65; j++ {
		switch b[j] {
		case '"':
			if j == i+1 || j+1 >= len(b) || b[j+1] != '@' {
				return 0
			}
			return matchDomain(b, j+1)
		case '\\':
			j++
		case '\n', '\r':
			return 0
		}
	}
	return 0
}

// matchDomain returns the end of an address's domain after its at sign at
// j, or 0: a domain name, or an address literal ("jane@[192.0.2.1]") or
// a bare IPv4 address ("jane@192.0.2.1"), which leave the local part as
// personal as any.
func matchDomain(b []byte, j int) int {
	if j+1 < len(b) && b[j+1] == '[' {
		a := j + 2
		if hasPrefixFold(b[a:], "ipv6:") {
			a += 5 // RFC 5321's tag
		}
		k := a
		for k < len(b) && k-a < 46 && (isHex(b[k]) || b[k] == '.' || b[k] == ':') {
			k++
		}
		if k < len(b) && b[k] == ']' && (matchIPv4(b, a) == k || matchIPv6(b, a) == k) {
			return k + 1
		}
		return 0
	}
	if e := matchDomainName(b, j); e > 0 {
		return e
	}
	return matchIPv4(b, j+1)
}

// matchDomainName returns the end of a domain name after an address's at
// sign at j, or 0.
func matchDomainName(b []byte, j int) int {
	// Domain: labels separated by single dots; the end is the last label
	// that can be a TLD with at least two labels before it ending there.
	best, labels := 0, 0
	p := j + 1
	for {
		q := p
		for q < len(b) && class[b[q]]&cDomain != 0 {
			q++
		}
		if q == p {
			break
		}
		labels++
		if labels >= 2 {
			if isTLD(b[p:q]) {
				best = q
			} else if e := letterPrefix(b[p:q]); e >= 2 {
				// "a@b.com1", "a@b.org-x": the address ends inside the
				// label; fail closed and take the letters as the TLD.
				best = p + e
				break
			}
		}
		if q+1 < len(b) && b[q] == '.' && class[b[q+1]]&cDomain != 0 {
			p = q + 1
			continue
		}
		break
	}
	return best
}

func letterPrefix(l []byte) int {
	n := 0
	for n < len(l) && class[l[n]]&cLetter != 0 {
		n++
	}
	return n
}

func isTLD(l []byte) bool {
	if len(l) < 2 {
		return false
	}
	if len(l) > 4 && (l[0]|0x20) == 'x' && (l[1]|0x20) == 'n' && l[2] == '-' && l[3] == '-' {
		return true
	}
	for _, ch := range l {
		if class[ch]&cLetter == 0 && ch < 0x80 {
			return false
		}
	}
	return true
}

// IBAN lengths per ISO 13616: 15 (Norway) to 34 characters.
const (
	minIBAN = 15
	maxIBAN = 34
)

// matchIBAN returns the end of an IBAN starting at i, or 0. It accepts the
// compact form and the print form in groups of four separated by single
// spaces, and tries the longest candidate first.
func matchIBAN(b []byte, i int) int {
	if i+minIBAN > len(b) || class[b[i]]&cLetter == 0 || class[b[i+1]]&cLetter == 0 ||
		class[b[i+2]]&cDigit == 0 || class[b[i+3]]&cDigit == 0 {
		return 0
	}
	if cd := (b[i+2]-'0')*10 + b[i+3] - '0'; cd < 2 || cd > 98 {
		return 0
	}
	var ends [maxIBAN/4 + 1]int
	m, n, p := 0, 0, i
	for m < len(ends) {
		s := p
		for p < len(b) && class[b[p]]&cAlnum != 0 {
			p++
		}
		n += p - s
		if n > maxIBAN {
			break
		}
		ends[m] = p
		m++
		if w := ibanGap(b, p); p-s == 4 && w > 0 && p+w < len(b) && class[b[p+w]]&cAlnum != 0 {
			p += w
			continue
		}
		break
	}
	for k := m - 1; k >= 0; k-- {
		if ibanValid(b[i:ends[k]]) {
			return ends[k]
		}
	}
	return 0
}

// ibanGap returns the width of the separator at b[p] between two of an
// IBAN's groups, or 0: '+' or '-', or one or two spaces, plain or as
// typography writes them (spaceWidth).
func ibanGap(b []byte, p int) int {
	if p < len(b) && (b[p] == '+' || b[p] == '-') {
		return 1
	}
	w := spaceWidth(b, p)
	if w == 0 {
		return 0
	}
	return w + spaceWidth(b, p+w)
}

// spaceWidth returns the width of the space at b[p]: 1 for ' ', a
// uniSpace's length, or 0.
func spaceWidth(b []byte, p int) int {
	if p < len(b) && b[p] == ' ' {
		return 1
	}
	return uniSpace(b, p)
}

// ibanValid checks length and the mod-97 check of s (alphanumerics and
// single spaces, '+' from form encoding, '-' or a uniSpace between groups,
// the first four characters contiguous).
func ibanValid(s []byte) bool {
	r, n := 0, 0
	for pass := 0; pass < 2; pass++ {
		part := s[4:]
		if pass == 1 {
			part = s[:4]
		}
		for _, ch := range part {
			switch cl := class[ch]; {
			case ch == ' ' || ch == '+' || ch == '-' || ch >= 0x80: // ch >= 0x80: a byte of a uniSpace between groups, all matchIBAN lets through
				continue
			case cl&cDigit != 0:
				r = (r*10 + int(ch-'0')) % 97
			case cl&cLetter != 0:
				r = (r*100 + int(ch|0x20-'a') + 10) % 97
			default:
				return false
			}
			n++
		}
	}
	return n >= minIBAN && r == 1
}

// Token thresholds; see the package doc.
const (
	minHexToken   = 16 // md5/sha hex, 128-bit trace ids, session ids
	minTokenRun   = 24 // base64-ish runs
	minTokenChunk = 12
	uuidLen       = 36
	// Letter-only tokens: 20+ letters in random case (two or more
	// upper-case pairs and four or more case changes, or a case change
	// at every other letter; CamelCase words have neither), or 32+ letters whatever
	// the case (no word of a path or sentence is that long).
	minLetterToken = 20
	maxWordLetters = 32
)

// letterToken reports whether the letters of w read as a random token.
func letterToken(w []byte) bool {
	if len(w) >= maxWordLetters {
		return true
	}
	pairs, changes := 0, 0
	for k := 1; k < len(w); k++ {
		u0, u1 := class[w[k-1]]&cLetter != 0 && w[k-1] < 'a', class[w[k]]&cLetter != 0 && w[k] < 'a'
		if u0 && u1 {
			pairs++
		}
		if u0 != u1 {
			changes++
		}
	}
	return pairs >= 2 && changes >= 4 || len(w) >= 16 && 2*changes >= len(w)
}

// chunkEnd returns the end of the chunk of a token run b[:q] that starts
// at cs: the next '-' or '_', or q.
func chunkEnd(b []byte, cs, q int) int {
	ce := cs
	for ce < q && b[ce] != '-' && b[ce] != '_' {
		ce++
	}
	return ce
}

// tokenChunk reports whether the chunk b[cs:ce] of a token run that ends
// at q makes the run a token when the run (from where it is read) has
// fewer than minTokenRun characters (short), and when it has more (long).
func tokenChunk(b []byte, cs, ce, q int, keepUUIDs bool) (short, long bool) {
	digits, letters, hexOnly := 0, 0, true
	for _, ch := range b[cs:ce] {
		cl := class[ch]
		if cl&cDigit != 0 {
			digits++
		} else {
			letters++
			if cl&cHexLetter == 0 {
				hexOnly = false
			}
		}
	}
	n := ce - cs
	short = n >= minHexToken && hexOnly && digits > 0 && letters > 0 ||
		digits <= 2 && n >= minLetterToken && letterToken(b[cs:ce]) ||
		!keepUUIDs && n == 8 && hexOnly && isUUID(b[cs:q])
	return short, short || n >= minTokenChunk && digits >= 2 && letters >= 2
}

// runMemo keeps what the token and base64 token rules read of the last run
// for one scan (nextSpan's calls from the start of a value to its end). A
// span found inside a long run ends where the next call starts, which
// counts as a word boundary, so both detectors start there again and each
// read the rest of the run: a 64 KiB run of phone numbers or cards glued
// by '-' ("0151-0151-0151-...", "4111-4111-...") took 0.5-0.7 s. With the
// memo each run is read once, and a start inside it reads only its first
// chunk (or nothing). The answers are those of reading the run from each
// start (matchToken and matchBase64Token in the tests).
type runMemo struct {
	tok tokenMemo
	b64 base64Memo
}

// tokenMemo is the token rule's part of runMemo: the run b[from:end] read
// last (end 0: none), and in last[0] and last[1] the last chunk start
// after a '-' or '_' in it (> from) whose chunk makes the run a token,
// read from a start with fewer than minTokenRun characters after it
// (last[0]) or more (last[1]); -1 if there is none.
type tokenMemo struct {
	from, end int
	last      [2]int
}

// match returns the end of the [A-Za-z0-9_-] run starting at i if the
// run is a token, or 0.
func (m *tokenMemo) match(b []byte, i int, keepUUIDs bool) int {
	if m.end == 0 || i < m.from || i >= m.end {
		q := i
		for q < len(b) && class[b[q]]&cToken != 0 {
			q++
		}
		m.from, m.end, m.last = i, q, [2]int{-1, -1}
		for cs := chunkEnd(b, i, q) + 1; cs < q; {
			ce := chunkEnd(b, cs, q)
			short, long := tokenChunk(b, cs, ce, q, keepUUIDs)
			if short {
				m.last[0] = cs
			}
			if long {
				m.last[1] = cs
			}
			cs = ce + 1
		}
	}
	q := m.end
	if q-i < minHexToken {
		return 0
	}
	// The chunks after the first are those that start after a '-' or '_'
	// at i or later.
	short, long := tokenChunk(b, i, chunkEnd(b, i, q), q, keepUUIDs)
	if q-i < minTokenRun {
		if short || m.last[0] > i {
			return q
		}
	} else if long || m.last[1] > i {
		return q
	}
	return 0
}

// minBase64Token is the length of the shortest base64 token: 16 random
// bytes (an MD5 digest, a 128-bit session id) are 22 characters.
const minBase64Token = 22

// base64Token returns the end of the base64 or base64url run b[i:p] (with
// its '=' padding) if it reads as random bytes by its counts st, or 0: at
// least
// minBase64Token characters of [A-Za-z0-9+/_-] with two or more upper-case
// and lower-case letters, where a change between upper case, lower case
// and digit comes at half or more of the places where two letters or
// digits meet, a digit meets a letter at two places or more, and an
// upper-case letter follows another at two places or more (or a digit
// meets a letter at three). Random bytes change class at about two places
// in three, with digits and upper-case pairs throughout; words, Title Case
// queries ("Red+Running+Shoes+42") and camelCase names
// ("getUserProfileByIdAndName2") change at few places, or have their
// digits at the end and no upper-case pairs, and stay. The token rule
// misses such runs: '+' and '/' split them, and '-' and '_' split their
// chunks, into parts too short for it (a SHA-256 digest,
// "hV+W6YPx+Oi+lEaStvcZ/VQymCbLYumAFe/uji4HHdQ=", an MD5 digest,
// "1MdFlNhBE5MoaVdWZItr1g==").
func base64Token(b []byte, i, p int, st base64Stats) int {
	if p-i < minBase64Token || st.upper < 2 || st.lower < 2 || 2*st.changes < st.pairs || st.dc < 2 || st.uu < 2 && st.dc < 3 {
		return 0
	}
	for e := p; e < len(b) && e-p < 2 && b[e] == '='; e++ {
		p = e + 1
	}
	return p
}

// base64Class returns 1 for an upper-case letter, 2 for a lower-case one,
// 3 for a digit, 0 for '+', '/', '-' and '_', and noBase64 for any other
// byte.
func base64Class(ch byte) uint8 {
	switch {
	case ch >= 'A' && ch <= 'Z':
		return 1
	case ch >= 'a' && ch <= 'z':
		return 2
	case ch >= '0' && ch <= '9':
		return 3
	case ch == '+' || ch == '/' || ch == '-' || ch == '_':
		return 0
	}
	return noBase64
}

const noBase64 = 0xff

// base64Stats counts what base64Token reads of a run: its upper- and
// lower-case letters; pairs, letters or digits side by side; changes,
// those of two classes; dc, those of a digit and a letter; uu, those of
// two upper-case letters.
type base64Stats struct{ upper, lower, pairs, changes, dc, uu int }

// add counts run, a part of a base64 run read from its first byte.
func (st *base64Stats) add(run []byte) {
	var last uint8 // the class of the byte before, or 0
	for _, ch := range run {
		k := base64Class(ch)
		st.count(k)
		st.pair(last, k)
		last = k
	}
}

// count counts a byte of class k.
func (st *base64Stats) count(k uint8) {
	switch k {
	case 1:
		st.upper++
	case 2:
		st.lower++
	}
}

// pair counts two bytes of classes last and k side by side.
func (st *base64Stats) pair(last, k uint8) {
	if k == 0 || last == 0 {
		return
	}
	st.pairs++
	if k != last {
		st.changes++
		if k == 3 || last == 3 {
			st.dc++
		}
	} else if k == 1 {
		st.uu++
	}
}

// base64Memo is the base64 token rule's part of runMemo: the run b[from:end]
// read last (end 0: none) with its counts, and the counts of what a start
// at at leaves out: the bytes before it and the pairs that end at or
// before it. What a start at at reads is total less before.
type base64Memo struct {
	end, at       int
	total, before base64Stats
}

// match returns what base64Token gives for the base64 run that starts at
// i: its end (with its '=' padding) if it reads as random bytes, or 0.
func (m *base64Memo) match(b []byte, i int) int {
	if m.end == 0 || i < m.at || i >= m.end {
		p := i
		for p < len(b) && base64Class(b[p]) != noBase64 {
			p++
		}
		*m = base64Memo{end: p, at: i}
		m.total.add(b[i:p])
	}
	for ; m.at < i; m.at++ {
		m.before.count(base64Class(b[m.at]))
		m.before.pair(base64Class(b[m.at]), base64Class(b[m.at+1]))
	}
	t, o := m.total, m.before
	st := base64Stats{t.upper - o.upper, t.lower - o.lower, t.pairs - o.pairs, t.changes - o.changes, t.dc - o.dc, t.uu - o.uu}
	return base64Token(b, i, m.end, st)
}

// isUUID reports whether s starts with a UUID (8-4-4-4-12 hex) that ends
// the run or a chunk.
func isUUID(s []byte) bool {
	if len(s) < uuidLen || len(s) > uuidLen && s[uuidLen] != '-' && s[uuidLen] != '_' {
		return false
	}
	for k, ch := range s[:uuidLen] {
		switch k {
		case 8, 13, 18, 23:
			if ch != '-' {
				return false
			}
		default:
			if class[ch]&(cDigit|cHexLetter) == 0 {
				return false
			}
		}
	}
	return true
}

// Separator bits of a number.
const (
	sepSpace uint8 = 1 << iota
	sepDash
	sepSlash
	sepPlus
	sepParen
	sepDot
	sepUnder // '_': cards only ("4111_1111_1111_1111"); digits joined so are ids otherwise
)

// maxNumberRun bounds how far one number is read (a card in groups is 23
// bytes, "+49 (0) 151 / 1234 5678" is 23), which keeps the scan linear.
const maxNumberRun = 32

// uniSpace returns the length of the Unicode space at b[p] that typography
// puts between a number's groups (U+00A0 no-break space, U+2000-U+200A,
// U+202F narrow no-break space, U+205F, U+3000), or 0: copied from a page,
// "+33 6 12 34 56 78" or "4111 1111 1111 1111" often has them.
func uniSpace(b []byte, p int) int {
	if p+1 < len(b) && b[p] == 0xC2 && b[p+1] == 0xA0 {
		return 2
	}
	if p+2 >= len(b) {
		return 0
	}
	switch c1, c2 := b[p+1], b[p+2]; b[p] {
	case 0xE2:
		if c1 == 0x80 && (c2 >= 0x80 && c2 <= 0x8A || c2 == 0xAF) || c1 == 0x81 && c2 == 0x9F {
			return 3
		}
	case 0xE3:
		if c1 == 0x80 && c2 == 0x80 {
			return 3
		}
	}
	return 0
}

func sepBit(ch byte) uint8 {
	switch ch {
	case ' ':
		return sepSpace
	case '-':
		return sepDash
	case '/':
		return sepSlash
	case '+':
		return sepPlus
	case '.':
		return sepDot
	case '_':
		return sepUnder
	}
	return 0
}

// matchNumber reads a number starting at i ('+', '(' or a digit) and
// returns the end and kind of its longest prefix, ending at a group end,
// that is a card or phone number; or 0.
func matchNumber(b []byte, i int, flags uint8) (int, Kind) {
	var (
		digits [maxNumberRun]byte
		gsize  [maxNumberRun]uint8
		gend   [maxNumberRun]int
		gmask  [maxNumberRun]uint8 // separators seen before the end of each group
		gsep   [maxNumberRun]uint8 // separator after each group
	)
	limit := min(len(b), i+maxNumberRun)
	p := i
	plus := b[p] == '+'
	if plus {
		p++
	}
	paren := p < limit && b[p] == '('
	if paren {
		p++
	}
	n, g := 0, 0
	var mask uint8
	for p < limit && class[b[p]]&cDigit != 0 {
		s := p
		for p < limit && class[b[p]]&cDigit != 0 {
			digits[n] = b[p] - '0'
			n++
			p++
		}
		gsize[g], gend[g], gmask[g] = uint8(p-s), p, mask
		g++
		if g == 1 && paren && (p >= limit || b[p] != ')') {
			return 0, KindNone // "(4111 1111 ...)": the '(' is not an area code's; retried from the digit
		}
		// Separator: one of " -/+." optionally after ')' and before '(',
		// or ')' alone; '.' never mixes with the others.
		q := p
		var m uint8
		if q < limit && b[q] == ')' {
			m |= sepParen
			q++
		}
		if q < limit {
			sb := sepBit(b[q])
			if sb != 0 {
				q++
			} else if w := uniSpace(b[:limit], q); w > 0 {
				sb = sepSpace
				q += w
			}
			if sb == sepSpace {
				// A second space: "4111  1111", or a no-break space
				// next to a plain one, as web pages write them.
				q += spaceWidth(b[:limit], q)
				// " / " after the first group: an area code set off
				// as German letterheads and forms write it ("0151 /
				// 1234 5678"), read as the '/' of "0151/12345678".
				if g == 1 && m == 0 && q+1 < limit && b[q] == '/' && b[q+1] == ' ' {
					sb = sepSlash
					q += 2
				}
			}
			// " - " between any groups, as people type them
			// ("4111 - 1111 - 1111 - 1111", "0151 - 1234 5678"; "+-+"
			// as a form encodes it), read as the '-' of
			// "4111-1111-1111-1111".
			if (sb == sepSpace || sb == sepPlus) && m == 0 && q+1 < limit && b[q] == '-' &&
				(b[q+1] == ' ' || sb == sepPlus && b[q+1] == '+') {
				sb = sepDash
				q += 2
			}
			m |= sb
		}
		if q < limit && b[q] == '(' {
			m |= sepParen
			q++
		}
		if m == 0 || q >= limit || class[b[q]]&cDigit == 0 {
			break
		}
		if !plus && (m&sepDot != 0 && (m != sepDot || mask&^sepDot != 0) || m&sepDot == 0 && mask&sepDot != 0) &&
			!cpfCheckGroup(gsize[:g], mask, m) {
			break // after a '+' anything goes: "+1 555.123.4567"
		}
		gsep[g-1] = m
		mask |= m
		p = q
	}
	// A date at the start ("2024-01-15 0151 1234567") is not the start of
	// a phone number; the scan retries after it.
	if !plus && g >= 2 {
		nd := int(gsize[0] + gsize[1])
		if gsep[0]&(gsep[0]-1) == 0 && dateLike(digits[:nd], gsize[:2]) {
			return 0, KindNone
		}
		if g >= 3 && gsep[0] == gsep[1] && gsep[0]&(gsep[0]-1) == 0 &&
			dateLike(digits[:nd+int(gsize[2])], gsize[:3]) {
			return 0, KindNone
		}
	}
	for k := g - 1; k >= 0; k-- {
		end := gend[k]
		if k == g-1 && end < len(b) {
			ch := b[end]
			if class[ch]&cAlnum != 0 {
				continue // glued to a word or cut by the limit
			}
			if (ch == '.' || ch == ',') && end+1 < len(b) && class[b[end+1]]&cDigit != 0 {
				continue // decimal part follows
			}
		}
		nd := 0
		for _, s := range gsize[:k+1] {
			nd += int(s)
		}
		if kind := classifyNumber(digits[:nd], gsize[:k+1], plus, paren, gmask[k], flags); kind != KindNone {
			return end, kind
		}
	}
	return 0, KindNone
}

// steuerIDGrouped reports whether groups gs are a German tax id's as
// printed on the letters that give it and on payslips: "65 929 970 489".
func steuerIDGrouped(gs []uint8) bool {
	return len(gs) == 4 && gs[0] == 2 && gs[1] == 3 && gs[2] == 3 && gs[3] == 3
}

// classifyNumber applies the card, national id and phone rules of the
// package doc, for a number read with the scan flags flags.
func classifyNumber(d []byte, gs []uint8, plus, paren bool, mask, flags uint8) Kind {
	n := len(d)
	if n < 7 || n > 19 {
		return KindNone
	}
	same := true
	for _, x := range d[1:] {
		if x != d[0] {
			same = false
			break
		}
	}
	if same {
		return KindNone
	}
	if !plus && !paren && n >= 13 && mask&^(sepSpace|sepDash|sepPlus|sepDot|sepUnder) == 0 && cardRange(d) && luhn(d) {
		return KindCard
	}
	if !plus && !paren && (cpfShape(gs, mask) && cpfValid(d) || ahvShape(d, gs, mask) && ean13Valid(d) ||
		personnummerValid(d, gs, mask)) {
		return KindNationalID
	}
	if mask&sepUnder != 0 {
		return KindNone // "order_2024_11_0151": an identifier, not a phone
	}
	if n > 15 {
		return KindNone
	}
	// '+' is a space as a form encodes it ("65+929+970+489" in a query or
	// a property copied from one): a grouped id reads the same either way.
	if !plus && !paren && mask&^(sepSpace|sepPlus) == 0 {
		switch {
		case n == 15 && nirValid(d),
			n == 11 && (len(gs) == 1 || steuerIDGrouped(gs)) && steuerIDValid(d),
			len(gs) == 1 && n == 9 && flags&fUserAgent == 0 && bsnValid(d):
			return KindNationalID
		case len(gs) == 1 && bareInternational(d, flags&fUserAgent == 0):
			return KindPhone
		}
	}
	if plus {
		return KindPhone
	}
	if dateLike(d, gs) {
		return KindNone
	}
	if mask&sepDot != 0 {
		if nanpDotted(d, gs) {
			return KindPhone // "555.123.4567"
		}
		if d[0] != 0 || d[1] == 0 || n < 9 {
			return KindNone
		}
		for _, s := range gs {
			if s < 2 {
				return KindNone
			}
		}
		return KindPhone
	}
	switch {
	case n >= 9 && d[0] == 0 && d[1] == 0 && d[2] != 0:
		return KindPhone // 00 international prefix
	case n >= 9 && n <= 13 && d[0] == 0 && d[1] != 0:
		return KindPhone // national trunk prefix
	case paren && len(gs) >= 2:
		return KindPhone
	}
	g := len(gs)
	if spanishNational(d, gs) || cisNational(d, gs) || indianNational(d, gs) {
		return KindPhone
	}
	if g < 3 || g > 4 || gs[g-1] != 4 {
		return KindNone
	}
	for _, s := range gs {
		if s > 4 {
			return KindNone
		}
	}
	return KindPhone
}

// spanishNational reports whether d, grouped gs, is a Spanish number as
// written nationally, without a trunk prefix: 9 digits starting with 6..9
// in groups of 3-2-2-2 (mobiles, "612 34 56 78") or 2-3-2-2 ("91 123 45
// 67"). Amounts group by threes, so none has that shape.
func spanishNational(d []byte, gs []uint8) bool {
	return len(d) == 9 && d[0] >= 6 && len(gs) == 4 && gs[2] == 2 && gs[3] == 2 &&
		(gs[0] == 3 && gs[1] == 2 || gs[0] == 2 && gs[1] == 3)
}

// cisNational reports whether d, grouped gs, is a Russian (Belarusian,
// Kazakh) number as written nationally, with the trunk prefix 8 where
// others have 0: 11 digits, an area or mobile code starting with 3, 4, 8
// or 9, in groups of 1-3-3-2-2 ("8-912-345-67-89", "8 495 123 45 67").
// No amount, date or version has that shape.
func cisNational(d []byte, gs []uint8) bool {
	return len(d) == 11 && d[0] == 8 && (d[1] == 3 || d[1] == 4 || d[1] == 8 || d[1] == 9) &&
		len(gs) == 5 && gs[0] == 1 && gs[1] == 3 && gs[2] == 3 && gs[3] == 2 && gs[4] == 2
}

// indianNational reports whether d, grouped gs, is an Indian mobile number
// as written nationally: 10 digits starting with 6..9 in two groups of
// five ("98765 43210"). Amounts group by threes (or by twos after the
// thousands, in India), so none has that shape.
func indianNational(d []byte, gs []uint8) bool {
	return len(d) == 10 && d[0] >= 6 && len(gs) == 2 && gs[0] == 5 && gs[1] == 5
}

// nanpDotted reports whether d, grouped gs, is a North American number as
// written with dots ("555.123.4567"): groups of 3, 3 and 4 digits, area
// code and exchange starting with 2..9. No version or decimal has that
// shape ("120.0.6099", "1.234.567").
func nanpDotted(d []byte, gs []uint8) bool {
	return len(gs) == 3 && gs[0] == 3 && gs[1] == 3 && gs[2] == 4 && d[0] >= 2 && d[3] >= 2
}

// dateLike: 2 or 3 groups of 1, 2 or 4 digits with a 4-digit group that is
// a year in 1900..2099 ("2024-01-15", "15/01/2024", "2019-2024").
func dateLike(d []byte, gs []uint8) bool {
	if len(gs) < 2 || len(gs) > 3 {
		return false
	}
	year, off, fours := false, 0, 0
	for _, s := range gs {
		switch s {
		case 1, 2:
		case 4:
			fours++
			if fours > 1 && len(gs) == 3 {
				return false // "3530 4281 1951 ...": card groups, not a date
			}
			v := int(d[off])*1000 + int(d[off+1])*100 + int(d[off+2])*10 + int(d[off+3])
			if v >= 1900 && v <= 2099 {
				year = true
			}
		default:
			return false
		}
		off += int(s)
	}
	return year
}

func luhn(d []byte) bool {
	sum, dbl := 0, false
	for k := len(d) - 1; k >= 0; k-- {
		x := int(d[k])
		if dbl {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
		dbl = !dbl
	}
	return sum%10 == 0
}

// cardRange reports whether d has the length and issuer prefix (IIN) of a
// payment card network: Visa, Mastercard, American Express, Diners, JCB,
// Discover, UnionPay, Maestro or Mir. Luhn-valid product codes outside
// these ranges ("1473020387504479") are not cards.
func cardRange(d []byte) bool {
	n := len(d)
	p2 := int(d[0])*10 + int(d[1])
	p3 := p2*10 + int(d[2])
	p4 := p3*10 + int(d[3])
	switch {
	case d[0] == 4:
		return n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720, p4 >= 2200 && p4 <= 2204:
		return n == 16
	case p2 == 34 || p2 == 37:
		return n == 15
	case p2 == 36, p3 >= 300 && p3 <= 305, p2 == 38 || p2 == 39:
		return n >= 14 && n <= 16
	case p4 >= 3528 && p4 <= 3589:
		return n >= 16 && n <= 19
	case d[0] == 6, p2 == 50, p2 >= 56 && p2 <= 58:
		return n >= 13 && n <= 19
	}
	return false
}

// bareInternational reports whether the digits d, written without '+',
// 00 or separators, are a mobile number with its country code
// ("4915112345678"): Germany, UK, France, Spain, Italy, Netherlands,
// Austria, Switzerland, Belgium, Ireland, Portugal, Greece, Poland,
// Czechia, Sweden, Brazil, Mexico, India, Australia, and North America
// ("12125550199": 1, then an area code and an exchange that start with
// 2..9), each with its mobile prefix and its exact length, as phone
// fields and messaging APIs store E.164 numbers without their '+'. Only
// the first eight with all: in a User-Agent header (all false), where
// apps put build numbers and no phone number comes, the others' rules
// (about 6 % of 11-digit numbers pass North America's) stay off.
func bareInternational(d []byte, all bool) bool {
	n := len(d)
	has := func(p string) bool {
		for k := 0; k < len(p); k++ {
			if d[k] != p[k]-'0' {
				return false
			}
		}
		return true
	}
	switch {
	case has("4915"), has("4916"), has("4917"):
		return n == 12 || n == 13
	case has("447"):
		return n == 12
	case has("336"), has("337"), has("346"), has("347"), has("316"), has("417"):
		return n == 11
	case has("393"):
		return n == 11 || n == 12
	case has("436"):
		return n >= 11 && n <= 13
	case !all:
		return false
	case has("324"), has("467"), has("614"):
		return n == 11
	case has("48"):
		return n == 11 && d[2] >= 5 && d[2] <= 8
	case has("3538"), has("3519"), has("3069"):
		return n == 12
	case has("420"):
		return n == 12 && (d[3] == 6 || d[3] == 7)
	case has("91"):
		return n == 12 && d[2] >= 6
	case has("55"):
		return n == 13 && d[2] != 0 && d[4] == 9
	case has("521"):
		return n == 13
	case d[0] == 1:
		return n == 11 && d[1] >= 2 && d[4] >= 2
	}
	return false
}

// longRun reports whether at least 12 token or base64 characters
// ([A-Za-z0-9_-+/]) start at i.
func longRun(b []byte, i int) bool {
	if i+12 > len(b) {
		return false
	}
	for _, ch := range b[i : i+12] {
		if class[ch]&cToken == 0 && ch != '+' && ch != '/' {
			return false
		}
	}
	return true
}
