package gateway

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// requestTarget returns the request's path and query string, as
// ctx.Path() and ctx.URI().QueryString() give them. Those parse the whole
// URI on first use: they copy the query string, decode and normalize the
// path and check the Host header, some 0.4 µs for a pixel's 800-byte URI,
// which the ceiling (bare fasthttp) never pays. When none of that can
// change anything, the raw request target is cut at its '?' instead:
//
//   - it is in origin form ("/p.gif?…", not "//host/…" or "http://…");
//   - it holds no fragment ('#');
//   - its path holds no escape ('%'), repeated slash or dot segment ("/.")
//     to normalize, and no backslash (a separator on Windows);
//   - the Host header is a plain name or address with an optional port, so
//     fasthttp's host check cannot fail (a failed parse reads as the path
//     "/" and an empty query).
//
// Anything else goes to fasthttp's parser. The server has already refused
// targets with control bytes (fasthttp checks the request line).
func requestTarget(ctx *fasthttp.RequestCtx) (path, query []byte) {
	raw := ctx.Request.Header.RequestURI()
	if !plainHost(ctx.Request.Header.Host()) || len(raw) == 0 || raw[0] != '/' ||
		len(raw) > 1 && raw[1] == '/' || bytes.IndexByte(raw, '#') >= 0 {
		return ctx.Path(), ctx.URI().QueryString()
	}
	path = raw
	if q := bytes.IndexByte(raw, '?'); q >= 0 {
		path, query = raw[:q], raw[q+1:]
	}
	for i, c := range path {
		switch {
		case c == '%', c == '\\',
			c == '/' && i+1 < len(path) && (path[i+1] == '/' || path[i+1] == '.'):
			return ctx.Path(), ctx.URI().QueryString()
		}
	}
	return path, query
}

// plainHost reports whether host is a non-empty name or IPv4 address of
// letters, digits, '-', '.', '_' and '~', with an optional ":port" of
// digits: a host fasthttp's URI parser takes as it is.
func plainHost(host []byte) bool {
	if len(host) == 0 {
		return false
	}
	colon := false
	for _, c := range host {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '.', c == '_', c == '~':
			if colon {
				return false
			}
		case c >= '0' && c <= '9':
		case c == ':' && !colon:
			colon = true
		default:
			return false
		}
	}
	return true
}
