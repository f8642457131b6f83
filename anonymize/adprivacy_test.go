package anonymize

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize/consent/tctest"
	"github.com/beacongate/beacongate/event"
)

// adPrivacyConfig: a warehouse, GA4 as IAB TCF vendor 755, and Meta and
// TikTok, which are no TCF vendors (they get nothing where GDPR applies).
const adPrivacyConfig = testConfig + `
destinations:
  - {name: warehouse, type: file, tcf: {without_vendor: true}}
  - name: meta
    type: meta_capi
    requires: [analytics, ads]
    meta_capi: {pixel_id: "1234567890", access_token_file: /nonexistent/meta.token}
    policies: {ads: {contact: hash, click_ids: keep}}
  - name: ga
    type: ga4
    requires: [analytics, ads]
    tcf: {vendor_id: 755, purposes: [1, 3, 4, 7]}
    ga4: {measurement_id: G-TEST123, api_secret_file: /nonexistent/ga.secret}
    policies: {ads: {contact: hash, click_ids: keep}}
  - name: tiktok
    type: tiktok
    requires: [analytics, ads]
    tiktok: {event_source_id: CABC123, access_token_file: /nonexistent/tt.token}
    policies: {ads: {contact: hash, click_ids: keep}}
`

// plantedAdIDs are every identifier kind the ad platforms take, raw.
var plantedAdIDs = map[string]string{
	"em": "Planted.Person@Example.org", "ph": "+44 20 7946 0958", "fn": "Plantedfirst", "ln": "Plantedlast",
	"ct": "Plantedville", "zp": "PL4 NTD", "country": "GB", "external_id": "crm-planted-4711",
	"gclid": "gclidPlanted123", "gbraid": "gbraidPlanted", "wbraid": "wbraidPlanted", "ttclid": "ttclidPlanted",
	"_fbp": "fb.1.1700000000000.777001", "_fbc": "fb.1.1700000000000.fbclidInCookie", "_ttp": "ttpPlanted77", "_ga": "GA1.1.555001.1700000002",
}

// TestAdPlatformPrivacyMatrix sends every identifier kind under every
// consent state and asserts who got what: the ad platforms get hashed
// contact data and click ids only with ads granted and, where GDPR
// applies, their vendor allowed; the warehouse never gets either; GPC, DNT
// and a US Privacy opt-out switch the platforms off; no raw value reaches
// any record.
func TestAdPlatformPrivacyMatrix(t *testing.T) {
	en := newTestEngine(t, adPrivacyConfig)
	withVendor := vendorTC(func(s *tctest.Spec) {})
	noVendor := vendorTC(func(s *tctest.Spec) { s.VendorConsent = nil })
	cases := []struct {
		name    string
		set     func(e *event.Event)
		getters string // which ad platforms get a record with contact and click
	}{
		{"no signal", func(e *event.Event) {}, ""},
		{"analytics only", func(e *event.Event) { e.Consent.Explicit = []byte("analytics") }, ""},
		{"ads", func(e *event.Event) { e.Consent.Explicit = []byte("analytics,ads") }, "meta,ga,tiktok"},
		{"ads + GPC", func(e *event.Event) { e.Consent.Explicit = []byte("analytics,ads"); e.Consent.GPC = true }, ""},
		{"ads + DNT", func(e *event.Event) { e.Consent.Explicit = []byte("analytics,ads"); e.Consent.DNT = true }, ""},
		{"ads + US Privacy opt-out", func(e *event.Event) {
			e.Consent.Explicit = []byte("analytics,ads")
			e.Consent.USPrivacy = []byte("1YYN")
		}, ""},
		{"TCF, vendor 755 consented", func(e *event.Event) { e.Consent.GDPR = 1; e.Consent.TCString = []byte(withVendor) }, "ga"},
		{"TCF, no vendor consent", func(e *event.Event) { e.Consent.GDPR = 1; e.Consent.TCString = []byte(noVendor) }, ""},
	}
	for _, c := range cases {
		e := plantedEvent("")
		e.Consent.Explicit = nil
		c.set(e)
		e.URL = []byte("https://shop.example/checkout?gclid=urlGclidPlanted&fbclid=urlFbclidPlanted")
		for k, v := range plantedAdIDs {
			e.Props = append(e.Props, event.Prop{Key: []byte(k), Value: []byte(v)})
		}
		var out collected
		if _, _, err := en.AppendRecords(nil, e, &out); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		names := []string{"warehouse", "meta", "ga", "tiktok"}
		for i, rec := range out.recs {
			b, _ := json.Marshal(rec)
			text := strings.ToLower(string(b))
			// Contact data that is hashed for every platform never appears
			// in clear, in any case, in any record.
			for _, k := range []string{"em", "ph", "fn", "ln", "external_id"} {
				if raw := strings.ToLower(plantedAdIDs[k]); strings.Contains(text, raw) || strings.Contains(text, strings.ReplaceAll(raw, " ", "")) {
					t.Errorf("%s: a record holds %s in clear: %s", c.name, k, b)
				}
			}
			warehouseOnly := out.dests[i] == 1
			if warehouseOnly {
				for k, raw := range plantedAdIDs {
					if k != "country" && strings.Contains(text, strings.ToLower(raw)) {
						t.Errorf("%s: the warehouse's record holds %s: %s", c.name, k, b)
					}
				}
			}
			for d, name := range names {
				if !out.dests[i].Has(d) {
					continue
				}
				_, hasContact := rec["contact"]
				_, hasClick := rec["click"]
				if name == "warehouse" {
					if hasContact || hasClick {
						t.Errorf("%s: the warehouse got contact %v, click %v", c.name, rec["contact"], rec["click"])
					}
					continue
				}
				if !hasContact || !hasClick {
					t.Errorf("%s: %s got a record without contact or click: %s", c.name, name, text)
				}
				got[name] = true
			}
		}
		var list []string
		for _, name := range names[1:] {
			if got[name] {
				list = append(list, name)
			}
		}
		if strings.Join(list, ",") != c.getters {
			t.Errorf("%s: ad platforms %v got the event; want [%s]", c.name, list, c.getters)
		}
	}
}
