package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/event"
)

func TestPixelAlwaysAnswersGIF(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec}, nil)
	d := newDriver(g, "198.51.100.20")
	f := func(raw []byte, wantEvents int) {
		t.Helper()
		rec.events = rec.events[:0]
		resp := d.do(raw)
		if resp.StatusCode() != 200 || !bytes.Equal(resp.Body(), transparentGIF) {
			t.Fatalf("status %d body %q; want 200 and the GIF", resp.StatusCode(), resp.Body())
		}
		if ct := string(resp.Header.ContentType()); ct != "image/gif" {
			t.Fatalf("content type %q", ct)
		}
		if cc := string(resp.Header.Peek("Cache-Control")); cc != "no-store, max-age=0" {
			t.Fatalf("cache control %q", cc)
		}
		if len(rec.events) != wantEvents {
			t.Fatalf("%d events; want %d", len(rec.events), wantEvents)
		}
	}
	f(rawRequest("GET", "/p.gif?site=a", nil), 1)
	f(rawRequest("GET", "/p.gif", nil), 0)                                // no site: rejected, still a GIF
	f(rawRequest("GET", "/p.gif?site=a&url=%ff%fe", nil), 0)              // invalid UTF-8
	f(rawRequest("GET", "/p.gif?site=a&gdpr=maybe", nil), 1)              // a flag not understood: refused, the event kept
	f(rawRequest("GET", "/p.gif?site="+strings.Repeat("s", 200), nil), 0) // too long
	f(rawRequest("POST", "/p.gif?site=a", []byte("x")), 0)                // wrong method
	if len(transparentGIF) != 43 {
		t.Fatalf("GIF is %d bytes; want 43", len(transparentGIF))
	}
	// A HEAD (a link checker, an uptime probe, a mail client's prefetch)
	// gets the GIF's headers and records nothing: until 2026-12-06 each
	// was a page view.
	rec.events = rec.events[:0]
	resp := d.do(rawRequest("HEAD", "/p.gif?site=a&url=https%3A%2F%2Fa.example%2F", nil))
	if resp.StatusCode() != 200 || string(resp.Header.ContentType()) != "image/gif" || len(rec.events) != 0 {
		t.Fatalf("HEAD: status %d, type %q, %d events; want 200, image/gif, none", resp.StatusCode(), resp.Header.ContentType(), len(rec.events))
	}
}

func TestPixelFields(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec}, nil)
	d := newDriver(g, "198.51.100.20")
	d.do(rawRequest("GET", "/p.gif?site=shop&uid=u1&cid=c1&p.plan=pro&gcs=G101&consent=analytics&junk=1", nil,
		"Referer", "https://shop.example/cart", "User-Agent", "UA/1", "Accept-Language", "fr-FR", "DNT", "1",
		"Cookie", "euconsent-v2="+realTC))
	if len(rec.events) != 1 {
		t.Fatalf("%d events", len(rec.events))
	}
	e := rec.events[0]
	f := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("%s = %q; want %q", name, got, want)
		}
	}
	f("site", string(e.Site), "shop")
	f("name", string(e.Name), "pageview")
	f("url (from Referer)", string(e.URL), "https://shop.example/cart")
	f("uid", string(e.UserID), "u1")
	f("cid", string(e.ClientID), "c1")
	f("ua", string(e.UserAgent), "UA/1")
	f("lang", string(e.AcceptLanguage), "fr-FR")
	f("gcs", string(e.Consent.GCS), "G101")
	f("tc from cookie", string(e.Consent.TCString), realTC)
	f("explicit", string(e.Consent.Explicit), "analytics")
	f("ip", e.ClientIP.String(), "198.51.100.20")
	if !e.Consent.DNT || e.Consent.GPC {
		t.Fatalf("DNT %v GPC %v", e.Consent.DNT, e.Consent.GPC)
	}
	if len(e.Props) != 1 || string(e.Props[0].Key) != "plan" || string(e.Props[0].Value) != "pro" {
		t.Fatalf("props %+v", e.Props)
	}
	if e.Kind != event.KindPixel {
		t.Fatalf("kind %v", e.Kind)
	}
}

func TestBeacon(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec, Limits: Limits{MaxEventsPerRequest: 3}}, nil)
	d := newDriver(g, "2001:db8::7")
	f := func(ct, body string, wantStatus, wantEvents int) {
		t.Helper()
		rec.events = rec.events[:0]
		var hdr []string
		if ct != "" {
			hdr = []string{"Content-Type", ct}
		}
		resp := d.do(rawRequest("POST", "/b", []byte(body), hdr...))
		if resp.StatusCode() != wantStatus {
			t.Fatalf("%s %q: status %d; want %d", ct, body, resp.StatusCode(), wantStatus)
		}
		if len(rec.events) != wantEvents {
			t.Fatalf("%q: %d events; want %d", body, len(rec.events), wantEvents)
		}
		if wantStatus >= 400 && (len(resp.Body()) == 0 || len(resp.Body()) > 120 || bytes.Contains(resp.Body(), []byte("secret"))) {
			t.Fatalf("error body %q: want a short fixed message that does not echo input", resp.Body())
		}
	}
	plain := "text/plain;charset=UTF-8"
	f(plain, `{"site":"s","event":"click","props":{"n":1.5,"b":true,"s":"x"}}`, 204, 1)
	f("application/json", `[{"site":"s"},{"site":"s"},{"site":"s"}]`, 204, 3)
	f("application/x-www-form-urlencoded", `site=s&event=e&p.k=v`, 204, 1)
	f(plain, `[{"site":"s"},{"site":"s"},{"site":"s"},{"site":"s"}]`, 400, 0) // too many
	f(plain, `{"site":"secret`, 400, 0)                                       // truncated
	f(plain, "{\"site\":\"\xff\"}", 400, 0)                                   // invalid UTF-8
	f(plain, `{"site":"s","props":{"deep":{"x":1}}}`, 400, 0)                 // nested property
	f(plain, `{"site":"s","uid":true}`, 400, 0)                               // wrong type
	f(plain, `[]`, 400, 0)
	f(plain, `[{"site":"s"},"x"]`, 400, 0)
	f(plain, `"just a string"`, 400, 0)
	f(plain, `{"event":"no site"}`, 400, 0)
	f("application/xml", `<x/>`, 415, 0)
	// sendBeacon with an untyped Blob or an ArrayBuffer sends no
	// Content-Type: read as JSON (until 2026-12-06 refused with 415, and
	// every such event lost).
	f("", `{"site":"s","event":"blob"}`, 204, 1)
	f(plain, ``, 400, 0)
	f(plain, strings.Repeat(" ", 65<<10), 413, 0)
}

// TestBeaconNumericIDs: "uid": 12345 is the id "12345", not a type error
// that loses the whole event.
func TestBeaconNumericIDs(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec}, nil)
	d := newDriver(g, "192.0.2.1")
	resp := d.do(rawRequest("POST", "/b", []byte(`{"site":"s","uid":12345,"cid":-1.5e3}`), "Content-Type", "application/json"))
	if resp.StatusCode() != 204 || len(rec.events) != 1 {
		t.Fatalf("status %d %q, %d events; want 204, 1", resp.StatusCode(), resp.Body(), len(rec.events))
	}
	if e := rec.events[0]; string(e.UserID) != "12345" || string(e.ClientID) != "-1.5e3" {
		t.Fatalf("uid %q cid %q; want 12345, -1.5e3", e.UserID, e.ClientID)
	}
}

func TestBeaconPropsAndConsentList(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec}, nil)
	d := newDriver(g, "192.0.2.1")
	d.do(rawRequest("POST", "/b", []byte(`{"site":"s","consent":["analytics","ads"],"gdpr":true,"props":{"n":-1.25e3,"ok":false}}`), "Content-Type", "application/json"))
	e := rec.events[0]
	if string(e.Consent.Explicit) != "analytics,ads" || e.Consent.GDPR != 1 {
		t.Fatalf("consent %q gdpr %d", e.Consent.Explicit, e.Consent.GDPR)
	}
	if len(e.Props) != 2 || string(e.Props[0].Value) != "-1.25e3" || e.Props[0].Type != event.PropNumber ||
		string(e.Props[1].Value) != "false" || e.Props[1].Type != event.PropBool {
		t.Fatalf("props %+v", e.Props)
	}
}

func TestBLE(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec, Clock: clock.Fixed(bleNow), Limits: Limits{MaxSightingsPerRequest: 40}}, nil)
	d := newDriver(g, "192.0.2.9")
	resp := d.do(rawRequest("POST", "/ble", bleBody(40), "Content-Type", "application/json"))
	if resp.StatusCode() != 204 || len(rec.events) != 40 {
		t.Fatalf("status %d, %d events", resp.StatusCode(), len(rec.events))
	}
	e0, e1 := rec.events[0], rec.events[1]
	if string(e0.Store) != "berlin-01" || string(e0.Sensor) != "gate-3" || string(e0.Site) != "retail.example" {
		t.Fatalf("shared fields %q %q %q", e0.Store, e0.Sensor, e0.Site)
	}
	if string(e0.Sighting.UUID) != "f7826da6-4fa2-4e98-8024-bc5b71e0893e" || e0.Sighting.Major != 100 ||
		e0.Sighting.DeviceKind != event.DeviceMAC || string(e0.Sighting.DeviceID) != "a4:5e:60:e8:1b:00" || e0.Sighting.RSSI != -40 {
		t.Fatalf("iBeacon sighting %+v", e0.Sighting)
	}
	if string(e1.Sighting.Namespace) != "edd1ebeac04e5defa017" || e1.Sighting.DeviceKind != event.DeviceAdID ||
		e1.Sighting.SeenAtMS != bleNow.Add(-5*time.Minute+time.Second).UnixMilli() {
		t.Fatalf("Eddystone sighting %+v", e1.Sighting)
	}
	f := func(body string, want int) {
		t.Helper()
		rec.events = rec.events[:0]
		resp := d.do(rawRequest("POST", "/ble", []byte(body), "Content-Type", "application/json"))
		if resp.StatusCode() != want || (want != 204 && len(rec.events) != 0) {
			t.Fatalf("%s: status %d, %d events; want %d", body, resp.StatusCode(), len(rec.events), want)
		}
	}
	f(`{"site":"r","store":"s1","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50}]}`, 204)
	f(`{"site":"r","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50}]}`, 400) // no store
	f(`{"site":"r","store":"s1","sightings":[]}`, 400)
	f(`{"site":"r","store":"s1"}`, 400)
	f(`{"site":"r","store":"s1","sightings":[{"uuid":"not-a-uuid","major":1,"minor":1,"rssi":-50}]}`, 400)
	f(`{"site":"r","store":"s1","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab"}]}`, 400)             // no rssi
	f(`{"site":"r","store":"s1","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-500}]}`, 400) // rssi range
	f(`{"site":"r","store":"s1","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-5,"mac":"zz"}]}`, 400)
	f(`{"site":"r","store":"s1","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-5,"ts":5}]}`, 400)                                                                                             // 1970
	f(`{"site":"r","store":"s1","sightings":[`+strings.Repeat(`{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-5},`, 40)+`{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-5}]}`, 400) // 41 > cap
	rec.events = rec.events[:0]
	// curl --data @ble.json sends application/x-www-form-urlencoded: the
	// answer says what /ble takes, not a list that includes what was sent.
	resp = d.do(rawRequest("POST", "/ble", []byte(`{"site":"r"}`), "Content-Type", "application/x-www-form-urlencoded"))
	if resp.StatusCode() != 415 || bytes.Contains(resp.Body(), []byte("must be text/plain, application/json, application/x-www-form-urlencoded")) ||
		!bytes.Contains(resp.Body(), []byte("-H 'Content-Type: application/json'")) {
		t.Fatalf("form body on /ble: %d %q; want 415 saying /ble takes application/json", resp.StatusCode(), resp.Body())
	}
}

func TestMethodsAndRoutes(t *testing.T) {
	g := New(Settings{}, nil)
	d := newDriver(g, "192.0.2.1")
	f := func(method, uri string, want int) {
		t.Helper()
		if st := d.do(rawRequest(method, uri, nil)).StatusCode(); st != want {
			t.Fatalf("%s %s: %d; want %d", method, uri, st, want)
		}
	}
	f("GET", "/b", 405)
	f("PUT", "/ble", 405)
	f("GET", "/nope", 404)
	f("OPTIONS", "/b", 403) // no origins configured
}

func TestCORS(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec, Sites: map[string][]string{"shop": {"https://shop.example"}, "blog": {"https://blog.example"}}}, nil)
	d := newDriver(g, "192.0.2.1")
	resp := d.do(rawRequest("OPTIONS", "/b", nil, "Origin", "https://shop.example", "Access-Control-Request-Method", "POST"))
	if resp.StatusCode() != 204 || string(resp.Header.Peek("Access-Control-Allow-Origin")) != "https://shop.example" ||
		string(resp.Header.Peek("Access-Control-Allow-Methods")) != "POST, OPTIONS" {
		t.Fatalf("preflight: %d %q", resp.StatusCode(), resp.Header.Peek("Access-Control-Allow-Origin"))
	}
	// sendBeacon is always credentialed: without this header Chromium drops
	// a JSON Blob beacon after the preflight although sendBeacon returned true.
	if got := string(resp.Header.Peek("Access-Control-Allow-Credentials")); got != "true" {
		t.Fatalf("preflight Access-Control-Allow-Credentials %q; want true", got)
	}
	if st := d.do(rawRequest("OPTIONS", "/b", nil, "Origin", "https://evil.example")).StatusCode(); st != 403 {
		t.Fatalf("preflight from unknown origin: %d", st)
	}
	f := func(site, origin string, want int) {
		t.Helper()
		resp := d.do(rawRequest("POST", "/b", []byte(`{"site":"`+site+`"}`), "Content-Type", "application/json", "Origin", origin))
		if resp.StatusCode() != want {
			t.Fatalf("site %s origin %s: %d; want %d", site, origin, resp.StatusCode(), want)
		}
		if want == 204 && (string(resp.Header.Peek("Access-Control-Allow-Origin")) != origin ||
			string(resp.Header.Peek("Access-Control-Allow-Credentials")) != "true") {
			t.Fatalf("no ACAO or ACAC for %s", origin)
		}
	}
	f("shop", "https://shop.example", 204)
	f("shop", "https://blog.example", 403) // another site's origin
	f("nosuch", "https://shop.example", 400)
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	rec := &recorder{}
	g := New(Settings{Handler: rec, TrustedProxies: trusted}, nil)
	f := func(peer string, want string, headers ...string) {
		t.Helper()
		rec.events = rec.events[:0]
		newDriver(g, peer).do(rawRequest("GET", "/p.gif?site=s", nil, headers...))
		if got := rec.events[0].ClientIP.String(); got != want {
			t.Fatalf("peer %s %v: got %s; want %s", peer, headers, got, want)
		}
	}
	f("203.0.113.5", "203.0.113.5", "X-Forwarded-For", "1.2.3.4")             // untrusted peer: header ignored
	f("10.1.1.1", "1.2.3.4", "X-Forwarded-For", "1.2.3.4")                    // trusted proxy
	f("10.1.1.1", "5.6.7.8", "X-Forwarded-For", "1.2.3.4, 5.6.7.8, 10.9.9.9") // rightmost untrusted
	f("10.1.1.1", "10.1.1.1", "X-Forwarded-For", "garbage")                   // malformed: peer
	f("10.1.1.1", "10.1.1.1", "Forwarded", "for=192.0.2.60;proto=http")       // only the configured header (X-Forwarded-For) counts
	f("::ffff:10.1.1.1", "1.2.3.4", "X-Forwarded-For", "::ffff:1.2.3.4")
}

func TestHandlerErrorMeans503(t *testing.T) {
	rec := &recorder{err: errors.New("spool full")}
	reg := prometheus.NewRegistry()
	g := New(Settings{Handler: rec}, reg)
	d := newDriver(g, "192.0.2.1")
	if st := d.do(rawRequest("POST", "/b", []byte(`{"site":"s"}`), "Content-Type", "application/json")).StatusCode(); st != 503 {
		t.Fatalf("beacon with a failing handler: %d; want 503", st)
	}
	resp := d.do(rawRequest("GET", "/p.gif?site=s", nil))
	if resp.StatusCode() != 200 || len(resp.Body()) != 43 {
		t.Fatalf("pixel with a failing handler: %d", resp.StatusCode())
	}
	if n := testutil.ToFloat64(g.metrics.rejected[endpointPixel][reasonUnavailable]); n != 1 {
		t.Fatalf("unavailable pixel count %v; want 1", n)
	}
}

// TestServerLimits runs the real fasthttp server on 127.0.0.1 and checks
// that the limits fasthttp enforces itself answer small fixed errors.
func TestServerLimits(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := New(Settings{}, reg)
	srv := g.NewServer(ServerOptions{MaxHeaderBytes: 4096, MaxBodyBytes: 1024, ReadTimeout: 2 * time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(g.Listener(ln))
	defer srv.Shutdown()
	c := &fasthttp.Client{}
	do := func(method, uri string, body []byte, hdr ...string) *fasthttp.Response {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.Header.SetMethod(method)
		req.SetRequestURI("http://" + ln.Addr().String() + uri)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		req.SetBody(body)
		if err := c.DoTimeout(req, resp, 5*time.Second); err != nil {
			t.Fatalf("%s %s: %v", method, uri, err)
		}
		return resp
	}
	if resp := do("GET", "/p.gif?site=s", nil); resp.StatusCode() != 200 || len(resp.Body()) != 43 {
		t.Fatalf("pixel over TCP: %d, %d bytes", resp.StatusCode(), len(resp.Body()))
	}
	// Every path answers 413 to a body over the limit. Up to twice the
	// limit, when its length is announced, the body is read and dropped
	// and the connection kept; beyond that, or chunked, it is refused
	// unread and the connection closed.
	for _, c := range []struct {
		method, path string
		ep           endpoint
		size         int
		chunked      bool
		keepAlive    bool
	}{
		{"POST", "/b", endpointBeacon, 1025, false, true},
		{"POST", "/b", endpointBeacon, 2048, false, true},
		{"POST", "/b", endpointBeacon, 2049, false, false},
		{"POST", "/b", endpointBeacon, 64 << 10, false, false},
		{"POST", "/b", endpointBeacon, 1025, true, false},
		{"POST", "/ble", endpointBLE, 1500, false, true},
		{"GET", "/p.gif?site=s", endpointPixel, 1500, false, true},
		{"OPTIONS", "/b", endpointBeacon, 1500, false, true},
		{"PUT", "/b", endpointBeacon, 1500, false, true},
		{"GET", "/t.js", endpointOther, 1500, false, true},
		{"GET", "/nowhere", endpointOther, 1500, false, true},
	} {
		before := testutil.ToFloat64(g.metrics.requests[c.ep])
		pixels := testutil.ToFloat64(g.metrics.requests[endpointPixel])
		resp, next := doRaw(t, ln.Addr().String(), c.method, c.path, bytes.Repeat([]byte("x"), c.size), c.chunked)
		// The refused request counts once; the pixel after it, if served, once.
		want, wantPixels := before+1, pixels
		if next != nil {
			wantPixels++
		}
		if c.ep == endpointPixel {
			want, wantPixels = wantPixels+1, wantPixels+1
		}
		if got, gotPixels := testutil.ToFloat64(g.metrics.requests[c.ep]), testutil.ToFloat64(g.metrics.requests[endpointPixel]); got != want || gotPixels != wantPixels {
			t.Fatalf("%s %s with a body of %d bytes: requests{%s} %v, requests{pixel} %v; want %v, %v", c.method, c.path, c.size, c.ep, got, gotPixels, want, wantPixels)
		}
		if st := resp.StatusCode(); st != 413 {
			t.Fatalf("%s %s with a body of %d bytes (chunked %v): %d; want 413", c.method, c.path, c.size, c.chunked, st)
		}
		if resp.ConnectionClose() == c.keepAlive {
			t.Fatalf("%s %s with a body of %d bytes (chunked %v): connection closed %v; want %v", c.method, c.path, c.size, c.chunked, resp.ConnectionClose(), !c.keepAlive)
		}
		if c.keepAlive && (next == nil || next.StatusCode() != 200) {
			t.Fatalf("%s %s with a body of %d bytes: the next request on the connection got %v; want the pixel", c.method, c.path, c.size, next)
		}
	}
	// At the limit a body is taken.
	if st := do("POST", "/b", []byte(`{"site":"s","pad":"`+strings.Repeat("x", 1024-21)+`"}`), "Content-Type", "text/plain").StatusCode(); st == 413 {
		t.Fatalf("body of exactly the limit: %d", st)
	}
	if st := do("GET", "/p.gif", nil, "X-Huge", strings.Repeat("h", 8000)).StatusCode(); st != 431 {
		t.Fatalf("huge header: %d; want 431", st)
	}
	if st := do("POST", "/ble?x=1", nil, "X-Huge", strings.Repeat("h", 8000)).StatusCode(); st != 431 {
		t.Fatalf("huge header: %d; want 431", st)
	}
	// Booked under the endpoint that was asked for, not "other".
	counted := func(ep endpoint, r reason, want float64) {
		t.Helper()
		if n := testutil.ToFloat64(g.metrics.rejected[ep][r]); n != want {
			t.Fatalf("rejected{endpoint=%s,reason=%s} = %v; want %v", ep, r, n, want)
		}
	}
	counted(endpointBeacon, reasonBodyTooLarge, 7)
	counted(endpointBLE, reasonBodyTooLarge, 1)
	counted(endpointPixel, reasonBodyTooLarge, 1)
	counted(endpointPixel, reasonHeaderTooLarge, 1)
	counted(endpointBLE, reasonHeaderTooLarge, 1)
	counted(endpointOther, reasonHeaderTooLarge, 0)
	counted(endpointOther, reasonBodyTooLarge, 2)
}

// TestServerTimeoutsByEndpoint: a client too slow with its header or body
// gets 408, booked under the endpoint it asked for.
func TestServerTimeoutsByEndpoint(t *testing.T) {
	g := New(Settings{}, prometheus.NewRegistry())
	srv := g.NewServer(ServerOptions{ReadTimeout: 300 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(g.Listener(ln))
	defer srv.Shutdown()
	slow := func(partial string) string {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte(partial)) // then nothing: the server's read times out
		var b bytes.Buffer
		b.ReadFrom(c)
		return b.String()
	}
	if got := slow("POST /b HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n{\"site\""); !strings.HasPrefix(got, "HTTP/1.1 408") {
		t.Fatalf("slow body: %q", got)
	}
	if got := slow("POST /ble HTTP/1.1\r\nHost: x\r\nContent-Ty"); !strings.HasPrefix(got, "HTTP/1.1 408") {
		t.Fatalf("slow header: %q", got)
	}
	if got := slow("BREW /coffee\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 400") {
		t.Fatalf("garbage: %q", got)
	}
	// A connection opened ahead of need (a browser's preconnect) that
	// never sends a byte is closed without a response, as an idle
	// keep-alive one is: until 2026-12-06 it got a 408 and was counted as
	// a rejected request, and a browser that sent its request as the 408
	// arrived took it as the answer.
	if got := slow(""); got != "" {
		t.Fatalf("connection that sent nothing: %q; want it closed without a response", got)
	}
	for _, c := range []struct {
		ep   endpoint
		r    reason
		want float64
	}{{endpointBeacon, reasonTimeout, 1}, {endpointBLE, reasonTimeout, 1}, {endpointOther, reasonTimeout, 0}, {endpointOther, reasonMalformedRequest, 1}} {
		if n := testutil.ToFloat64(g.metrics.rejected[c.ep][c.r]); n != c.want {
			t.Errorf("rejected{endpoint=%s,reason=%s} = %v; want %v", c.ep, c.r, n, c.want)
		}
	}
}

// TestRejectedSeries: /metrics lists only the rejection series a request can
// move (not every endpoint × reason), and one that no request should reach
// is still counted when it is.
func TestRejectedSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := New(Settings{}, reg)
	want := 0
	for _, rs := range reachable {
		want += len(rs)
	}
	if n := testutil.CollectAndCount(reg, "beacongate_gateway_rejected_total"); n != want {
		t.Fatalf("%d rejected series; want %d (the reachable ones)", n, want)
	}
	// 70: the 66 reachable today (too_many_connections, answered by the
	// listener, is reachable on every endpoint) and a little room.
	if want >= int(numEndpoints)*int(numReasons-1) || want > 70 {
		t.Fatalf("%d series pre-created: the table lists impossible combinations", want)
	}
	if n := testutil.CollectAndCount(reg, "beacongate_gateway_events_total"); n != 3 {
		t.Fatalf("%d events series; want 3 (endpoint other makes no events)", n)
	}
	g.metrics.rejected[endpointOther][reasonInvalidSighting].Inc()
	if n := testutil.ToFloat64(g.metrics.rejected[endpointOther][reasonInvalidSighting]); n != 1 {
		t.Fatalf("lazily created series = %v; want 1", n)
	}
	if n := testutil.CollectAndCount(reg, "beacongate_gateway_rejected_total"); n != want+1 {
		t.Fatalf("%d rejected series after an unexpected one; want %d", n, want+1)
	}
	// Every rejection the handlers can produce is in the table: drive each
	// endpoint through its reject paths and check no lazy series appeared.
	rec := &recorder{}
	g2reg := prometheus.NewRegistry()
	g2 := New(Settings{Handler: rec, Sites: map[string][]string{"s": {"https://s.example"}}}, g2reg)
	d := newDriver(g2, "192.0.2.1")
	js := "application/json"
	for _, raw := range [][]byte{
		rawRequest("GET", "/p.gif?site=x", nil), rawRequest("GET", "/p.gif", nil), rawRequest("GET", "/p.gif?site=s&gdpr=7", nil),
		rawRequest("GET", "/p.gif?site=s&uid="+strings.Repeat("u", 300), nil), rawRequest("GET", "/p.gif?site=%ff", nil),
		rawRequest("PUT", "/p.gif?site=s", []byte("x")), rawRequest("GET", "/p.gif?site=s", nil, "Origin", "https://evil.example"),
		rawRequest("GET", "/nope", nil), rawRequest("GET", "/b", nil), rawRequest("OPTIONS", "/ble", nil, "Origin", "https://evil.example"),
		rawRequest("POST", "/b", []byte("x"), "Content-Type", "image/png"), rawRequest("POST", "/b", []byte{}, "Content-Type", js),
		rawRequest("POST", "/b", []byte("{"), "Content-Type", js), rawRequest("POST", "/b", []byte("--b\r\n"), "Content-Type", "multipart/form-data; boundary=b"),
		rawRequest("POST", "/ble", []byte(`{"site":"s"}`), "Content-Type", js), rawRequest("POST", "/ble", []byte(`{"site":"s","store":"x"}`), "Content-Type", js),
		rawRequest("POST", "/ble", []byte(`{"site":"s","store":"x","sightings":[1]}`), "Content-Type", js),
		rawRequest("POST", "/ble", []byte(`{"site":"s","store":"x","sightings":[1]}`), "Content-Type", "text/csv"),
		rawRequest("GET", "/p.gif?site=s&event=a%00b", nil), rawRequest("POST", "/b", []byte(`{"site":"s","event":"a\u0000b"}`), "Content-Type", js),
		rawRequest("POST", "/b", []byte(`{"site":"s","props":{"n":1e999}}`), "Content-Type", js),
		rawRequest("POST", "/ble", []byte(`{"site":"s","x":"\ud800"}`), "Content-Type", js),
	} {
		d.do(raw)
	}
	if n := testutil.CollectAndCount(g2reg, "beacongate_gateway_rejected_total"); n != want {
		t.Fatalf("%d rejected series after the reject paths; want %d: a reachable combination is missing from the table", n, want)
	}
}

// TestPropTypesSameForPixelAndBeacon: p.cart_value=129.5 from the pixel (or
// a form or FormData beacon) is the number 129.5, as "cart_value": 129.5 in
// a JSON beacon: one type per value, whichever way it came.
func TestPropTypesSameForPixelAndBeacon(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec}, nil)
	d := newDriver(g, "192.0.2.1")
	d.do(rawRequest("GET", "/p.gif?site=s&p.cart_value=129.5&p.ok=true&p.zip=01234&p.n=-1e3&p.s=abc&p.half=1.&p.f=false", nil))
	d.do(rawRequest("POST", "/b", []byte(`{"site":"s","props":{"cart_value":129.5,"ok":true,"zip":"01234","n":-1e3,"s":"abc","half":"1.","f":false}}`), "Content-Type", "application/json"))
	d.do(rawRequest("POST", "/b", formDataBody("b", "site", "s", "p.cart_value", "129.5", "p.ok", "true", "p.zip", "01234", "p.n", "-1e3", "p.s", "abc", "p.half", "1.", "p.f", "false"), "Content-Type", "multipart/form-data; boundary=b"))
	if len(rec.events) != 3 {
		t.Fatalf("%d events; want 3", len(rec.events))
	}
	type prop struct {
		v string
		t event.PropType
	}
	props := func(e event.Event) map[string]prop {
		m := map[string]prop{}
		for _, p := range e.Props {
			m[string(p.Key)] = prop{string(p.Value), p.Type}
		}
		return m
	}
	want := map[string]prop{
		"cart_value": {"129.5", event.PropNumber}, "ok": {"true", event.PropBool}, "zip": {"01234", event.PropString},
		"n": {"-1e3", event.PropNumber}, "s": {"abc", event.PropString}, "half": {"1.", event.PropString}, "f": {"false", event.PropBool},
	}
	for i, name := range []string{"pixel", "beacon", "formdata"} {
		got := props(rec.events[i])
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: %s = %+v; want %+v", name, k, got[k], w)
			}
		}
	}
}

// TestServerErrorReasonMatchesErrorsAs: serverErrorReason classifies
// fasthttp's errors as errors.As would, without allocating.
func TestServerErrorReasonMatchesErrorsAs(t *testing.T) {
	reference := func(err error) reason {
		var smallBuf *fasthttp.ErrSmallBuffer
		var te interface{ Timeout() bool }
		switch {
		case errors.Is(err, fasthttp.ErrBodyTooLarge):
			return reasonBodyTooLarge
		case errors.As(err, &smallBuf):
			return reasonHeaderTooLarge
		case errors.As(err, &te) && te.Timeout():
			return reasonTimeout
		}
		return reasonMalformedRequest
	}
	timeout := &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}
	for _, err := range []error{
		fasthttp.ErrBodyTooLarge,
		fmt.Errorf("reading body: %w", fasthttp.ErrBodyTooLarge),
		&fasthttp.ErrSmallBuffer{},
		fmt.Errorf("cannot read headers: %w", &fasthttp.ErrSmallBuffer{}),
		timeout,
		fmt.Errorf("wrapped: %w", timeout),
		errors.Join(errors.New("x"), timeout),
		errors.New("error when parsing request"),
		&net.OpError{Op: "read", Err: errors.New("connection reset")},
	} {
		want := reference(err)
		if got := serverErrorReason(err); got != want {
			t.Errorf("%v: %v; errors.As gives %v", err, got, want)
		}
		if n := testing.AllocsPerRun(50, func() { serverErrorReason(err) }); n != 0 && !raceEnabled {
			t.Errorf("%v: %v allocs; want 0", err, n)
		}
	}
	if reference(timeout) != reasonTimeout || reference(&fasthttp.ErrSmallBuffer{}) != reasonHeaderTooLarge {
		t.Fatal("the reference does not tell the kinds apart: the test checks nothing")
	}
}

// doRaw sends one request with body on a new connection to addr, with
// Content-Length or chunked, pipelined in the same write with a pixel
// request, and reads the answers. Unless the server closes the connection,
// next is the pixel's answer: a body left unread would be taken for that
// request.
func doRaw(t *testing.T, addr, method, uri string, body []byte, chunked bool) (resp, next *fasthttp.Response) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n", method, uri)
	if chunked {
		fmt.Fprintf(&b, "Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(body), body)
	} else {
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	}
	b.WriteString("GET /p.gif?site=s HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := c.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp = &fasthttp.Response{}
	if err := resp.Read(br); err != nil {
		t.Fatalf("%s %s: %v", method, uri, err)
	}
	if resp.ConnectionClose() {
		return resp, nil
	}
	next = &fasthttp.Response{}
	if err := next.Read(br); err != nil {
		return resp, nil
	}
	return resp, next
}
