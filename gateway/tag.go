package gateway

import (
	"bytes"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/tag"
)

// The tag, bg.js, is served at its versioned path (content never changes,
// cached for a year) and at a short-lived alias for pages that cannot pin
// the version. Both allow any origin: a <script integrity=…
// crossorigin=anonymous> on a site's page fetches it in CORS mode.
// tagVersion is the version part of the tag's file name, bg.<version>.js.
var tagVersion = strings.TrimSuffix(strings.TrimPrefix(tag.Name(), "bg."), ".js")

var (
	pathTag      = tag.Path()
	pathTagAlias = tag.AliasPath

	tagETag              = []byte(`"` + tagVersion + `"`)
	tagETagGzip          = []byte(`"` + tagVersion + `-gzip"`) // another representation: another strong tag (RFC 9110, 8.8.3)
	tagContentType       = []byte("text/javascript; charset=utf-8")
	tagCacheImmutable    = []byte("public, max-age=31536000, immutable")
	tagCacheAlias        = []byte("public, max-age=300") // 5 minutes: a new release reaches /bg.js pages soon
	tagHdrCacheControl   = []byte("Cache-Control")
	tagHdrETag           = []byte("ETag")
	tagHdrVary           = []byte("Vary")
	tagHdrACAO           = []byte("Access-Control-Allow-Origin")
	tagHdrCORP           = []byte("Cross-Origin-Resource-Policy")
	tagHdrNoSniff        = []byte("X-Content-Type-Options")
	tagHdrEncoding       = []byte("Content-Encoding")
	tagAllowGet          = []byte("GET, HEAD")
	tagHdrAcceptEncoding = []byte("Accept-Encoding")
	tagValAny            = []byte("*")
	tagValCrossOrigin    = []byte("cross-origin")
	tagValNoSniff        = []byte("nosniff")
	tagValGzip           = []byte("gzip")
	tagBodyMethod        = []byte("method not allowed\n")
)

// tagResult is the outcome of a request for the tag, a metric label.
type tagResult uint8

const (
	tagServed tagResult = iota
	tagNotModified
	tagMethodNotAllowed
	numTagResults
)

func (r tagResult) String() string {
	switch r {
	case tagServed:
		return "served"
	case tagNotModified:
		return "not_modified"
	}
	return "method_not_allowed"
}

// tagMetrics counts requests for the tag by result.
type tagMetrics struct {
	requests [numTagResults]prometheus.Counter
}

func newTagMetrics(reg prometheus.Registerer) *tagMetrics {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "beacongate_gateway_tag_requests_total",
		Help: "Requests for the bg.js tag, by result (served, not_modified, method_not_allowed).",
	}, []string{"result"})
	if reg != nil {
		reg.MustRegister(vec)
	}
	m := &tagMetrics{}
	for r := tagResult(0); r < numTagResults; r++ {
		m.requests[r] = vec.WithLabelValues(r.String())
	}
	return m
}

// serveTag answers GET and HEAD for the tag: gzipped when the client accepts
// it, 304 for a matching If-None-Match. immutable selects the versioned
// path's year-long caching over the alias's short one.
func (g *Gateway) serveTag(ctx *fasthttp.RequestCtx, immutable bool) {
	h := &ctx.Response.Header
	if !ctx.IsGet() && !ctx.IsHead() {
		g.tagStats.requests[tagMethodNotAllowed].Inc()
		ctx.Response.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		h.SetContentTypeBytes(contentTypeText)
		h.SetBytesKV(headerAllow, tagAllowGet)
		ctx.Response.SetBodyRaw(tagBodyMethod)
		return
	}
	if immutable {
		h.SetBytesKV(tagHdrCacheControl, tagCacheImmutable)
	} else {
		h.SetBytesKV(tagHdrCacheControl, tagCacheAlias)
	}
	// The gzipped and the plain tag are two representations, each with
	// its own ETag, so that a cache that ignores Vary cannot hand a client
	// the gzipped bytes it revalidated as plain ones, or the reverse.
	gz := acceptsGzip(ctx.Request.Header.PeekBytes(tagHdrAcceptEncoding))
	etag := tagETag
	if gz {
		etag = tagETagGzip
	}
	h.SetBytesKV(tagHdrETag, etag)
	h.SetBytesKV(tagHdrVary, tagHdrAcceptEncoding)
	h.SetBytesKV(tagHdrACAO, tagValAny)
	h.SetBytesKV(tagHdrCORP, tagValCrossOrigin)
	h.SetBytesKV(tagHdrNoSniff, tagValNoSniff)
	if inm := ctx.Request.Header.PeekBytes(tagHdrIfNoneMatch); len(inm) > 0 && (bytes.Contains(inm, etag) || isAnyETag(inm)) {
		g.tagStats.requests[tagNotModified].Inc()
		ctx.Response.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	g.tagStats.requests[tagServed].Inc()
	h.SetContentTypeBytes(tagContentType)
	if gz {
		h.SetBytesKV(tagHdrEncoding, tagValGzip)
		ctx.Response.SetBodyRaw(tag.Gzip())
		return
	}
	ctx.Response.SetBodyRaw(tag.JS())
}

// isAnyETag reports whether an If-None-Match value is "*", which matches
// any current representation (RFC 9110, 13.1.2).
func isAnyETag(inm []byte) bool { return string(trimOWS(inm)) == "*" }

var tagHdrIfNoneMatch = []byte("If-None-Match")

var (
	codingXGzip = []byte("x-gzip")
	codingAny   = []byte("*")
	paramQ      = []byte("q")
)

// acceptsGzip reports whether an Accept-Encoding value accepts gzip: a
// "gzip" (or "x-gzip") coding, else "*", with a q-value above 0 (RFC 9110,
// 12.5.3). "gzip;q=0" refuses it whatever "*" says.
func acceptsGzip(v []byte) bool {
	star := false
	for len(v) > 0 {
		var m []byte
		m, v = cutListItem(v, ',')
		coding, params := cutListItem(m, ';')
		switch {
		case bytes.EqualFold(coding, tagValGzip) || bytes.EqualFold(coding, codingXGzip):
			return qAboveZero(params)
		case bytes.Equal(coding, codingAny):
			star = qAboveZero(params)
		}
	}
	return star
}

// qAboveZero reports whether a coding's parameters ("q=0.5") leave its
// weight above zero: no q, or one other than 0, 0., 0.0, 0.00, 0.000.
func qAboveZero(params []byte) bool {
	for len(params) > 0 {
		var p []byte
		p, params = cutListItem(params, ';')
		name, val, ok := bytes.Cut(p, []byte{'='})
		if !ok || !bytes.EqualFold(trimOWS(name), paramQ) {
			continue
		}
		val = trimOWS(val)
		if len(val) == 0 || val[0] != '0' {
			return true // "1", "1.000" (or not a weight: taken as given)
		}
		return len(bytes.Trim(val[1:], ".0")) > 0 // "0.5" yes, "0.000" no
	}
	return true
}
