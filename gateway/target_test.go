package gateway

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// targetCases are request targets and Host headers around every condition
// of requestTarget's shortcut.
var targetCases = []struct{ target, host string }{
	{"/p.gif?site=shop.example&url=https%3A%2F%2Fshop.example%2F%3Fa%3D1&gdpr=1", "shop.example"},
	{"/p.gif", "t.shop.example:8080"},
	{"/p.gif?", "127.0.0.1"},
	{"/", "h"}, {"/?a=b", "h"}, {"/b", "H.EXAMPLE"}, {"/ble?x=%41", "h_1~x"},
	{"/p.gif?a=b#frag", "h"}, {"/p.gif#frag?a=b", "h"}, {"/p.gif?a=%23", "h"},
	{"/p%2Egif?a=b", "h"}, {"/p.gif%3Fa=b", "h"}, {"//p.gif?a=b", "h"}, {"/x//p.gif", "h"},
	{"/./p.gif?a", "h"}, {"/x/../p.gif?a", "h"}, {"/p.gif/.", "h"}, {"/p.gif/..", "h"}, {"/x/.hidden", "h"},
	{"/p.gif.", "h"}, {"/p\\..\\b", "h"}, {"/a?b?c", "h"}, {"/a?b/../c", "h"},
	{"http://other.example/p.gif?a=b", "h"}, {"http://other.example", "h"}, {"*", "h"},
	{"/p.gif?a=b", ""}, {"/p.gif?a=b", "[::1]:80"}, {"/p.gif?a=b", "[::1"}, {"/p.gif?a=b", "h:80:90"},
	{"/p.gif?a=b", "h:x"}, {"/p.gif?a=b", "h:"}, {"/p.gif?a=b", ":80"}, {"/p.gif?a=b", "user@h"},
	{"/p.gif?a=b", "h%41"}, {"/p.gif?a=b", "h h"}, {"/p.gif?a=b", "ĥ.example"}, {"/p.gif?a=b", "a,b"},
}

// readRequest parses a GET of target with host as fasthttp's server does
// (HTTP/1.0 without a Host header), or reports false if fasthttp refuses it.
func readRequest(ctx *fasthttp.RequestCtx, target, host string) bool {
	raw := "GET " + target + " HTTP/1.0\r\n"
	if host != "" {
		raw = "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n"
	}
	return ctx.Request.Read(bufio.NewReader(strings.NewReader(raw+"\r\n"))) == nil
}

// checkTarget compares requestTarget with fasthttp's parsed URI, and
// reports whether fasthttp read the request at all.
func checkTarget(t *testing.T, target, host string) bool {
	t.Helper()
	var ctx fasthttp.RequestCtx
	if !readRequest(&ctx, target, host) {
		return false
	}
	p, q := requestTarget(&ctx)
	path, query := string(p), string(q) // before fasthttp parses (and reuses) anything
	if want := string(ctx.Path()); path != want {
		t.Errorf("target %q, host %q: path %q, fasthttp %q", target, host, path, want)
	}
	if want := string(ctx.URI().QueryString()); query != want {
		t.Errorf("target %q, host %q: query %q, fasthttp %q", target, host, query, want)
	}
	return true
}

func TestRequestTargetMatchesFasthttp(t *testing.T) {
	for _, c := range targetCases {
		// Only "*" (the asterisk form, for OPTIONS) is refused for a GET.
		if read := checkTarget(t, c.target, c.host); read != (c.target != "*") {
			t.Errorf("target %q, host %q: fasthttp read it: %v", c.target, c.host, read)
		}
	}
	// The shortcut is taken where it should be: a plain pixel reads no URI.
	var ctx fasthttp.RequestCtx
	if !readRequest(&ctx, targetCases[0].target, "shop.example") {
		t.Fatal("the pixel request was not read")
	}
	raw := ctx.Request.Header.RequestURI()
	if _, q := requestTarget(&ctx); len(q) == 0 || &q[0] != &raw[len("/p.gif?")] {
		t.Fatal("the query of a plain pixel target is not the raw target's")
	}
}

func FuzzRequestTarget(f *testing.F) {
	for _, c := range targetCases {
		f.Add(c.target, c.host)
	}
	f.Fuzz(func(t *testing.T, target, host string) {
		if strings.ContainsAny(target, " \r\n") || strings.ContainsAny(host, "\r\n") {
			return // another request line or header, not another target
		}
		checkTarget(t, target, host)
	})
}
