package ropa

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/geo"
	"github.com/beacongate/beacongate/anonymize/geo/geotest"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/plan"
)

// TestReportClaimsMatchRecords runs the real engine over sample events for
// every example config, every destination and every state it receives, and
// fails when the report's "kept" and "dropped" claims for that recipient
// differ from the record the destination actually gets.
func TestReportClaimsMatchRecords(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	if len(files) < 3 {
		t.Fatalf("examples: %v", files)
	}
	now := clocktest.Golden
	dbPath := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.WriteCityDB(dbPath, []geotest.Network{{CIDR: "81.2.69.0/24", Continent: "EU", Country: "GB", Region: "ENG", City: "London", Lat: 51.5, Lon: -0.09, HasCoordinates: true}}); err != nil {
		t.Fatal(err)
	}
	g, err := geo.NewReloadable(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := pseudonym.NewSecret([]byte("claims-secret-claims-secret-0123"))
	keys, err := pseudonym.New(pseudonym.Options{Mode: pseudonym.Derived, Secret: secret, Period: 24 * time.Hour, Clock: clock.Fixed(now)})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, file := range files {
		cfg, err := config.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		deps := anonymize.Deps{Keys: keys, Clock: clock.Fixed(now)}
		if cfg.GeoIP.Database != "" {
			deps.Geo = g // the test database stands in for the configured one
		}
		en, err := anonymize.New(compile(t, cfg), deps)
		if err != nil {
			t.Fatal(err)
		}
		r := build(t, cfg)
		site := "any"
		for _, s := range cfg.Sites {
			if !s.ServerToServer {
				site = s.ID
				break
			}
		}
		for i, rd := range r.Destinations {
			for st, rules := range rd.Rules {
				if rules == nil {
					continue
				}
				state := plan.State(st)
				for _, ble := range []bool{false, true} {
					e := claimsEvent(cfg, site, consentFor(state, rd.Requires), ble, now)
					recipients, _ := en.Recipients(e)
					got := recipients[i]
					name := filepath.Base(file) + " " + rd.Name + " " + state.String()
					if !got.Gets {
						t.Errorf("%s: the report says it receives this state, but it gets nothing: %s", name, got.Why)
						continue
					}
					var rec map[string]json.RawMessage
					if err := json.Unmarshal(got.Record, &rec); err != nil {
						t.Fatal(err)
					}
					for _, f := range rules {
						present, ok := fieldPresent(f.Field, rec, ble)
						if !ok {
							continue
						}
						checked++
						if present != f.Kept {
							t.Errorf("%s (ble %v): the report says %s (%s) is kept=%v; the record says %v:\n%s", name, ble, f.Category, f.Field, f.Kept, present, got.Record)
						}
						if _, full := rec["user_agent"]; f.Field == "user_agent" && full != (f.Action == "keep") {
							t.Errorf("%s: the report says the user agent is %q; the record has the full header: %v", name, f.Action, full)
						}
					}
				}
			}
		}
	}
	if checked < 50 {
		t.Fatalf("checked %d claims; want every field of every recipient and state", checked)
	}
}

// consentFor returns explicit consent selecting state and covering req.
func consentFor(state plan.State, req consent.Purposes) string {
	var names []string
	switch state {
	case plan.StateAnalytics:
		names = append(names, "analytics")
	case plan.StateAds:
		names = append(names, "analytics", "ads")
	}
	for _, p := range []consent.Purpose{consent.Analytics, consent.Ads, consent.Personalization, consent.PreciseGeo, consent.DeviceStorage} {
		if req.Has(p) && !strings.Contains(strings.Join(names, ","), p.String()) {
			names = append(names, p.String())
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// claimsEvent is an event carrying every field a policy rules on.
func claimsEvent(cfg *config.Config, site, explicit string, ble bool, now time.Time) *event.Event {
	e := &event.Event{}
	e.Reset()
	e.Kind = event.KindPixel
	e.ReceivedAt = now
	e.ClientIP = netip.MustParseAddr("81.2.69.142")
	e.Site = []byte(site)
	e.Name = []byte("pageview")
	// A page of the site itself: a URL on another host is dropped whatever
	// the policy says (the scanner's host check), which is not what the
	// report's per-field claims are about.
	e.URL = []byte("https://shop.example.com/p?x=1")
	for _, s := range cfg.Sites {
		if s.ID == site && len(s.Origins) > 0 {
			e.URL = []byte(s.Origins[0] + "/p?x=1")
		}
	}
	e.Referrer = []byte("https://news.example/a")
	e.UserID = []byte("user-42")
	e.ClientID = []byte("client-7")
	e.UserAgent = []byte("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	e.AcceptLanguage = []byte("de-DE,de;q=0.9")
	for _, name := range cfg.Properties.Allow {
		e.AddProp([]byte(name), []byte("v"), event.PropString)
	}
	// Contact data and click ids as a checkout page sends them, so the
	// claims about ad platform recipients are checked too.
	e.AddProp([]byte("em"), []byte("jane@example.org"), event.PropString)
	e.AddProp([]byte("ph"), []byte("+49 30 1234567"), event.PropString)
	e.AddProp([]byte("_fbp"), []byte("fb.1.1700000000000.42"), event.PropString)
	e.AddProp([]byte("gclid"), []byte("Cj0KCQ-test"), event.PropString)
	e.AddProp([]byte("ttclid"), []byte("ttclid-test"), event.PropString)
	e.Consent.Explicit = []byte(explicit)
	if ble {
		e.Kind = event.KindBLE
		e.Store, e.Sensor = []byte("s1"), []byte("g1")
		s := &e.Sighting
		s.UUID = []byte("f7826da6-4fa2-4e98-8024-bc5b71e0893e")
		s.Major, s.Minor, s.RSSI, s.HasRSSI = 1, 2, -60, true
		s.SeenAtMS = now.Add(-time.Minute).UnixMilli()
		s.DeviceID = []byte("a4:5e:60:e8:1b:2c")
		s.DeviceKind = event.DeviceMAC
	}
	return e
}

// fieldPresent reports whether the record carries what rule field covers;
// ok is false for rules a record cannot show (bots, http_clients) and for
// device ids outside BLE events.
func fieldPresent(field string, rec map[string]json.RawMessage, ble bool) (present, ok bool) {
	key := map[string]string{"ip": "ip", "geo": "geo", "user_agent": "ua", "url": "url", "referrer": "referrer",
		"user_id": "user", "client_id": "client", "visitor_hash": "visitor", "accept_language": "lang", "properties": "props", "contact": "contact", "click_ids": "click"}[field]
	if field == "device_id" {
		if !ble {
			return false, false
		}
		var b map[string]json.RawMessage
		_ = json.Unmarshal(rec["ble"], &b)
		_, present = b["device"]
		return present, true
	}
	if key == "" {
		return false, false
	}
	_, present = rec[key]
	return present, true
}

// TestReportVendorBasis: the report names each recipient's TCF basis,
// including the without_vendor flag and the TCF v2.3 disclosed vendors
// rule, and whether its policy is its own.
func TestReportVendorBasis(t *testing.T) {
	cfg, err := config.Load("../examples/shop-retargeting.yaml")
	if err != nil {
		t.Fatal(err)
	}
	md, _, text := render(t, build(t, cfg))
	for _, want := range []string{
		"IAB TCF vendor 755: only events whose TC string gives this vendor consent for purposes 1, 3, 4, 7; a TC string with a disclosed vendors segment (TCF v2.3) must list this vendor",
		"our own processing, not a TCF vendor (tcf.without_vendor)",
		"Policy: its own",
		"ads`: kept",
	} {
		if m := strings.ReplaceAll(want, "_", `\_`); !strings.Contains(md, m) {
			t.Errorf("Markdown lacks %q", m)
		}
		if w := strings.ReplaceAll(want, "`", ""); !strings.Contains(text, w) {
			t.Errorf("HTML lacks %q", w)
		}
	}
}

// TestReportSaysWhichRecipientsTakeCrawlersAndApps: a destination's own
// policy may keep crawler traffic the state's policy discards (bots: keep
// over a site-wide drop), and an ad platform discards HTTP client (app)
// events whatever the site-wide policy says. The report left both out of
// the recipient's section (bots and http_clients were skipped there) and
// listed such a recipient as getting "every event in this state": the
// record of processing did not say that the bots archive gets crawler
// traffic, nor that Meta gets no app events. The real engine shows what
// each gets; the report must say the same.
func TestReportSaysWhichRecipientsTakeCrawlersAndApps(t *testing.T) {
	dir := t.TempDir()
	cfg := parse(t, `consent: {purposes: [analytics, ads]}
policies:
  ads: {bots: drop}
destinations:
  - {name: local, type: file}
  - name: bots
    type: file
    file: {dir: `+filepath.Join(dir, "bots")+`}
    policies:
      ads: {bots: keep}
  - name: meta
    type: meta_capi
    requires: [analytics, ads]
    meta_capi: {pixel_id: "1234567890", access_token_file: `+filepath.Join(dir, "token")+`}
`)
	now := clocktest.Golden
	en, err := anonymize.New(compile(t, cfg), anonymize.Deps{Clock: clock.Fixed(now)})
	if err != nil {
		t.Fatal(err)
	}
	gets := func(ua string) map[string]bool {
		e := claimsEvent(cfg, "shop", "analytics,ads", false, now)
		e.UserAgent = []byte(ua)
		rs, _ := en.Recipients(e)
		m := map[string]bool{}
		for i, r := range rs {
			m[cfg.Destinations[i].Name] = r.Gets
		}
		return m
	}
	if g := gets("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"); g["local"] || !g["bots"] {
		t.Fatalf("a crawler under ads: the engine sends it to %v; want bots only", g)
	}
	if g := gets("okhttp/4.12.0"); g["meta"] || !g["local"] {
		t.Fatalf("an HTTP client under ads: the engine sends it to %v; want not to meta", g)
	}
	_, _, text := render(t, build(t, cfg))
	for _, want := range []string{
		"bots: every event in this state, and crawler traffic, which its own policy keeps while this state's discards it",
		"meta: every event in this state but HTTP client traffic, which its own policy discards",
		"events it does not get at all: Crawler traffic (bots: drop), HTTP client traffic (http_clients: drop).",
		"events it does not get at all: Crawler traffic (bots: drop).",
		"Crawler traffic (keep)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(text, "local: every event in this state but") || strings.Contains(text, "local: every event in this state, and") {
		t.Error("report says local's policy differs from the state's on traffic")
	}
}
