package scrub

import (
	"bytes"
	"strings"
)

// SegmentRule says what cleaning did to one path segment of a page URL and
// which rule decided it, for "beacongate explain".
type SegmentRule struct {
	Segment string // as it arrived
	Result  string // as written
	Rule    string // the rule that kept or replaced it
}

// ExplainPath returns, for the page URL rawURL of site siteID cleaned in
// mode, the rule applied to each path segment, in order, as
// [Cleaner.AppendPageURL] applies them. Each Result is the segment as the
// cleaned URL holds it at its place; the rule is found by the same code
// that cleaned it. It allocates and is meant for tools, not the request
// path. It returns nil when the cleaned URL has no path to explain (origin
// mode, no path, a URL that is dropped or cut to its origin).
func (c *Cleaner) ExplainPath(rawURL []byte, mode URLMode, siteID []byte) []SegmentRule {
	if mode == URLOrigin {
		return nil
	}
	st := c.siteFor(siteID)
	out, _ := c.appendURL(nil, rawURL, mode, st)
	written, path := urlPath(out), urlPath(trimSpace(rawURL))
	if len(written) < 2 || len(path) < 2 {
		return nil
	}
	results, segs := bytes.Split(written[1:], slash), bytes.Split(path[1:], slash)
	if len(results) != len(segs) {
		return nil // never: each segment is written as one
	}
	r := st.matchRoute(path)
	var rules []SegmentRule
	for i, seg := range segs {
		var res []byte
		var rule string
		switch {
		case r != nil:
			res, rule = c.explainRouteSegment(r, i, seg)
		case len(seg) == 0:
			continue
		default:
			res, rule = c.explainSegment(seg, mode == URLPath)
		}
		if string(res) != string(results[i]) {
			// The per-segment rules do not give what the cleaner wrote:
			// show what was written, and say so rather than guess.
			rule = "written by the cleaner as shown (the per-segment rules give " + string(res) + ")"
		}
		rules = append(rules, SegmentRule{Segment: string(seg), Result: string(results[i]), Rule: rule})
	}
	return rules
}

// urlPath returns the path of URL s (trimmed) as appendURL reads it: after
// the authority, before the query and the fragment; nil for an opaque URL.
func urlPath(s []byte) []byte {
	if len(s) == 0 {
		return nil
	}
	authority, _ := urlShape(s)
	if authority < 0 {
		return nil
	}
	if authority > 0 {
		rest := s[authority:]
		s = rest[indexAny3(rest, '/', '?', '#'):]
	}
	return s[:indexAny3(s, '?', '#', '#')]
}

// explainRouteSegment cleans segment i, seg, of a path route r matched, as
// appendRoute does, and says which part of the route decided it.
func (c *Cleaner) explainRouteSegment(r []routeSeg, i int, seg []byte) (res []byte, rule string) {
	rs := r[i]
	res, _ = c.appendRoute(nil, append([]byte{'/'}, seg...), []routeSeg{rs}, 0)
	res = res[1:]
	pattern := routeString(r)
	if rs.kind == phLiteral {
		return res, "route " + pattern + ": literal, kept"
	}
	rule = "route " + pattern + ": {" + placeholderName(rs.kind) + "}"
	switch {
	case rs.kind == phOpaque:
		return res, rule + ", always replaced"
	case string(res) == string(seg):
		return res, rule + ", kept"
	}
	return res, rule + ", value does not fit: replaced"
}

// explainSegment cleans seg, a segment of a path no route matched, as
// appendPathShape does (with the path-shape rule when shape is set), and
// says which rule decided it.
func (c *Cleaner) explainSegment(seg []byte, shape bool) (res []byte, rule string) {
	res, f, shaped := c.appendPathSegment(nil, seg, 0, shape)
	rule = "no route; scanned: nothing found, kept"
	switch {
	case f&valueKinds != 0:
		rule = "no route; scanned: " + (f & valueKinds).String() + ", replaced"
	case f&^KindSegment.bit() != 0:
		rule = "no route; parameters removed: " + (f &^ KindSegment.bit()).String()
	}
	switch {
	case shaped:
		rule += "; path shape: not a word, replaced"
	case shape && res[0] != '[':
		rule += "; path shape: word, kept"
	}
	return res, rule
}

func placeholderName(k uint8) string {
	for name, v := range placeholderTypes {
		if v == k && name != "id" {
			return name
		}
	}
	return "opaque"
}

func routeString(r []routeSeg) string {
	var b strings.Builder
	for _, rs := range r {
		b.WriteByte('/')
		if rs.kind == phLiteral {
			b.WriteString(rs.lit)
		} else {
			b.WriteString("{" + placeholderName(rs.kind) + "}")
		}
	}
	return b.String()
}
