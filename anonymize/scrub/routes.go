package scrub

import (
	"bytes"
	"strconv"
	"strings"
)

// Site declares what a site's page URLs look like, so that structure comes
// before scanning: its hosts, and its routes.
type Site struct {
	// ID is the site id events carry.
	ID string
	// Hosts are the site's host names (no scheme, no port), such as
	// "shop.example.com". A page URL whose host is one of them passes; a
	// sub-domain of one ("jane-doe.shop.example.com") is reduced to it;
	// any other host drops the URL. Empty: hosts are not checked.
	Hosts []string
	// Routes are path patterns such as "/products/{sku}" or
	// "/user/{id}/orders". A path with as many segments as a route, whose
	// literal segments are equal, matches it; the first matching route
	// wins. Placeholders are typed: {sku} keeps a product code (letters,
	// digits, '.', '_', '-', up to 64 bytes), {number} keeps up to 20
	// digits, {slug} keeps a segment that passes the path-shape rule
	// (up to 128 bytes),
	// {uuid} keeps a UUID, and {opaque} (or {id}) is always replaced by
	// "{id}". A value that does not fit its type becomes "{id}". A
	// placeholder may be named: {order:uuid}.
	Routes []string
}

// Shape is the path-shape rule: in [URLPath] mode, a path segment of a URL
// that matches no route is kept only when it looks like a word of a path
// (letters, digits and '-', optionally one ".ext" of up to 5 letters, at
// most MaxLength bytes, at most MaxDigitPercent % digits, at most six
// changes between lower and upper case); anything else becomes "{id}".
type Shape struct {
	MaxLength       int // 0: 32
	MaxDigitPercent int // 0: 30; 100 allows digits only
}

// Defaults of [Shape].
const (
	DefaultPathMaxLength       = 32
	DefaultPathMaxDigitPercent = 30
)

// Placeholder markers and the defaults of [Shape].
const (
	idMarker               = "{id}"
	defaultMaxLength       = DefaultPathMaxLength
	defaultMaxDigitPercent = DefaultPathMaxDigitPercent
	maxSKU                 = 64
	maxSlug                = 128
	maxNumberSegment       = 20
	maxCaseChanges         = 6
)

// Placeholder types.
const (
	phLiteral uint8 = iota
	phSKU
	phNumber
	phSlug
	phUUID
	phOpaque
)

var placeholderTypes = map[string]uint8{
	"sku": phSKU, "number": phNumber, "slug": phSlug, "uuid": phUUID, "opaque": phOpaque, "id": phOpaque,
}

type routeSeg struct {
	lit  string
	kind uint8
}

type site struct {
	hosts  []string
	routes [][]routeSeg
}

// ParseRoute checks one route pattern and returns a reason when it is
// invalid, or "". It is exported for configuration checks.
func ParseRoute(r string) string {
	_, reason := parseRoute(r)
	return reason
}

func parseRoute(r string) ([]routeSeg, string) {
	if !strings.HasPrefix(r, "/") {
		return nil, "a route starts with '/'"
	}
	if strings.ContainsAny(r, "?#") {
		return nil, "a route is a path only, without '?' or '#'"
	}
	var segs []routeSeg
	for _, s := range strings.Split(r[1:], "/") {
		if strings.HasPrefix(s, "{") {
			if !strings.HasSuffix(s, "}") {
				return nil, "a placeholder is a whole segment: {type} or {name:type}"
			}
			t := s[1 : len(s)-1]
			if k := strings.IndexByte(t, ':'); k >= 0 {
				t = t[k+1:]
			}
			kind, ok := placeholderTypes[t]
			if !ok {
				return nil, "unknown placeholder type " + strconv.Quote(t) + "; use sku, number, slug, uuid, opaque or id"
			}
			segs = append(segs, routeSeg{kind: kind})
			continue
		}
		if strings.ContainsAny(s, "{}") {
			return nil, "a placeholder is a whole segment: {type} or {name:type}"
		}
		segs = append(segs, routeSeg{lit: s})
	}
	return segs, ""
}

// siteFor returns the compiled rules of a site id, or nil.
func (c *Cleaner) siteFor(id []byte) *site {
	if len(c.sites) == 0 || len(id) == 0 {
		return nil
	}
	return c.sites[string(id)]
}

// AppendPageURL is [Cleaner.AppendURL] for the page URL of an event of the
// site siteID: the site's hosts are checked and its routes applied (see
// [Site]). A site without declared rules is cleaned as by AppendURL.
func (c *Cleaner) AppendPageURL(dst, rawURL []byte, mode URLMode, siteID []byte) ([]byte, Found) {
	return c.appendURL(dst, rawURL, mode, c.siteFor(siteID))
}

// checkHost returns the host to write for a page URL of st (host without
// port, lower-case compared), whether it was reduced, and false when the
// URL must go.
func (st *site) checkHost(host []byte) (keep []byte, reduced, ok bool) {
	if len(st.hosts) == 0 {
		return host, false, true
	}
	h := host
	if k := bytes.LastIndexByte(h, ':'); k >= 0 && bytes.IndexByte(h, ']') < 0 {
		h = h[:k]
	}
	for _, s := range st.hosts {
		if equalFold(h, s) {
			return host, false, true
		}
	}
	for _, s := range st.hosts {
		if len(h) > len(s)+1 && h[len(h)-len(s)-1] == '.' && equalFold(h[len(h)-len(s):], s) {
			return h[len(h)-len(s):], true, true
		}
	}
	return nil, false, false
}

// matchRoute returns the route of st that path matches, or nil.
func (st *site) matchRoute(path []byte) []routeSeg {
	if st == nil || len(st.routes) == 0 || len(path) == 0 || path[0] != '/' {
		return nil
	}
	n := bytes.Count(path, slash) // segments after the leading '/'
	for _, r := range st.routes {
		if len(r) != n || !routeMatches(r, path[1:]) {
			continue
		}
		return r
	}
	return nil
}

var slash = []byte("/")

// routeMatches reports whether path p (after its leading '/') has r's
// segments. A segment is compared without its matrix part (";v=1",
// ";jsessionid=..."), which cleaning may remove: the path read again after
// cleaning must match the same route.
func routeMatches(r []routeSeg, p []byte) bool {
	for _, rs := range r {
		seg := p
		if j := bytes.IndexByte(p, '/'); j >= 0 {
			seg, p = p[:j], p[j+1:]
		}
		seg, _ = splitMatrix(seg)
		if rs.kind == phLiteral && string(seg) != rs.lit {
			return false
		}
		if rs.kind != phLiteral && len(seg) == 0 {
			return false
		}
	}
	return true
}

// splitMatrix splits a path segment at its first ';' into the segment
// proper and its matrix part (nil when it has none).
func splitMatrix(seg []byte) (base, matrix []byte) {
	if k := bytes.IndexByte(seg, ';'); k >= 0 {
		return seg[:k], seg[k+1:]
	}
	return seg, nil
}

// appendRoute appends path, matched by r, with each placeholder treated
// by its type and each segment's matrix part as appendSegment does.
func (c *Cleaner) appendRoute(dst, path []byte, r []routeSeg, found Found) ([]byte, Found) {
	p := path[1:]
	for _, rs := range r {
		dst = append(dst, '/')
		seg := p
		if j := bytes.IndexByte(p, '/'); j >= 0 {
			seg, p = p[:j], p[j+1:]
		}
		seg, matrix := splitMatrix(seg)
		keep := false
		switch rs.kind {
		case phLiteral:
			keep = true
		case phSKU:
			keep = len(seg) <= maxSKU && allIn(seg, cAlnum, "._-")
		case phNumber:
			keep = len(seg) <= maxNumberSegment && allIn(seg, cDigit, "")
		case phSlug:
			keep = c.shapeOKLen(seg, maxSlug)
		case phUUID:
			keep = len(seg) == uuidLen && isUUID(seg)
		}
		if keep {
			dst = append(dst, seg...)
		} else {
			dst = append(dst, idMarker...)
			found |= KindSegment.bit()
		}
		dst, found = c.appendMatrix(dst, matrix, found)
	}
	return dst, found
}

func allIn(s []byte, cls uint8, extra string) bool {
	for _, ch := range s {
		if class[ch]&cls == 0 && strings.IndexByte(extra, ch) < 0 {
			return false
		}
	}
	return true
}

// shapeOK reports whether seg looks like a word of a path (see [Shape]).
func (c *Cleaner) shapeOK(seg []byte) bool { return c.shapeOKLen(seg, c.shapeMaxLen) }

func (c *Cleaner) shapeOKLen(seg []byte, maxLen int) bool {
	if len(seg) == 0 || len(seg) > maxLen {
		return false
	}
	if k := bytes.LastIndexByte(seg, '.'); k > 0 && len(seg)-k-1 <= 5 && len(seg)-k-1 >= 1 && allIn(seg[k+1:], cLetter, "") {
		seg = seg[:k] // "index.html"
	}
	digits, changes := 0, 0
	var prevUpper, prevLetter bool
	for _, ch := range seg {
		switch cl := class[ch]; {
		case cl&cDigit != 0:
			digits++
			prevLetter = false
		case cl&cLetter != 0:
			upper := ch < 'a'
			if prevLetter && upper != prevUpper {
				changes++
			}
			prevUpper, prevLetter = upper, true
		case ch == '-':
			prevLetter = false
		default:
			return false
		}
	}
	// Words of a path change case a few times ("MacBook"); random
	// letters ("kQzWmXpLrT") change it all the time.
	return digits*100 <= c.shapeMaxDigits*len(seg) && changes <= maxCaseChanges
}
