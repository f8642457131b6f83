package scrub

import "bytes"

// StopsBeforeQuery holds the kinds after which the cleaner may have stopped
// before it reached a URL's query: a URL it could not parse, an address for
// a host, a host outside the site's. See [Cleaner.AppendURLKey].
const StopsBeforeQuery = Found(1<<KindMalformed | 1<<KindIP | 1<<KindHost)

// AppendURLKey appends to dst the part of rawURL that cleaning it in mode
// reads, for a cache of cleaned URLs to share between visits; ok is false,
// and dst returned as it was, when it cannot tell that part: the URL has a
// byte no browser sends unescaped, is opaque ("mailto:", "javascript:"),
// is a path without an authority in URLOrigin mode, or holds an address
// whose at sign is an HTML character reference in URLClean mode.
//
//   - A URL whose scheme is not http or https, and any URL in URLOrigin
//     mode: the URL up to the end of its authority, all the cleaner reads.
//   - URLPath: the URL up to its query or fragment.
//   - URLClean: the URL without the query parameters that the cleaner
//     removes for their name alone (click identifiers, sensitive names,
//     Options.DropParams, utm_* with Options.DropUTM), with removed the
//     kinds those names found; ok is false when there are none. These
//     parameters are the ones that differ on every visit ("gclid=...")
//     while the rest of the URL repeats.
//
// Cleaning the key, for any site, gives rawURL's output and kinds; in
// URLClean mode once removed is added to the kinds, unless they hold one of
// StopsBeforeQuery: the cleaner may then have stopped before the query, and
// rawURL must be cleaned itself. The key never holds what it leaves out.
// FuzzURLKey checks these promises. The spare capacity of dst is scratch
// for decoding parameter names (at most len(rawURL) bytes beyond the
// result), as in AppendURL.
func (c *Cleaner) AppendURLKey(dst, rawURL []byte, mode URLMode) (_ []byte, removed Found, ok bool) {
	s := trimSpace(rawURL)
	if len(s) == 0 || indexBad(s) >= 0 {
		return dst, 0, false
	}
	authority, web := urlShape(s)
	if authority < 0 {
		return dst, 0, false // opaque: the cleaner reads none of it
	}
	if mode == URLOrigin || !web {
		if authority == 0 {
			return dst, 0, false // a path has no origin
		}
		rest := s[authority:]
		return append(dst, s[:authority+indexAny3(rest, '/', '?', '#')]...), 0, true
	}
	switch mode {
	case URLPath:
		return append(dst, s[:indexAny3(s, '?', '#', '#')]...), 0, true
	case URLClean:
		if htmlAtEmail(s) {
			// Cleaning keeps the origin only, whatever the names say.
			return dst, 0, false
		}
		dst, removed = c.appendWithoutNamedParams(dst, s)
		return dst, removed, removed != 0
	}
	return dst, 0, false
}

// urlShape reads s (trimmed, non-empty) as appendURL does: authority is
// where the authority starts (after "//"), 0 for a path without one, -1
// for an opaque URL; web reports whether the cleaner keeps more than the
// origin (a path, "//host" or http(s)://).
func urlShape(s []byte) (authority int, web bool) {
	switch {
	case len(s) > 1 && s[0] == '/' && s[1] == '/':
		return 2, true
	case s[0] == '/':
		return 0, true
	}
	colon := schemeEnd(s)
	if colon < 0 || !bytes.HasPrefix(s[colon+1:], slashSlash) {
		return -1, false
	}
	return colon + 3, equalFold(s[:colon], "http") || equalFold(s[:colon], "https")
}

// appendWithoutNamedParams appends http(s) or relative URL s (trimmed,
// without bad bytes) without the query parameters removed for their name,
// and returns what the names found; dst as it was and 0 when there are
// none.
func (c *Cleaner) appendWithoutNamedParams(dst, s []byte) (_ []byte, removed Found) {
	// The query starts at the first '?': a scheme has none, and the
	// authority and the path both end at one.
	q := bytes.IndexByte(s, '?')
	hash := bytes.IndexByte(s, '#')
	if q < 0 || (hash >= 0 && hash < q) {
		return dst, 0
	}
	end := len(s)
	if hash >= 0 {
		end = hash
	}
	start := len(dst)
	dst = append(dst, s[:q+1]...)
	first := true
	for params := s[q+1 : end]; len(params) > 0; {
		param := params
		if j := bytes.IndexByte(params, '&'); j >= 0 {
			param, params = params[:j], params[j+1:]
		} else {
			params = nil
		}
		if len(param) == 0 {
			continue
		}
		var f Found
		if dst, _, f = c.judgeName(dst, paramName(param)); f != 0 {
			removed |= f
			continue
		}
		if !first {
			dst = append(dst, '&')
		}
		first = false
		dst = append(dst, param...)
	}
	if removed == 0 {
		return dst[:start], 0
	}
	return append(dst, s[end:]...), removed
}
