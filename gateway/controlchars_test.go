package gateway

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestControlCharactersInIdentifiers: site, and a BLE ping's store and
// sensor, took control characters (a JSON "\u0000", a query's %00, DEL, the
// C1 controls) into the record, which consumers that store records as text
// refuse (PostgreSQL: \u0000 in jsonb and text), while the event name was
// already refused for them. Each is refused as the event name is: 400 (the
// pixel: its GIF, no event) naming the field, never its value, counted in
// rejected_total under invalid_event_name; the well-formed neighbours pass.
func TestControlCharactersInIdentifiers(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec}, prometheus.NewRegistry())
	d := newDriver(g, "192.0.2.1")
	json := func(path, body string) []byte {
		return rawRequest("POST", path, []byte(body), "Content-Type", "application/json")
	}
	const sighting = `"sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50}]`
	f := func(ep endpoint, raw []byte, field string) {
		t.Helper()
		rec.events = rec.events[:0]
		before := testutil.ToFloat64(g.metrics.rejected[ep][reasonInvalidEventName])
		resp := d.do(raw)
		want, wantBody := 400, field+": control characters are not allowed\n"
		if ep == endpointPixel {
			want, wantBody = 200, string(transparentGIF)
		}
		if st, body := resp.StatusCode(), string(resp.Body()); st != want || body != wantBody {
			t.Fatalf("%q: %d %q; want %d %q", raw, st, body, want, wantBody)
		}
		if len(rec.events) != 0 {
			t.Fatalf("%q: %d events; want none", raw, len(rec.events))
		}
		if n := testutil.ToFloat64(g.metrics.rejected[ep][reasonInvalidEventName]) - before; n != 1 {
			t.Fatalf("%q: counted %v times under invalid_event_name; want 1", raw, n)
		}
	}
	f(endpointBeacon, json("/b", `{"site":"a\u0000b"}`), "site")
	f(endpointBeacon, json("/b", `{"site":"a\u001fb"}`), "site")
	f(endpointBeacon, json("/b", `{"site":"a\u007fb"}`), "site")
	f(endpointBeacon, json("/b", `{"site":"a\u0085b"}`), "site")
	f(endpointBeacon, json("/b", `[{"site":"s"},{"site":"line\nbreak"}]`), "[1].site")
	f(endpointBeacon, rawRequest("POST", "/b", []byte("site=a%00b"), "Content-Type", "application/x-www-form-urlencoded"), "site")
	f(endpointBeacon, rawRequest("POST", "/b", formDataBody("x", "site", "a\x01b"), "Content-Type", "multipart/form-data; boundary=x"), "site")
	f(endpointPixel, rawRequest("GET", "/p.gif?site=a%00b", nil), "site")
	f(endpointPixel, rawRequest("GET", "/p.gif?site=a%7Fb", nil), "site")
	f(endpointPixel, rawRequest("GET", "/p.gif?site=a%C2%9Fb", nil), "site")
	f(endpointBLE, json("/ble", `{"site":"a\u0000b","store":"s",`+sighting+`}`), "site")
	f(endpointBLE, json("/ble", `{"site":"r","store":"s\u0000",`+sighting+`}`), "store")
	f(endpointBLE, json("/ble", `{"site":"r","store":"s\t1",`+sighting+`}`), "store")
	f(endpointBLE, json("/ble", `{"site":"r","store":"s","sensor":"x\u007f",`+sighting+`}`), "sensor")
	f(endpointBLE, json("/ble", `{"site":"r",`+sighting+`,"store":"s","sensor":"x\u0090"}`), "sensor")

	for _, raw := range [][]byte{
		json("/b", `{"site":"caf\u00e9 \u00a0ok"}`),
		rawRequest("GET", "/p.gif?site=caf%C3%A9", nil),
		json("/ble", `{"site":"r","store":"Zürich 1","sensor":"entrance-2",`+sighting+`}`),
	} {
		rec.events = rec.events[:0]
		if resp := d.do(raw); resp.StatusCode() >= 300 || len(rec.events) == 0 {
			t.Fatalf("%q: %d %q, %d events; want taken", raw, resp.StatusCode(), resp.Body(), len(rec.events))
		}
		if strings.ContainsAny(string(rec.events[0].Site), "\x00\x7f") {
			t.Fatal("a control character reached the event")
		}
	}
}
