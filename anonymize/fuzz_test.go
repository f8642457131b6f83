package anonymize

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize/consent/tctest"
	"github.com/beacongate/beacongate/anonymize/recordtest"
	"github.com/beacongate/beacongate/event"
)

// FuzzAppendRecord fills an event's free-text fields with arbitrary bytes:
// the record must always be valid JSON with the envelope fields, and a
// planted e-mail address, as written or obfuscated, must never survive,
// under any consent.
func FuzzAppendRecord(f *testing.F) {
	f.Add("https://a.example/p?gclid=x&e=a%40b.com", "https://r.example/", "signup", "note", "analytics", "", "129.5")
	f.Add("not a url \xff", "\"quoted\"", "<script>", "\u2028", "analytics,ads", realTC, "1e999")
	f.Add("", "", "", "", "", "CO", "")
	f.Add("a\x00b", "\xed\xa0\x80", "\\ud800", "\x7f", "analytics", "", "-0.0e-400")
	// TCF v2.3: a string from after 2026-02-28 with the disclosed vendors
	// segment, and the same without it (not valid).
	withDV := vendorTC(func(*tctest.Spec) {})
	f.Add("https://a.example/", "", "purchase", "note", "", withDV, "1")
	f.Add("https://a.example/", "", "purchase", "note", "", vendorTC(func(s *tctest.Spec) { s.Disclosed = nil }), "1")
	en := newTestEngine(f, testConfig)
	f.Fuzz(func(t *testing.T, url, ref, name, prop, explicit, tc, number string) {
		e := &event.Event{}
		e.Reset()
		e.Kind = event.KindBeacon
		e.ClientIP = netip.MustParseAddr("81.2.69.142")
		e.Site = []byte("s")
		e.URL = []byte(url + "?contact=" + plantedEmail)
		e.Referrer = []byte(ref)
		e.Name = []byte(name)
		e.UserID = []byte(plantedUID)
		// A web view's header with the user id appended, which the ads
		// policy keeps (scanned, the own id made {id}).
		e.UserAgent = []byte("Mozilla/5.0 (iPhone) " + prop + " ShopApp/5.2 uid/" + plantedUID)
		e.AddProp([]byte("note"), []byte(prop+" "+plantedEmail+" "+plantedObfuscated), event.PropString)
		e.AddProp([]byte("cart_value"), []byte(number), event.PropNumber)
		e.Consent.Explicit = []byte(explicit)
		e.Consent.TCString = []byte(tc)
		out, res := en.AppendRecord(nil, e)
		if res.Drop {
			return
		}
		if err := recordtest.Check(out); err != nil {
			t.Fatalf("invalid JSON: %v\n%q", err, out)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("invalid JSON: %v\n%q", err, out)
		}
		if m["v"] != 1.0 || m["id"] == nil || m["consent"] == nil {
			t.Fatalf("envelope missing: %s", out)
		}
		if strings.Contains(string(out), plantedEmail) || strings.Contains(string(out), plantedObfuscated) || strings.Contains(string(out), plantedUID) {
			t.Fatalf("planted data survived: %s", out)
		}
	})
}
