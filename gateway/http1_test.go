package gateway

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/clock"
)

// serveHTTP1 serves g as the gateway serves it (NewServer through
// g.Listener) on a loopback port and returns its address.
func serveHTTP1(t *testing.T, g *Gateway, o ServerOptions) string {
	t.Helper()
	srv := g.NewServer(o)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(g.Listener(ln))
	t.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

// exchange writes raw on a new connection, half-closes it and reads every
// byte the server answers until it closes the connection (or 5 s pass).
func exchange(t *testing.T, addr, raw string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	b, err := io.ReadAll(c)
	if errors.Is(err, syscall.ECONNRESET) && len(b) > 0 {
		// The server closed with bytes of the request unread.
		return string(b)
	}
	if err != nil {
		t.Fatalf("reading the answer: %v (so far %q)", err, b)
	}
	return string(b)
}

// TestTransferEncodingIdentityRefused: a request whose Transfer-Encoding is
// not chunked has no knowable body length (RFC 9112 section 6.3): it is
// answered 400 naming the header and its connection closed, so what it sent
// as its body is never read as a request of its own. fasthttp reads
// "identity" as no body at all, and the body, here a whole pixel request,
// made a second event.
func TestTransferEncodingIdentityRefused(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec, Clock: clock.Fixed(bleNow)}, prometheus.NewRegistry())
	addr := serveHTTP1(t, g, ServerOptions{})
	smuggled := "GET /p.gif?site=s&event=smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, c := range []struct{ name, head string }{
		{"pixel", "GET /p.gif?site=s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n"},
		{"pixel, lower case", "GET /p.gif?site=s HTTP/1.1\r\nHost: x\r\ntransfer-encoding:IDENTITY \r\n\r\n"},
		{"beacon", "POST /b HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: identity\r\n\r\n"},
		{"beacon with a length", "POST /b HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: identity\r\nContent-Length: 0\r\n\r\n"},
	} {
		rec.events = nil
		got := exchange(t, addr, c.head+smuggled)
		if n := strings.Count(got, "HTTP/1.1 "); n != 1 {
			t.Errorf("%s: %d answers to one request: %q", c.name, n, got)
		}
		if !strings.HasPrefix(got, "HTTP/1.1 400 ") || !strings.Contains(got, "Connection: close\r\n") ||
			!strings.HasSuffix(got, "\r\n\r\nTransfer-Encoding: only chunked is supported (or send Content-Length)\n") {
			t.Errorf("%s: answer %q; want 400 naming Transfer-Encoding, connection closed", c.name, got)
		}
		if len(rec.events) != 0 {
			t.Errorf("%s: %d events recorded (%q); want none", c.name, len(rec.events), rec.events[0].Name)
		}
	}
	// chunked, in any case, is read as before, and the request after it too.
	rec.events = nil
	body := `{"site":"s","event":"chunked"}`
	got := exchange(t, addr, "POST /b HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: Chunked\r\n\r\n"+
		"1e\r\n"+body+"\r\n0\r\n\r\n"+"GET /p.gif?site=s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.1 204 ") || strings.Count(got, "HTTP/1.1 200 OK") != 1 || len(rec.events) != 2 {
		t.Errorf("chunked beacon and a pixel: %d events, answer %q", len(rec.events), got)
	}
}

func TestTransferEncodingNotChunked(t *testing.T) {
	for raw, want := range map[string]bool{
		"":            false,
		"Host: x\r\n": false,
		"Host: x\r\nTransfer-Encoding: chunked\r\n": false,
		"transfer-encoding:\tCHUNKED \r\n":          false,
		"Transfer-Encoding: identity\r\n":           true,
		"Host: x\r\nTRANSFER-ENCODING: identity":    true,
		"Transfer-Encodings: identity\r\n":          false,
		"X-Transfer-Encoding: identity\r\n":         false,
		"Trailer: x\r\nTE: trailers\r\n":            false,
	} {
		if got := transferEncodingNotChunked([]byte(raw)); got != want {
			t.Errorf("%q: %v; want %v", raw, got, want)
		}
	}
}

// TestContentEncodedBodyRefused: the gateway does not decode a request
// body's content coding, so a body sent with one is refused with 415 naming
// Content-Encoding and an Accept-Encoding saying what is taken (RFC 9110
// sections 8.4 and 12.5.3). Read as it is, a gzipped JSON beacon was
// answered "body is not valid JSON", and a body labelled gzip but sent
// plain was taken.
func TestContentEncodedBodyRefused(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec, Clock: clock.Fixed(bleNow)}, prometheus.NewRegistry())
	addr := serveHTTP1(t, g, ServerOptions{})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"site":"s","event":"gzipped"}`))
	zw.Close()
	plain := `{"site":"s","event":"plain"}`
	post := func(path, ct string, body []byte, hdr ...string) string {
		req := "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + ct + "\r\nConnection: close\r\n"
		for _, h := range hdr {
			req += h + "\r\n"
		}
		return exchange(t, addr, req+"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+string(body))
	}
	for _, c := range []struct {
		name, path, ct string
		body           []byte
		hdr            []string
	}{
		{"gzipped beacon", "/b", "text/plain", gz.Bytes(), []string{"Content-Encoding: gzip"}},
		{"plain beacon labelled gzip", "/b", "application/json", []byte(plain), []string{"Content-Encoding: gzip"}},
		{"form labelled deflate", "/b", "application/x-www-form-urlencoded", []byte("site=s&event=form"), []string{"Content-Encoding: deflate"}},
		{"BLE labelled br", "/ble", "application/json", []byte(plain), []string{"content-encoding:  BR "}},
		{"gzip after identity", "/b", "text/plain", []byte(plain), []string{"Content-Encoding: identity", "Content-Encoding: gzip"}},
	} {
		rec.events = nil
		got := post(c.path, c.ct, c.body, c.hdr...)
		if !strings.HasPrefix(got, "HTTP/1.1 415 ") || !strings.Contains(got, "\r\nAccept-Encoding: identity\r\n") ||
			!strings.HasSuffix(got, "\r\n\r\nContent-Encoding: not supported: send the body uncompressed\n") {
			t.Errorf("%s: %q; want 415 naming Content-Encoding, with Accept-Encoding: identity", c.name, got)
		}
		if len(rec.events) != 0 {
			t.Errorf("%s: %d events recorded; want none", c.name, len(rec.events))
		}
	}
	// identity, or no coding at all, is read as before.
	rec.events = nil
	for _, hdr := range [][]string{nil, {"Content-Encoding: identity"}} {
		if got := post("/b", "text/plain", []byte(plain), hdr...); !strings.HasPrefix(got, "HTTP/1.1 204 ") {
			t.Errorf("beacon with %q: %q; want 204", hdr, got)
		}
	}
	if len(rec.events) != 2 {
		t.Errorf("%d events from two plain beacons; want 2", len(rec.events))
	}
}

// TestLongRequestLineAnswer: server.max_header_bytes bounds the request line
// and the headers together, so a pixel whose query alone is too long (a
// long page URL and a TC string) gets 431; its answer says the request line
// counts. It said "request headers too large", and a producer whose headers
// were a few hundred bytes looked for a header at fault.
func TestLongRequestLineAnswer(t *testing.T) {
	g := New(Settings{Clock: clock.Fixed(bleNow)}, prometheus.NewRegistry())
	addr := serveHTTP1(t, g, ServerOptions{MaxHeaderBytes: 4096})
	got := exchange(t, addr, "GET /p.gif?site=s&url="+strings.Repeat("a", 4200)+" HTTP/1.1\r\nHost: x\r\n\r\n")
	want := "\r\n\r\nrequest line and headers too large: the request target (a pixel's query) counts with the headers against the limit\n"
	if !strings.HasPrefix(got, "HTTP/1.1 431 ") || !strings.HasSuffix(got, want) {
		t.Errorf("pixel with a 4200-byte query: %q; want 431 ending %q", got, want)
	}
	// Within the limit, the same pixel is served.
	if got := exchange(t, addr, "GET /p.gif?site=s&url="+strings.Repeat("a", 3800)+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 200 ") {
		t.Errorf("pixel with a 3800-byte query: %q; want 200", got)
	}
}
