package gateway

import (
	"bytes"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"

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
	case bytes.EqualFold(ct, []byte("text/plain")), bytes.EqualFold(ct, []byte("application/json")):
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

var (
	defaultBeaconEvent = []byte("event")
	defaultBLEEvent    = []byte("ble_sighting")
)

// servePost answers POST /b and POST /ble, and their CORS preflights.
func (g *Gateway) servePost(ctx *fasthttp.RequestCtx, cfg *compiled, ep endpoint) {
	g.metrics.requests[ep].Inc()
	if ctx.IsOptions() {
		g.preflight(ctx, cfg, ep)
		return
	}
	if !ctx.IsPost() {
		g.reject(ctx, ep, reasonMethodNotAllowed)
		return
	}
	kind := classifyContentType(ctx.Request.Header.ContentType())
	if ep == endpointBLE && kind != bodyJSON {
		g.rejectProblem(ctx, ep, bleMediaType)
		return
	}
	if kind == bodyUnsupported {
		g.reject(ctx, ep, reasonUnsupportedMediaType)
		return
	}
	body := ctx.PostBody()
	switch {
	case len(body) == 0:
		g.reject(ctx, ep, reasonEmptyBody)
		return
	case len(body) > cfg.limits.MaxBodyBytes:
		g.reject(ctx, ep, reasonBodyTooLarge)
		return
	}

	req := acquireRequest(cfg)
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
		g.rejectProblem(ctx, ep, p)
		return
	}
	for i := range req.events {
		if err := cfg.handler.HandleEvent(&req.events[i]); err != nil {
			g.reject(ctx, ep, reasonUnavailable)
			return
		}
		g.metrics.events[ep].Inc()
	}
	setCORS(ctx, cfg)
	ctx.Response.SetStatusCode(fasthttp.StatusNoContent)
}

// parseFormEvent reads one event from a form-encoded body, with the same keys
// as the pixel's query, in the pixel query's single pass (assignQuery).
func parseFormEvent(ctx *fasthttp.RequestCtx, cfg *compiled, req *request, body []byte) problem {
	e := req.next()
	if p := fillFromRequest(ctx, cfg, req.receivedAt, e, event.KindBeacon); p.bad() {
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
	if p := fillFromRequest(ctx, cfg, req.receivedAt, e, event.KindBeacon); p.bad() {
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

// parseJSON checks the body's syntax and encoding, then parses it. The
// allocation-free check first costs about 0.7 ns per byte on good bodies, and
// keeps junk off fastjson's error path, which formats an error (5-7
// allocations) for every malformed body.
func parseJSON(req *request, body []byte) (*fastjson.Value, problem) {
	if p := checkJSON(body); p.bad() {
		return nil, p
	}
	v, err := req.json.ParseBytes(body)
	if err != nil {
		return nil, because(reasonInvalidJSON)
	}
	return v, noProblem
}

// parseBeaconJSON reads one event object or an array of them. All events are
// parsed and checked before any is handed on, so a request is accepted or
// rejected whole.
func parseBeaconJSON(ctx *fasthttp.RequestCtx, cfg *compiled, req *request, body []byte) problem {
	v, p := parseJSON(req, body)
	if p.bad() {
		return p
	}
	switch v.Type() {
	case fastjson.TypeObject:
		return parseBeaconObject(ctx, cfg, req, v)
	case fastjson.TypeArray:
		arr, _ := v.Array()
		if len(arr) == 0 {
			return because(reasonInvalidJSON)
		}
		if len(arr) > cfg.limits.MaxEventsPerRequest {
			return because(reasonTooManyEvents)
		}
		for i, item := range arr {
			if item.Type() != fastjson.TypeObject {
				return problem{reason: reasonInvalidJSON, detail: "must be an event object", at: i + 1}
			}
			if p := parseBeaconObject(ctx, cfg, req, item); p.bad() {
				if p.detail != "" {
					p.at = i + 1
				}
				return p
			}
		}
		return noProblem
	}
	return because(reasonInvalidJSON)
}

func parseBeaconObject(ctx *fasthttp.RequestCtx, cfg *compiled, req *request, v *fastjson.Value) problem {
	e := req.next()
	if p := fillFromRequest(ctx, cfg, req.receivedAt, e, event.KindBeacon); p.bad() {
		return p
	}
	o, _ := v.Object()
	p := noProblem
	o.Visit(func(k []byte, fv *fastjson.Value) {
		if !p.bad() {
			p = assignJSON(e, k, fv)
		}
	})
	if p.bad() {
		return p
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
		g.reject(ctx, ep, reasonForbiddenOrigin)
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

// setCORS lets the browser read the answer when the Origin is allowed; the
// site-specific check already ran in checkSite.
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
