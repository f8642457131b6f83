package gateway

import (
	"bytes"
	"net/netip"

	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/event"
)

// bodyKind is how a POST body is encoded.
type bodyKind uint8

const (
	bodyUnsupported bodyKind = iota
	bodyJSON                 // application/json, or text/plain as sendBeacon sends strings
	bodyForm                 // application/x-www-form-urlencoded
	bodyMultipart            // multipart/form-data, as sendBeacon sends a FormData
)

// classifyContentType reads the media type before any parameters.
func classifyContentType(ct []byte) bodyKind {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.TrimSpace(ct)
	switch {
	case len(ct) == 0, bytes.EqualFold(ct, []byte("text/plain")), bytes.EqualFold(ct, []byte("application/json")):
		// No Content-Type: sendBeacon with an untyped Blob, an
		// ArrayBuffer or a typed array sends none.
		return bodyJSON
	case bytes.EqualFold(ct, []byte("application/x-www-form-urlencoded")):
		return bodyForm
	case bytes.EqualFold(ct, []byte("multipart/form-data")):
		return bodyMultipart
	}
	return bodyUnsupported
}

// bleMediaType answers a BLE ping that is not JSON: most often curl --data,
// which sends application/x-www-form-urlencoded.
var bleMediaType = problem{
	reason: reasonUnsupportedMediaType,
	field:  "Content-Type",
	detail: "POST /ble takes application/json (or text/plain); curl --data sends application/x-www-form-urlencoded: add -H 'Content-Type: application/json'",
}

// contentEncoded reports whether a request's body is sent with a content
// coding (Content-Encoding other than identity), which the gateway does not
// decode: read as it is, a gzipped JSON body was answered "body is not
// valid JSON", and a body merely labelled gzip was taken as plain text.
// Every line of the header counts, so a second one cannot hide behind a
// first identity.
func contentEncoded(h *fasthttp.RequestHeader) bool {
	for k, v := range h.All() {
		if len(k) == len(headerContentEncoding) && bytes.EqualFold(k, headerContentEncoding) {
			if v = trimOWS(v); len(v) != 0 && !bytes.EqualFold(v, acceptIdentity) {
				return true
			}
		}
	}
	return false
}

// problemContentEncoding answers a body sent with a content coding (RFC
// 9110 section 8.4: 415, with Accept-Encoding saying what is taken).
var problemContentEncoding = problem{
	reason: reasonUnsupportedMediaType,
	field:  "Content-Encoding",
	detail: "not supported: send the body uncompressed",
}

var (
	headerContentEncoding = []byte("Content-Encoding")
	headerAcceptEncoding  = []byte("Accept-Encoding")
	acceptIdentity        = []byte("identity")
)

var (
	defaultBeaconEvent = []byte("event")
	defaultBLEEvent    = []byte("ble_sighting")
)

// servePost answers POST /b and POST /ble, and their CORS preflights.
func (g *Gateway) servePost(ctx *fasthttp.RequestCtx, cfg *compiled, ep endpoint, client netip.Addr) {
	g.metrics.requests[ep].Inc()
	if ctx.IsOptions() {
		g.preflight(ctx, cfg, ep)
		return
	}
	if !ctx.IsPost() {
		g.rejectIn(ctx, cfg, ep, because(reasonMethodNotAllowed))
		return
	}
	if contentEncoded(&ctx.Request.Header) {
		ctx.Response.Header.SetCanonical(headerAcceptEncoding, acceptIdentity)
		g.rejectIn(ctx, cfg, ep, problemContentEncoding)
		return
	}
	kind := classifyContentType(ctx.Request.Header.ContentType())
	if ep == endpointBLE && kind != bodyJSON {
		g.rejectIn(ctx, cfg, ep, bleMediaType)
		return
	}
	if kind == bodyUnsupported {
		g.rejectIn(ctx, cfg, ep, because(reasonUnsupportedMediaType))
		return
	}
	body := ctx.PostBody()
	switch {
	case len(body) == 0:
		g.rejectIn(ctx, cfg, ep, because(reasonEmptyBody))
		return
	case len(body) > cfg.limits.MaxBodyBytes:
		g.rejectIn(ctx, cfg, ep, because(reasonBodyTooLarge))
		return
	}

	req := acquireRequest(cfg, client)
	defer releaseRequest(req)
	var p problem
	switch {
	case kind == bodyForm:
		p = parseFormEvent(ctx, cfg, req, body)
	case kind == bodyMultipart:
		p = parseMultipartEvent(ctx, cfg, req, body)
	case ep == endpointBeacon:
		p = parseBeaconJSON(ctx, cfg, req, body)
	default:
		p = parseBLE(ctx, cfg, req, body)
	}
	if p.bad() {
		g.rejectIn(ctx, cfg, ep, p)
		return
	}
	n, err := handleEvents(cfg.handler, req.events)
	g.metrics.events[ep].Add(float64(n))
	if err != nil {
		g.rejectIn(ctx, cfg, ep, because(reasonUnavailable))
		return
	}
	setCORS(ctx, cfg)
	ctx.Response.SetStatusCode(fasthttp.StatusNoContent)
}

// parseFormEvent reads one event from a form-encoded body, with the same keys
// as the pixel's query, in the pixel query's single pass (assignQuery).
func parseFormEvent(ctx *fasthttp.RequestCtx, cfg *compiled, req *request, body []byte) problem {
	e := req.next()
	if p := fillFromRequest(ctx, req, e, event.KindBeacon); p.bad() {
		return p
	}
	if p := assignQuery(e, body); p.bad() {
		return p
	}
	return finishBeaconEvent(ctx, cfg, e)
}

// parseMultipartEvent reads one event from a multipart/form-data body (a
// FormData given to sendBeacon), with the same keys as the pixel's query.
func parseMultipartEvent(ctx *fasthttp.RequestCtx, cfg *compiled, req *request, body []byte) problem {
	boundary, found := multipartBoundary(ctx.Request.Header.ContentType())
	if !found || !req.multipart.reset(body, boundary) {
		return because(reasonInvalidMultipart)
	}
	e := req.next()
	if p := fillFromRequest(ctx, req, e, event.KindBeacon); p.bad() {
		return p
	}
	for {
		k, v, done, valid := req.multipart.next()
		if !valid {
			return because(reasonInvalidMultipart)
		}
		if done {
			break
		}
		if p := assignArg(e, k, v); p.bad() {
			return p
		}
	}
	return finishBeaconEvent(ctx, cfg, e)
}

func finishBeaconEvent(ctx *fasthttp.RequestCtx, cfg *compiled, e *event.Event) problem {
	if len(e.Name) == 0 {
		e.Name = append(e.Name, defaultBeaconEvent...)
	}
	return checkSite(ctx, cfg, e)
}

// preflight answers a CORS preflight: allowed when the Origin is configured
// for any site (the site id is only known from the body that follows).
// sendBeacon always sends credentials (cookies), so the answer must say
// Access-Control-Allow-Credentials: true, or the browser silently drops a
// beacon whose type needs a preflight (a JSON Blob) although sendBeacon
// returned true. The gateway reads no cookie but euconsent-v2.
func (g *Gateway) preflight(ctx *fasthttp.RequestCtx, cfg *compiled, ep endpoint) {
	origin := ctx.Request.Header.Peek("Origin")
	if _, ok := cfg.anyOrigin[b2s(origin)]; !ok || len(origin) == 0 {
		g.rejectIn(ctx, cfg, ep, because(reasonForbiddenOrigin))
		return
	}
	h := &ctx.Response.Header
	h.SetCanonical(headerACAO, origin)
	h.SetCanonical(headerACAC, allowCredentials)
	h.SetCanonical(headerACAM, allowPost)
	h.SetCanonical(headerACAH, allowHeaders)
	h.SetCanonical(headerACMA, preflightMaxAge)
	h.SetCanonical(headerVary, varyOrigin)
	ctx.Response.SetStatusCode(fasthttp.StatusNoContent)
}

// setCORS lets the browser read the answer when the Origin is allowed for
// any site, as the preflight does: on a 204 the site-specific check
// already ran in checkSite; on a rejection (rejectProblem) the site may be
// unknown or the body unreadable, and the answer says only what is wrong.
func setCORS(ctx *fasthttp.RequestCtx, cfg *compiled) {
	origin := ctx.Request.Header.Peek("Origin")
	if len(origin) == 0 {
		return
	}
	if _, ok := cfg.anyOrigin[b2s(origin)]; !ok {
		return
	}
	ctx.Response.Header.SetCanonical(headerACAO, origin)
	ctx.Response.Header.SetCanonical(headerACAC, allowCredentials)
	ctx.Response.Header.SetCanonical(headerVary, varyOrigin)
}

var (
	headerACAO       = []byte("Access-Control-Allow-Origin")
	headerACAC       = []byte("Access-Control-Allow-Credentials")
	headerACAM       = []byte("Access-Control-Allow-Methods")
	headerACAH       = []byte("Access-Control-Allow-Headers")
	headerACMA       = []byte("Access-Control-Max-Age")
	headerVary       = []byte("Vary")
	allowHeaders     = []byte("Content-Type")
	allowCredentials = []byte("true")
	preflightMaxAge  = []byte("86400")
	varyOrigin       = []byte("Origin")
)

// parseBeaconJSON reads one event object or an array of them, in one pass
// over the body (jsonReader) that checks it as checkJSON does. All events
// are parsed and checked before any is handed on, so a request is accepted
// or rejected whole. The answer is the one of checking the body first and
// reading its fields after (json_reference_test.go keeps that reference):
// checkJSON's for a body that breaks a JSON rule, then an empty or too long
// array, then the first event at fault.
func parseBeaconJSON(ctx *fasthttp.RequestCtx, cfg *compiled, req *request, body []byte) problem {
	r := &req.reader
	r.reset(body)
	r.ws()
	p := problemBeaconShape // a string, number or literal
	switch r.peek() {
	case jsonObject:
		p = r.beaconObject(ctx, cfg, req, nil, problem{})
	case jsonArray:
		r.open()
		n := 0
		p = problem{}
		// The request's own fields (headers, address, time) are read once
		// into req.common and copied into each event of the array.
		var shared *event.Event
		var sharedP problem
		for first := true; r.item(first); first = false {
			n++
			if p.bad() || n > cfg.limits.MaxEventsPerRequest {
				r.skip()
				continue
			}
			if r.peek() != jsonObject {
				r.skip()
				p = problem{reason: reasonInvalidJSON, detail: "must be an event object", at: int32(n)}
				continue
			}
			if shared == nil {
				shared, sharedP = req.fillCommon(ctx, event.KindBeacon)
			}
			if q := r.beaconObject(ctx, cfg, req, shared, sharedP); q.bad() {
				if q.detail != "" {
					q.at = int32(n)
				}
				p = q
			}
		}
		switch {
		case n == 0:
			p = problemBeaconShape
		case n > cfg.limits.MaxEventsPerRequest:
			p = because(reasonTooManyEvents)
		}
	default:
		r.skip()
	}
	if !r.end() {
		return badJSONAnswer(body)
	}
	return p
}

// problemBeaconShape answers a beacon body that is valid JSON but neither
// an event object nor a non-empty array of them ([], a string, a number,
// null): "body is not valid JSON" would send its sender looking for a
// syntax error that is not there.
var problemBeaconShape = problem{
	reason: reasonInvalidJSON,
	field:  "body",
	detail: "must be an event object or a non-empty array of event objects",
}

// beaconObject reads the event object at r's position into a new event.
// The event's request fields are copied from shared, which fillFromRequest
// filled with the answer sharedP, or read from the request when shared is
// nil.
func (r *jsonReader) beaconObject(ctx *fasthttp.RequestCtx, cfg *compiled, req *request, shared *event.Event, sharedP problem) problem {
	e := req.next()
	p := sharedP
	if shared != nil {
		e.CopyShared(shared)
	} else {
		p = fillFromRequest(ctx, req, e, event.KindBeacon)
	}
	r.open()
	for first := true; ; first = false {
		k, ok := r.member(first, &r.key)
		if !ok {
			break
		}
		if p.bad() {
			r.skip()
			continue
		}
		r.assign(e, k, &p)
	}
	if p.bad() {
		return p
	}
	return finishBeaconEvent(ctx, cfg, e)
}
