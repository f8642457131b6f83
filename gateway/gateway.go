package gateway

import (
	"bytes"
	"errors"
	"math"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/retail"
)

// EventHandler receives every event the gateway parses, before the request is
// answered. It must not keep e, or any slice inside it, after returning: e is
// reset and reused for the next request. A non-nil error means the event could
// not be accepted (for example the spool is full); the beacon endpoints then
// answer 503 and the pixel still gets its GIF.
type EventHandler interface {
	HandleEvent(e *event.Event) error
}

// RequestHandler is an EventHandler that can also take all of a request's
// events at once, so that they become durable together instead of each
// waiting on its own (delivery.Deliverer): the beacon and BLE endpoints
// use HandleEvents when the handler has it. HandleEvents handles events in
// order, under HandleEvent's rules, and returns how many were accepted (a
// prefix of events) and the error that stopped it; the request is then
// answered 503.
type RequestHandler interface {
	EventHandler
	HandleEvents(events []event.Event) (accepted int, err error)
}

// handleEvents hands a request's events to h: at once if h is a
// RequestHandler, one by one otherwise.
func handleEvents(h EventHandler, events []event.Event) (accepted int, err error) {
	if rh, ok := h.(RequestHandler); ok {
		return rh.HandleEvents(events)
	}
	for i := range events {
		if err := h.HandleEvent(&events[i]); err != nil {
			return i, err
		}
	}
	return len(events), nil
}

// Discard is an EventHandler that accepts and forgets every event. It writes
// nothing anywhere; the gateway's event counters still count them.
type Discard struct{}

// HandleEvent implements EventHandler.
func (Discard) HandleEvent(*event.Event) error { return nil }

// Limits are the per-request limits. A zero field means the default.
type Limits struct {
	MaxBodyBytes           int // default 64 KiB, the browsers' sendBeacon quota
	MaxEventsPerRequest    int // default 50
	MaxSightingsPerRequest int // default 200
	// A BLE sighting time must lie within [receive time - MaxSightingAge,
	// receive time + MaxSightingAhead]; default 7 days back, 5 minutes ahead.
	MaxSightingAge   time.Duration
	MaxSightingAhead time.Duration
}

// Settings is what the gateway reads per request. It is immutable once handed
// to New or Update; a config reload builds a new one.
type Settings struct {
	Limits Limits
	// TrustedProxies lists the networks whose forwarding header
	// (ClientIPHeader) is believed. Empty: the socket's peer is always the
	// client.
	TrustedProxies []netip.Prefix
	// ClientIPHeader is the one header trusted proxies append the client's
	// address to: X-Forwarded-For (the default when empty), Forwarded (read
	// as RFC 7239, the for= parameter) or another list of addresses such as
	// X-Real-IP. Every other forwarding header is ignored.
	ClientIPHeader string
	// MaxRequestsPerClient bounds the requests from one client address (as
	// resolved through TrustedProxies; an IPv6 one by its /64) in progress
	// at once; more are
	// answered 429 (the pixel still gets its GIF, and makes no event).
	// Zero means DefaultMaxRequestsPerClient. Unlike the server's
	// MaxConnsPerIP it counts clients behind a proxy one by one.
	MaxRequestsPerClient int
	// Sites maps a site id to its allowed CORS origins (e.g.
	// "https://shop.example"). Empty: any site id is accepted and no CORS
	// headers are sent.
	Sites map[string][]string
	// Handler receives every event. Nil means Discard.
	Handler EventHandler
	// Clock stamps each event's receive time, which also picks the
	// pseudonym key period. Nil means clock.Real; tests pin it.
	Clock clock.Clock
	// OptOut lists BLE device ids whose sightings are dropped as soon as
	// they are read, before anything else sees them; each is counted in
	// OptOutSuppressed (if set). Nil: no list.
	OptOut           *retail.OptOut
	OptOutSuppressed prometheus.Counter
}

// compiled is Settings in the form the hot path reads.
type compiled struct {
	limits          Limits
	trustedProxies  []netip.Prefix
	clientIPHeader  string // canonical header name
	forwardedSyntax bool   // clientIPHeader is RFC 7239 Forwarded
	maxPerClient    int32
	sites           map[string]map[string]struct{} // site → allowed origins
	anyOrigin       map[string]struct{}            // union of all sites' origins, for preflights
	handler         EventHandler
	clock           clock.Clock
	optOut          *retail.OptOut
	optOutCount     prometheus.Counter
}

func compile(s Settings) *compiled {
	c := &compiled{limits: s.Limits, trustedProxies: s.TrustedProxies, handler: s.Handler, clock: clock.Or(s.Clock),
		optOut: s.OptOut, optOutCount: s.OptOutSuppressed}
	c.clientIPHeader = string(fasthttp.AppendNormalizedHeaderKey(nil, s.ClientIPHeader))
	if c.clientIPHeader == "" {
		c.clientIPHeader = DefaultClientIPHeader
	}
	c.forwardedSyntax = c.clientIPHeader == "Forwarded"
	c.maxPerClient = int32(min(s.MaxRequestsPerClient, 1<<30))
	if c.maxPerClient <= 0 {
		c.maxPerClient = DefaultMaxRequestsPerClient
	}
	if c.limits.MaxBodyBytes <= 0 {
		c.limits.MaxBodyBytes = 64 << 10
	}
	if c.limits.MaxEventsPerRequest <= 0 {
		c.limits.MaxEventsPerRequest = 50
	}
	if c.limits.MaxSightingsPerRequest <= 0 {
		c.limits.MaxSightingsPerRequest = 200
	}
	if c.limits.MaxSightingAge <= 0 {
		c.limits.MaxSightingAge = 7 * 24 * time.Hour
	}
	if c.limits.MaxSightingAhead <= 0 {
		c.limits.MaxSightingAhead = 5 * time.Minute
	}
	if c.handler == nil {
		c.handler = Discard{}
	}
	if len(s.Sites) > 0 {
		c.sites = make(map[string]map[string]struct{}, len(s.Sites))
		c.anyOrigin = make(map[string]struct{})
		for site, origins := range s.Sites {
			set := make(map[string]struct{}, len(origins))
			for _, o := range origins {
				set[o] = struct{}{}
				c.anyOrigin[o] = struct{}{}
			}
			c.sites[site] = set
		}
	}
	return c
}

// Gateway serves the collection endpoints. Create it with New.
type Gateway struct {
	settings atomic.Pointer[compiled]
	metrics  *metrics
	tagStats *tagMetrics
	conns    connRegistry // connections accepted through Listener
	inFlight *clientLimiter
	onReject func(reason, problem string) // dry runs only; nil when serving
}

// New returns a Gateway that registers its metrics on reg (nil: unregistered).
func New(s Settings, reg prometheus.Registerer) *Gateway {
	g := &Gateway{metrics: newMetrics(reg), tagStats: newTagMetrics(reg), inFlight: newClientLimiter()}
	g.settings.Store(compile(s))
	return g
}

// Update swaps in new settings atomically; requests in flight finish with the
// settings they started with.
func (g *Gateway) Update(s Settings) { g.settings.Store(compile(s)) }

var (
	pathPixel  = "/p.gif"
	pathBeacon = "/b"
	pathBLE    = "/ble"
)

// Handle is the fasthttp request handler for all endpoints.
func (g *Gateway) Handle(ctx *fasthttp.RequestCtx) {
	cfg := g.settings.Load()
	path, query := requestTarget(ctx)
	var ep endpoint
	switch b2s(path) {
	case pathPixel:
		ep = endpointPixel
	case pathBeacon:
		ep = endpointBeacon
	case pathBLE:
		ep = endpointBLE
	case pathTag:
		g.serveTag(ctx, true)
		return
	case pathTagAlias:
		g.serveTag(ctx, false)
		return
	default:
		g.metrics.requests[endpointOther].Inc()
		g.reject(ctx, endpointOther, reasonNotFound)
		return
	}
	client := clientIP(ctx, cfg)
	if !g.inFlight.acquire(client, cfg.maxPerClient) {
		g.metrics.requests[ep].Inc()
		if ep == endpointPixel {
			g.countRejected(ep, reasonTooManyRequests)
			writePixel(ctx)
			return
		}
		g.rejectIn(ctx, cfg, ep, because(reasonTooManyRequests))
		return
	}
	defer g.inFlight.release(client)
	if ep == endpointPixel {
		g.servePixel(ctx, cfg, client, query)
	} else {
		g.servePost(ctx, cfg, ep, client)
	}
}

// endpointOf names the endpoint a path asks for.
func endpointOf(path string) endpoint {
	switch path {
	case pathPixel:
		return endpointPixel
	case pathBeacon:
		return endpointBeacon
	case pathBLE:
		return endpointBLE
	}
	return endpointOther
}

// OnReject makes the gateway call f with the reason (its metric label, such
// as "unknown_site") of every request or event it rejects, and the problem
// as a rejected POST's answer says it ("eid: 8 to 64 characters of ...",
// naming the field at fault, never its value), besides counting it: the
// pixel answers every request with its GIF, so only the hook tells its
// problem. It is for dry runs ("beacongate explain"), which drive the real
// handler and need to know why; set it before the gateway handles a
// request.
func (g *Gateway) OnReject(f func(reason, problem string)) { g.onReject = f }

// countRejected counts a rejection and tells the OnReject hook.
func (g *Gateway) countRejected(ep endpoint, r reason) { g.countProblem(ep, because(r)) }

// countProblem counts p's rejection and tells the OnReject hook.
func (g *Gateway) countProblem(ep endpoint, p problem) {
	g.metrics.rejected[ep][p.reason].Inc()
	if g.onReject != nil {
		g.onReject(reasons[p.reason].name, p.text())
	}
}

// reject answers a request with the reason's fixed status and body, and
// counts it. The input is never echoed.
func (g *Gateway) reject(ctx *fasthttp.RequestCtx, ep endpoint, r reason) {
	g.rejectProblem(ctx, ep, because(r))
}

// rejectProblem answers a request with the problem's status and a body
// naming the field at fault (never its value), and counts it. A rejection
// of POST /b or /ble carries the CORS headers its 204 would (setCORS), so
// that a page's fetch from a configured origin can read why, instead of
// the opaque network error a browser makes of an answer without them.
func (g *Gateway) rejectProblem(ctx *fasthttp.RequestCtx, ep endpoint, p problem) {
	g.rejectIn(ctx, nil, ep, p)
}

// rejectIn is rejectProblem for a request served with the settings cfg:
// its CORS headers come from them, not from settings a reload swapped in
// while the request ran (nil: the current settings, for a request refused
// before it took any).
func (g *Gateway) rejectIn(ctx *fasthttp.RequestCtx, cfg *compiled, ep endpoint, p problem) {
	r := p.reason
	g.countProblem(ep, p)
	ctx.Response.SetStatusCode(reasons[r].status)
	ctx.Response.Header.SetContentTypeBytes(contentTypeText)
	appendProblem(&ctx.Response, p)
	if ep == endpointBeacon || ep == endpointBLE {
		if cfg == nil {
			cfg = g.settings.Load()
		}
		setCORS(ctx, cfg)
	}
	if r == reasonMethodNotAllowed {
		ctx.Response.Header.SetCanonical(headerAllow, allowPost)
	}
	if v := retryAfter[r]; v != nil {
		ctx.Response.Header.SetCanonical(headerRetryAfter, v)
	}
}

var (
	contentTypeText  = []byte("text/plain; charset=utf-8")
	headerRetryAfter = []byte("Retry-After")
	headerAllow      = []byte("Allow")
	allowPost        = []byte("POST, OPTIONS")
)

// ServerOptions are the fasthttp server limits. A zero field means the default.
type ServerOptions struct {
	ReadTimeout    time.Duration // default 5s; also bounds slow clients
	WriteTimeout   time.Duration // default 5s
	IdleTimeout    time.Duration // default 60s
	MaxHeaderBytes int           // default 8 KiB
	// MaxBodyBytes is the body limit (default 64 KiB). A larger body gets
	// 413 on every path. Up to twice the limit, and when its length is
	// announced, it is read and dropped so that the connection stays open
	// (see readOversizeBodies); beyond that, or chunked, fasthttp refuses
	// it unread and closes the connection.
	MaxBodyBytes int
	// MaxConnsPerIP caps the connections open at once from one peer
	// address (the socket's; an IPv6 one by its /64), default 100. It is enforced by
	// Gateway.Listener, which the server must be served through: a
	// connection over it is answered 429 and closed, and counted.
	MaxConnsPerIP int
	// MaxConns is the connection cap of the LimitedListener the server is
	// served through: more connections wait in the accept queue instead of
	// being refused. fasthttp's own Concurrency is set to twice it, since a
	// connection gives its listener slot back when it closes, a moment
	// before its worker is free again: at the same number, a connection
	// accepted in that moment would get fasthttp's 503. Default:
	// fasthttp's DefaultConcurrency.
	MaxConns int
}

// concurrencyFor is fasthttp's Concurrency for a listener cap of maxConns:
// room for every connection served plus one closing per slot (see
// ServerOptions.MaxConns).
func concurrencyFor(maxConns int) int {
	if maxConns >= fasthttp.DefaultConcurrency/2 {
		return max(maxConns, fasthttp.DefaultConcurrency)
	}
	return 2 * maxConns
}

// NewServer returns a fasthttp server that serves g with the given limits.
// Requests that fasthttp itself rejects (headers too large, body too large,
// timeouts) are answered with a small fixed body and counted.
func (g *Gateway) NewServer(o ServerOptions) *fasthttp.Server {
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 5 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 5 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 60 * time.Second
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 8 << 10
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 64 << 10
	}
	if o.MaxConnsPerIP <= 0 {
		o.MaxConnsPerIP = 100
	}
	if o.MaxConns <= 0 {
		o.MaxConns = fasthttp.DefaultConcurrency
	}
	// Not fasthttp's MaxConnsPerIP: its refusal names its own option, is
	// neither counted nor logged, and hides Listener's connection.
	g.conns.maxPerPeer.Store(int32(min(o.MaxConnsPerIP, math.MaxInt32)))
	limit := o.MaxBodyBytes
	return &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			if ctx.Request.Header.ContentLength() > limit {
				g.refuseBody(ctx)
				return
			}
			if transferEncodingNotChunked(ctx.Request.Header.RawHeaders()) {
				g.refuseFraming(ctx)
				return
			}
			g.Handle(ctx)
		},
		HeaderReceived:        readOversizeBodies(limit),
		ErrorHandler:          g.handleServerError,
		Name:                  "beacongate",
		ReadTimeout:           o.ReadTimeout,
		WriteTimeout:          o.WriteTimeout,
		IdleTimeout:           o.IdleTimeout,
		ReadBufferSize:        o.MaxHeaderBytes,
		MaxRequestBodySize:    o.MaxBodyBytes,
		Concurrency:           concurrencyFor(o.MaxConns),
		NoDefaultServerHeader: true,
		NoDefaultDate:         true,
		NoDefaultContentType:  true,
		// Multipart bodies are walked in place by the handler; fasthttp's
		// own pre-parse would allocate a form for each.
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		Logger:                       silentLogger{},
		// The gateway takes an event's receive time from its own clock
		// (Settings.Clock) and never asks fasthttp for the request's:
		// with this fasthttp skips a clock read per request (47 ns by
		// BenchmarkNow here) and tracks idle connections on a clock it
		// refreshes once a second.
		LazyRequestTime: true,
	}
}

// readOversizeBodies has fasthttp read a body of announced length up to twice
// limit instead of refusing it unread, for the server's handler to answer
// 413 (refuseBody) on a connection kept open. fasthttp refuses a larger
// body unread, and must then close the connection, since the unread bytes
// would be taken for the next request: a client whose beacon came out a
// little too large would pay a new connection, some 14 allocations, for
// each refusal. A chunked body keeps the plain limit. The price is memory:
// fasthttp keeps each connection context's body buffer for the context's
// life (it never shrinks it), and that buffer is the body's size rounded
// up to a power of two. A connection that sent such a body therefore
// keeps up to twice what a body at the limit leaves it: 128 KiB instead
// of 64 KiB by default, 2 MiB instead of 1 MiB at limit 600,000.
func readOversizeBodies(limit int) func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
	return func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		if n := h.ContentLength(); n > limit && n <= 2*limit {
			return fasthttp.RequestConfig{MaxRequestBodySize: n}
		}
		return fasthttp.RequestConfig{}
	}
}

// cutLine returns the first line of raw header lines, without its "\n"
// (a "\r" stays), and the lines after it.
func cutLine(raw []byte) (line, rest []byte) {
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		return raw[:i], raw[i+1:]
	}
	return raw, nil
}

// transferEncodingNotChunked reports whether raw, a request's header lines
// as received, holds a Transfer-Encoding other than chunked. fasthttp
// refuses every transfer coding but chunked and identity, and takes
// "Transfer-Encoding: identity" as no framing at all: the request has no
// body and the bytes sent as its body are read as the next request, so one
// request made two (a second pixel event), and a proxy in front that framed
// it otherwise would have a request smuggled past it. RFC 9112 section 6.3
// says a request whose Transfer-Encoding does not end in chunked must be
// answered 400 and its connection closed. fasthttp keeps no trace of the
// header but the raw lines, so they are read: the first byte of each line,
// and a whole name only for one beginning with 't'.
func transferEncodingNotChunked(raw []byte) bool {
	const name = "transfer-encoding"
	for len(raw) > 0 {
		var line []byte
		line, raw = cutLine(raw)
		if len(line) <= len(name) || line[0]|0x20 != 't' || line[len(name)] != ':' ||
			!bytes.EqualFold(line[:len(name)], []byte(name)) {
			continue
		}
		v := trimOWS(bytes.TrimSuffix(line[len(name)+1:], []byte("\r")))
		if !bytes.EqualFold(v, []byte("chunked")) {
			return true
		}
	}
	return false
}

// refuseFraming answers 400 to a request whose body's length cannot be
// known (transferEncodingNotChunked) and closes its connection, so that
// nothing sent after its header is read as another request.
func (g *Gateway) refuseFraming(ctx *fasthttp.RequestCtx) {
	ctx.SetConnectionClose()
	g.metrics.requests[endpointOther].Inc()
	g.rejectProblem(ctx, endpointOther, problemTransferEncoding)
}

var problemTransferEncoding = problem{
	reason: reasonMalformedRequest,
	field:  "Transfer-Encoding",
	detail: "only chunked is supported (or send Content-Length)",
}

// refuseBody answers 413 to a request whose body is over the limit and was
// read anyway (readOversizeBodies), booked under the endpoint it asked for,
// as fasthttp's own refusal is (handleServerError).
func (g *Gateway) refuseBody(ctx *fasthttp.RequestCtx) {
	ep := endpointOf(b2s(ctx.Path()))
	g.metrics.requests[ep].Inc()
	g.reject(ctx, ep, reasonBodyTooLarge)
}

// handleServerError answers requests fasthttp could not parse, without
// echoing any of their content.
func (g *Gateway) handleServerError(ctx *fasthttp.RequestCtx, err error) {
	r := serverErrorReason(err)
	ep := endpointOther
	if r != reasonMalformedRequest {
		ep = g.failedEndpoint(ctx, err)
	}
	g.metrics.requests[ep].Inc()
	g.reject(ctx, ep, r)
}

// failedEndpoint names the endpoint a request fasthttp could not read asked
// for, so a 413, 431 or 408 is booked where it belongs. A body too large by
// its Content-Length is refused before fasthttp reads it: the header and its
// path are still there. Otherwise fasthttp has reset the request: a failed
// header is quoted at the start of its error message ("contents: \"POST
// /ble HTTP/1.1\r\n..."), and the connection from Listener remembers the
// last request line it read. Either way only the three paths are matched,
// so nothing of the request reaches a label.
func (g *Gateway) failedEndpoint(ctx *fasthttp.RequestCtx, err error) endpoint {
	if len(ctx.Request.Header.RequestURI()) > 1 { // a reset header reads "/"
		return endpointOf(b2s(ctx.Path()))
	}
	msg := err.Error()
	if i := strings.Index(msg, `contents: "`); i >= 0 {
		if ep, ok := requestLineEndpoint(msg[i+len(`contents: "`):]); ok {
			return ep
		}
	}
	if c := g.conns.lookup(ctx.RemoteAddr()); c != nil {
		return c.last
	}
	return endpointOther
}

func isTimeout(err error) bool {
	te := firstErr(err, func(e error) bool { _, ok := e.(interface{ Timeout() bool }); return ok })
	return te != nil && te.(interface{ Timeout() bool }).Timeout()
}

// serverErrorReason is why fasthttp could not read a request, from its
// error.
func serverErrorReason(err error) reason {
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return reasonBodyTooLarge
	case firstErr(err, func(e error) bool { _, ok := e.(*fasthttp.ErrSmallBuffer); return ok }) != nil:
		return reasonHeaderTooLarge
	case isTimeout(err):
		return reasonTimeout
	}
	return reasonMalformedRequest
}

// firstErr returns the first error in err's tree, walked as errors.As
// walks it (As methods aside), for which is reports true, or nil. Unlike
// errors.As it takes no target, which escapes and so costs an allocation
// on every request fasthttp could not read.
func firstErr(err error, is func(error) bool) error {
	for err != nil {
		if is(err) {
			return err
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if found := firstErr(e, is); found != nil {
					return found
				}
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

// silentLogger drops fasthttp's own log lines: they can quote request data.
type silentLogger struct{}

func (silentLogger) Printf(string, ...any) {}
