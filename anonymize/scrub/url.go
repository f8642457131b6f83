package scrub

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// URLMode selects how much of a URL [Cleaner.AppendURL] keeps. The zero
// value is the strictest.
type URLMode uint8

// URL modes.
const (
	// URLOrigin keeps scheme://host[:port] only.
	URLOrigin URLMode = iota
	// URLPath keeps the origin and the path, without query and fragment;
	// path segments holding personal data are replaced by markers.
	URLPath
	// URLClean keeps the origin, the path, the query and the fragment,
	// with personal data, click identifiers and sensitive parameters
	// removed.
	URLClean
)

// String returns the mode's name as used in configuration.
func (m URLMode) String() string {
	switch m {
	case URLOrigin:
		return "origin"
	case URLPath:
		return "path"
	case URLClean:
		return "clean"
	}
	return "unknown"
}

// AppendURL appends the cleaned form of rawURL to dst and returns it, with
// the kinds of data removed. dst must not overlap rawURL. The spare capacity
// of dst is used as scratch for percent-decoding and grows with the input,
// so a dst reused across calls makes AppendURL allocation-free. The result
// is empty (only KindMalformed reported) when rawURL cannot be parsed
// safely; see the package doc for the rules.
func (c *Cleaner) AppendURL(dst, rawURL []byte, mode URLMode) ([]byte, Found) {
	return c.appendURL(dst, rawURL, mode, nil)
}

// appendURL is AppendURL with the rules of a site (nil: none).
func (c *Cleaner) appendURL(dst, rawURL []byte, mode URLMode, st *site) ([]byte, Found) {
	s := trimSpace(rawURL)
	if len(s) == 0 {
		return dst, 0
	}
	// Output is at most len(s) plus one byte per marker; scratch is at
	// most one component. Growing once up front keeps reuse allocation-free.
	dst = slices.Grow(dst, 2*len(s)+16)
	start := len(dst)
	var found Found

	var scheme, rest []byte
	web, authority := true, false
	switch {
	case len(s) > 1 && s[0] == '/' && s[1] == '/':
		rest, authority = s[2:], true
	case s[0] == '/':
		rest = s
	default:
		colon := schemeEnd(s)
		if colon < 0 || !bytes.HasPrefix(s[colon+1:], slashSlash) {
			return dst, KindMalformed.bit() // opaque ("mailto:", "javascript:") or no scheme
		}
		scheme, rest, authority = s[:colon], s[colon+3:], true
		web = equalFold(scheme, "http") || equalFold(scheme, "https")
	}
	if authority {
		end := indexAny3(rest, '/', '?', '#')
		auth := rest[:end]
		if indexBad(s[:len(s)-len(rest)+end]) >= 0 {
			return dst[:start], found | KindMalformed.bit()
		}
		if at := bytes.LastIndexByte(auth, '@'); at >= 0 {
			auth = auth[at+1:]
			found |= KindUserinfo.bit()
		}
		if !validHost(auth) {
			return dst[:start], found | KindMalformed.bit()
		}
		if isIPHost(auth) && !isLoopbackHost(auth) {
			// An address names a machine, often the visitor's own: the
			// whole URL goes.
			return dst[:start], found | KindIP.bit()
		}
		if st != nil {
			keep, reduced, ok := st.checkHost(auth)
			if !ok {
				return dst[:start], found | KindHost.bit()
			}
			if reduced {
				found |= KindHost.bit()
			}
			auth = keep
		}
		if scheme != nil {
			dst = appendLower(dst, scheme)
			dst = append(dst, "://"...)
		} else {
			dst = append(dst, "//"...)
		}
		dst = appendLower(dst, auth)
		rest = rest[end:]
	}
	if mode == URLOrigin || !web {
		return dst, found
	}
	if indexBad(rest) >= 0 {
		return dst, found | KindMalformed.bit() // fail closed: origin only
	}
	// An at sign written as an HTML reference is rare: only then is the
	// URL read for an address across its parts, before and after.
	htmlAt := mode == URLClean && hasHTMLAt(rest)
	if htmlAt && htmlAtEmail(rest) {
		// The address spans parts the rules below judge apart: origin only.
		return dst, found | KindEmail.bit()
	}
	origin := len(dst)

	pathEnd := indexAny3(rest, '?', '#', '#')
	path := rest[:pathEnd]
	if r := st.matchRoute(path); r != nil {
		dst, found = c.appendRoute(dst, path, r, found)
	} else {
		dst, found = c.appendPathShape(dst, path, found, mode == URLPath)
	}
	if mode == URLPath {
		return dst, found
	}
	rest = rest[pathEnd:]
	if len(rest) > 0 && rest[0] == '?' {
		qEnd := bytes.IndexByte(rest, '#')
		if qEnd < 0 {
			qEnd = len(rest)
		}
		dst, found = c.appendParams(dst, rest[1:qEnd], '?', found)
		rest = rest[qEnd:]
	}
	if len(rest) > 0 && rest[0] == '#' {
		dst, found = c.appendFragment(dst, rest[1:], found)
	}
	if htmlAt && htmlAtEmail(dst[origin:]) {
		// A part removed brought an address's pieces together
		// ("0&#64;;x.org", its empty matrix parameter gone): cleaning the
		// output again must change nothing.
		return dst[:origin], found | KindEmail.bit()
	}
	return dst, found
}

var slashSlash = []byte("//")

// hasHTMLAt reports whether s holds an HTML character reference for '@'.
// The output of a URL without one has none either: its '&' are the
// input's, between the parameters kept.
func hasHTMLAt(s []byte) bool {
	for i := 0; ; i++ {
		j := bytes.IndexByte(s[i:], '&')
		if j < 0 {
			return false
		}
		i += j
		if a, _ := htmlRef(s, i); a == '@' {
			return true
		}
	}
}

// htmlAtEmail reports whether s, a URL's path, query and fragment as sent,
// holds an e-mail address whose at sign is an HTML character reference
// ("/u/jane.doe&#64;example.org", "?to=jane.doe&commat;example.org"), as a
// tag that reads a link from a page's markup sends it. The reference's '#'
// starts a fragment and its '&' a parameter, so the address is split over
// a path and a fragment, or two parameters, and no part alone reads as one.
func htmlAtEmail(s []byte) bool {
	if !hasHTMLAt(s) {
		return false
	}
	w := foldWidth(s, false)
	defer w.release()
	b := w.text
	for p, ch := range b {
		if ch != '@' || s[w.pos[p]] != '&' {
			continue
		}
		k := p
		for k > 0 && class[b[k-1]]&cLocal != 0 {
			k--
		}
		if matchEmail(b, k) > p {
			return true
		}
	}
	return false
}

// appendPath appends path with each segment that holds personal data
// replaced by its marker.
func (c *Cleaner) appendPath(dst, path []byte, found Found) ([]byte, Found) {
	return c.appendPathShape(dst, path, found, false)
}

// appendPathShape is appendPath, with the path-shape rule applied to
// each segment left when shape is set.
func (c *Cleaner) appendPathShape(dst, path []byte, found Found, shape bool) ([]byte, Found) {
	for {
		j := bytes.IndexByte(path, '/')
		seg := path
		if j >= 0 {
			seg = path[:j]
		}
		if len(seg) > 0 {
			dst, found, _ = c.appendPathSegment(dst, seg, found, shape)
		}
		if j < 0 {
			return dst, found
		}
		dst = append(dst, '/')
		path = path[j+1:]
	}
}

// appendPathSegment appends one segment of a path no route matched, as
// appendSegment does and then, when shape is set, the path-shape rule:
// what is left unmarked and is not shaped like a word is replaced by
// idMarker. shaped reports that the path-shape rule replaced it.
func (c *Cleaner) appendPathSegment(dst, seg []byte, found Found, shape bool) (_ []byte, _ Found, shaped bool) {
	mark := len(dst)
	dst, found = c.appendSegment(dst, seg, found)
	if shape && len(dst) > mark && dst[mark] != '[' && !c.shapeOK(dst[mark:]) {
		return append(dst[:mark], idMarker...), found | KindSegment.bit(), true
	}
	return dst, found, false
}

// appendSegment appends one path segment, or its marker when it holds
// personal data. Matrix parameters (";jsessionid=...") are judged like
// query parameters and removed when their name or value says so.
func (c *Cleaner) appendSegment(dst, seg []byte, found Found) ([]byte, Found) {
	mark := len(dst)
	base, matrix := splitMatrix(seg)
	var view []byte
	dst, view = decodeView(dst, base, false)
	if f := c.scan(view); f != 0 {
		found |= f
		dst = append(dst, f.first().Marker()...)
	} else {
		dst = append(dst, base...)
	}
	dst, found = c.appendMatrix(dst, matrix, found)
	if len(dst) == mark {
		// ";jsessionid=..." alone: an empty segment would turn "/;/x"
		// into "//x", a host.
		dst = append(dst, idMarker...)
		found |= KindSegment.bit()
	}
	return dst, found
}

// appendMatrix appends the kept parameters of a segment's matrix part (what
// follows its first ';'), each after a ';'; those whose name or value says
// so are removed, as query parameters are.
func (c *Cleaner) appendMatrix(dst, matrix []byte, found Found) ([]byte, Found) {
	for len(matrix) > 0 {
		param := matrix
		if k := bytes.IndexByte(matrix, ';'); k >= 0 {
			param, matrix = matrix[:k], matrix[k+1:]
		} else {
			matrix = nil
		}
		if len(param) == 0 {
			continue
		}
		var f Found
		if dst, f = c.judgeParam(dst, param); f != 0 {
			found |= f
			continue
		}
		dst = append(dst, ';')
		dst = append(dst, param...)
	}
	return dst, found
}

// isLoopbackHost reports whether host (with an optional port) is a
// loopback literal, 127.x.x.x or [::1]: the same on every machine, so it
// names nobody (and local development and tests use it).
func isLoopbackHost(host []byte) bool {
	if bytes.HasPrefix(host, []byte("[::1]")) {
		return len(host) == 5 || host[5] == ':'
	}
	if k := bytes.LastIndexByte(host, ':'); k >= 0 {
		host = host[:k]
	}
	return bytes.HasPrefix(host, []byte("127.")) && matchIPv4(host, 0) == len(host)
}

// isIPHost reports whether host (with an optional port) is an IP literal:
// bracketed IPv6, or a host whose last label (before an optional final
// dot) is a number, decimal or hexadecimal: a browser reads such a host as
// an IPv4 address (WHATWG URL's "ends in a number"), dotted
// ("192.168.1.5", "0xc0.0xa8.1.5", "0300.0250.1.5") or not
// ("3232235781", "0xC0A80105"), and no name ends so.
func isIPHost(host []byte) bool {
	if len(host) > 0 && host[0] == '[' {
		return true
	}
	if k := bytes.LastIndexByte(host, ':'); k >= 0 {
		host = host[:k]
	}
	if len(host) > 0 && host[len(host)-1] == '.' {
		host = host[:len(host)-1]
	}
	label := host[bytes.LastIndexByte(host, '.')+1:]
	if len(label) >= 2 && label[0] == '0' && label[1]|0x20 == 'x' {
		for _, ch := range label[2:] {
			if unhex(ch) > 15 {
				return false
			}
		}
		return true
	}
	for _, ch := range label {
		if class[ch]&cDigit == 0 {
			return false
		}
	}
	return len(label) > 0
}

// appendParams appends the kept parameters of q, separated by '&', with
// lead before the first one (no lead when lead is 0).
func (c *Cleaner) appendParams(dst, q []byte, lead byte, found Found) ([]byte, Found) {
	first := true
	for len(q) > 0 {
		param := q
		if j := bytes.IndexByte(q, '&'); j >= 0 {
			param, q = q[:j], q[j+1:]
		} else {
			q = nil
		}
		if len(param) == 0 || onlyQuestionMarks(param) {
			continue // "?" alone carries nothing
		}
		var f Found
		dst, f = c.judgeParam(dst, param)
		if f != 0 {
			found |= f
			continue
		}
		if lead == 0 && bytes.IndexByte(paramName(param), '?') >= 0 {
			// In a fragment's list, a name holding a '?' would, as the
			// first parameter left, read as the fragment's query mark
			// next time ("#gclid=1&a?&b=" would clean to "#a?&b=", then
			// to "#a?b="): it goes, so cleaning twice changes nothing.
			continue
		}
		if !first {
			dst = append(dst, '&')
		} else if lead != 0 {
			dst = append(dst, lead)
		}
		first = false
		dst = append(dst, param...)
	}
	return dst, found
}

// onlyQuestionMarks reports whether param is made of '?' alone.
func onlyQuestionMarks(param []byte) bool {
	for _, ch := range param {
		if ch != '?' {
			return false
		}
	}
	return true
}

// judgeParam returns why param ("name=value", raw) must be removed, or 0.
func (c *Cleaner) judgeParam(dst, param []byte) ([]byte, Found) {
	dst, view, f := c.judgeName(dst, paramName(param))
	if f != 0 {
		return dst, f
	}
	// '+' is read both ways: literally ("tel=+4915112345678" from a
	// script) and as a space (an HTML form's "c=4111+1111+1111+1111").
	var flags uint8
	if campaignName(view) {
		flags = fCampaign
	}
	dst, view = decodeView(dst, param, false)
	if f := c.scanFlags(view, flags); f != 0 {
		return dst, f
	}
	if f := c.embeddedName(view); f != 0 {
		return dst, f
	}
	if bytes.IndexByte(param, '=') < 0 && bytes.IndexByte(param, '/') >= 0 {
		// A bare name in a fragment reads as a route once the parameters
		// around it are removed ("#a/b&t=1" becomes "#a/b"), so judge its
		// segments as a route's too: cleaning twice must change nothing.
		if f := c.scanSegments(dst, param); f != 0 {
			return dst, f
		}
	}
	if bytes.IndexByte(param, '+') < 0 {
		return dst, 0
	}
	dst, view = decodeView(dst, param, true)
	return dst, c.scanFlags(view, flags)
}

// paramName returns the name of param ("name=value", or a bare name).
func paramName(param []byte) []byte {
	if j := bytes.IndexByte(param, '='); j >= 0 {
		return param[:j]
	}
	return param
}

// judgeName returns the removal kind that a parameter's raw name alone
// calls for (0 when none) and the decoded name, decoded into dst's spare
// capacity.
func (c *Cleaner) judgeName(dst, name []byte) (grown, view []byte, f Found) {
	dst, view = decodeView(dst, name, false)
	if f := c.lookupName(view); f != 0 {
		return dst, view, f
	}
	// "x?gclid=1" in a fragment list: the name after a stray '?' counts too.
	if q := bytes.LastIndexByte(view, '?'); q >= 0 {
		if f := c.lookupName(view[q+1:]); f != 0 {
			return dst, view, f
		}
	}
	// "&amp;password=...": a link HTML-escaped twice.
	if hasPrefixFold(view, "amp;") {
		if f := c.lookupName(view[len("amp;"):]); f != 0 {
			return dst, view, f
		}
	}
	return dst, view, 0
}

// embeddedName returns the removal kind of a "name=" that follows a '?',
// '#', '&' or ';' inside param (decoded), or 0. A tool that appends
// "?fbclid=..." to a URL that already has a query makes
// "utm_source=x?fbclid=...", and a redirect target carries its own query
// ("next=/a?b=1&gclid=..." once decoded): the click id ends up in another
// parameter's value, and the whole parameter goes. The '=' is required, so
// a search for "what?name" or "#code" keeps its words.
func (c *Cleaner) embeddedName(param []byte) Found {
	for {
		i := bytes.IndexAny(param, "?#&;")
		if i < 0 {
			return 0
		}
		param = param[i+1:]
		for len(param) > 0 && (param[0] == ' ' || param[0] == '+') {
			param = param[1:]
		}
		end := bytes.IndexAny(param, "=?#&;")
		if end < 0 || param[end] != '=' {
			continue
		}
		if f := c.lookupName(param[:end]); f != 0 {
			return f
		}
	}
}

// scanSegments scans each '/'-separated segment of s as appendPath does,
// using dst's spare capacity as scratch, and returns what it found.
func (c *Cleaner) scanSegments(dst, s []byte) Found {
	for len(s) > 0 {
		seg := s
		if j := bytes.IndexByte(s, '/'); j >= 0 {
			seg, s = s[:j], s[j+1:]
		} else {
			s = nil
		}
		if len(seg) == 0 {
			continue
		}
		var view []byte
		dst, view = decodeView(dst, seg, false)
		if f := c.scan(view); f != 0 {
			return f
		}
	}
	return 0
}

// SensitiveName reports why a value under name (a property key, matched
// like parameter names: case-insensitively, with '-' and '_' alike, a name
// of several words also run together, after
// percent-decoding) must be
// removed whatever it holds: KindParam for a sensitive name (a password, a
// token, a person's name, ...), KindClickID for a click identifier, utm_*
// with Options.DropUTM; 0 when the name says nothing, as for the names of
// BuiltinURLDropParams, which URLs lose but property keys may use.
func (c *Cleaner) SensitiveName(name []byte) Found {
	if hasEscape(name) {
		var buf [maxParamName]byte
		if len(name) > 3*maxParamName {
			return 0
		}
		dec := appendUnescape(buf[:0], name, false)
		if len(dec) > maxParamName {
			return 0
		}
		return c.lookupPropName(dec)
	}
	return c.lookupPropName(name)
}

// lookupPropName is lookupName for a property key: the names only URLs
// lose (BuiltinURLDropParams) say nothing.
func (c *Cleaner) lookupPropName(name []byte) Found {
	if f := c.lookupExact(name, false); f != 0 {
		return f
	}
	if k := lastKey(name); len(k) != len(name) {
		return c.lookupExact(k, false)
	}
	return 0
}

// lookupName returns the removal kind for a decoded parameter name, or 0.
// A name that nests its key, as form libraries write fields
// ("user[password]", "checkout[shipping_address][email]", "email[]",
// "user.password"), is judged by its last key too: it names the same thing.
// So is a name whose last words are a sensitive name of c.suffixes
// ("billing-first-name", "confirmPassword"; see lookupSuffix).
func (c *Cleaner) lookupName(name []byte) Found {
	if f := c.lookupExact(name, true); f != 0 {
		return f
	}
	if k := lastKey(name); len(k) != len(name) {
		if f := c.lookupExact(k, true); f != 0 {
			return f
		}
	}
	return c.lookupSuffix(name)
}

// lookupSuffix returns KindParam's bit when the last words of name, run
// together and folded, are a name of c.suffixes, or 0. Words are split at
// '-', '_', '.', '[' and ']' and where a lower-case letter meets an upper
// -case one: "billing-first-name", "shipping_last_name", "billingEmail",
// "confirmPassword", "user[first_name]" and "customer.dateOfBirth" all end
// in a sensitive name. A trailing word must be whole: "hotel" does not end
// in "tel", nor "bypass" in "pass".
func (c *Cleaner) lookupSuffix(name []byte) Found {
	if len(name) > maxParamName {
		return 0
	}
	var buf [maxParamName]byte
	n := 0 // buf[len(buf)-n:] holds the words from i on, folded, run together
	for i := len(name) - 1; i >= 0; i-- {
		ch := name[i]
		if isWordSep(ch) {
			continue
		}
		n++
		buf[len(buf)-n] = foldParamByte(ch)
		if i > 0 && !isWordSep(name[i-1]) && !(isUpperASCII(ch) && isLowerASCII(name[i-1])) {
			continue // not the start of a word
		}
		b := buf[len(buf)-n]
		if c.suffixFirst[n][b>>6]&(1<<(b&63)) == 0 {
			continue
		}
		if _, ok := c.suffixes[string(buf[len(buf)-n:])]; ok {
			return KindParam.bit()
		}
	}
	return 0
}

// isWordSep reports whether ch separates the words of a parameter name.
func isWordSep(ch byte) bool { return ch == '-' || ch == '_' || isKeySep(ch) }

func isUpperASCII(ch byte) bool { return ch >= 'A' && ch <= 'Z' }
func isLowerASCII(ch byte) bool { return ch >= 'a' && ch <= 'z' }

// lastKey returns the last non-empty key of a name written with subscripts
// or dots: "password" of "user[password]" and of "user.password", "email"
// of "email[]" and of "a[b][email][]"; the name itself when it has neither.
func lastKey(name []byte) []byte {
	end := len(name)
	for end > 0 && isKeySep(name[end-1]) {
		end--
	}
	start := end
	for start > 0 && !isKeySep(name[start-1]) {
		start--
	}
	return name[start:end]
}

func isKeySep(ch byte) bool { return ch == '[' || ch == ']' || ch == '.' }

// lookupExact returns the removal kind for a decoded parameter name as it
// is (letter case aside, '-' read as '_'), or 0; inURL says a URL's parameter, which the names of
// BuiltinURLDropParams remove too.
func (c *Cleaner) lookupExact(name []byte, inURL bool) Found {
	if len(name) > maxParamName {
		return 0
	}
	if len(name) > 0 {
		b := foldParamByte(name[0])
		if c.paramFirst[len(name)][b>>6]&(1<<(b&63)) == 0 {
			return 0
		}
	}
	var lower [maxParamName]byte
	ln := lower[:len(name)]
	for i, ch := range name {
		ln[i] = foldParamByte(ch)
	}
	if k, ok := c.params[string(ln)]; ok {
		if k == kindURLParam {
			if !inURL {
				return 0
			}
			k = KindParam
		}
		return k.bit()
	}
	if c.dropUTM && bytes.HasPrefix(ln, utmPrefix) {
		return KindParam.bit()
	}
	return 0
}

var utmPrefix = []byte("utm_")

// appendFragment appends '#' and the cleaned fragment, or nothing when
// nothing is left. A fragment is a route ("#/users/1", "#section"), a
// parameter list ("#access_token=...&state=..."), or a route and a
// parameter list ("#/r?a=b"). It is a route and parameters when a '?' comes
// before any '='; otherwise a parameter list when it has an '='. The output
// is read the same way, which keeps cleaning idempotent.
func (c *Cleaner) appendFragment(dst, frag []byte, found Found) ([]byte, Found) {
	mark := len(dst)
	dst = append(dst, '#')
	q, eq := bytes.IndexByte(frag, '?'), bytes.IndexByte(frag, '=')
	switch {
	case q >= 0 && (eq < 0 || eq > q):
		dst, found = c.appendPath(dst, frag[:q], found)
		dst, found = c.appendParams(dst, frag[q+1:], '?', found)
	case eq >= 0:
		start := len(dst)
		dst, found = c.appendParams(dst, frag, 0, found)
		if bytes.IndexByte(dst[start:], '=') < 0 {
			// Only bare names are left ("#a/b&gclid=1" → "a/b"): the output
			// would read as a route next time and be judged differently.
			// Such leftovers carry little; dropping them keeps cleaning
			// idempotent.
			dst = dst[:start]
		}
	default:
		dst, found = c.appendPath(dst, frag, found)
	}
	if len(dst) == mark+1 {
		dst = dst[:mark]
	}
	return dst, found
}

// trimSpace trims ASCII white space and control bytes at both ends.
func trimSpace(s []byte) []byte {
	for len(s) > 0 && s[0] <= ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] <= ' ' {
		s = s[:len(s)-1]
	}
	return s
}

// indexBad returns the index of the first byte no browser sends unescaped
// in a URL (control bytes, space, DEL), or -1.
func indexBad(s []byte) int {
	i := 0
	// Eight bytes at a time while none is bad: a URL rarely has one.
	for ; i+8 <= len(s); i += 8 {
		if wordHasBad(binary.LittleEndian.Uint64(s[i:])) {
			break
		}
	}
	for ; i < len(s); i++ {
		if ch := s[i]; ch <= ' ' || ch == 0x7f {
			return i
		}
	}
	return -1
}

const (
	lanes01 = 0x0101010101010101
	lanes80 = 0x8080808080808080
)

// wordHasBad reports whether one of w's bytes is at most ' ' or is DEL:
// (x - 0x21 per byte) & ^x & 0x80 per byte is non-zero exactly when some
// byte of x is below 0x21, and x ^ 0x7f per byte has a zero byte exactly
// where x has DEL.
func wordHasBad(w uint64) bool {
	del := w ^ 0x7f*lanes01
	return ((w-0x21*lanes01)&^w|(del-lanes01)&^del)&lanes80 != 0
}

// schemeEnd returns the index of the ':' that ends a valid scheme
// (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), or -1.
func schemeEnd(s []byte) int {
	for i, ch := range s {
		switch {
		case class[ch]&cLetter != 0:
		case i > 0 && (class[ch]&cDigit != 0 || ch == '+' || ch == '-' || ch == '.'):
		case i > 0 && ch == ':':
			return i
		default:
			return -1
		}
	}
	return -1
}

// validHost accepts a non-empty reg-name, IPv4 or bracketed IPv6 literal
// with an optional port, or raw non-ASCII (IDN) bytes. A port is at most
// five digits and at most 65535 (or empty, as RFC 3986 allows): anything
// else after the host's colon, such as a card or phone number a page put
// there, makes the URL malformed, so it is never written out.
func validHost(h []byte) bool {
	if len(h) == 0 || h[0] == ':' {
		return false
	}
	for _, ch := range h {
		if class[ch]&(cAlnum|cDomain) != 0 {
			continue
		}
		switch ch {
		case '.', '_', '~', ':', '[', ']':
		default:
			return false
		}
	}
	host, port := h, []byte(nil)
	if h[0] == '[' {
		end := bytes.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		host, port = h[:end+1], h[end+1:]
		if len(port) > 0 && port[0] != ':' {
			return false
		}
	} else if colon := bytes.IndexByte(h, ':'); colon >= 0 {
		host, port = h[:colon], h[colon:]
	}
	if bytes.IndexByte(host[1:], '[') >= 0 || (host[0] != '[' && bytes.IndexByte(host, ']') >= 0) {
		return false
	}
	if len(port) > 0 {
		return validPort(port[1:])
	}
	return true
}

// validPort accepts an empty port or one of one to five digits up to 65535.
func validPort(p []byte) bool {
	if len(p) > 5 {
		return false
	}
	n := 0
	for _, ch := range p {
		if ch < '0' || ch > '9' {
			return false
		}
		n = n*10 + int(ch-'0')
	}
	return n <= 65535
}

func indexAny3(s []byte, a, b, c byte) int {
	for i, ch := range s {
		if ch == a || ch == b || ch == c {
			return i
		}
	}
	return len(s)
}

func appendLower(dst, s []byte) []byte {
	for _, ch := range s {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		dst = append(dst, ch)
	}
	return dst
}

// equalFold compares ASCII case-insensitively with a lower-case literal.
func equalFold(s []byte, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i, ch := range s {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != lower[i] {
			return false
		}
	}
	return true
}

func hasPrefixFold(s []byte, lower string) bool {
	return len(s) >= len(lower) && equalFold(s[:len(lower)], lower)
}

// campaignName reports whether name is a campaign-level utm_* parameter,
// whose hex or base64 values name a campaign, not a person. utm_content
// and utm_term are often per recipient and keep the token rule.
func campaignName(name []byte) bool {
	if len(name) < 6 || name[0]|0x20 != 'u' {
		return false
	}
	return equalFold(name, "utm_campaign") || equalFold(name, "utm_id") ||
		equalFold(name, "utm_source") || equalFold(name, "utm_medium")
}
