//go:build !race

package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
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
	f("beacon", rawRequest("POST", "/b", beaconBody(), "Content-Type", "text/plain;charset=UTF-8", "User-Agent", ua), 204, 1)
	f("beacon-array", rawRequest("POST", "/b", []byte("["+string(beaconBody())+","+string(beaconBody())+"]"), "Content-Type", "application/json", "User-Agent", ua), 204, 2)
	f("beacon-form", rawRequest("POST", "/b", []byte("site=s&event=e&uid=u&p.a=1&p.b=2"), "Content-Type", "application/x-www-form-urlencoded", "User-Agent", ua), 204, 1)
	f("beacon-multipart", rawRequest("POST", "/b", formDataBody(chromeBoundary, "site", "s", "event", "e", "uid", "u", "p.a", "1"), "Content-Type", "multipart/form-data; boundary="+chromeBoundary, "User-Agent", ua), 204, 1)
	f("ble", rawRequest("POST", "/ble", bleBody(40), "Content-Type", "application/json", "User-Agent", "StoreSensor/2.1"), 204, 40)
	f("rejected-json", rawRequest("POST", "/b", []byte(`{"site":`), "Content-Type", "application/json"), 400, 0)
	f("rejected-utf8", rawRequest("POST", "/b", []byte("{\"site\":\"\xff\"}"), "Content-Type", "application/json"), 400, 0)
	f("rejected-field", rawRequest("POST", "/b", []byte(`{"site":"s","uid":true}`), "Content-Type", "application/json"), 400, 0)
	f("rejected-multipart", rawRequest("POST", "/b", []byte("--b\r\nContent-Disposition: form-data; name=site\r\n\r\ns"), "Content-Type", "multipart/form-data; boundary=b"), 400, 0)
	f("rejected-sighting", rawRequest("POST", "/ble", []byte(`{"site":"r","store":"s","sightings":[{"rssi":-5,"ts":"x"}]}`), "Content-Type", "application/json"), 400, 0)
	f("rejected-sighting-type", rawRequest("POST", "/ble", []byte(`{"site":"r","store":"s","sightings":[{"uuid":5,"major":"x","rssi":1.5}]}`), "Content-Type", "application/json"), 400, 0)
	f("rejected-too-long", rawRequest("POST", "/b", []byte(`[{"site":"s"},{"site":"s","uid":"`+strings.Repeat("u", 300)+`"}]`), "Content-Type", "application/json"), 400, 0)
	f("rejected-pixel", rawRequest("GET", "/p.gif?site=%ff", nil), 200, 0)
}

// TestServePipelineAllocs adds the privacy engine (consent, geo, UA,
// scanning, pseudonyms, encoding) behind the handlers: still 0, at every
// clock-shift instant.
func TestServePipelineAllocs(t *testing.T) {
	for _, in := range clocktest.Instants {
		t.Run(in.Name, func(t *testing.T) { testServePipelineAllocs(t, in.Time) })
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
