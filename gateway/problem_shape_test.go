package gateway

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/beacongate/beacongate/clock"
)

// TestWrongShapeAnswers: a body that is valid JSON but not what the
// endpoint takes (a BLE ping sent as an array, a beacon's empty array or
// single value) is refused as invalid_json with an answer that says what
// the body must be, not that it is invalid JSON, and a BLE answer never
// offers an array of objects, which /ble does not take.
func TestWrongShapeAnswers(t *testing.T) {
	g := New(Settings{Handler: &recorder{}, Clock: clock.Fixed(bleNow)}, nil)
	d := newDriver(g, "192.0.2.1")
	sighting := `{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50}`
	ping := `{"site":"r","store":"s","sightings":[` + sighting + `]}`
	const (
		bleWant    = "body: must be one JSON object, the ping (site, store, sightings)\n"
		beaconWant = "body: must be an event object or a non-empty array of event objects\n"
	)
	cases := []struct {
		path, body, want string
		ep               endpoint
	}{
		{"/ble", `[` + ping + `]`, bleWant, endpointBLE},
		{"/ble", `"SECRET"`, bleWant, endpointBLE},
		{"/ble", `7`, bleWant, endpointBLE},
		{"/ble", `{"site":`, bleWant, endpointBLE}, // broken JSON: /ble takes no array either
		{"/b", `[]`, beaconWant, endpointBeacon},
		{"/b", ` [ ] `, beaconWant, endpointBeacon},
		{"/b", `"SECRET"`, beaconWant, endpointBeacon},
		{"/b", `null`, beaconWant, endpointBeacon},
		// Broken JSON keeps its answer.
		{"/b", `{"site":`, "body is not valid JSON: want an object or an array of objects\n", endpointBeacon},
	}
	for _, c := range cases {
		before := testutil.ToFloat64(g.metrics.rejected[c.ep][reasonInvalidJSON])
		resp := d.do(rawRequest("POST", c.path, []byte(c.body), "Content-Type", "application/json"))
		if resp.StatusCode() != 400 || string(resp.Body()) != c.want {
			t.Errorf("%s %s: %d %q; want 400 %q", c.path, c.body, resp.StatusCode(), resp.Body(), c.want)
		}
		if n := testutil.ToFloat64(g.metrics.rejected[c.ep][reasonInvalidJSON]) - before; n != 1 {
			t.Errorf("%s %s: counted %v times as invalid_json; want once", c.path, c.body, n)
		}
	}
}

// TestTooManySightingsAnswer: a BLE ping over
// server.max_sightings_per_request is answered naming sightings and that
// key, not "too many events" (whose limit, max_events_per_request, is
// another key, for beacons), and counted as too_many_events.
func TestTooManySightingsAnswer(t *testing.T) {
	g := New(Settings{Handler: &recorder{}, Clock: clock.Fixed(bleNow), Limits: Limits{MaxSightingsPerRequest: 2, MaxEventsPerRequest: 5}}, nil)
	d := newDriver(g, "192.0.2.1")
	sighting := `{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50}`
	body := `{"site":"r","store":"s","sightings":[` + sighting + `,` + sighting + `,` + sighting + `]}`
	resp := d.do(rawRequest("POST", "/ble", []byte(body), "Content-Type", "application/json"))
	const want = "sightings: more than server.max_sightings_per_request\n"
	if resp.StatusCode() != 400 || string(resp.Body()) != want {
		t.Fatalf("3 sightings over a limit of 2: %d %q; want 400 %q", resp.StatusCode(), resp.Body(), want)
	}
	if n := testutil.ToFloat64(g.metrics.rejected[endpointBLE][reasonTooManyEvents]); n != 1 {
		t.Fatalf("counted %v times as too_many_events; want once", n)
	}
}
