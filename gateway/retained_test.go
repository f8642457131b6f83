package gateway

import (
	"fmt"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/event"
)

// footprint is the bytes the buffers of a request state hold, counted
// here apart from the gateway's own accounting.
func footprint(r *request) int {
	n := 0
	b := func(x []byte) { n += cap(x) }
	e := func(e *event.Event) {
		for _, x := range [][]byte{e.Site, e.Name, e.URL, e.Referrer, e.UserID, e.ClientID, e.EventID, e.UserAgent, e.AcceptLanguage,
			e.Store, e.Sensor, e.Consent.TCString, e.Consent.GCS, e.Consent.GCD, e.Consent.USPrivacy, e.Consent.GPP,
			e.Consent.GPPSID, e.Consent.Explicit, e.Sighting.UUID, e.Sighting.Namespace, e.Sighting.Instance, e.Sighting.DeviceID} {
			b(x)
		}
		for _, p := range e.Props[:cap(e.Props)] {
			b(p.Key)
			b(p.Value)
		}
	}
	e(&r.common)
	all := r.events[:cap(r.events)]
	for i := range all {
		e(&all[i])
	}
	return n
}

// hostileBLE is a BLE ping within the default 64 KiB body limit whose
// shared fields (an 8 KiB consent string, 36 properties of 1,000 bytes)
// are copied into each of its 200 sightings' events.
func hostileBLE() []byte {
	var b strings.Builder
	b.WriteString(`{"site":"retail.example","store":"berlin-01","gdpr":1,"gdpr_consent":"C`)
	b.WriteString(strings.Repeat("A", 8000))
	b.WriteString(`","props":{`)
	for i := range 36 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"p%d":"%s"`, i, strings.Repeat("v", 1000))
	}
	b.WriteString(`},"sightings":[`)
	for i := range 200 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-60}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// TestHugeRequestPinsNoMemory: a request state goes back to a free list
// that the garbage collector never empties (up to 1,024 of them), with
// its buffers as the largest request it served grew them. One BLE ping of
// 54 KiB, its shared fields copied into each of 200 events, grew one to
// about 10 MiB, kept for the life of the process; 1,024 such pings at once
// pinned 10 GiB. A state that grew beyond maxRetainedRequestBytes now
// lets its events go when it is released.
func TestHugeRequestPinsNoMemory(t *testing.T) {
	h := &countingHandler{}
	g := New(Settings{Handler: h, Clock: clock.Fixed(bleNow)}, nil)
	d := newDriver(g, "203.0.113.7")
	body := hostileBLE()
	if len(body) > 64<<10 {
		t.Fatalf("body %d bytes: over the default limit", len(body))
	}
	if st := d.do(rawRequest("POST", "/ble", body, "Content-Type", "application/json")).StatusCode(); st != 204 || h.n != 200 {
		t.Fatalf("status %d, %d events; want 204 and 200", st, h.n)
	}
	kept := func(what string) {
		t.Helper()
		// The free list is a stack: the state just released comes first.
		r := requests.Get()
		got := footprint(r)
		requests.Put(r)
		if limit := 1 << 20; got > limit {
			t.Fatalf("%s: a request state kept %d KiB after a %d KiB request; want at most %d KiB", what, got>>10, len(body)>>10, limit>>10)
		}
	}
	kept("200 sightings")
	// The same list read, then replaced by an empty one (a repeated
	// member counts by its last copy): the events were grown all the same.
	again := append(body[:len(body)-1:len(body)-1], `,"sightings":[]}`...)
	if st := d.do(rawRequest("POST", "/ble", again, "Content-Type", "application/json")).StatusCode(); st != 400 {
		t.Fatalf("status %d for a ping whose last list is empty; want 400", st)
	}
	kept("a list read and replaced")
	// An ordinary ping keeps its buffers: still no allocation.
	raw := rawRequest("POST", "/ble", bleBody(40), "Content-Type", "application/json")
	d.do(raw)
	if n := testing.AllocsPerRun(100, func() { d.do(raw) }); n != 0 {
		t.Fatalf("%v allocs per ordinary ping after the huge one; want 0", n)
	}
}
