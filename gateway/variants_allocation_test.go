//go:build !race

package gateway

import (
	"bytes"
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/consent/tctest"
	"github.com/beacongate/beacongate/anonymize/geo"
	"github.com/beacongate/beacongate/anonymize/geo/geotest"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/anonymize/suppress"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/delivery"
	"github.com/beacongate/beacongate/retail"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/wiring"
)

// variantsConfig is a deployment with every feature the request path
// reads: sites with origins and routes, a server-to-server site, bots and
// HTTP clients dropped, flagged or kept by consent state, known beacons,
// allow-listed properties, a TCF vendor and the three ad platforms hashing
// contact data and keeping click ids.
const variantsConfig = `
properties:
  allow: [plan, cart_value, note, zone, value, currency]
consent:
  purposes: [analytics, ads, personalization, precise_geo, device_storage]
sites:
  - id: shop.example
    origins: ["https://shop.example"]
    routes: ["/products/{sku}"]
  - id: backend.example
    server_to_server: true
  - id: retail.example
policies:
  none: {bots: drop, http_clients: drop}
  analytics: {bots: flag, http_clients: flag}
  ads: {bots: keep, http_clients: keep}
ble:
  beacons: [F7826DA6-4FA2-4E98-8024-BC5B71E0893E, edd1ebeac04e5defa017]
destinations:
  - {name: all, type: file, tcf: {without_vendor: true}}
  - name: partner
    type: file
    requires: [analytics, ads]
    tcf: {vendor_id: 755, purposes: [1, 3, 4], legitimate_interest: [7], flexible_purposes: [7], special_features: [1]}
  - name: meta
    type: meta_capi
    requires: [analytics, ads]
    tcf: {without_vendor: true}
    meta_capi: {pixel_id: "1234567890", access_token_file: /nonexistent/meta.token}
    policies: {ads: {contact: hash, click_ids: keep, user_agent: {action: keep}}}
  - name: ga
    type: ga4
    requires: [analytics, ads]
    tcf: {without_vendor: true}
    ga4: {measurement_id: G-TEST123, api_secret_file: /nonexistent/ga.secret}
    policies: {ads: {contact: hash, click_ids: keep}}
  - name: tiktok
    type: tiktok
    requires: [analytics, ads]
    tcf: {without_vendor: true}
    tiktok: {event_source_id: CABC123, access_token_file: /nonexistent/tt.token}
    policies: {ads: {contact: hash}}
`

// countingSpool is the real record pipeline, counting the records handed
// to it.
type countingSpool struct {
	*upstream.Pipeline
	n atomic.Int64
}

func (s *countingSpool) Append(rec []byte, route upstream.Route) error {
	s.n.Add(1)
	return s.Pipeline.Append(rec, route)
}

func (s *countingSpool) Enqueue(p *upstream.Pending, rec []byte, route upstream.Route) error {
	s.n.Add(1)
	return s.Pipeline.Enqueue(p, rec, route)
}

// variantsGateway is variantsConfig's pipeline on the real spool, with the
// settings the app derives from the config (sites and their origins) and
// a trusted proxy at 10.0.0.0/8; its handler is what deliverer returns.
type variantsGateway struct {
	p        *pipeline
	spool    *countingSpool
	settings Settings
}

func newVariantsGateway(t *testing.T, yaml string) *variantsGateway {
	t.Helper()
	p := newPipelineGateway(t, yaml, "", clocktest.Golden)
	v := &variantsGateway{p: p, spool: &countingSpool{Pipeline: p.openFilePipeline(t, nil)}}
	v.settings = Settings{
		Handler:        delivery.NewDeliverer(p.engine, v.spool, p.metrics),
		Clock:          p.clock,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Sites: map[string][]string{
			"shop.example":    {"https://shop.example"},
			"backend.example": nil,
			"retail.example":  nil,
		},
	}
	p.g.Update(v.settings)
	// The spool's and the shippers' buffers grow to their size, and each
	// destination ships a few batches (zstd encoders made), before any
	// measurement: those are the background's, not the request path's.
	d := newDriver(p.g, "81.2.69.142")
	warm := rawRequest("GET", "/p.gif?site=shop.example&consent=analytics,ads&p.em=a%40b.example&url=https%3A%2F%2Fshop.example%2Fp%3Fgclid%3Dx", nil, "User-Agent", chromeUA)
	for range 3000 {
		d.do(warm)
	}
	return v
}

// variant is one request as a deployment sees it, from peer, with the
// status and the number of records it must make.
type variant struct {
	name    string
	peer    string
	raw     []byte
	status  int
	records int
}

// check sends each variant a few times (the first may warm buffers), checks
// its status and records, then asserts that it allocates nothing.
func (v *variantsGateway) check(t *testing.T, cases []variant) {
	t.Helper()
	for _, c := range cases {
		peer := c.peer
		if peer == "" {
			peer = "81.2.69.142"
		}
		d := newDriver(v.p.g, peer)
		before := v.spool.n.Load()
		resp := d.do(c.raw)
		if resp.StatusCode() != c.status {
			t.Errorf("%s: status %d (%q); want %d", c.name, resp.StatusCode(), resp.Body(), c.status)
			continue
		}
		if got := v.spool.n.Load() - before; got != int64(c.records) {
			t.Errorf("%s: %d records; want %d", c.name, got, c.records)
			continue
		}
		for range 5 {
			d.do(c.raw)
		}
		if n := testing.AllocsPerRun(200, func() { d.do(c.raw) }); n != 0 {
			t.Errorf("%s: %v allocs per request through the whole pipeline; want 0", c.name, n)
		}
	}
}

// variantsTC is a valid TC string a day before the pinned clock, with a
// publisher restriction, vendor 755's consent and legitimate interest and
// a disclosed vendors segment listing it.
func variantsTC(mod func(*tctest.Spec)) string {
	s := tctest.Valid(clocktest.Golden.Add(-24 * time.Hour))
	s.VendorConsent = []int{14, 755}
	s.VendorLI = []int{755}
	s.Disclosed = []int{14, 755}
	s.Restrictions = []tctest.Restriction{{Purpose: 7, Type: 1, Vendors: []int{755}}, {Purpose: 2, Type: 0, Vendors: []int{14}}}
	if mod != nil {
		mod(&s)
	}
	return s.Encode()
}

const (
	chromeUA    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	iphoneUA    = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	googlebotUA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	pythonUA    = "python-requests/2.31.0"
)

// TestVariantsToSpoolAllocs: every variant of request a deployment sees,
// through the whole pipeline (gateway, delivery, engine, the real spool),
// allocates nothing once warm.
func TestVariantsToSpoolAllocs(t *testing.T) {
	v := newVariantsGateway(t, variantsConfig)
	tc := variantsTC(nil)
	q := func(s string) string { return strings.NewReplacer("~", "%7E", ",", "%2C").Replace(s) }
	json := "application/json"
	origin := "https://shop.example"
	adURL := "https%3A%2F%2Fshop.example%2Fproducts%2FSKU-1%3Fgclid%3DCj0KCQiA-abc_DEF%26fbclid%3DIwAR3xYz-Q_9%26ttclid%3DE.C.P.x1"
	contact := "&p.em=+Jane.Doe%40Gmail.com+&p.ph=%2B49+(30)+1234-567&p.ct=Berlin&p.zp=10115&p.fn=J%C3%A9r%C3%B4me&p.ln=O%E2%80%99Brien&p.country=DE&p.external_id=x-1&p._fbp=fb.1.1700000000000.123456789&p._fbc=fb.1.1700000000000.IwAR3xYz-Q_9&p._ga=GA1.1.987654321.1700000001&p._ttp=abc"
	var manyProps, manyJSON strings.Builder
	for i := range 64 {
		name := fmt.Sprintf("x%02d", i)
		switch i % 4 {
		case 0:
			name = []string{"plan", "cart_value", "note", "value", "currency"}[i/4%5]
		}
		fmt.Fprintf(&manyProps, "&p.%s=v%d", name, i)
		if i > 0 {
			manyJSON.WriteByte(',')
		}
		fmt.Fprintf(&manyJSON, `"%s":"v%d"`, name, i)
	}
	beacon := func(extra string) []byte {
		return []byte(`{"site":"shop.example","event":"purchase","url":"https://shop.example/products/SKU-1?gclid=abc","uid":"user-1","cid":"c-1"` + extra + `}`)
	}
	ble := func(sightings string) []byte {
		return []byte(`{"site":"retail.example","store":"berlin-01","sensor":"gate-3","consent":"analytics","sightings":[` + sightings + `]}`)
	}
	ts := clocktest.Golden.Add(-time.Minute).UnixMilli()
	ib := func(dev string) string {
		return fmt.Sprintf(`{"uuid":"F7826DA6-4FA2-4E98-8024-BC5B71E0893E","major":100,"minor":7,"rssi":-60,"ts":%d%s}`, ts, dev)
	}
	ed := func(dev string) string {
		return fmt.Sprintf(`{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-70,"ts":"%s"%s}`, clocktest.Golden.Add(-time.Minute).UTC().Format(time.RFC3339), dev)
	}
	v.check(t, []variant{
		// The pixel: every parameter, none, the Referer fallback, HEAD.
		{name: "pixel, every parameter", raw: rawRequest("GET", pixelURI()+"&eid=abcdefgh12345678&gpp="+q("DBACNY~"+tc+"~1YNN")+"&gpp_sid=2%2C6&consent=analytics,ads&utm_source=x", nil,
			"User-Agent", chromeUA, "Accept-Language", "de-DE,de;q=0.9", "Referer", "https://shop.example/", "Cookie", "_ga=1; euconsent-v2="+tc, "Sec-GPC", "0", "DNT", "0", "Origin", origin), status: 200, records: 1},
		{name: "pixel, no parameter", raw: rawRequest("GET", "/p.gif", nil), status: 200},
		{name: "pixel, no parameter but site", raw: rawRequest("GET", "/p.gif?site=shop.example", nil), status: 200, records: 1},
		{name: "pixel, url from Referer", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics", nil, "Referer", "https://shop.example/products/SKU-9?q=1", "User-Agent", iphoneUA), status: 200, records: 1},
		{name: "pixel HEAD", raw: rawRequest("HEAD", "/p.gif?site=shop.example", nil, "User-Agent", chromeUA), status: 200},
		{name: "pixel, IPv6 client", peer: "2a02:1234::5", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics,precise_geo", nil, "User-Agent", chromeUA), status: 200, records: 1},
		{name: "pixel, X-Forwarded-For chain", peer: "10.1.1.1", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics", nil, "User-Agent", chromeUA,
			"X-Forwarded-For", "6.6.6.6, 81.2.69.143", "X-Forwarded-For", "10.0.0.9, 10.2.2.2"), status: 200, records: 1},
		{name: "pixel, X-Forwarded-For IPv6 with port", peer: "10.1.1.1", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics", nil, "User-Agent", chromeUA,
			"X-Forwarded-For", "[2a02:1234::77]:4711, 10.0.0.9"), status: 200, records: 1},
		// Beacons: each body a page can send.
		{name: "beacon, JSON object, CORS", raw: rawRequest("POST", "/b", beaconBody(), "Content-Type", json, "User-Agent", chromeUA, "Origin", origin), status: 204, records: 1},
		{name: "beacon, JSON array", raw: rawRequest("POST", "/b", []byte("["+string(beacon(""))+","+string(beacon(`,"consent":["analytics","ads"]`))+"]"), "Content-Type", json, "User-Agent", chromeUA), status: 204, records: 1 + 4},
		{name: "beacon, text/plain", raw: rawRequest("POST", "/b", beacon(`,"consent":"analytics"`), "Content-Type", "text/plain;charset=UTF-8", "User-Agent", chromeUA, "Origin", origin), status: 204, records: 1},
		{name: "beacon, no Content-Type", raw: rawRequest("POST", "/b", beacon(`,"consent":"analytics"`), "User-Agent", chromeUA), status: 204, records: 1},
		{name: "beacon, form", raw: rawRequest("POST", "/b", []byte("site=shop.example&event=signup&consent=analytics&uid=u&p.plan=pro&p.x=1"), "Content-Type", "application/x-www-form-urlencoded", "User-Agent", chromeUA, "Origin", origin), status: 204, records: 1},
		{name: "beacon, multipart", raw: rawRequest("POST", "/b", formDataBody(chromeBoundary, "site", "shop.example", "event", "signup", "consent", "analytics", "p.plan", "pro", "p.y", "2"), "Content-Type", "multipart/form-data; boundary="+chromeBoundary, "User-Agent", chromeUA, "Origin", origin), status: 204, records: 1},
		{name: "beacon, 64 properties", raw: rawRequest("POST", "/b", beacon(`,"consent":"analytics","props":{`+manyJSON.String()+`}`), "Content-Type", json, "User-Agent", chromeUA), status: 204, records: 1},
		{name: "pixel, 64 properties", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics"+manyProps.String(), nil, "User-Agent", chromeUA), status: 200, records: 1},
		// Consent signals, each and together.
		{name: "TCF, restrictions and disclosed vendors", raw: rawRequest("GET", "/p.gif?site=shop.example&gdpr=1&gdpr_consent="+tc, nil, "User-Agent", chromeUA), status: 200, records: 4},
		{name: "TCF cookie only", raw: rawRequest("GET", "/p.gif?site=shop.example", nil, "User-Agent", chromeUA, "Cookie", "a=b; euconsent-v2="+tc+"; c=d"), status: 200, records: 4},
		{name: "TCF before v2.3", raw: rawRequest("GET", "/p.gif?site=shop.example&gdpr=1&gdpr_consent="+variantsTC(func(s *tctest.Spec) {
			s.Created = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
			s.Disclosed = nil
		}), nil, "User-Agent", chromeUA), status: 200, records: 4},
		{name: "GPP tcfeuv2 and uspv1", raw: rawRequest("GET", "/p.gif?site=shop.example&gpp="+q("DBACNY~"+tc+"~1YNN")+"&gpp_sid=2,6", nil, "User-Agent", chromeUA), status: 200, records: 4},
		{name: "GPP usnat and a state", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics,ads&gpp="+q("DBACLMA~BVVqAAEABCA~BVoYYYI")+"&gpp_sid=7,8", nil, "User-Agent", chromeUA), status: 200, records: 1},
		{name: "GPP six sections", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics,ads&gpp="+q("DBABrGA~BVVqAAEABCA~BVoYYZoI~BVoYYYI~BVoYYQg~BVaGGGCA~BVoYYYQg")+"&gpp_sid=7,8,9,10,11,12", nil, "User-Agent", chromeUA), status: 200, records: 1},
		{name: "GPP uspv1 and usnat", raw: rawRequest("POST", "/b", beacon(`,"consent":"analytics,ads","gpp":"DBABzw~1YNN~BVVqAAEABCA.QA","gpp_sid":"6,7"`), "Content-Type", json, "User-Agent", chromeUA), status: 204, records: 4},
		{name: "Consent Mode gcs and gcd", raw: rawRequest("GET", "/p.gif?site=shop.example&gcs=G111&gcd=13t3t3t3t5"+contact+"&url="+adURL, nil, "User-Agent", chromeUA), status: 200, records: 4},
		{name: "Consent Mode denied", raw: rawRequest("GET", "/p.gif?site=shop.example&gcs=G100&gcd=13q3q3q2q5", nil, "User-Agent", chromeUA), status: 200, records: 1},
		{name: "us_privacy opt-out", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics,ads&us_privacy=1YYN", nil, "User-Agent", chromeUA), status: 200, records: 1},
		{name: "GPC", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics,ads", nil, "User-Agent", chromeUA, "Sec-GPC", "1"), status: 200, records: 1},
		{name: "DNT", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics,ads", nil, "User-Agent", chromeUA, "DNT", "1"), status: 200, records: 1},
		{name: "every signal at once", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics,ads&gdpr=1&gdpr_consent="+tc+"&gcs=G111&gcd=13t3t3t3t5&us_privacy=1YNN&gpp="+q("DBACNY~"+tc+"~1YNN")+"&gpp_sid=2,6", nil,
			"User-Agent", chromeUA, "Sec-GPC", "0, 1", "DNT", "1"), status: 200, records: 1},
		{name: "conflicting copies, macro gdpr", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics&us_privacy=1YNN&us_privacy=1YYN&gdpr=%24%7BGDPR%7D&gdpr_consent=x", nil, "User-Agent", chromeUA), status: 200, records: 1},
		// Ad platforms: contact data hashed per platform, click ids.
		{name: "ads, contact and click ids, pixel", raw: rawRequest("GET", "/p.gif?site=shop.example&event=Purchase&consent=analytics,ads&eid=abcdefgh12345678&uid=u-1"+contact+"&url="+adURL, nil, "User-Agent", chromeUA), status: 200, records: 4},
		{name: "ads, contact and click ids, beacon", raw: rawRequest("POST", "/b", beacon(`,"consent":["analytics","ads"],"props":{"em":"Jane.Doe@gmail.com","ph":"+49 30 1234567","fn":"Émile","ln":"O’Brien","ct":"Zürich","zp":"8001","country":"ch","external_id":"e-1","_fbp":"fb.1.1700000000000.1","_fbc":"fb.1.1700000000000.IwAR","_ga":"GA1.1.1.2","value":12.5,"currency":"EUR"}`), "Content-Type", json, "User-Agent", iphoneUA), status: 204, records: 4},
		{name: "ads, already hashed contact", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics,ads&p.em=836F82DB99121B3481011F16B49DFA5FBC714A0D1B1B9F784A1EBBBF5B39577F", nil, "User-Agent", chromeUA), status: 200, records: 4},
		// Bots and HTTP clients under drop (none), flag (analytics) and keep (ads).
		{name: "bot, dropped", raw: rawRequest("GET", "/p.gif?site=shop.example", nil, "User-Agent", googlebotUA), status: 200},
		{name: "bot, flagged", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics", nil, "User-Agent", googlebotUA), status: 200, records: 1},
		{name: "bot, kept", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics,ads", nil, "User-Agent", googlebotUA), status: 200, records: 4},
		{name: "HTTP client, dropped", raw: rawRequest("POST", "/b", beacon(""), "Content-Type", json, "User-Agent", pythonUA), status: 204},
		{name: "HTTP client, flagged", raw: rawRequest("POST", "/b", beacon(`,"consent":"analytics"`), "Content-Type", json, "User-Agent", pythonUA), status: 204, records: 1},
		{name: "HTTP client, kept", raw: rawRequest("POST", "/b", beacon(`,"consent":"analytics,ads"`), "Content-Type", json, "User-Agent", pythonUA), status: 204, records: 2},
		{name: "headless browser", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics", nil, "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36"), status: 200, records: 1},
		{name: "no User-Agent", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics", nil), status: 200, records: 1},
		{name: "server to server", raw: rawRequest("POST", "/b", []byte(`{"site":"backend.example","event":"order","uid":"u-2","consent":"analytics,ads","props":{"em":"a@b.example"}}`), "Content-Type", json, "User-Agent", "Go-http-client/2.0"), status: 204, records: 2},
		// BLE: every device kind and notation, both beacon kinds.
		{name: "ble, mac colons", raw: rawRequest("POST", "/ble", ble(ib(`,"mac":"A4:5E:60:E8:1B:2C"`)), "Content-Type", json), status: 204, records: 1},
		{name: "ble, mac dashes", raw: rawRequest("POST", "/ble", ble(ed(`,"mac":"a4-5e-60-e8-1b-2c"`)), "Content-Type", json), status: 204, records: 1},
		{name: "ble, mac Cisco", raw: rawRequest("POST", "/ble", ble(ib(`,"mac":"a45e.60e8.1b2c"`)), "Content-Type", json), status: 204, records: 1},
		{name: "ble, mac bare", raw: rawRequest("POST", "/ble", ble(ed(`,"mac":"A45E60E81B2C"`)), "Content-Type", json), status: 204, records: 1},
		{name: "ble, randomized mac", raw: rawRequest("POST", "/ble", ble(ib(`,"mac":"DA:A1:19:00:00:01"`)), "Content-Type", json), status: 204, records: 1},
		{name: "ble, adid", raw: rawRequest("POST", "/ble", ble(ed(`,"adid":"38400000-8CF0-11BD-B23E-10B96E40000D"`)), "Content-Type", json), status: 204, records: 1},
		{name: "ble, app_instance_id", raw: rawRequest("POST", "/ble", ble(ib(`,"app_instance_id":"app-1f2e3d"`)), "Content-Type", json), status: 204, records: 1},
		{name: "ble, no device", raw: rawRequest("POST", "/ble", ble(ed("")+","+ib("")), "Content-Type", json), status: 204, records: 2},
		{name: "ble, unknown beacon", raw: rawRequest("POST", "/ble", ble(`{"uuid":"6D92078A-8246-4BA4-AE5B-76104861E7DC","major":1,"minor":2,"rssi":-60,"mac":"A4:5E:60:E8:1B:2D"}`), "Content-Type", json), status: 204, records: 1},
		{name: "ble, sightings with props", raw: rawRequest("POST", "/ble", ble(ib(`,"mac":"A4:5E:60:E8:1B:2C","props":{"zone":"shoes","note":"x","other":1}`)+","+ed(`,"adid":"38400000-8cf0-11bd-b23e-10b96e40000e","props":{"zone":"entrance"}`)), "Content-Type", json, "User-Agent", "StoreSensor/2.1"), status: 204, records: 2},
		{name: "ble, ads consent, browser sender", raw: rawRequest("POST", "/ble", bytes.Replace(ble(ib(`,"mac":"A4:5E:60:E8:1B:2C"`)), []byte(`"consent":"analytics"`), []byte(`"consent":["analytics","ads"],"props":{"zone":"shoes"}`), 1), "Content-Type", json, "User-Agent", chromeUA), status: 204, records: 4},
		{name: "ble, TCF", raw: rawRequest("POST", "/ble", bytes.Replace(ble(ib(`,"mac":"A4:5E:60:E8:1B:2C"`)), []byte(`"consent":"analytics"`), []byte(`"gdpr":1,"gdpr_consent":"`+tc+`"`), 1), "Content-Type", json, "User-Agent", chromeUA), status: 204, records: 4},
	})
}

// TestRejectionsAllocs: each rejection, from no origin, from a configured
// origin (with CORS headers) and from another origin, and the CORS
// preflight, through the whole pipeline, allocates nothing.
func TestRejectionsAllocs(t *testing.T) {
	v := newVariantsGateway(t, variantsConfig)
	json := "application/json"
	good := []byte(`{"site":"shop.example","consent":"analytics"}`)
	for _, origin := range []string{"", "https://shop.example", "https://evil.example"} {
		hdr := func(kv ...string) []string {
			if origin != "" {
				kv = append(kv, "Origin", origin)
			}
			return kv
		}
		forbidden := func(st int) int {
			if origin == "https://evil.example" {
				return 403
			}
			return st
		}
		cases := []variant{
			{name: "400 invalid json", raw: rawRequest("POST", "/b", []byte(`{"site":`), hdr("Content-Type", json)...), status: 400},
			{name: "400 unknown site", raw: rawRequest("POST", "/b", []byte(`{"site":"other.example"}`), hdr("Content-Type", json)...), status: 400},
			{name: "400 missing store", raw: rawRequest("POST", "/ble", []byte(`{"site":"shop.example","sightings":[{"rssi":-5}]}`), hdr("Content-Type", json)...), status: forbidden(400)},
			{name: "400 too many events", raw: rawRequest("POST", "/b", []byte("["+strings.Repeat(string(good)+",", 50)+string(good)+"]"), hdr("Content-Type", json)...), status: 400},
			{name: "400 empty body", raw: rawRequest("POST", "/b", []byte{}, hdr("Content-Type", json)...), status: 400},
			{name: "404", raw: rawRequest("GET", "/nope", nil, hdr()...), status: 404},
			{name: "405 GET /b", raw: rawRequest("GET", "/b", nil, hdr()...), status: 405},
			{name: "405 PUT /ble", raw: rawRequest("PUT", "/ble", good, hdr("Content-Type", json)...), status: 405},
			{name: "405 POST /p.gif", raw: rawRequest("POST", "/p.gif?site=shop.example", good, hdr("Content-Type", json)...), status: 200},
			{name: "413", raw: rawRequest("POST", "/b", bytes.Repeat([]byte(" "), 65<<10), hdr("Content-Type", json)...), status: 413},
			{name: "415 type", raw: rawRequest("POST", "/b", good, hdr("Content-Type", "application/xml")...), status: 415},
			{name: "415 encoding", raw: rawRequest("POST", "/b", good, hdr("Content-Type", json, "Content-Encoding", "gzip")...), status: 415},
			{name: "415 ble form", raw: rawRequest("POST", "/ble", []byte("site=retail.example"), hdr("Content-Type", "application/x-www-form-urlencoded")...), status: 415},
			{name: "200 pixel, forbidden origin or not", raw: rawRequest("GET", "/p.gif?site=shop.example&consent=analytics", nil, hdr()...), status: 200, records: map[bool]int{true: 0, false: 1}[origin == "https://evil.example"]},
			{name: "preflight /b", raw: rawRequest("OPTIONS", "/b", nil, hdr("Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")...), status: map[string]int{"": 403, "https://shop.example": 204, "https://evil.example": 403}[origin]},
			{name: "preflight /ble", raw: rawRequest("OPTIONS", "/ble", nil, hdr("Access-Control-Request-Method", "POST")...), status: map[string]int{"": 403, "https://shop.example": 204, "https://evil.example": 403}[origin]},
			{name: "beacon", raw: rawRequest("POST", "/b", good, hdr("Content-Type", json)...), status: forbidden(204), records: map[bool]int{true: 0, false: 1}[origin == "https://evil.example"]},
		}
		for i := range cases {
			cases[i].name = fmt.Sprintf("%s, origin %q", cases[i].name, origin)
		}
		v.check(t, cases)
	}
}

// TestRefusalCORSAllocs: the 429 and 503 answers to a configured origin,
// with CORS headers and Retry-After, do not allocate.
func TestRefusalCORSAllocs(t *testing.T) {
	sites := map[string][]string{"shop.example": {"https://shop.example"}}
	g := New(Settings{Handler: refusingHandler{}, MaxRequestsPerClient: 1, Sites: sites}, nil)
	busy := netip.MustParseAddr("198.51.100.9")
	if !g.inFlight.acquire(busy, 1) {
		t.Fatal("first request refused")
	}
	defer g.inFlight.release(busy)
	body := []byte(`{"site":"shop.example"}`)
	for _, c := range []struct {
		peer string
		path string
		want int
	}{{"203.0.113.7", "/b", 503}, {"203.0.113.7", "/ble", 503}, {busy.String(), "/b", 429}, {busy.String(), "/ble", 429}} {
		b := body
		if c.path == "/ble" {
			b = []byte(`{"site":"shop.example","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-5}]}`)
		}
		raw := rawRequest("POST", c.path, b, "Content-Type", "application/json", "Origin", "https://shop.example")
		d := newDriver(g, c.peer)
		resp := d.do(raw)
		if resp.StatusCode() != c.want || len(resp.Header.Peek("Access-Control-Allow-Origin")) == 0 || len(resp.Header.Peek("Retry-After")) == 0 {
			t.Fatalf("%s from %s: %d; want %d with CORS and Retry-After", c.path, c.peer, resp.StatusCode(), c.want)
		}
		if n := testing.AllocsPerRun(300, func() { d.do(raw) }); n != 0 {
			t.Errorf("%s from %s: %v allocs per %d; want 0", c.path, c.peer, n, c.want)
		}
	}
}

// TestSuppressedAndOptedOutAllocs: a suppressed subject's events (pixel,
// beacon, BLE by device) and an opted-out BLE device are dropped without
// allocating, beside events that go through.
func TestSuppressedAndOptedOutAllocs(t *testing.T) {
	v := newVariantsGateway(t, variantsConfig)
	key, err := pseudonym.NewSubjectKey(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "suppressed.txt")
	suppress.Edit(path, key.Sum([]byte("shop.example"), []byte("user-1")), true)
	list, err := suppress.Open(path, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	optOut, err := retail.NewOptOut([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	optOut.Add([]byte("a4:5e:60:e8:1b:2c"))
	s := v.settings
	s.Handler = s.Handler.(*delivery.Deliverer).WithSuppression(list)
	s.OptOut, s.OptOutSuppressed = optOut, prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
	v.p.g.Update(s)
	json := "application/json"
	v.check(t, []variant{
		{name: "pixel, suppressed", raw: rawRequest("GET", "/p.gif?site=shop.example&uid=user-1&consent=analytics,ads", nil, "User-Agent", chromeUA), status: 200},
		{name: "beacon, suppressed", raw: rawRequest("POST", "/b", []byte(`{"site":"shop.example","uid":"user-1","consent":"analytics"}`), "Content-Type", json, "User-Agent", chromeUA), status: 204},
		{name: "beacon, other user", raw: rawRequest("POST", "/b", []byte(`{"site":"shop.example","uid":"user-2","consent":"analytics"}`), "Content-Type", json, "User-Agent", chromeUA), status: 204, records: 1},
		{name: "ble, opted out in another notation", raw: rawRequest("POST", "/ble", []byte(`{"site":"retail.example","store":"s","consent":"analytics","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-60,"mac":"A45E.60E8.1B2C"},{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-60,"mac":"A4:5E:60:E8:1B:2D"}]}`), "Content-Type", json), status: 204, records: 1},
	})
}

// cacheMissRequests returns n requests that differ from each other in every
// input the caches and memos are keyed by (user agent, page URL and
// referrer, user and client ids, TC and GPP strings, Consent Mode, client
// address, IPv4 and IPv6, BLE store, sensor and devices), seeded by seed
// so that two sets share none, each from a trusted proxy, with its status.
func cacheMissRequests(n, seed int) (raws [][]byte, statuses []int) {
	for i := range n {
		k := seed*100000 + i
		client := fmt.Sprintf("81.2.%d.%d", k/250%250, k%250+1)
		if i%3 == 1 {
			client = fmt.Sprintf("[2a02:1234:%x:%x::%x]:443", k/65536%65536, k%65536, i+1)
		}
		ua := fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Safari/537.36", 100+k%50, k, i)
		if i%5 == 0 {
			ua = fmt.Sprintf("MyShopApp/%d.%d (iPhone; iOS 17.%d) okhttp/4.%d", k, i, i%9, k%13)
		}
		tc := variantsTC(func(s *tctest.Spec) { s.CMPID = 2 + k%4000; s.VendorListVer = 100 + i })
		url := fmt.Sprintf("https%%3A%%2F%%2Fshop.example%%2Fproducts%%2FSKU-%d%%3Fpage%%3D%d%%26gclid%%3Dg%d", k, i, k)
		switch i % 4 {
		case 0:
			raws = append(raws, rawRequest("GET", fmt.Sprintf("/p.gif?site=shop.example&event=view_%d&url=%s&ref=https%%3A%%2F%%2Fwww.google.com%%2Fsearch%%3Fq%%3D%d&uid=user-%d&cid=c-%d&gdpr=1&gdpr_consent=%s&p.em=u%d%%40example.com&p.plan=p%d", k%7, url, k, k, k, tc, k, k),
				nil, "User-Agent", ua, "Accept-Language", fmt.Sprintf("de-DE,de;q=0.%d", 1+i%9), "X-Forwarded-For", client))
			statuses = append(statuses, 200)
		case 1:
			raws = append(raws, rawRequest("GET", fmt.Sprintf("/p.gif?site=shop.example&url=%s&uid=user-%d&gcs=G1%d1&gcd=13t3t3t3t%d&us_privacy=1Y%cN&gpp=DBACNY%%7E%s%%7E1YNN&gpp_sid=2,6", url, k, i%2, 5, "NY"[i%2], tc),
				nil, "User-Agent", ua, "X-Forwarded-For", client, "Sec-GPC", fmt.Sprint(i%2)))
			statuses = append(statuses, 200)
		case 2:
			raws = append(raws, rawRequest("POST", "/b", fmt.Appendf(nil, `[{"site":"shop.example","event":"add_%d","url":"https://shop.example/products/SKU-%d?x=%d","uid":"user-%d","consent":["analytics","ads"],"props":{"em":"v%d@example.com","ph":"+4930%07d","value":%d.5,"note":"n%d"}},{"site":"backend.example","uid":"u-%d","consent":"analytics"}]`, k%9, k, i, k, k, k, k, k, k),
				"Content-Type", "text/plain;charset=UTF-8", "User-Agent", ua, "X-Forwarded-For", client))
			statuses = append(statuses, 204)
		case 3:
			var b strings.Builder
			fmt.Fprintf(&b, `{"site":"retail.example","store":"store-%d","sensor":"gate-%d","consent":"analytics","sightings":[`, k%97, k)
			for j := range 8 {
				if j > 0 {
					b.WriteByte(',')
				}
				mac := fmt.Sprintf("a4:5e:%02x:%02x:%02x:%02x", k>>16&0xff, k>>8&0xff, k&0xff, j)
				if j%2 == 0 {
					fmt.Fprintf(&b, `{"uuid":"F7826DA6-4FA2-4E98-8024-BC5B71E0893E","major":%d,"minor":%d,"rssi":-%d,"mac":"%s","props":{"zone":"z%d"}}`, k%65536, j, 40+j, mac, k%5)
				} else {
					fmt.Fprintf(&b, `{"namespace":"edd1ebeac04e5defa017","instance":"%012x","rssi":-%d,"adid":"38400000-8cf0-11bd-b23e-%012x"}`, k, 40+j, k*8+j)
				}
			}
			b.WriteString("]}")
			raws = append(raws, rawRequest("POST", "/ble", []byte(b.String()), "Content-Type", "application/json", "User-Agent", "StoreSensor/2.1", "X-Forwarded-For", client))
			statuses = append(statuses, 204)
		}
	}
	return raws, statuses
}

// TestVariedRequestsAllocs: requests that differ in every cached input,
// none repeated, so that every cache and memo misses (the engine's caches,
// the scratches' memos, the client limiter's map), through the whole
// pipeline: 0 allocations once warm, measured for each kind of request
// apart (a mix would hide one kind's allocation under the others'). A
// test that repeats one request measures the hit path only.
func TestVariedRequestsAllocs(t *testing.T) {
	v := newVariantsGateway(t, variantsConfig)
	checkVaried(t, v, "")
}

// checkVaried warms v with one set of varied requests and asserts that a
// second set, every input new, allocates nothing per request of each kind.
func checkVaried(t *testing.T, v *variantsGateway, when string) {
	t.Helper()
	const n = 4 * 600
	d := newDriver(v.p.g, "10.1.1.1")
	kinds := []string{"pixel with TCF", "pixel with GPP and Consent Mode", "beacon batch", "ble"}
	for _, pass := range []int{1, 2} {
		raws, statuses := cacheMissRequests(n, pass+len(when)*10)
		for k, kind := range kinds {
			i := k
			do := func() {
				if st := d.do(raws[i]).StatusCode(); st != statuses[i] {
					t.Fatalf("%s%s, pass %d, request %d: status %d; want %d: %.200s", kind, when, pass, i, st, statuses[i], raws[i])
				}
				i += len(kinds)
			}
			if pass == 1 { // warm-up: buffers grow, caches fill
				for range n / len(kinds) {
					do()
				}
				continue
			}
			if a := testing.AllocsPerRun(n/len(kinds)-1, do); a != 0 {
				t.Errorf("%s%s: %v allocs per request, every input new; want 0", kind, when, a)
			}
		}
	}
	c, ua, u, tx := v.p.engine.CachesStats()
	t.Logf("caches%s: consent %+v, ua %+v, url %+v, text %+v", when, c, ua, u, tx)
}

// reload does what a config reload does to v: a new plan and engine (empty
// caches, a GeoIP database read again) and a new Deliverer around the same
// spool and metrics, swapped in with Update.
func (v *variantsGateway) reload(t *testing.T, yaml string) {
	t.Helper()
	cfg, err := config.Parse("reloaded.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	geoPath := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.WriteCityDB(geoPath, []geotest.Network{
		{CIDR: "81.2.0.0/16", Continent: "EU", Country: "GB", Region: "ENG", City: "London", Lat: 51.5142, Lon: -0.0931, HasCoordinates: true},
		{CIDR: "2a02:1234::/32", Continent: "EU", Country: "SE", Region: "E", City: "Linköping"},
	}); err != nil {
		t.Fatal(err)
	}
	g, err := geo.NewReloadable(geoPath)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := wiring.Compile(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	en, err := anonymize.New(pl, anonymize.Deps{Keys: v.p.keys, Geo: g, Clock: v.p.clock})
	if err != nil {
		t.Fatal(err)
	}
	v.p.engine = en
	v.settings.Handler = delivery.NewDeliverer(en, v.spool, v.p.metrics)
	v.p.g.Update(v.settings)
}

// TestReloadAllocs: after a reload (a new engine with empty caches), the
// first requests may warm what is new, but the steady state, repeated and
// varied requests alike, allocates nothing; so after a reload back.
func TestReloadAllocs(t *testing.T) {
	v := newVariantsGateway(t, variantsConfig)
	d := newDriver(v.p.g, "81.2.69.142")
	raw := rawRequest("POST", "/b", []byte(`[{"site":"shop.example","consent":"analytics,ads","url":"https://shop.example/products/SKU-1?gclid=x","props":{"em":"a@b.example","plan":"pro"}},{"site":"shop.example"}]`),
		"Content-Type", "application/json", "User-Agent", chromeUA)
	d.do(raw) // the request state grows for a batch: not the reload's
	changed := strings.Replace(variantsConfig, "  analytics: {bots: flag, http_clients: flag}", "  analytics: {bots: flag, http_clients: flag, url: path}", 1)
	for i, yaml := range []string{changed, variantsConfig, changed} {
		when := fmt.Sprintf(" after reload %d", i+1)
		v.reload(t, yaml)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		d.do(raw)
		runtime.ReadMemStats(&after)
		// Logged, not asserted: the count is process-wide, and the
		// shippers may be writing a batch.
		t.Logf("first request%s: %d allocations", when, after.Mallocs-before.Mallocs)
		d.do(raw)
		if n := testing.AllocsPerRun(200, func() { d.do(raw) }); n != 0 {
			t.Errorf("beacon%s: %v allocs per request; want 0", when, n)
		}
		checkVaried(t, v, when)
	}
}

// TestLongValuesAllocs: values at or near their documented limits (a TC
// string of a CMP listing vendors up to id 20,000, GPP carrying it, a
// 4,096-byte page URL and referrer, 1,024-byte User-Agent and
// Accept-Language, 256-byte ids, 64 properties of 1,000 bytes), through
// the whole pipeline, new each time (the caches' keys are built in fixed
// rooms, which such values overflow), allocate nothing.
func TestLongValuesAllocs(t *testing.T) {
	v := newVariantsGateway(t, variantsConfig)
	d := newDriver(v.p.g, "81.2.69.142")
	long := func(seed int) (raws [][]byte) {
		tc := variantsTC(func(s *tctest.Spec) {
			s.CMPID = 2 + seed
			s.VendorConsent = []int{14, 755, 20000}
			s.Disclosed = []int{14, 755, 20000}
		})
		if len(tc) > 8192 {
			t.Fatalf("TC string of %d bytes: over the limit", len(tc))
		}
		page := fmt.Sprintf("https://shop.example/products/SKU-%d?", seed)
		for i := 0; len(page) < 4000; i++ {
			page += fmt.Sprintf("f%d=v%d&", i, seed)
		}
		url := string(fasthttp.AppendQuotedArg(nil, []byte(page)))
		if len(page) > 4096 {
			t.Fatalf("url of %d bytes", len(page))
		}
		ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 " + strings.Repeat(fmt.Sprintf("Ext/%d ", seed), 200)[:1024-113]
		lang := strings.Repeat("de-DE,de;q=0.9,", 68)[:1020]
		id := fmt.Sprintf("%0256d", seed)
		var props strings.Builder
		for i := range 64 {
			if i > 0 {
				props.WriteByte(',')
			}
			name := fmt.Sprintf("x%02d", i)
			if i < 5 {
				name = []string{"plan", "cart_value", "note", "value", "currency"}[i]
			}
			fmt.Fprintf(&props, `"%s":"%s"`, name, strings.Repeat(string(rune('a'+(seed+i)%26)), 900))
		}
		raws = append(raws,
			rawRequest("GET", "/p.gif?site=shop.example&gdpr=1&gdpr_consent="+tc+"&url="+url+"&ref="+url+"&uid="+id+"&cid="+id, nil, "User-Agent", ua, "Accept-Language", lang),
			rawRequest("GET", "/p.gif?site=shop.example&gpp=DBACNY%7E"+tc+"%7E1YNN&gpp_sid=2,6&url="+url, nil, "User-Agent", ua),
			rawRequest("POST", "/b", []byte(`{"site":"shop.example","consent":"analytics,ads","url":"`+page+`","uid":"`+id+`","props":{`+props.String()+`}}`), "Content-Type", "application/json", "User-Agent", ua),
		)
		return raws
	}
	const n = 300
	sets := make([][][]byte, 2*n)
	for i := range sets {
		sets[i] = long(i)
	}
	for k, kind := range []string{"pixel, long TC string", "pixel, long GPP string", "beacon, long values"} {
		before := v.spool.n.Load()
		for i := range n { // warm-up
			if st := d.do(sets[i][k]).StatusCode(); st != 200 && st != 204 {
				t.Fatalf("%s: status %d: %s", kind, st, d.ctx.Response.Body())
			}
		}
		if got := v.spool.n.Load() - before; got < n {
			t.Fatalf("%s: %d records of %d requests; want each to make some", kind, got, n)
		}
		i := n
		if a := testing.AllocsPerRun(n-1, func() { d.do(sets[i][k]); i++ }); a != 0 {
			t.Errorf("%s: %v allocs per request; want 0", kind, a)
		}
	}
}
