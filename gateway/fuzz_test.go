package gateway

import (
	"bufio"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/beacongate/beacongate/anonymize/recordtest"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// FuzzPixelQuery feeds arbitrary query strings to the pixel: it must always
// answer the GIF, never panic, and only ever hand on events with valid UTF-8
// fields and a site. The same request also runs through the real privacy
// engine, and every record it makes must be strict JSON (checkRecords).
func FuzzPixelQuery(f *testing.F) {
	f.Add("site=shop&event=pageview&url=https%3A%2F%2Fshop.example%2F%3Fgclid%3Dx&p.plan=pro")
	f.Add("site=s&gdpr=1&gdpr_consent=" + realTC + "&gcs=G111&gcd=13r3r3r3r5&us_privacy=1YNN&consent=analytics,ads")
	f.Add("site=%ff&url=%zz&&&==&p.=1")
	f.Add(pixelURI()[len("/p.gif?"):])
	f.Add("site=s&consent=analytics&event=a%00b&p.note=%ED%A0%80&p.plan=%5Cud800")
	for _, q := range queryCorpus() { // escapes, percent-encoded UTF-8, empty values, limits
		f.Add(q)
	}
	rec := &recorder{}
	g := New(Settings{Handler: rec}, nil)
	d := newDriver(g, "192.0.2.1")
	p := newPipelineGateway(f, goldenConfig, "", clocktest.Golden)
	pd := newDriver(p.g, "81.2.69.142")
	f.Fuzz(func(t *testing.T, q string) {
		pd.ctx.Request.Reset()
		pd.ctx.Response.Reset()
		pd.ctx.Request.Header.SetMethod("GET")
		pd.ctx.Request.SetRequestURI("/p.gif")
		pd.ctx.Request.URI().SetQueryString(q)
		p.g.Handle(&pd.ctx)
		checkRecords(t, p.sp)
		rec.events = rec.events[:0]
		d.ctx.Request.Reset()
		d.ctx.Response.Reset()
		d.ctx.Request.Header.SetMethod("GET")
		d.ctx.Request.SetRequestURI("/p.gif")
		d.ctx.Request.URI().SetQueryString(q)
		g.Handle(&d.ctx)
		if d.ctx.Response.StatusCode() != 200 || len(d.ctx.Response.Body()) != 43 {
			t.Fatalf("pixel answered %d with %d bytes", d.ctx.Response.StatusCode(), len(d.ctx.Response.Body()))
		}
		for _, e := range rec.events {
			if len(e.Site) == 0 || !utf8.Valid(e.Site) || !utf8.Valid(e.URL) || !utf8.Valid(e.UserID) || !utf8.Valid(e.Name) ||
				!utf8.Valid(e.Consent.TCString) || !utf8.Valid(e.Consent.GCS) || !utf8.Valid(e.Consent.GCD) ||
				!utf8.Valid(e.Consent.USPrivacy) || !utf8.Valid(e.Consent.GPP) || !utf8.Valid(e.Consent.GPPSID) ||
				!utf8.Valid(e.Consent.Explicit) {
				t.Fatalf("event with missing site or invalid UTF-8: %+v", e)
			}
		}
		// The same query on the wire, with a Host: requestTarget's raw
		// shortcut must hand on the events fasthttp's parsed URI gave.
		if strings.ContainsAny(q, " #\r\n") {
			return // another request line, or a fragment: not this query
		}
		viaURI := rec.events
		rec.events = nil
		d.ctx.Request.Reset()
		d.ctx.Response.Reset()
		raw := "GET /p.gif?" + q + " HTTP/1.1\r\nHost: shop.example\r\n\r\n"
		if d.ctx.Request.Read(bufio.NewReader(strings.NewReader(raw))) != nil {
			return // fasthttp refuses the request line (a control byte)
		}
		g.Handle(&d.ctx)
		if len(rec.events) != len(viaURI) {
			t.Fatalf("%d events from the raw target, %d from the parsed URI", len(rec.events), len(viaURI))
		}
		for i := range viaURI {
			a, b := rec.events[i], viaURI[i]
			a.ReceivedAt, b.ReceivedAt = time.Time{}, time.Time{}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("event from the raw target %+v, from the parsed URI %+v", a, b)
			}
		}
		rec.events = viaURI[:0]
	})
}

// FuzzBeaconBody feeds arbitrary bodies to POST /b and POST /ble: the answer is
// always one of the documented codes, and a 4xx makes no event.
func FuzzBeaconBody(f *testing.F) {
	f.Add(uint8(0), []byte(`{"site":"s","event":"e","props":{"a":1,"b":"x","c":true}}`))
	f.Add(uint8(0), []byte(`[{"site":"s"},{"site":"t","consent":["ads"]}]`))
	f.Add(uint8(1), []byte(`site=s&p.k=v`))
	f.Add(uint8(2), bleBody(3))
	f.Add(uint8(2), []byte(`{"site":"r","store":"s","sightings":[{"uuid":"F7826DA6-4FA2-4E98-8024-BC5B71E0893E","major":1,"minor":2,"rssi":-3,"ts":1795520400,"mac":"aa-bb-cc-dd-ee-ff"}]}`))
	f.Add(uint8(0), beaconBody())
	f.Add(uint8(3), formDataBody("b", "site", "s", "event", "e", "p.n", "1.5"))
	f.Add(uint8(3), []byte("--b\r\nContent-Disposition: form-data; name=\"site\"; filename=\"blob\"\r\nContent-Type: application/octet-stream\r\n\r\ns\r\n--b--"))
	f.Add(uint8(3), []byte("--b\r\n\r\n--b--"))
	f.Add(uint8(0), []byte("{\"site\":\"\\ud800\"}"))
	f.Add(uint8(0), []byte(`{"site":"s","consent":["analytics"],"event":"x\u0000","props":{"cart_value":1e999,"note":"\udc00","plan":"\ud83d\ude00"}}`))
	f.Add(uint8(0), []byte(`{"site":"s","consent":["analytics"],"props":{"cart_value":-0.0e-999,"note":true,"plan":"\u2028<&>"}}`))
	// Percent-encoded UTF-8 and empty values in a form, raw UTF-8 in
	// multipart fields, empty bodies, a site exactly at its limit.
	f.Add(uint8(1), []byte("site=%E2%82%AC&event=caf%C3%A9&p.gr%C3%B6%C3%9Fe=%E2%82%AC5&p.cut=%C3"))
	f.Add(uint8(1), []byte("site=s&event=&uid=&p.a=&consent="))
	f.Add(uint8(3), formDataBody("b", "site", "s", "event", "café", "p.größe", "€5", "uid", ""))
	for m := range uint8(4) {
		f.Add(m, []byte{})
	}
	f.Add(uint8(0), []byte(`{"site":"`+strings.Repeat("s", maxSiteLen-1)+`\u00e9","consent":["analytics"],"props":{"`+strings.Repeat("k", maxPropKeyLen)+`":""}}`))
	rec := &recorder{}
	g := New(Settings{Handler: rec, Clock: clock.Fixed(bleNow), Limits: Limits{MaxEventsPerRequest: 5, MaxSightingsPerRequest: 5}}, nil)
	d := newDriver(g, "192.0.2.1")
	p := newPipelineGateway(f, goldenConfig, "", clocktest.Golden)
	pd := newDriver(p.g, "81.2.69.142")
	f.Fuzz(func(t *testing.T, mode uint8, body []byte) {
		rec.events = rec.events[:0]
		path, ct := "/b", "text/plain;charset=UTF-8"
		switch mode % 4 {
		case 1:
			ct = "application/x-www-form-urlencoded"
		case 3:
			ct = "multipart/form-data; boundary=b"
		case 2:
			path, ct = "/ble", "application/json"
		}
		d.ctx.Request.Reset()
		d.ctx.Response.Reset()
		d.ctx.Request.Header.SetMethod("POST")
		d.ctx.Request.SetRequestURI(path)
		d.ctx.Request.Header.SetContentType(ct)
		d.ctx.Request.SetBody(body)
		pd.ctx.Request.Reset()
		pd.ctx.Response.Reset()
		d.ctx.Request.CopyTo(&pd.ctx.Request)
		p.g.Handle(&pd.ctx)
		checkRecords(t, p.sp)
		g.Handle(&d.ctx)
		st := d.ctx.Response.StatusCode()
		switch st {
		case 204:
			if len(rec.events) == 0 {
				t.Fatalf("204 without events")
			}
		case 400, 403, 413:
			if len(rec.events) != 0 {
				t.Fatalf("%d with %d events", st, len(rec.events))
			}
		default:
			t.Fatalf("unexpected status %d", st)
		}
		for _, e := range rec.events {
			if len(e.Site) == 0 || !utf8.Valid(e.Site) || !utf8.Valid(e.Name) || !utf8.Valid(e.URL) {
				t.Fatalf("event with missing site or invalid UTF-8")
			}
		}
	})
}

// checkRecords decodes every record sp holds with encoding/json and the
// strict RFC 8259 checker, then forgets them.
func checkRecords(t *testing.T, sp *memorySpool) {
	t.Helper()
	for _, rec := range sp.records {
		if err := recordtest.Check([]byte(rec)); err != nil {
			t.Fatalf("record is not strict JSON: %v\n%s", err, rec)
		}
	}
	sp.records, sp.routes = sp.records[:0], sp.routes[:0]
}

// FuzzForwardedWalk checks the X-Forwarded-For walk against a slow, readable
// reference (strings.Split and netip.ParseAddrPort), and that the Forwarded
// walk never panics and only returns an address it was given or the start.
func FuzzForwardedWalk(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "1.2.3.4, 10.0.0.1", "6.6.6.6,,10.0.0.2", "[2001:db8::1]:80, 10.0.0.1", "garbage, 10.0.0.1", "fe80::1%eth0", "for=1.2.3.4;proto=http, for=\"[2001:db8::1]:4711\"", " \t, "} {
		f.Add(s)
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	start := netip.MustParseAddr("10.255.255.255")
	f.Fuzz(func(t *testing.T, h string) {
		last := start
		got, done := walkForwarded([]byte(h), trusted, false, &last)
		if !done {
			got = last
		}
		if want := slowWalkXFF(h, trusted, start); got != want {
			t.Fatalf("%q: got %v; want %v", h, got, want)
		}
		last = start
		got, done = walkForwarded([]byte(h), trusted, true, &last)
		if !done {
			got = last
		}
		if !got.IsValid() || got.Zone() != "" || got.Is4In6() {
			t.Fatalf("%q: Forwarded walk returned %v", h, got)
		}
	})
}

// slowWalkXFF is the reference for the X-Forwarded-For walk.
func slowWalkXFF(h string, trusted []netip.Prefix, start netip.Addr) netip.Addr {
	parts := strings.Split(h, ",")
	last := start
	for i := len(parts) - 1; i >= 0; i-- {
		p := strings.Trim(parts[i], " \t")
		if p == "" {
			continue
		}
		var a netip.Addr
		if len(p) > 1 && p[0] == '[' && p[len(p)-1] == ']' {
			a, _ = netip.ParseAddr(p[1 : len(p)-1])
			if !a.Is6() {
				return last
			}
		} else if v, err := netip.ParseAddr(p); err == nil {
			a = v
		} else if ap, err := netip.ParseAddrPort(p); err == nil {
			a = ap.Addr()
		}
		if !a.IsValid() || a.Zone() != "" {
			return last
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a
		}
		last = a
	}
	return last
}
