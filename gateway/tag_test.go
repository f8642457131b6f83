package gateway

import (
	"bytes"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/beacongate/beacongate/tag"
)

// TestTagServed checks the versioned and alias URLs of bg.js: content,
// caching, CORS for SRI, gzip, conditional requests and methods.
func TestTagServed(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := New(Settings{Sites: map[string][]string{"s": {"https://shop.example"}}}, reg)
	d := newDriver(g, "203.0.113.7")

	r := d.do(rawRequest("GET", tag.Path(), nil))
	if r.StatusCode() != 200 || !bytes.Equal(r.Body(), tag.JS()) {
		t.Fatalf("GET %s: %d, %d bytes; want 200 and the tag", tag.Path(), r.StatusCode(), len(r.Body()))
	}
	for k, want := range map[string]string{
		"Content-Type":                 "text/javascript; charset=utf-8",
		"Cache-Control":                "public, max-age=31536000, immutable",
		"Access-Control-Allow-Origin":  "*",
		"Cross-Origin-Resource-Policy": "cross-origin",
		"X-Content-Type-Options":       "nosniff",
		"Vary":                         "Accept-Encoding",
		"Content-Encoding":             "",
	} {
		if got := string(r.Header.Peek(k)); got != want {
			t.Errorf("GET %s: %s = %q; want %q", tag.Path(), k, got, want)
		}
	}
	etag := string(r.Header.Peek("ETag"))
	if !strings.HasPrefix(etag, `"`) || !strings.Contains(tag.Name(), strings.Trim(etag, `"`)) {
		t.Errorf("ETag %q does not name the version %s", etag, tag.Name())
	}

	r = d.do(rawRequest("GET", tag.AliasPath, nil, "Accept-Encoding", "gzip, deflate, br"))
	if r.StatusCode() != 200 || !bytes.Equal(r.Body(), tag.Gzip()) || string(r.Header.Peek("Content-Encoding")) != "gzip" {
		t.Fatalf("GET /bg.js with gzip: %d, %d bytes, encoding %q", r.StatusCode(), len(r.Body()), r.Header.Peek("Content-Encoding"))
	}
	if cc := string(r.Header.Peek("Cache-Control")); cc != "public, max-age=300" {
		t.Errorf("alias Cache-Control %q; want short-lived public, max-age=300", cc)
	}

	// Accept-Encoding is a list with q-values (RFC 9110, 12.5.3): q=0
	// refuses a coding, "*" stands for those not listed.
	encodings := map[string]bool{
		"gzip;q=0": false, "gzip; q=0.000, br": false, "br, GZIP;Q=0.5": true, "x-gzip": true,
		"*": true, "*;q=0": false, "gzip;q=0, *": false, "identity": false, "deflate, gzipx": false,
	}
	for ae, gz := range encodings {
		r = d.do(rawRequest("GET", tag.Path(), nil, "Accept-Encoding", ae))
		if got := string(r.Header.Peek("Content-Encoding")) == "gzip"; got != gz || got && !bytes.Equal(r.Body(), tag.Gzip()) || !got && !bytes.Equal(r.Body(), tag.JS()) {
			t.Errorf("Accept-Encoding %q: gzip %v; want %v", ae, got, gz)
		}
	}

	r = d.do(rawRequest("GET", tag.Path(), nil, "If-None-Match", etag))
	if r.StatusCode() != 304 || len(r.Body()) != 0 {
		t.Errorf("If-None-Match %s: %d, %d bytes; want 304, empty", etag, r.StatusCode(), len(r.Body()))
	}
	r = d.do(rawRequest("GET", tag.Path(), nil, "If-None-Match", `"0000"`))
	if r.StatusCode() != 200 {
		t.Errorf("stale If-None-Match: %d; want 200", r.StatusCode())
	}

	// The gzipped tag is another representation with another strong
	// ETag (RFC 9110, 8.8.3): until 2026-12-06 both had the same, so a
	// cache ignoring Vary could revalidate the plain bytes with the
	// gzipped tag's ETag and serve them as gzip (or the reverse).
	r = d.do(rawRequest("GET", tag.Path(), nil, "Accept-Encoding", "gzip"))
	gzETag := string(r.Header.Peek("ETag"))
	if gzETag == etag || !strings.HasPrefix(gzETag, `"`) || !strings.Contains(gzETag, strings.Trim(etag, `"`)) {
		t.Errorf("gzipped tag's ETag %q; want one of its own naming the version (the plain tag's is %q)", gzETag, etag)
	}
	for _, c := range []struct {
		ae, inm string
		want    int
	}{
		{"gzip", gzETag, 304},
		{"gzip", etag, 200},
		{"", gzETag, 200},
		{"", etag, 304},
		{"gzip", `W/` + gzETag, 304},
		{"gzip", `"0000", ` + gzETag, 304},
		{"gzip", "*", 304},
		{"", " * ", 304},
	} {
		r = d.do(rawRequest("GET", tag.Path(), nil, "Accept-Encoding", c.ae, "If-None-Match", c.inm))
		if r.StatusCode() != c.want || r.StatusCode() == 304 && string(r.Header.Peek("ETag")) != map[bool]string{true: gzETag, false: etag}[c.ae == "gzip"] {
			t.Errorf("Accept-Encoding %q, If-None-Match %s: %d, ETag %q; want %d", c.ae, c.inm, r.StatusCode(), r.Header.Peek("ETag"), c.want)
		}
	}

	r = d.do(rawRequest("POST", tag.Path(), []byte("x"), "Content-Type", "text/plain"))
	if r.StatusCode() != 405 || string(r.Header.Peek("Allow")) != "GET, HEAD" {
		t.Errorf("POST %s: %d, Allow %q; want 405, GET, HEAD", tag.Path(), r.StatusCode(), r.Header.Peek("Allow"))
	}
	for _, p := range []string{"/bg.000000000000.js", "/bg.js/x", "/BG.js"} {
		if st := d.do(rawRequest("GET", p, nil)).StatusCode(); st != 404 {
			t.Errorf("GET %s: %d; want 404", p, st)
		}
	}
	m, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range m {
		names = append(names, f.GetName())
	}
	if !strings.Contains(strings.Join(names, " "), "beacongate_gateway_tag_requests_total") {
		t.Errorf("tag metric not registered: %v", names)
	}
	for res, want := range map[tagResult]float64{tagServed: 6 + float64(len(encodings)), tagNotModified: 7, tagMethodNotAllowed: 1} {
		if got := testutil.ToFloat64(g.tagStats.requests[res]); got != want {
			t.Errorf("tag requests %s = %v; want %v", res, got, want)
		}
	}
}
