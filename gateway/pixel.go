package gateway

import (
	"time"

	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/event"
)

var defaultPixelEvent = []byte("pageview")

// servePixel answers GET /p.gif. The GIF goes out whatever happens, so no page
// ever shows a broken image; a request that cannot make a valid event is
// counted as rejected and makes no event.
func (g *Gateway) servePixel(ctx *fasthttp.RequestCtx, cfg *compiled) {
	g.metrics.requests[endpointPixel].Inc()
	writePixel(ctx)

	if !ctx.IsGet() && !ctx.IsHead() {
		g.metrics.rejected[endpointPixel][reasonMethodNotAllowed].Inc()
		return
	}
	req := acquireRequest(cfg)
	defer releaseRequest(req)
	e := req.next()
	if r := fillFromRequest(ctx, cfg, req.receivedAt, e, event.KindPixel); r != reasonNone {
		g.metrics.rejected[endpointPixel][r].Inc()
		return
	}
	r := reasonNone
	for k, v := range ctx.QueryArgs().All() {
		if r = assignArg(e, k, v); r != reasonNone {
			break
		}
	}
	if r == reasonNone && len(e.URL) == 0 {
		r = setField(&e.URL, ctx.Request.Header.Referer(), maxURLLen)
	}
	if len(e.Name) == 0 {
		e.Name = append(e.Name, defaultPixelEvent...)
	}
	if r == reasonNone {
		r = checkSite(ctx, cfg, e)
	}
	if r != reasonNone {
		g.metrics.rejected[endpointPixel][r].Inc()
		return
	}
	if err := cfg.handler.HandleEvent(e); err != nil {
		g.metrics.rejected[endpointPixel][reasonUnavailable].Inc()
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
// client address, and the headers the event needs.
func fillFromRequest(ctx *fasthttp.RequestCtx, cfg *compiled, receivedAt time.Time, e *event.Event, kind event.Kind) reason {
	e.Kind = kind
	e.ReceivedAt = receivedAt
	e.ClientIP = clientIP(ctx, cfg)
	h := &ctx.Request.Header
	if r := setField(&e.UserAgent, h.UserAgent(), maxHeaderCopyLen); r != reasonNone {
		return r
	}
	if r := setField(&e.AcceptLanguage, h.Peek("Accept-Language"), maxHeaderCopyLen); r != reasonNone {
		return r
	}
	e.Consent.GPC = isOne(h.Peek("Sec-GPC"))
	e.Consent.DNT = isOne(h.Peek("DNT"))
	if tc := h.Cookie("euconsent-v2"); len(tc) > 0 {
		if r := setField(&e.Consent.TCString, tc, maxConsentLen); r != reasonNone {
			return r
		}
	}
	return reasonNone
}

func isOne(v []byte) bool { return len(v) == 1 && v[0] == '1' }

// checkSite requires a site id, known when sites are configured, and an
// allowed Origin when the request carries one.
func checkSite(ctx *fasthttp.RequestCtx, cfg *compiled, e *event.Event) reason {
	if len(e.Site) == 0 {
		return reasonMissingSite
	}
	if cfg.sites == nil {
		return reasonNone
	}
	origins, ok := cfg.sites[b2s(e.Site)]
	if !ok {
		return reasonUnknownSite
	}
	if o := ctx.Request.Header.Peek("Origin"); len(o) > 0 {
		if _, ok := origins[b2s(o)]; !ok {
			return reasonForbiddenOrigin
		}
	}
	return reasonNone
}
