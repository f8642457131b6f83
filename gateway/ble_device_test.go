package gateway

import (
	"bytes"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/retail"
)

// TestBLEDeviceNotations: every usual MAC notation gives one normalised
// address, randomized ones are flagged, and an ad id's case does not matter.
// Before, a Cisco-dotted or bare-hex MAC refused the whole post and the two
// cases of an ad id were two devices.
func TestBLEDeviceNotations(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec, Clock: clock.Fixed(bleNow)}, nil)
	d := newDriver(g, "192.0.2.9")
	post := func(field, id string) (string, bool) {
		t.Helper()
		rec.events = rec.events[:0]
		body := `{"site":"r","store":"s1","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"` + field + `":"` + id + `"}]}`
		resp := d.do(rawRequest("POST", "/ble", []byte(body), "Content-Type", "application/json"))
		if resp.StatusCode() != 204 || len(rec.events) != 1 {
			t.Fatalf("%s %q: status %d, %d events: %s", field, id, resp.StatusCode(), len(rec.events), resp.Body())
		}
		return string(rec.events[0].Sighting.DeviceID), rec.events[0].Sighting.Randomized
	}
	for _, mac := range []string{"A4:5E:60:C1:0D:2F", "a4-5e-60-c1-0d-2f", "a45e.60c1.0d2f", "A45E60C10D2F"} {
		if got, rnd := post("mac", mac); got != "a4:5e:60:c1:0d:2f" || rnd {
			t.Errorf("%s: device %q randomized %v", mac, got, rnd)
		}
	}
	if got, rnd := post("mac", "DA:A1:19:00:00:01"); got != "da:a1:19:00:00:01" || !rnd {
		t.Errorf("locally administered MAC: device %q randomized %v", got, rnd)
	}
	up, _ := post("adid", "6D92078A-8246-4BA4-AE5B-76104861E7DC")
	low, _ := post("adid", "6d92078a-8246-4ba4-ae5b-76104861e7dc")
	if up != low {
		t.Errorf("ad id cases give %q and %q", up, low)
	}
}

// TestBLEOptOut: a sighting of a device on the opt-out list, in whatever
// notation, is dropped before any handler sees it, and counted.
func TestBLEOptOut(t *testing.T) {
	list, err := retail.NewOptOut([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	list.Add([]byte("a4:5e:60:c1:0d:2f"))
	list.Add([]byte("6d92078a-8246-4ba4-ae5b-76104861e7dc"))
	rec := &recorder{}
	count := prometheus.NewCounter(prometheus.CounterOpts{Name: "t"})
	g := New(Settings{Handler: rec, Clock: clock.Fixed(bleNow), OptOut: list, OptOutSuppressed: count}, nil)
	d := newDriver(g, "192.0.2.9")
	body := `{"site":"r","store":"s1","sightings":[` +
		`{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"mac":"A45E.60C1.0D2F"},` +
		`{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"mac":"00:1a:2b:3c:4d:5e"},` +
		`{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"adid":"6D92078A-8246-4BA4-AE5B-76104861E7DC"},` +
		`{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50}]}`
	resp := d.do(rawRequest("POST", "/ble", []byte(body), "Content-Type", "application/json"))
	if resp.StatusCode() != 204 || len(rec.events) != 2 {
		t.Fatalf("status %d, %d events; want 204 and the 2 sightings not opted out", resp.StatusCode(), len(rec.events))
	}
	if string(rec.events[0].Sighting.DeviceID) != "00:1a:2b:3c:4d:5e" || len(rec.events[1].Sighting.DeviceID) != 0 {
		t.Fatalf("kept %q and %q", rec.events[0].Sighting.DeviceID, rec.events[1].Sighting.DeviceID)
	}
	if v := testutil.ToFloat64(count); v != 2 {
		t.Fatalf("suppressed counted %v; want 2", v)
	}
}

// TestBLEOptOutCountedOnce: beacongate_ble_optout_suppressed_total counted
// a sighting on the opt-out list each time the list was read: twice when a
// shared field followed "sightings" (the list is read again then), and
// also for a request refused afterwards (no store, another sighting at
// fault), whose sightings were never suppressed but rejected. It counts
// each suppressed sighting of an accepted request once.
func TestBLEOptOutCountedOnce(t *testing.T) {
	list, err := retail.NewOptOut([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	list.Add([]byte("a4:5e:60:c1:0d:2f"))
	rec := &recorder{}
	count := prometheus.NewCounter(prometheus.CounterOpts{Name: "t"})
	g := New(Settings{Handler: rec, Clock: clock.Fixed(bleNow), OptOut: list, OptOutSuppressed: count}, nil)
	d := newDriver(g, "192.0.2.9")
	const (
		optedOut = `{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"mac":"a4:5e:60:c1:0d:2f"}`
		other    = `{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"mac":"00:1a:2b:3c:4d:5e"}`
		bad      = `{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-500}`
	)
	for _, c := range []struct {
		body   string
		status int
		want   float64
	}{
		{`{"site":"r","store":"s1","sightings":[` + optedOut + `,` + other + `]}`, 204, 1},
		{`{"sightings":[` + optedOut + `,` + other + `],"site":"r","store":"s1"}`, 204, 1},
		{`{"site":"r","sightings":[` + optedOut + `]}`, 400, 0},
		{`{"site":"r","store":"s1","sightings":[` + optedOut + `,` + bad + `]}`, 400, 0},
	} {
		before := testutil.ToFloat64(count)
		resp := d.do(rawRequest("POST", "/ble", []byte(c.body), "Content-Type", "application/json"))
		if resp.StatusCode() != c.status {
			t.Fatalf("%s: status %d %s; want %d", c.body, resp.StatusCode(), resp.Body(), c.status)
		}
		if got := testutil.ToFloat64(count) - before; got != c.want {
			t.Errorf("%s: suppressed counted %v; want %v", c.body, got, c.want)
		}
	}
}

// TestBLEPropsAndEventName: per-sighting props are kept (after the
// request's), a bad one is refused naming the sighting, and the request's
// event name is honoured. Before, per-sighting props were silently dropped.
func TestBLEPropsAndEventName(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec, Clock: clock.Fixed(bleNow)}, nil)
	d := newDriver(g, "192.0.2.9")
	body := `{"site":"r","store":"s1","event":"zone_ping","props":{"fw":"2.1"},"sightings":[` +
		`{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"props":{"zone":"shoes","tx":-59}},` +
		`{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50}]}`
	resp := d.do(rawRequest("POST", "/ble", []byte(body), "Content-Type", "application/json"))
	if resp.StatusCode() != 204 || len(rec.events) != 2 {
		t.Fatalf("status %d, %d events: %s", resp.StatusCode(), len(rec.events), resp.Body())
	}
	e0, e1 := rec.events[0], rec.events[1]
	if string(e0.Name) != "zone_ping" || string(e1.Name) != "zone_ping" {
		t.Fatalf("event names %q %q", e0.Name, e1.Name)
	}
	props := func(e event.Event) string {
		var s string
		for _, p := range e.Props {
			s += string(p.Key) + "=" + string(p.Value) + ";"
		}
		return s
	}
	if got := props(e0); got != "fw=2.1;zone=shoes;tx=-59;" {
		t.Fatalf("first sighting's props %q", got)
	}
	if got := props(e1); got != "fw=2.1;" {
		t.Fatalf("second sighting's props %q", got)
	}
	bad := `{"site":"r","store":"s1","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"props":{"zone":["a"]}}]}`
	resp = d.do(rawRequest("POST", "/ble", []byte(bad), "Content-Type", "application/json"))
	if resp.StatusCode() != 400 || !bytes.Contains(resp.Body(), []byte("sightings[0].props: a property value must be")) {
		t.Fatalf("nested prop: %d %s", resp.StatusCode(), resp.Body())
	}
}

// TestBLEOneDeviceID: a sighting carries at most one device id (mac, adid
// or app_instance_id); one with two of them is refused naming the second,
// like any other bad sighting field, and no event is handed on. Before, the
// last one silently replaced the id and kind while a randomized flag set by
// an earlier mac stayed on the record. A null mac, adid or app_instance_id
// names no device, so it may stand beside another id, and a field repeated
// counts by its last copy.
func TestBLEOneDeviceID(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec, Clock: clock.Fixed(bleNow)}, nil)
	d := newDriver(g, "192.0.2.9")
	const beacon = `{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,`
	post := func(ids string) (int, string) {
		t.Helper()
		rec.events = rec.events[:0]
		body := `{"site":"r","store":"s1","sightings":[` + beacon + `"mac":"00:1a:2b:3c:4d:5e"},` + beacon + ids + `}]}`
		resp := d.do(rawRequest("POST", "/ble", []byte(body), "Content-Type", "application/json"))
		return resp.StatusCode(), string(resp.Body())
	}
	for ids, field := range map[string]string{
		`"mac":"DA:A1:19:00:00:01","adid":"6D92078A-8246-4BA4-AE5B-76104861E7DC"`: "adid",
		`"mac":"da:a1:19:00:00:01","app_instance_id":"app-1"`:                     "app_instance_id",
		`"adid":"6d92078a-8246-4ba4-ae5b-76104861e7dc","mac":"00:1a:2b:3c:4d:5e"`: "mac",
		`"app_instance_id":"app-1","adid":"6d92078a-8246-4ba4-ae5b-76104861e7dc"`: "adid",
		`"adid":"","mac":"00:1a:2b:3c:4d:5e"`:                                     "mac",
	} {
		code, body := post(ids)
		want := "sightings[1]." + field + ": at most one of mac, adid, app_instance_id"
		if code != 400 || !strings.Contains(body, want) || len(rec.events) != 0 {
			t.Errorf("%s: status %d, %d events handed on, body %s; want 400 with %q", ids, code, len(rec.events), body, want)
		}
	}
	for ids, want := range map[string]event.Sighting{
		`"adid":null,"mac":"DA:A1:19:00:00:01"`:               {DeviceID: []byte("da:a1:19:00:00:01"), DeviceKind: event.DeviceMAC, Randomized: true},
		`"mac":"DA:A1:19:00:00:01","app_instance_id":null`:    {DeviceID: []byte("da:a1:19:00:00:01"), DeviceKind: event.DeviceMAC, Randomized: true},
		`"mac":"DA:A1:19:00:00:01","mac":"00:1a:2b:3c:4d:5e"`: {DeviceID: []byte("00:1a:2b:3c:4d:5e"), DeviceKind: event.DeviceMAC},
		`"app_instance_id":"a","app_instance_id":"b"`:         {DeviceID: []byte("b"), DeviceKind: event.DeviceAppInstance},
		`"app_instance_id":"app-1","mac":null`:                {DeviceID: []byte("app-1"), DeviceKind: event.DeviceAppInstance},
	} {
		code, body := post(ids)
		if code != 204 || len(rec.events) != 2 {
			t.Errorf("%s: status %d, %d events: %s", ids, code, len(rec.events), body)
			continue
		}
		s := rec.events[1].Sighting
		if string(s.DeviceID) != string(want.DeviceID) || s.DeviceKind != want.DeviceKind || s.Randomized != want.Randomized {
			t.Errorf("%s: device %q kind %v randomized %v; want %q %v %v", ids, s.DeviceID, s.DeviceKind, s.Randomized,
				want.DeviceID, want.DeviceKind, want.Randomized)
		}
	}
}

// TestBLENullMeansAbsent: in a request's shared fields and in a beacon's,
// a null value is taken as absent, as are a sighting's null adid,
// app_instance_id and props; but a sighting's null ts was refused (400
// sightings[0].ts: not a Unix time ...) where a missing ts means the
// receive time, and so were a null mac and a null identity field of the
// other beacon kind (an iBeacon sighting's "namespace": null). Null now
// means absent for every field of a sighting: a required one (rssi) is
// refused as missing.
func TestBLENullMeansAbsent(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec, Clock: clock.Fixed(bleNow)}, nil)
	d := newDriver(g, "192.0.2.9")
	const eddystone = `"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab"`
	const ibeacon = `"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":100,"minor":7`
	post := func(sighting string) (int, string) {
		t.Helper()
		rec.events = rec.events[:0]
		body := `{"site":"r","store":"s1","sightings":[{` + sighting + `}]}`
		resp := d.do(rawRequest("POST", "/ble", []byte(body), "Content-Type", "application/json"))
		return resp.StatusCode(), string(resp.Body())
	}
	for sighting, want := range map[string]event.Sighting{
		eddystone + `,"rssi":-50,"ts":null`:                                                  {DeviceKind: event.DeviceNone},
		eddystone + `,"rssi":-50,"mac":null`:                                                 {DeviceKind: event.DeviceNone},
		eddystone + `,"rssi":-50,"app_instance_id":"app-1","mac":null`:                       {DeviceID: []byte("app-1"), DeviceKind: event.DeviceAppInstance},
		eddystone + `,"rssi":-50,"uuid":null,"major":null,"minor":null`:                      {DeviceKind: event.DeviceNone},
		ibeacon + `,"rssi":-50,"namespace":null,"instance":null,"ts":null`:                   {DeviceKind: event.DeviceNone},
		eddystone + `,"rssi":-50,"mac":null,"adid":null,"app_instance_id":null,"props":null`: {DeviceKind: event.DeviceNone},
	} {
		code, body := post(sighting)
		if code != 204 || len(rec.events) != 1 {
			t.Errorf("%s: status %d, %d events: %s; want 204 and the sighting", sighting, code, len(rec.events), body)
			continue
		}
		s := rec.events[0].Sighting
		if string(s.DeviceID) != string(want.DeviceID) || s.DeviceKind != want.DeviceKind {
			t.Errorf("%s: device %q kind %v; want %q %v", sighting, s.DeviceID, s.DeviceKind, want.DeviceID, want.DeviceKind)
		}
		if s.SeenAtMS != bleNow.UnixMilli() {
			t.Errorf("%s: seen at %d; want the receive time %d", sighting, s.SeenAtMS, bleNow.UnixMilli())
		}
	}
	if code, body := post(eddystone + `,"rssi":null`); code != 400 || !strings.Contains(body, "sightings[0].rssi: missing") {
		t.Errorf(`"rssi": null: status %d %s; want 400 sightings[0].rssi: missing`, code, body)
	}
}
