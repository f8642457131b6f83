package anonymize

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent/tctest"
	"github.com/beacongate/beacongate/anonymize/geo"
	"github.com/beacongate/beacongate/anonymize/geo/geotest"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/plan"
)

// routingDiffConfig has destinations whose policies differ in one field
// each, or in nothing but their platform, or in nothing at all, and whose
// requires differ, so that a record routed to the wrong destination, or
// a union of two policies, shows in at least one field.
const routingDiffConfig = testConfig + `
sites:
  - {id: shop.example}
  - {id: backend, server_to_server: true}
policies:
  ads:
    user_agent: {action: keep}
destinations:
  - name: warehouse
    type: file
    tcf: {without_vendor: true}
    policies:
      analytics: {client_id: drop}
      ads: {user_agent: {action: reduce}, client_id: drop}
  - name: partner
    type: file
    requires: [analytics, ads]
    tcf: {without_vendor: true}
  - name: partner2
    type: file
    requires: [analytics, ads]
    tcf: {without_vendor: true}
  - name: lab
    type: file
    requires: [analytics]
    tcf: {without_vendor: true}
    policies:
      analytics: {url: keep}
      ads: {url: keep}
  - name: coarse
    type: file
    requires: [analytics]
    tcf: {without_vendor: true}
    policies:
      analytics: {ip: {action: truncate, v4_prefix: 16}, geo: {level: country}}
      ads: {ip: {action: truncate, v4_prefix: 16}, geo: {level: country}}
  - name: bare
    type: file
    tcf: {without_vendor: true}
    policies:
      none: {ip: {action: drop}, geo: {level: none}, user_agent: {action: drop}, accept_language: drop, url: drop, referrer: drop, visitor_hash: false, bots: keep}
      ads: {bots: flag, http_clients: drop, device_id: drop}
  - name: meta
    type: meta_capi
    requires: [analytics, ads]
    tcf: {without_vendor: true}
    meta_capi: {pixel_id: "1234567890", access_token_file: /nonexistent/meta.token}
    policies: {ads: {contact: hash, click_ids: keep}}
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
    policies: {ads: {contact: hash, click_ids: keep}}
  - name: ga_all_states
    type: ga4
    requires: [ads]
    tcf: {without_vendor: true}
    ga4: {measurement_id: G-TEST456, api_secret_file: /nonexistent/ga.secret}
    policies: {ads: {contact: hash}}
`

// routingConsentCases are the consent states, reached through each signal.
func routingConsentCases() []struct {
	name string
	set  func(e *event.Event)
	want State
} {
	tcAll := tctest.Valid(clocktest.Golden.Add(-24 * time.Hour)).Encode()
	tcAnalyticsOnly := func() string {
		s := tctest.Valid(clocktest.Golden.Add(-24 * time.Hour))
		s.PurposesConsent = []int{1, 8, 9}
		s.PurposesLI = nil
		return s.Encode()
	}()
	ads := func(e *event.Event) { e.Consent.Explicit = []byte("analytics,ads") }
	return []struct {
		name string
		set  func(e *event.Event)
		want State
	}{
		{"no signal", func(*event.Event) {}, StateNone},
		{"explicit none", func(e *event.Event) { e.Consent.Explicit = []byte("none") }, StateNone},
		{"explicit analytics", func(e *event.Event) { e.Consent.Explicit = []byte("analytics") }, StateAnalytics},
		{"explicit ads", ads, StateAds},
		{"explicit ads only", func(e *event.Event) { e.Consent.Explicit = []byte("ads") }, StateNone},
		{"TCF all purposes", func(e *event.Event) { e.Consent.GDPR = 1; e.Consent.TCString = []byte(tcAll) }, StateAds},
		{"TCF analytics purposes", func(e *event.Event) { e.Consent.GDPR = 1; e.Consent.TCString = []byte(tcAnalyticsOnly) }, StateAnalytics},
		{"TCF broken", func(e *event.Event) { e.Consent.GDPR = 1; e.Consent.TCString = []byte("CO_broken") }, StateNone},
		{"GPP tcfeuv2", func(e *event.Event) { e.Consent.GPP = []byte("DBABMA~" + tcAll); e.Consent.GPPSID = []byte("2") }, StateAds},
		{"GPC", func(e *event.Event) { ads(e); e.Consent.GPC = true }, StateAnalytics},
		{"DNT", func(e *event.Event) { ads(e); e.Consent.DNT = true }, StateAnalytics},
		{"Consent Mode granted", func(e *event.Event) { e.Consent.GCS = []byte("G111"); e.Consent.GCD = []byte("11t1t1t1t5") }, StateAds},
		{"Consent Mode analytics", func(e *event.Event) { e.Consent.GCS = []byte("G101"); e.Consent.GCD = []byte("11p1t1p1p5") }, StateAnalytics},
		{"US Privacy opt-out", func(e *event.Event) { ads(e); e.Consent.USPrivacy = []byte("1YYN") }, StateAnalytics},
		{"US Privacy no opt-out", func(e *event.Event) { ads(e); e.Consent.USPrivacy = []byte("1YNN") }, StateAds},
	}
}

// routingEvent is plantedEvent with contact data, click ids and ad cookies
// as properties, a landing URL with click ids, and an event id.
func routingEvent(set func(*event.Event)) *event.Event {
	e := plantedEvent("")
	e.Consent.Explicit = nil
	set(e)
	e.URL = []byte(string(e.URL[:strings.IndexByte(string(e.URL), '?')]) + "?gclid=" + plantedGclid + "&fbclid=urlFbclidPlanted&ttclid=ttclidPlanted&utm_source=news")
	e.EventID = []byte("evt0000000000000000001")
	for k, v := range plantedAdIDs {
		e.AddProp([]byte(k), []byte(v), event.PropString)
	}
	return e
}

// routingDeps are the engine's dependencies as newTestEngineFor makes them.
func routingDeps(t *testing.T, now time.Time) Deps {
	t.Helper()
	secret, err := pseudonym.NewSecret([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pseudonym.New(pseudonym.Options{Mode: pseudonym.Derived, Secret: secret, Period: 24 * time.Hour, Clock: clock.Fixed(now)})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.WriteCityDB(path, testNetworks); err != nil {
		t.Fatal(err)
	}
	g, err := geo.NewReloadable(path)
	if err != nil {
		t.Fatal(err)
	}
	return Deps{Keys: keys, Geo: g, Clock: clock.Fixed(now)}
}

// withoutIDs returns the record decoded, without the members that differ
// between two engines by construction: the record's own id and the
// policy version.
func withoutIDs(t *testing.T, rec []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec, &m); err != nil {
		t.Fatalf("record is not JSON: %v\n%s", err, rec)
	}
	delete(m, "id")
	delete(m, "policy")
	return m
}

// rawCollector keeps the records of one event as they were emitted.
type rawCollector struct {
	recs  [][]byte
	dests []Dests
}

func (c *rawCollector) EmitRecord(rec []byte, dests Dests) error {
	c.recs = append(c.recs, append([]byte(nil), rec...))
	c.dests = append(c.dests, dests)
	return nil
}

// TestEachDestinationGetsItsOwnPolicy is a differential test of
// AppendRecords: for every consent state, reached through every signal,
// each destination's record from the engine of all destinations must be
// the record an engine with that destination alone makes (ids and the
// policy version aside): not the union of policies, not another
// destination's. A destination whose requires are not met gets no record
// at all; destinations with equal policies share one record, and records
// of different content are never shared.
func TestEachDestinationGetsItsOwnPolicy(t *testing.T) {
	cfg, err := config.Parse("test.yaml", []byte(routingDiffConfig))
	if err != nil {
		t.Fatal(err)
	}
	p := compile(t, cfg, nil)
	now := clocktest.Golden
	all, err := New(p, routingDeps(t, now))
	if err != nil {
		t.Fatal(err)
	}
	alone := make([]*Engine, len(p.Destinations))
	for i := range p.Destinations {
		q := *p
		q.Destinations = []plan.Destination{p.Destinations[i]}
		if alone[i], err = New(&q, routingDeps(t, now)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range routingConsentCases() {
		for round := range 2 * len(routingVariants) { // the second round runs on warm caches
			v := routingVariants[round%len(routingVariants)]
			mk := func() *event.Event { e := routingEvent(c.set); v.change(e); return e }
			name := fmt.Sprintf("%s/%s/round%d", c.name, v.name, round/len(routingVariants))
			var got rawCollector
			_, res, err := all.AppendRecords(nil, mk(), &got)
			if err != nil {
				t.Fatal(err)
			}
			if res.State != c.want && v.name != "ble" {
				t.Errorf("%s: state %v; want %v", name, res.State, c.want)
			}
			seen := Dests(0)
			for j, d := range got.dests {
				if d == 0 {
					t.Errorf("%s: record %d routed to no destination", name, j)
				}
				if seen&d != 0 {
					t.Errorf("%s: destinations %b get two records", name, seen&d)
				}
				seen |= d
			}
			for i := range p.Destinations {
				dn := p.Destinations[i].Name
				var want rawCollector
				if _, _, err := alone[i].AppendRecords(nil, mk(), &want); err != nil {
					t.Fatal(err)
				}
				var mine []byte
				for j, d := range got.dests {
					if d.Has(i) {
						mine = got.recs[j]
					}
				}
				switch {
				case len(want.recs) == 0 && mine != nil:
					t.Errorf("%s: %s gets a record alone it would not get: %s", name, dn, mine)
				case len(want.recs) == 1 && mine == nil:
					t.Errorf("%s: %s gets no record; alone it gets %s", name, dn, want.recs[0])
				case len(want.recs) == 1:
					w, g := withoutIDs(t, want.recs[0]), withoutIDs(t, mine)
					if !reflect.DeepEqual(w, g) {
						t.Errorf("%s: %s gets\n%s\nalone it gets\n%s", name, dn, mine, want.recs[0])
					}
				case len(want.recs) > 1:
					t.Errorf("%s: %s alone gets %d records", name, dn, len(want.recs))
				}
				if mine != nil {
					for _, raw := range plantedAdIDs {
						if strings.Contains(string(mine), raw) && !strings.Contains(string(want.recs[0]), raw) {
							t.Errorf("%s: %s's record holds %q", name, dn, raw)
						}
					}
				}
			}
		}
	}
}

// routingVariants are the kinds of sender each consent case is sent as.
var routingVariants = []struct {
	name   string
	change func(e *event.Event)
}{
	{"browser", func(*event.Event) {}},
	{"crawler", func(e *event.Event) {
		e.UserAgent = []byte("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
	}},
	{"http client", func(e *event.Event) { e.UserAgent = []byte("okhttp/4.12.0") }},
	{"server to server", func(e *event.Event) { e.Site = []byte("backend"); e.UserAgent = []byte("okhttp/4.12.0") }},
	{"ble", func(e *event.Event) {
		e.Kind = event.KindBLE
		e.Store = []byte("berlin-01")
		s := &e.Sighting
		s.Namespace, s.Instance = []byte("edd1ebeac04e5defa017"), []byte("0123456789ab")
		s.RSSI, s.HasRSSI = -60, true
		s.DeviceID, s.DeviceKind = []byte(plantedMAC), event.DeviceMAC
	}},
}
