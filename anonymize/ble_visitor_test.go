package anonymize

import (
	"testing"

	"github.com/beacongate/beacongate/event"
)

// bleSighting is a BLE sighting from one store box (the planted event's
// address and user agent), carrying mac.
func bleSighting(mac string, randomized bool) *event.Event {
	e := plantedEvent("")
	e.Kind = event.KindBLE
	e.Store = []byte("berlin-01")
	s := &e.Sighting
	s.Namespace, s.Instance = []byte("edd1ebeac04e5defa017"), []byte("0123456789ab")
	s.RSSI, s.HasRSSI = -60, true
	s.DeviceID, s.DeviceKind, s.Randomized = []byte(mac), event.DeviceMAC, randomized
	return e
}

// TestBLEVisitorPerDevice: the BLE visitor hash is the device's, not the
// store box's. Before the fix it was built from the box's address and user
// agent, so three phones in a store were one visitor.
func TestBLEVisitorPerDevice(t *testing.T) {
	en := newTestEngine(t, testConfig)
	seen := map[any]bool{}
	for _, mac := range []string{"00:1a:2b:3c:4d:01", "00:1a:2b:3c:4d:02", "00:1a:2b:3c:4d:03"} {
		m, out, _ := record(t, en, bleSighting(mac, false))
		v, ok := m["visitor"].(string)
		if !ok || len(v) != 22 {
			t.Fatalf("%s: no visitor hash: %s", mac, out)
		}
		seen[v] = true
	}
	if len(seen) != 3 {
		t.Fatalf("three MACs, %d visitors; want 3", len(seen))
	}
	a, _, _ := record(t, en, bleSighting("00:1a:2b:3c:4d:01", false))
	b, _, _ := record(t, en, bleSighting("00:1a:2b:3c:4d:01", false))
	if a["visitor"] != b["visitor"] {
		t.Fatalf("one MAC, two visitors %v %v", a["visitor"], b["visitor"])
	}
	// A randomized (locally administered) address is no person: no visitor.
	if m, out, _ := record(t, en, bleSighting("02:1a:2b:3c:4d:01", true)); m["visitor"] != nil {
		t.Fatalf("randomized MAC got a visitor hash: %s", out)
	} else if m["ble"].(map[string]any)["randomized"] != true {
		t.Fatalf("randomized MAC not flagged: %s", out)
	}
	// No device id: no visitor either (the box's address says nothing).
	e := bleSighting("", false)
	e.Sighting.DeviceID, e.Sighting.DeviceKind = nil, event.DeviceNone
	if m, out, _ := record(t, en, e); m["visitor"] != nil {
		t.Fatalf("sighting with no device got a visitor hash: %s", out)
	}
}

// TestBLEAggregatesOneRecordPerSighting: with ble.output: aggregates, no
// destination gets a sighting's record: the aggregation reads it from its
// own spool and counts each record as a sighting. Destinations with
// policies of their own made one record each (one per distinct policy), so
// one sighting was counted twice, and with enter_after 2 it alone started
// a visit. The engine now makes one record per sighting, under the
// site-wide policy (the one the aggregation's README describes), handed
// with every destination the sighting's consent allows; pixels and beacons
// keep a record per policy.
func TestBLEAggregatesOneRecordPerSighting(t *testing.T) {
	const cfg = testConfig + `
policies:
  none: {user_agent: {action: drop}, accept_language: primary}
destinations:
  - {name: stats, type: file}
  - {name: lab, type: file, policies: {none: {user_agent: {action: reduce}}}}
  - {name: other, type: file, policies: {none: {accept_language: drop}}}
`
	for _, c := range []struct {
		output  string
		records int
	}{{"sightings", 3}, {"aggregates", 1}} {
		en := newTestEngine(t, cfg+"ble: {output: "+c.output+"}\n")
		var got collected
		_, res, err := en.AppendRecords(nil, bleSighting("00:1a:2b:3c:4d:01", false), &got)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.recs) != c.records || res.Records != c.records {
			t.Fatalf("ble.output %s: %d records (%d counted); want %d", c.output, len(got.recs), res.Records, c.records)
		}
		if c.output != "aggregates" {
			continue
		}
		if got.dests[0] != res.Dests || res.Dests != 7 {
			t.Errorf("aggregates: the record went to %b of %b; want every destination allowed", got.dests[0], res.Dests)
		}
		if _, ok := got.recs[0]["ua"]; ok {
			t.Errorf("aggregates: the record is not the site-wide policy's (it drops the user agent): %v", got.recs[0])
		}
		// A pixel still makes one record per distinct policy.
		var px collected
		if _, _, err := en.AppendRecords(nil, plantedEvent(""), &px); err != nil || len(px.recs) != 3 {
			t.Errorf("aggregates: a pixel made %d records (%v); want 3", len(px.recs), err)
		}
	}
}

// TestBLEZoneUnderEveryPolicy: a sighting's zone property is the store's
// layout, not the visitor's: it is written as ble.zone under every policy
// (scanned as free text), so that the aggregation counts a zone in one
// cell whatever each passer-by consented to. Until 2026-12-06 it was only
// a property, dropped under the none policy (passers-by, in
// examples/retail-ble.yaml), so a zone's sightings split into a cell named
// after the sensor (none) and one named after the zone (analytics).
func TestBLEZoneUnderEveryPolicy(t *testing.T) {
	en := newTestEngine(t, "properties: {allow: [zone]}\nconsent: {purposes: [analytics, ads]}\n")
	for _, consent := range []string{"", "analytics", "analytics,ads"} {
		e := bleSighting("00:1a:2b:3c:4d:01", false)
		e.Consent.Explicit = []byte(consent)
		e.Sensor = []byte("gate-3")
		e.AddProp([]byte("zone"), []byte("entrance"), event.PropString) // the request's
		e.AddProp([]byte("zone"), []byte("shoes"), event.PropString)    // the sighting's own, later
		m, out, _ := record(t, en, e)
		if z := m["ble"].(map[string]any)["zone"]; z != "shoes" {
			t.Errorf("consent %q: ble.zone %v; want the sighting's zone, shoes: %s", consent, z, out)
		}
	}
	// Scanned like the sensor's name: personal data in it is replaced.
	e := bleSighting("00:1a:2b:3c:4d:01", false)
	e.AddProp([]byte("zone"), []byte("desk of "+plantedEmail), event.PropString)
	if m, out, _ := record(t, en, e); m["ble"].(map[string]any)["zone"] != "desk of [email]" {
		t.Errorf("a zone with an e-mail address: %s", out)
	}
}
