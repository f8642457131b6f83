package gateway

import (
	"testing"
	"unicode/utf8"

	"github.com/beacongate/beacongate/clock"
)

// FuzzPixelQuery feeds arbitrary query strings to the pixel: it must always
// answer the GIF, never panic, and only ever hand on events with valid UTF-8
// fields and a site.
func FuzzPixelQuery(f *testing.F) {
	f.Add("site=shop&event=pageview&url=https%3A%2F%2Fshop.example%2F%3Fgclid%3Dx&p.plan=pro")
	f.Add("site=s&gdpr=1&gdpr_consent=" + realTC + "&gcs=G111&gcd=13r3r3r3r5&us_privacy=1YNN&consent=analytics,ads")
	f.Add("site=%ff&url=%zz&&&==&p.=1")
	f.Add(pixelURI()[len("/p.gif?"):])
	rec := &recorder{}
	g := New(Settings{Handler: rec}, nil)
	d := newDriver(g, "192.0.2.1")
	f.Fuzz(func(t *testing.T, q string) {
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
			if len(e.Site) == 0 || !utf8.Valid(e.Site) || !utf8.Valid(e.URL) || !utf8.Valid(e.UserID) {
				t.Fatalf("event with missing site or invalid UTF-8: %+v", e)
			}
		}
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
	rec := &recorder{}
	g := New(Settings{Handler: rec, Clock: clock.Fixed(bleNow), Limits: Limits{MaxEventsPerRequest: 5, MaxSightingsPerRequest: 5}}, nil)
	d := newDriver(g, "192.0.2.1")
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
