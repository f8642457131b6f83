package gateway

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestValuesNoConsumerDecodes sends values that RFC 8259's grammar allows or
// a query string can carry but that no record may hold: numbers beyond
// float64, unpaired UTF-16 surrogate escapes and control characters in the
// event name. Each is refused with its own 400 (the pixel: its GIF and no
// event) and counted under its own reason; the well-formed neighbours pass.
func TestValuesNoConsumerDecodes(t *testing.T) {
	rec := &recorder{}
	reg := prometheus.NewRegistry()
	g := New(Settings{Handler: rec}, reg)
	d := newDriver(g, "192.0.2.1")
	f := func(ep endpoint, raw []byte, wantStatus int, want reason) {
		t.Helper()
		rec.events = rec.events[:0]
		before := testutil.ToFloat64(g.metrics.rejected[ep][max(want, 1)])
		resp := d.do(raw)
		if st := resp.StatusCode(); st != wantStatus {
			t.Fatalf("status %d; want %d (%s)", st, wantStatus, resp.Body())
		}
		if want == reasonNone {
			if len(rec.events) == 0 {
				t.Fatalf("no event")
			}
			return
		}
		if len(rec.events) != 0 {
			t.Fatalf("%d events; want none", len(rec.events))
		}
		if n := testutil.ToFloat64(g.metrics.rejected[ep][want]) - before; n != 1 {
			t.Fatalf("%s counted %v times; want 1", want, n)
		}
	}
	beacon := func(body string) []byte {
		return rawRequest("POST", "/b", []byte(body), "Content-Type", "application/json")
	}
	f(endpointBeacon, beacon(`{"site":"s","props":{"cart_value":1.7976931348623157e308}}`), 204, reasonNone)
	f(endpointBeacon, beacon(`{"site":"s","props":{"cart_value":1e-999}}`), 204, reasonNone)
	f(endpointBeacon, beacon(`{"site":"s","props":{"cart_value":1e999}}`), 400, reasonNumberOutOfRange)
	f(endpointBeacon, beacon(`[{"site":"s"},{"site":"s","props":{"n":-1e309}}]`), 400, reasonNumberOutOfRange)
	f(endpointBeacon, beacon(`{"site":"s","gdpr":1e400}`), 400, reasonNumberOutOfRange)
	f(endpointBeacon, beacon(`{"site":"s","event":"\ud83d\ude00"}`), 204, reasonNone)
	f(endpointBeacon, beacon(`{"site":"s","event":"\ud800"}`), 400, reasonInvalidEscape)
	f(endpointBeacon, beacon(`{"site":"s","event":"\udc00"}`), 400, reasonInvalidEscape)
	f(endpointBeacon, beacon(`{"site":"s","event":"\ud800\u0041"}`), 400, reasonInvalidEscape)
	f(endpointBeacon, beacon(`{"site":"s","props":{"note":"x\uDBFF"}}`), 400, reasonInvalidEscape)
	f(endpointBeacon, beacon(`{"site":"s","\ud800":1}`), 400, reasonInvalidEscape)
	f(endpointBeacon, beacon(`{"site":"s","event":"a\u0000b"}`), 400, reasonInvalidEventName)
	f(endpointBeacon, beacon(`{"site":"s","event":"a\u001fb"}`), 400, reasonInvalidEventName)
	f(endpointBeacon, beacon(`{"site":"s","event":"tab\there"}`), 400, reasonInvalidEventName)
	f(endpointBeacon, rawRequest("POST", "/b", []byte("site=s&event=a%00b"), "Content-Type", "application/x-www-form-urlencoded"), 400, reasonInvalidEventName)
	f(endpointPixel, rawRequest("GET", "/p.gif?site=s&event=a%00b", nil), 200, reasonInvalidEventName)
	f(endpointPixel, rawRequest("GET", "/p.gif?site=s&event=a%7Fb", nil), 200, reasonInvalidEventName)
	// C1 control characters (U+0080..U+009F, NEL among them) are control
	// characters too; the letters after them are not.
	f(endpointBeacon, beacon(`{"site":"s","event":"a\u0085b"}`), 400, reasonInvalidEventName)
	f(endpointBeacon, beacon(`{"site":"s","event":"a\u009fb"}`), 400, reasonInvalidEventName)
	f(endpointPixel, rawRequest("GET", "/p.gif?site=s&event=a%C2%80b", nil), 200, reasonInvalidEventName)
	f(endpointBeacon, beacon(`{"site":"s","event":"caf\u00e9 \u00a0ok"}`), 204, reasonNone)
	f(endpointBLE, rawRequest("POST", "/ble", []byte(`{"site":"r","store":"s","sightings":[{"uuid":"F7826DA6-4FA2-4E98-8024-BC5B71E0893E","major":1,"minor":2,"rssi":-1e999,"ts":1732420000000}]}`), "Content-Type", "application/json"), 400, reasonNumberOutOfRange)
	// A syntax error anywhere wins over a value problem before it.
	f(endpointBeacon, beacon(`{"site":"s","event":"\ud800",}`), 400, reasonInvalidJSON)
	f(endpointBeacon, beacon(`{"n":1e999,"site":"s",}`), 400, reasonInvalidJSON)
}

// TestValueFaultsNameTheField: a number beyond float64 or an unpaired
// surrogate escape is answered with the field it is in, by its vocabulary
// name and array index, never with a name or value the client sent.
func TestValueFaultsNameTheField(t *testing.T) {
	g := New(Settings{Handler: &recorder{}}, nil)
	d := newDriver(g, "192.0.2.1")
	f := func(path, body, want string) {
		t.Helper()
		resp := d.do(rawRequest("POST", path, []byte(body), "Content-Type", "application/json"))
		if st := resp.StatusCode(); st != 400 {
			t.Fatalf("%s: status %d; want 400", body, st)
		}
		if got := string(resp.Body()); got != want {
			t.Fatalf("%s: answer %q; want %q", body, got, want)
		}
	}
	const number = ": a number beyond the range of a 64-bit float (about 1.8e308)\n"
	const escape = ": an unpaired UTF-16 surrogate escape (\\ud800-\\udfff)\n"
	f("/b", `{"site":"s","props":{"secret_name":1e999}}`, "props"+number)
	f("/b", `{"site":"s","gdpr":1e400}`, "gdpr"+number)
	f("/b", `[{"site":"s"},{"site":"s","url":"https://x/\ud800"}]`, "[1].url"+escape)
	f("/b", `[{"site":"s"},{"site":"s"},{"site":"s","props":{"n":-1e309}}]`, "[2].props"+number)
	f("/ble", `{"site":"s","store":"x","sightings":[{"rssi":-60},{"rssi":1e999}]}`, "sightings[1].rssi"+number)
	f("/ble", `{"site":"s","store":"x\udc00","sightings":[]}`, "store"+escape)
	// Names the client invented are never echoed: the fixed answers.
	f("/b", `{"site":"s","zz_secret":1e999}`, string(reasons[reasonNumberOutOfRange].body))
	f("/b", `{"site":"s","\ud800":1}`, string(reasons[reasonInvalidEscape].body))
	f("/b", `[{"site":"s","zz_secret":"\ud800"}]`, "[0]"+escape)
}
