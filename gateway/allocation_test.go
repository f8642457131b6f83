//go:build !race

package gateway

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/anonymize/suppress"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/delivery"
	"github.com/beacongate/beacongate/tag"
)

// TestServeAllocs proves that parsing a realistic request of each endpoint
// into events and handing them on does not allocate.
func TestServeAllocs(t *testing.T) {
	f := func(name string, raw []byte, wantStatus, wantEvents int) {
		t.Helper()
		h := &countingHandler{}
		g := New(Settings{Handler: h, Clock: clock.Fixed(bleNow)}, nil)
		d := newDriver(g, "203.0.113.7")
		if st := d.do(raw).StatusCode(); st != wantStatus {
			t.Fatalf("%s: status %d; want %d", name, st, wantStatus)
		}
		if h.n != wantEvents {
			t.Fatalf("%s: %d events; want %d", name, h.n, wantEvents)
		}
		n := testing.AllocsPerRun(500, func() { d.do(raw) })
		if n != 0 {
			t.Fatalf("%s: %v allocs per request; want 0", name, n)
		}
	}
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	f("pixel", rawRequest("GET", pixelURI(), nil, "User-Agent", ua, "Accept-Language", "de-DE,de;q=0.9,en;q=0.8", "Sec-GPC", "1", "Cookie", "euconsent-v2="+realTC), 200, 1)
	// A Cookie header folded (obs-fold) inside a TC cookie's value: the
	// joined value is built on the stack.
	f("pixel-folded-cookie", rawRequest("GET", pixelURI(), nil, "User-Agent", ua, "Cookie", "a=1;\r\n euconsent-v2="+realTC+"\r\n\tx"), 200, 1)
	f("pixel-usprivacy-cookie", rawRequest("GET", pixelURI(), nil, "User-Agent", ua, "Cookie", "a=1; usprivacy=1YYN; usprivacy=\"1YNN\"\r\nCookie: usprivacy="+strings.Repeat("x", 300)), 200, 1)
	f("beacon", rawRequest("POST", "/b", beaconBody(), "Content-Type", "text/plain;charset=UTF-8", "User-Agent", ua), 204, 1)
	f("beacon-array", rawRequest("POST", "/b", []byte("["+string(beaconBody())+","+string(beaconBody())+"]"), "Content-Type", "application/json", "User-Agent", ua), 204, 2)
	f("beacon-form", rawRequest("POST", "/b", []byte("site=s&event=e&uid=u&p.a=1&p.b=2"), "Content-Type", "application/x-www-form-urlencoded", "User-Agent", ua), 204, 1)
	f("beacon-multipart", rawRequest("POST", "/b", formDataBody(chromeBoundary, "site", "s", "event", "e", "uid", "u", "p.a", "1"), "Content-Type", "multipart/form-data; boundary="+chromeBoundary, "User-Agent", ua), 204, 1)
	f("ble", rawRequest("POST", "/ble", bleBody(40), "Content-Type", "application/json", "User-Agent", "StoreSensor/2.1"), 204, 40)
	f("rejected-number-field", rawRequest("POST", "/b", []byte(`[{"site":"s"},{"site":"s","props":{"n":1e999}}]`), "Content-Type", "application/json"), 400, 0)
	f("rejected-escape-field", rawRequest("POST", "/ble", []byte(`{"site":"s","store":"x","sightings":[{"rssi":-60,"mac":"\ud800"}]}`), "Content-Type", "application/json"), 400, 0)
	f("rejected-json", rawRequest("POST", "/b", []byte(`{"site":`), "Content-Type", "application/json"), 400, 0)
	f("rejected-utf8", rawRequest("POST", "/b", []byte("{\"site\":\"\xff\"}"), "Content-Type", "application/json"), 400, 0)
	f("rejected-field", rawRequest("POST", "/b", []byte(`{"site":"s","uid":true}`), "Content-Type", "application/json"), 400, 0)
	f("rejected-multipart", rawRequest("POST", "/b", []byte("--b\r\nContent-Disposition: form-data; name=site\r\n\r\ns"), "Content-Type", "multipart/form-data; boundary=b"), 400, 0)
	f("rejected-sighting", rawRequest("POST", "/ble", []byte(`{"site":"r","store":"s","sightings":[{"rssi":-5,"ts":"x"}]}`), "Content-Type", "application/json"), 400, 0)
	f("rejected-sighting-type", rawRequest("POST", "/ble", []byte(`{"site":"r","store":"s","sightings":[{"uuid":5,"major":"x","rssi":1.5}]}`), "Content-Type", "application/json"), 400, 0)
	f("rejected-too-long", rawRequest("POST", "/b", []byte(`[{"site":"s"},{"site":"s","uid":"`+strings.Repeat("u", 300)+`"}]`), "Content-Type", "application/json"), 400, 0)
	f("rejected-pixel", rawRequest("GET", "/p.gif?site=%ff", nil), 200, 0)
	f("beacon-pair-and-big-number", rawRequest("POST", "/b", []byte(`{"site":"s","event":"\ud83d\ude00","props":{"n":1.7976931348623157e308,"m":123e-999}}`), "Content-Type", "application/json"), 204, 1)
	f("rejected-number", rawRequest("POST", "/b", []byte(`{"site":"s","props":{"n":1e999}}`), "Content-Type", "application/json"), 400, 0)
	f("rejected-escape", rawRequest("POST", "/b", []byte(`{"site":"s","event":"\ud800"}`), "Content-Type", "application/json"), 400, 0)
	f("rejected-event-name", rawRequest("GET", "/p.gif?site=s&event=a%00b", nil), 200, 0)
	// Escaped values: unescaped straight into the fields, the properties
	// and a stack buffer; escaped keys; keys outside the vocabulary.
	f("pixel-escaped", rawRequest("GET", "/p.gif?site=shop%2Eexample&url=https%3A%2F%2Fshop.example%2Fa%3Fq%3Dred%2Bshoes&ref=https%3A%2F%2Fwww.google.com%2F&p.name=red+shoes&p.price=129%2E5&p%2Ex=1&consent=analytics%2Cads&event=add%5Fto%5Fcart&utm_source=news%20letter", nil, "User-Agent", ua), 200, 1)
	// BLE in one pass: escaped names and values, props, shared fields after
	// the list (read again), a fault deep in an ignored member.
	f("ble-escaped-shared-after", rawRequest("POST", "/ble", []byte(`{"sightings":[{"n\u0061mespace":"edd1ebeac04e5defa017","instance":"0123456789AB","rssi":-50,"props":{"z\u00f6ne":"\ud83d\ude00","n":-0.5,"b":true}}],"site":"r","st\u006fre":"s\u00e9","consent":["analytics","ads"],"uid":12345}`), "Content-Type", "application/json"), 204, 1)
	f("rejected-ble-deep-fault", rawRequest("POST", "/ble", []byte(`{"site":"r","store":"s","x":[[{"a":[1e999]}]],"sightings":[{"rssi":1}]}`), "Content-Type", "application/json"), 400, 0)
	f("rejected-pixel-escaped-prop", rawRequest("GET", "/p.gif?site=s&p.a=%ff%fe", nil), 200, 0)
	// At most one device id a sighting: a second is refused, a null adid
	// stepped over.
	f("rejected-ble-two-devices", rawRequest("POST", "/ble", []byte(`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"mac":"DA:A1:19:00:00:01","adid":"6D92078A-8246-4BA4-AE5B-76104861E7DC"}]}`), "Content-Type", "application/json"), 400, 0)
	f("ble-null-adid", rawRequest("POST", "/ble", []byte(`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"adid":null,"mac":"DA:A1:19:00:00:01"}]}`), "Content-Type", "application/json"), 204, 1)
	f("ble-null-ts-mac", rawRequest("POST", "/ble", []byte(`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","uuid":null,"rssi":-50,"ts":null,"mac":null}]}`), "Content-Type", "application/json"), 204, 1)
}

// TestServePipelineAllocs adds the privacy engine (consent, geo, UA,
// scanning, pseudonyms, encoding) behind the handlers: still 0, at every
// clock-shift instant.
func TestServePipelineAllocs(t *testing.T) {
	for _, in := range clocktest.Instants {
		t.Run(in.Name, func(t *testing.T) { testServePipelineAllocs(t, in.Time) })
	}
}

// TestServeToSpoolAllocs: with the real pipeline behind the delivery step
// (records enqueued and waited for per request, a file destination
// shipping in the background), a request of each endpoint allocates
// nothing, counted process-wide.
func TestServeToSpoolAllocs(t *testing.T) {
	pl := newPipelineGateway(t, goldenConfig, "", clocktest.Golden)
	pl.withSpool(pl.openFilePipeline(t, nil))
	policies := newPipelineGateway(t, threePolicies, "", clocktest.Golden)
	policies.withSpool(policies.openFilePipeline(t, nil))
	batch := "[" + string(beaconBody()) + "," + string(beaconBody()) + "]"
	for _, c := range []struct {
		name string
		g    *Gateway
		raw  []byte
	}{
		{"pixel", pl.g, rawRequest("GET", pixelURI(), nil, "User-Agent", benchUA)},
		{"beacon", pl.g, rawRequest("POST", "/b", []byte(batch), "Content-Type", "text/plain;charset=UTF-8", "User-Agent", benchUA)},
		{"ble", pl.g, rawRequest("POST", "/ble", bleBody(40), "Content-Type", "application/json")},
		{"pixel, three policies", policies.g, rawRequest("GET", "/p.gif?site=s&consent=analytics,ads&url=https%3A%2F%2Fs.example%2Fp&uid=u-1", nil, "User-Agent", benchUA)},
	} {
		name, raw := c.name, c.raw
		drv := newDriver(c.g, "81.2.69.142")
		for range 10 {
			if st := drv.do(raw).StatusCode(); st != 200 && st != 204 {
				t.Fatalf("%s: status %d", name, st)
			}
		}
		if n := testing.AllocsPerRun(300, func() { drv.do(raw) }); n != 0 {
			t.Errorf("%s: %v allocs per request into the spool; want 0", name, n)
		}
	}
}

func testServePipelineAllocs(t *testing.T, now time.Time) {
	p := newPipelineGateway(t, goldenConfig, "", now)
	g := p.g
	sp := &nullSpool{}
	p.withSpool(sp)
	f := func(name string, raw []byte, wantRecords int) {
		t.Helper()
		drv := newDriver(g, "81.2.69.142")
		before := sp.n
		drv.do(raw)
		if sp.n-before != wantRecords {
			t.Fatalf("%s: %d records; want %d", name, sp.n-before, wantRecords)
		}
		n := testing.AllocsPerRun(300, func() { drv.do(raw) })
		if n != 0 {
			t.Fatalf("%s: %v allocs per request through the whole pipeline; want 0", name, n)
		}
	}
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	f("pixel", rawRequest("GET", pixelURI(), nil, "User-Agent", ua, "Accept-Language", "de-DE,de;q=0.9"), 1)
	f("beacon", rawRequest("POST", "/b", beaconBody(), "Content-Type", "text/plain;charset=UTF-8", "User-Agent", ua), 1)
	f("ble", rawRequest("POST", "/ble", bleBodyAt(40, now), "Content-Type", "application/json"), 40)

	// With a suppression list: the listed user's pixel is dropped on
	// arrival, other events go through, neither allocates.
	key, err := pseudonym.NewSubjectKey(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "suppressed.txt")
	suppress.Edit(path, key.Sum([]byte("shop.example"), []byte("user-8812")), true)
	list, err := suppress.Open(path, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := g.settings.Load()
	g.Update(Settings{Handler: cfg.handler.(*delivery.Deliverer).WithSuppression(list), Clock: cfg.clock})
	f("pixel-suppressed", rawRequest("GET", pixelURI(), nil, "User-Agent", ua), 0)
	f("beacon-suppressed", rawRequest("POST", "/b", beaconBody(), "Content-Type", "text/plain;charset=UTF-8", "User-Agent", ua), 0)
	f("beacon-other-user", rawRequest("POST", "/b", bytes.Replace(beaconBody(), []byte("user-8812"), []byte("user-8813"), 1),
		"Content-Type", "text/plain;charset=UTF-8", "User-Agent", ua), 1)
	f("ble-not-suppressed", rawRequest("POST", "/ble", bleBodyAt(40, now), "Content-Type", "application/json"), 40)
}

// TestServeDestinationPoliciesAllocs: a pixel hit under ads consent through
// the whole pipeline with one distinct destination policy (goldenConfig)
// and with three (each destination its own), still 0 allocations.
func TestServeDestinationPoliciesAllocs(t *testing.T) {
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	raw := rawRequest("GET", "/p.gif?site=s&consent=analytics,ads&url=https%3A%2F%2Fs.example%2Fp%3Fgclid%3Dx&uid=u-1", nil, "User-Agent", ua)
	for _, c := range []struct {
		name    string
		yaml    string
		records int
	}{
		{"one policy", goldenConfig, 1},
		{"three policies", threePolicies, 3},
	} {
		p := newPipelineGateway(t, c.yaml, "", clocktest.Golden)
		sp := &nullSpool{}
		p.withSpool(sp)
		drv := newDriver(p.g, "81.2.69.142")
		drv.do(raw)
		if sp.n != c.records {
			t.Fatalf("%s: %d records; want %d", c.name, sp.n, c.records)
		}
		if n := testing.AllocsPerRun(300, func() { drv.do(raw) }); n != 0 {
			t.Fatalf("%s: %v allocs per request; want 0", c.name, n)
		}
	}
}

// TestRefusalAllocs: the answers that ask the client to retry later, 503
// (the handler refused: spool full, failing, not ready) and 429 (the
// client's requests in progress at server.max_requests_per_client), with
// their Retry-After, do not allocate.
func TestRefusalAllocs(t *testing.T) {
	g := New(Settings{Handler: refusingHandler{}, MaxRequestsPerClient: 1, Clock: clock.Fixed(bleNow)}, nil)
	busy := netip.MustParseAddr("198.51.100.9")
	if !g.inFlight.acquire(busy, 1) {
		t.Fatal("first request refused")
	}
	defer g.inFlight.release(busy)
	for _, c := range []struct {
		peer string
		raw  []byte
		want int
	}{
		{"203.0.113.7", rawRequest("POST", "/b", beaconBody(), "Content-Type", "text/plain;charset=UTF-8"), 503},
		{"203.0.113.7", rawRequest("POST", "/ble", bleBody(4), "Content-Type", "application/json"), 503},
		{busy.String(), rawRequest("POST", "/b", beaconBody(), "Content-Type", "text/plain;charset=UTF-8"), 429},
		{busy.String(), rawRequest("POST", "/ble", bleBody(4), "Content-Type", "application/json"), 429},
	} {
		d := newDriver(g, c.peer)
		if resp := d.do(c.raw); resp.StatusCode() != c.want || len(resp.Header.Peek("Retry-After")) == 0 {
			t.Fatalf("%.14s from %s: %d; want %d with Retry-After", c.raw, c.peer, resp.StatusCode(), c.want)
		}
		if n := testing.AllocsPerRun(300, func() { d.do(c.raw) }); n != 0 {
			t.Errorf("%.14s from %s: %v allocs per %d; want 0", c.raw, c.peer, n, c.want)
		}
	}
}

// TestRejectionCORSAllocs: a rejection from a configured origin, with its
// CORS headers, does not allocate.
func TestRejectionCORSAllocs(t *testing.T) {
	g := New(Settings{Handler: &countingHandler{}, Sites: map[string][]string{"s": {"https://shop.example"}}, Clock: clock.Fixed(bleNow)}, nil)
	d := newDriver(g, "203.0.113.7")
	for _, raw := range [][]byte{
		rawRequest("POST", "/b", []byte(`{"site":"s","uid":true}`), "Content-Type", "application/json", "Origin", "https://shop.example"),
		rawRequest("POST", "/ble", []byte(`{"site":"s","store":"x","sightings":[{"rssi":-5,"ts":"x"}]}`), "Content-Type", "application/json", "Origin", "https://shop.example"),
	} {
		if resp := d.do(raw); resp.StatusCode() != 400 || len(resp.Header.Peek("Access-Control-Allow-Origin")) == 0 {
			t.Fatalf("%.14s: %d; want 400 with Access-Control-Allow-Origin", raw, resp.StatusCode())
		}
		if n := testing.AllocsPerRun(300, func() { d.do(raw) }); n != 0 {
			t.Errorf("%.14s: %v allocs per rejection; want 0", raw, n)
		}
	}
}

// TestTagAllocs: serving bg.js does not allocate either.
func TestTagAllocs(t *testing.T) {
	g := New(Settings{}, nil)
	d := newDriver(g, "203.0.113.7")
	for _, raw := range [][]byte{
		rawRequest("GET", tag.Path(), nil, "Accept-Encoding", "gzip"),
		rawRequest("GET", tag.AliasPath, nil),
		rawRequest("GET", tag.Path(), nil, "If-None-Match", string(tagETag)),
	} {
		d.do(raw)
		if n := testing.AllocsPerRun(300, func() { d.do(raw) }); n != 0 {
			t.Errorf("%q: %v allocs per request; want 0", raw, n)
		}
	}
}

// TestServeBehindProxyAllocs covers the client address walk (every instance
// of the configured header, right to left) and the per-client request
// limit: still 0 allocations.
func TestServeBehindProxyAllocs(t *testing.T) {
	f := func(name, header string, raw []byte, want string) {
		t.Helper()
		rec := &recorder{}
		g := New(Settings{Handler: rec, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, ClientIPHeader: header}, nil)
		d := newDriver(g, "10.1.1.1")
		if st := d.do(raw).StatusCode(); st != 200 || len(rec.events) != 1 || rec.events[0].ClientIP.String() != want {
			t.Fatalf("%s: status %d, events %d; want the GIF and one event from %s", name, st, len(rec.events), want)
		}
		h := &countingHandler{}
		g.Update(Settings{Handler: h, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, ClientIPHeader: header})
		n := testing.AllocsPerRun(500, func() { d.do(raw) })
		if n != 0 {
			t.Fatalf("%s: %v allocs per request; want 0", name, n)
		}
		if h.n == 0 {
			t.Fatalf("%s: no events", name)
		}
	}
	f("xff-duplicates", "", rawRequest("GET", "/p.gif?site=s", nil, "X-Forwarded-For", "6.6.6.6, garbage", "X-Forwarded-For", "[2001:db8::7]:443, 10.0.0.9", "Forwarded", "for=7.7.7.7"), "2001:db8::7")
	f("forwarded", "Forwarded", rawRequest("GET", "/p.gif?site=s", nil, "Forwarded", `for="[2001:db8::6]:1"`, "Forwarded", `for=198.51.100.7;proto=https, for="10.2.2.2:80"`), "198.51.100.7")
}

// TestAssignQueryEncodedAllocs: percent-encoded keys and short-field values
// longer than their stack buffers raw but not unescaped are unescaped
// without allocating (the room made is the unescaped length), and so are
// TC and GPP strings with escapes longer than the short fields' buffer: a
// GPP string's '~' sent as %7E (URLSearchParams writes it so) with a TC
// string of a few hundred characters.
func TestAssignQueryEncodedAllocs(t *testing.T) {
	e := queryEvent()
	long := realTC + strings.Repeat("A", 300) // the length of a TC string listing many vendors
	for _, q := range []string{
		"site=s&p." + strings.Repeat("%D0%B0", 30) + "=1",  // a 60-byte name, 182 bytes raw
		"site=s&event=" + strings.Repeat("%41", 100) + "x", // 101 bytes, 301 raw
		"site=s&gpp=DBACNYA%7E" + long + "%7E1YNN&gpp_sid=2%2C6",
		"site=s&gdpr_consent=%43" + long[1:], // an escaped letter
	} {
		raw := []byte(q)
		if p := assignQuery(e, raw); p.bad() {
			t.Fatalf("%.40q: rejected %v", q, p)
		}
		if n := testing.AllocsPerRun(100, func() {
			e.Reset()
			assignQuery(e, raw)
		}); n != 0 {
			t.Errorf("%.40q: %v allocs per query; want 0", q, n)
		}
	}
}
