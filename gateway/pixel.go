package gateway

import (
	"bytes"
	"net/netip"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/event"
)

var defaultPixelEvent = []byte("pageview")

// servePixel answers GET /p.gif. The GIF goes out whatever happens, so no page
// ever shows a broken image; a request that cannot make a valid event is
// counted as rejected and makes no event. query is the request's raw query
// string (requestTarget).
func (g *Gateway) servePixel(ctx *fasthttp.RequestCtx, cfg *compiled, client netip.Addr, query []byte) {
	g.metrics.requests[endpointPixel].Inc()
	writePixel(ctx)

	if !ctx.IsGet() && !ctx.IsHead() {
		g.countRejected(endpointPixel, reasonMethodNotAllowed)
		return
	}
	if ctx.IsHead() {
		// A HEAD asks about the pixel (a link checker, an uptime probe, a
		// mail client's prefetch), it is no page view: the GIF's headers,
		// no event. Browsers load an image with GET.
		return
	}
	req := acquireRequest(cfg, client)
	defer releaseRequest(req)
	e := req.next()
	if p := fillFromRequest(ctx, req, e, event.KindPixel); p.bad() {
		g.countProblem(endpointPixel, p)
		return
	}
	// One pass over the raw query, not fasthttp's Args (which copies every
	// key and value first): see assignQuery.
	p := assignQuery(e, query)
	if !p.bad() && len(e.URL) == 0 {
		p = inField("Referer", setField(&e.URL, ctx.Request.Header.Referer(), maxURLLen), maxURLLen)
	}
	if len(e.Name) == 0 {
		e.Name = append(e.Name, defaultPixelEvent...)
	}
	if !p.bad() {
		p = checkSite(ctx, cfg, e)
	}
	if p.bad() {
		g.countProblem(endpointPixel, p)
		return
	}
	// req.events holds e alone; with a RequestHandler its records (one
	// per distinct destination policy) share one spool write.
	if _, err := handleEvents(cfg.handler, req.events); err != nil {
		g.countRejected(endpointPixel, reasonUnavailable)
		return
	}
	g.metrics.events[endpointPixel].Inc()
}

var headerCacheControl = []byte("Cache-Control")

// writePixel sets the answer every pixel request gets: the transparent GIF,
// never cached.
func writePixel(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.SetContentTypeBytes(contentTypeGIF)
	ctx.Response.Header.SetCanonical(headerCacheControl, noStore)
	ctx.Response.SetBodyRaw(transparentGIF)
}

// fillFromRequest sets what every event of a request shares: kind, time,
// client address (both found once per request, in req), and the headers
// the event needs.
func fillFromRequest(ctx *fasthttp.RequestCtx, req *request, e *event.Event, kind event.Kind) problem {
	e.Kind = kind
	e.ReceivedAt = req.receivedAt
	e.ClientIP = req.clientIP
	h := &ctx.Request.Header
	if r := setField(&e.UserAgent, h.UserAgent(), maxHeaderCopyLen); r != reasonNone {
		return inField("User-Agent", r, maxHeaderCopyLen)
	}
	if r := setField(&e.AcceptLanguage, h.Peek("Accept-Language"), maxHeaderCopyLen); r != reasonNone {
		return inField("Accept-Language", r, maxHeaderCopyLen)
	}
	// A header sent twice counts by its most restrictive copy: any "1" opts out.
	e.Consent.GPC = anyOne(h.PeekAll("Sec-GPC"))
	e.Consent.DNT = anyOne(h.PeekAll("DNT"))
	// A cookie sent twice counts like a repeated parameter: copies that
	// differ make the TC string conflicting, which refuses it.
	if raw := h.RawHeaders(); len(raw) > 0 {
		return tcCookies(e, raw)
	}
	// A request built in code rather than read (a test's): fasthttp's
	// parsed cookies, the only ones it has.
	for name, v := range h.Cookies() {
		switch string(name) {
		case cookieTC:
			if p := setTCCookie(e, v); p.bad() {
				return p
			}
		case cookieUSP:
			setUSPCookie(e, v)
		}
	}
	return problem{}
}

// cookieUSP is the cookie CCPA CMPs store the US Privacy string in (the
// IAB US Privacy API's first-party cookie).
const cookieUSP = "usprivacy"

// uspUnreadable stands for a usprivacy cookie that no US Privacy string can
// be: malformed for the engine, as it would be as a parameter.
var uspUnreadable = []byte("unreadable")

// setUSPCookie takes one usprivacy cookie's value as the us_privacy
// parameter is taken; an empty one is no cookie. A value the parameter
// would be refused for (longer than the field, not UTF-8) or one folded
// over lines is taken as unreadable instead, and the request is kept: the
// cookie is the CMP's, not the tag's, and the events go on with the signal
// malformed (which refuses ads).
func setUSPCookie(e *event.Event, v []byte) {
	if len(v) == 0 {
		return
	}
	if len(v) > maxIDLen || bytes.IndexByte(v, '\n') >= 0 || !utf8.Valid(v) {
		v = uspUnreadable
	}
	c := &e.Consent
	setSignal(c, &c.USPrivacy, v, maxIDLen, event.ConflictUSPrivacy, true)
}

// cookieTC is the cookie IAB TCF CMPs store the TC string in.
const cookieTC = "euconsent-v2"

// setTCCookie takes one euconsent-v2 cookie's value; an empty one is no
// cookie.
func setTCCookie(e *event.Event, tc []byte) problem {
	if len(tc) == 0 {
		return problem{}
	}
	if r := setSignal(&e.Consent, &e.Consent.TCString, tc, maxConsentLen, event.ConflictTCString, false); r != reasonNone {
		return inField(cookieTC, r, maxConsentLen)
	}
	return problem{}
}

// tcCookies takes every euconsent-v2 and usprivacy cookie of the request's
// raw header lines (RequestHeader.RawHeaders), on every Cookie line, each value
// trimmed and unquoted as fasthttp does. fasthttp's own cookie parser is
// not used: it drops a cookie whose value holds '"' or '\', so a second,
// different copy written that way went unseen instead of refusing the TC
// string, and a lone one was no signal instead of a malformed one. Lines
// folded onto a Cookie line (obs-fold, which fasthttp reads) continue its
// value: the header is read as fasthttp reads it, as one value in which
// each fold is a space (RFC 9112, 5.2), so a fold neither ends a cookie
// nor starts one, and a Cookie line empty but for its folds carries
// cookies.
func tcCookies(e *event.Event, raw []byte) problem {
	for len(raw) > 0 {
		var line []byte
		line, raw = cutLine(raw)
		if len(line) < len("cookie:") || line[0]|0x20 != 'c' || line[len("cookie")] != ':' ||
			!bytes.EqualFold(line[:len("cookie")], []byte("cookie")) {
			continue
		}
		// The folded lines follow in raw, so the value is one slice over
		// them, folds included.
		v := line[len("cookie:"):]
		for len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t') {
			line, raw = cutLine(raw)
			v = v[:len(v)+1+len(line)]
		}
		if p := tcCookiesIn(e, v); p.bad() {
			return p
		}
	}
	return problem{}
}

// tcCookiesIn takes the euconsent-v2 and usprivacy cookies of one Cookie
// header's value as received, folds included (see tcCookies).
func tcCookiesIn(e *event.Event, v []byte) problem {
	for len(v) > 0 {
		pair := v
		if i := bytes.IndexByte(v, ';'); i >= 0 {
			pair, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		name, val, found := bytes.Cut(pair, []byte("="))
		key := b2s(trimFolded(name))
		if !found || key != cookieTC && key != cookieUSP {
			continue
		}
		val = trimFolded(val)
		if len(val) > 1 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		if key == cookieUSP {
			setUSPCookie(e, val)
			continue
		}
		var p problem
		if bytes.IndexByte(val, '\n') >= 0 {
			p = setFoldedTCCookie(e, val)
		} else {
			p = setTCCookie(e, val)
		}
		if p.bad() {
			return p
		}
	}
	return problem{}
}

// trimFolded is trimOWS for a header value that may hold folds: the line
// ends, "\r\n" or "\n", go with the spaces around them.
func trimFolded(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}

// setFoldedTCCookie is setTCCookie for a value with a fold inside: the
// value taken is the one fasthttp reads, each fold with the spaces around
// it made one space. It is built on the stack, so that the request still
// allocates nothing; the fold makes it no TC string, and a copy that
// differs a conflict, as a value with a space in it does.
//
//go:noinline
func setFoldedTCCookie(e *event.Event, tc []byte) problem {
	var buf [maxConsentLen]byte
	n := 0
	for first := true; len(tc) > 0; first = false {
		var part []byte
		part, tc = cutLine(tc)
		part = trimOWS(bytes.TrimSuffix(part, []byte("\r")))
		if !first {
			if n == len(buf) {
				return inField(cookieTC, reasonFieldTooLong, maxConsentLen)
			}
			buf[n] = ' '
			n++
		}
		if len(part) > len(buf)-n {
			return inField(cookieTC, reasonFieldTooLong, maxConsentLen)
		}
		n += copy(buf[n:], part)
	}
	return setTCCookie(e, buf[:n])
}

func isOne(v []byte) bool { return len(v) == 1 && v[0] == '1' }

// anyOne reports whether any of the header values is "1", or a list
// holding "1": a proxy may join a header's lines into one, separated by
// commas (RFC 9110, 5.3), and "Sec-GPC: 1, 1" or "DNT: 0, 1" then opts out
// as the separate lines do.
func anyOne(vs [][]byte) bool {
	for _, v := range vs {
		for len(v) > 0 {
			var m []byte
			if m, v = cutListItem(v, ','); isOne(m) {
				return true
			}
		}
	}
	return false
}

// checkSite requires a site id, known when sites are configured, and an
// allowed Origin when the request carries one.
func checkSite(ctx *fasthttp.RequestCtx, cfg *compiled, e *event.Event) problem {
	if len(e.Site) == 0 {
		return fieldProblem(reasonMissingSite, "site", "required")
	}
	if cfg.sites == nil {
		return problem{}
	}
	origins, known := cfg.sites[b2s(e.Site)]
	if !known {
		return fieldProblem(reasonUnknownSite, "site", "not one of the sites configured on this gateway")
	}
	if o := ctx.Request.Header.Peek("Origin"); len(o) > 0 {
		if _, allowed := origins[b2s(o)]; !allowed {
			return fieldProblem(reasonForbiddenOrigin, "Origin", "not allowed for this site")
		}
	}
	return problem{}
}
