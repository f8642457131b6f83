//go:build !race

package anonymize

import (
	"fmt"
	"github.com/beacongate/beacongate/anonymize/scrub"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent/tctest"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/event"
)

// olderPeriodRecordAllocs is what a record costs when its event was received
// in a period before the previous one and the keyring is in derived mode:
// that period's key is derived again for each of the user pseudonym, the
// client pseudonym and the visitor hash (23 allocations each, see
// pseudonym's olderPeriodAllocs). Production does not hit it: the gateway
// stamps every event with the current time.
const olderPeriodRecordAllocs = 3 * 23

// TestAppendRecordAllocs proves the whole per-event path (consent decode and
// merge, UA reduction, geo lookup, IP truncation, URL and text scanning,
// pseudonyms, visitor hash, encoding) does not allocate with a reused buffer,
// at every clock-shift instant, for events of the current and the previous
// period.
func TestAppendRecordAllocs(t *testing.T) {
	for _, in := range clocktest.Instants {
		t.Run(in.Name, func(t *testing.T) { testAppendRecordAllocs(t, in.Time) })
	}
}

func testAppendRecordAllocs(t *testing.T, now time.Time) {
	en := newTestEngineAt(t, testConfig, now)
	allocs := func(explicit, tc string, ble bool, received time.Time) float64 {
		e := plantedEvent(explicit)
		e.ReceivedAt = received
		e.Consent.TCString = []byte(tc)
		if ble {
			makeBLE(e)
		}
		buf := make([]byte, 0, 16<<10)
		buf, _ = en.AppendRecord(buf[:0], e)
		return testing.AllocsPerRun(500, func() { buf, _ = en.AppendRecord(buf[:0], e) })
	}
	f := func(name, explicit, tc string, ble bool, received time.Time) {
		t.Helper()
		if n := allocs(explicit, tc, ble, received); n != 0 {
			t.Fatalf("%s: %v allocs per record; want 0", name, n)
		}
	}
	f("none", "", "", false, now)
	f("analytics", "analytics", "", false, now)
	f("ads", "analytics,ads", "", false, now)
	f("tcf", "", realTC, false, now)
	f("ble", "analytics", "", true, now)
	previous := now.Truncate(24 * time.Hour).Add(-time.Hour)
	f("analytics, previous period", "analytics", "", false, previous)
	f("ble, previous period", "analytics", "", true, previous)
	// Each agent class under each action, and a server-to-server site.
	agents := newTestEngineAt(t, testConfig+`
sites:
  - id: shop.example
  - id: backend.example
    server_to_server: true
policies:
  none: {http_clients: drop, bots: drop}
  analytics: {http_clients: flag, bots: flag}
`, now)
	for _, c := range []struct{ site, ua, explicit string }{
		{"shop.example", "python-requests/2.31.0", ""},
		{"shop.example", "python-requests/2.31.0", "analytics"},
		{"shop.example", "okhttp/4.12.0", "analytics,ads"},
		{"shop.example", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ""},
		{"shop.example", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "analytics"},
		{"backend.example", "Go-http-client/2.0", ""},
		{"backend.example", "Dart/3.2 (dart:io)", "analytics,ads"},
	} {
		e := plantedEvent(c.explicit)
		e.ReceivedAt = now
		e.Site = []byte(c.site)
		e.UserAgent = []byte(c.ua)
		buf := make([]byte, 0, 16<<10)
		buf, _ = agents.AppendRecord(buf[:0], e)
		if n := testing.AllocsPerRun(500, func() { buf, _ = agents.AppendRecord(buf[:0], e) }); n != 0 {
			t.Fatalf("%s, %q, %q: %v allocs per record; want 0", c.site, c.ua, c.explicit, n)
		}
	}
	older := now.Add(-72 * time.Hour)
	if n := allocs("analytics", "", false, older); n != olderPeriodRecordAllocs {
		t.Fatalf("analytics, period before the previous one: %v allocs per record; the documented cost is %d", n, olderPeriodRecordAllocs)
	}
}

// TestAppendPropsAllocs covers property encoding, including the properties
// left out because their value is not writable JSON: still 0 allocations.
func TestAppendPropsAllocs(t *testing.T) {
	en := newTestEngine(t, testConfig)
	e := plantedEvent("analytics")
	e.Props = e.Props[:0]
	e.AddProp([]byte("plan"), []byte("pro"), event.PropString)
	e.AddProp([]byte("cart_value"), []byte("1e999"), event.PropNumber)
	e.AddProp([]byte("note"), []byte("yes"), event.PropBool)
	e.AddProp([]byte("plan"), []byte("team"), event.PropString) // replaces the first
	buf := make([]byte, 0, 16<<10)
	buf, res := en.AppendRecord(buf[:0], e)
	if res.DroppedProps != 2 {
		t.Fatalf("%d properties dropped; want 2", res.DroppedProps)
	}
	if n := testing.AllocsPerRun(500, func() { buf, _ = en.AppendRecord(buf[:0], e) }); n != 0 {
		t.Fatalf("%v allocs per record; want 0", n)
	}
}

// TestAppendRecordsAllocs: the per-destination path makes one record per
// distinct policy without allocating, for one and for three distinct
// policies among the destinations.
func TestAppendRecordsAllocs(t *testing.T) {
	one := newTestEngine(t, testConfig+`
destinations:
  - {name: a, type: file}
  - {name: b, type: file, requires: [analytics, ads]}
`)
	three := newTestEngine(t, destConfig)
	for _, c := range []struct {
		name    string
		en      *Engine
		records int
	}{{"one policy", one, 1}, {"three policies", three, 3}, {"ad platforms: contact hashed per platform, click ids", newTestEngine(t, adConfig), 4}} {
		e := plantedEvent("analytics,ads")
		if c.en != one && c.en != three {
			e = adEvent("analytics,ads")
		}
		out := &nullEmitter{}
		buf := make([]byte, 0, 16<<10)
		buf, _, _ = c.en.AppendRecords(buf[:0], e, out)
		if out.n != c.records {
			t.Fatalf("%s: %d records; want %d", c.name, out.n, c.records)
		}
		if n := testing.AllocsPerRun(500, func() { buf, _, _ = c.en.AppendRecords(buf[:0], e, out) }); n != 0 {
			t.Fatalf("%s: %v allocs per event; want 0", c.name, n)
		}
	}
	// The shop example: 5 distinct policies under ads sharing the event's
	// pseudonyms and visitor hash (idMemo), web and BLE.
	shop := shopRetargeting(t)
	for _, ble := range []bool{false, true} {
		e := senderEvent("shop", chromeUA, ble)
		out := &nullEmitter{}
		buf := make([]byte, 0, 16<<10)
		buf, _, _ = shop.AppendRecords(buf[:0], e, out)
		if out.n != 5 {
			t.Fatalf("shop example, ble %v: %d records; want 5", ble, out.n)
		}
		if n := testing.AllocsPerRun(500, func() { buf, _, _ = shop.AppendRecords(buf[:0], e, out) }); n != 0 {
			t.Fatalf("shop example, ble %v: %v allocs per event; want 0", ble, n)
		}
	}
}

// TestAppendRecordsVendorAllocs: vendor enforcement per destination (a TC
// string with a publisher restriction, checked for a vendor and two
// destinations without one) does not allocate either.
func TestAppendRecordsVendorAllocs(t *testing.T) {
	en := newTestEngine(t, vendorConfig)
	e := plantedEvent("")
	e.Consent.GDPR = 1
	e.Consent.TCString = []byte(vendorTC(func(s *tctest.Spec) {
		s.Restrictions = []tctest.Restriction{{Purpose: 7, Type: 1, Vendors: []int{755}}}
	}))
	out := &nullEmitter{}
	buf := make([]byte, 0, 16<<10)
	buf, res, _ := en.AppendRecords(buf[:0], e, out)
	if res.Dests != 3 || out.n != 1 {
		t.Fatalf("destinations %03b, %d records; want own and partner sharing one record", res.Dests, out.n)
	}
	if n := testing.AllocsPerRun(500, func() { buf, _, _ = en.AppendRecords(buf[:0], e, out) }); n != 0 {
		t.Fatalf("%v allocs per event; want 0", n)
	}
}

// TestCachesAllocs: the caches allocate neither on a miss (a fresh engine,
// every event with a user agent, URL, referrer and consent never seen) nor
// on a hit (the same events again), on the per-destination path.
func TestCachesAllocs(t *testing.T) {
	en := newTestEngine(t, cacheConfig)
	const n = 300
	events := make([]*event.Event, n)
	for i := range events {
		e := plantedEvent("")
		e.Site = []byte("shop-example")
		e.UserAgent = fmt.Appendf(nil, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", 100+i)
		// Eight names in turn: more than a scratch's memo of texts holds,
		// so they are looked up in the text cache.
		e.Name = fmt.Appendf(nil, "signup-%d", i%8)
		// Nothing for the cleaner to remove, so the URL cache keeps it.
		// Three lengths, so that the URL key is built in each of
		// appendCleanURL's stack arrays (256, 1,024 and 2,048 bytes).
		path := strings.Repeat("schuhe/", []int{1, 40, 95}[i%3])
		e.URL = fmt.Appendf(nil, "https://www.shop-example.com/de-de/damen/%ssneaker/SKU-%d?utm_source=news&page=%d", path, i, i)
		e.Referrer = fmt.Appendf(nil, "https://www.google.com/search?q=%d", i)
		e.Consent.GDPR = 1
		e.Consent.TCString = []byte(vendorTC(func(s *tctest.Spec) { s.CMPID = 2 + i }))
		events[i] = e
	}
	out := &nullEmitter{}
	buf := make([]byte, 0, 16<<10)
	for _, pass := range []string{"cold", "warm"} {
		i := 0
		if a := testing.AllocsPerRun(n-1, func() {
			buf, _, _ = en.AppendRecords(buf[:0], events[i], out)
			i++
		}); a != 0 {
			t.Fatalf("%s caches: %v allocs per event; want 0", pass, a)
		}
		c, ua, u, tx := en.CachesStats()
		t.Logf("%s: consent %+v, ua %+v, url %+v, text %+v", pass, c, ua, u, tx)
		if pass == "cold" && c.Hits+ua.Hits+u.Hits != 0 {
			t.Fatalf("cold pass hit a cache: consent %+v, ua %+v, url %+v", c, ua, u)
		}
		if pass == "warm" && tx.Hits < n {
			t.Fatalf("warm pass: event names missed the text cache: %+v", tx)
		}
		if pass == "warm" && (c.Hits < n/2 || ua.Hits < n/2 || u.Hits < n) {
			t.Fatalf("warm pass mostly missed: consent %+v, ua %+v, url %+v", c, ua, u)
		}
	}
}

// TestCleanURLKeyAllocs: for URLs of several lengths up to the longest
// cached, the URL cache's key and the cleaner's scratch for decoding
// escaped parameter names stay in the scratch's key room: nothing is
// allocated.
func TestCleanURLKeyAllocs(t *testing.T) {
	en := newTestEngine(t, cacheConfig)
	site := []byte("shop-example")
	for _, segs := range []int{1, 40, 95} {
		raw := fmt.Appendf(nil, "https://www.shop-example.com/de-de/%ssneaker?%%67clid=abc&utm%%5Fsource=news&p%%61ge=2",
			strings.Repeat("schuhe/", segs))
		buf := make([]byte, 0, 4<<10)
		sc := getScratch()
		defer putScratch(sc)
		kb := sc.key
		if a := testing.AllocsPerRun(100, func() {
			buf, _ = en.appendCleanURL(buf[:0], raw, scrub.URLClean, site, kb)
		}); a != 0 {
			t.Errorf("a %d-byte URL: %v allocs per call; want 0", len(raw), a)
		}
	}
}
