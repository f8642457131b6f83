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
// [Cleaner.AppendPageURL] applies them. It allocates and is meant for
// tools, not the request path. It returns nil when the URL has no path to
// explain (origin mode, no path, or a URL that is dropped).
func (c *Cleaner) ExplainPath(rawURL []byte, mode URLMode, siteID []byte) []SegmentRule {
	if mode == URLOrigin {
		return nil
	}
	st := c.siteFor(siteID)
	out, _ := c.appendURL(nil, rawURL, mode, st)
	if len(out) == 0 {
		return nil
	}
	s := trimSpace(rawURL)
	if k := bytes.Index(s, slashSlash); k >= 0 && k <= bytes.IndexByte(s, '/') {
		rest := s[k+2:]
		s = rest[indexAny3(rest, '/', '?', '#'):]
	}
	path := s[:indexAny3(s, '?', '#', '#')]
	if len(path) < 2 || path[0] != '/' {
		return nil
	}
	var rules []SegmentRule
	if r := st.matchRoute(path); r != nil {
		pattern := routeString(r)
		p := path[1:]
		for _, rs := range r {
			seg := p
			if j := bytes.IndexByte(p, '/'); j >= 0 {
				seg, p = p[:j], p[j+1:]
			}
			res, _ := c.appendRoute(nil, append([]byte{'/'}, seg...), []routeSeg{rs}, 0)
			rule := "route " + pattern + ": literal, kept"
			if rs.kind != phLiteral {
				rule = "route " + pattern + ": {" + placeholderName(rs.kind) + "}"
				switch {
				case rs.kind == phOpaque:
					rule += ", always replaced"
				case string(res[1:]) == string(seg):
					rule += ", kept"
				default:
					rule += ", value does not fit: replaced"
				}
			}
			rules = append(rules, SegmentRule{Segment: string(seg), Result: string(res[1:]), Rule: rule})
		}
		return rules
	}
	shape := st != nil && mode == URLPath
	for _, seg := range bytes.Split(path[1:], slash) {
		if len(seg) == 0 {
			continue
		}
		res, f := c.appendSegment(nil, seg, 0)
		rule := "no route; scanned: nothing found, kept"
		switch {
		case f&valueKinds != 0:
			rule = "no route; scanned: " + (f & valueKinds).String() + ", replaced"
		case f != 0:
			rule = "no route; parameters removed: " + f.String()
		}
		if shape && len(res) > 0 && res[0] != '[' {
			if c.shapeOK(res) {
				rule += "; path shape: word, kept"
			} else {
				res = []byte(idMarker)
				rule += "; path shape: not a word, replaced"
			}
		}
		rules = append(rules, SegmentRule{Segment: string(seg), Result: string(res), Rule: rule})
	}
	return rules
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
