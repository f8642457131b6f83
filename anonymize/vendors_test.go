package anonymize

import (
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/consent/tctest"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/wiring"
)

// vendorConfig has three destinations that need analytics and ads: our own
// warehouse (no vendor, allowed by flag), vendor 755 (consent for purposes
// 1, 3 and 4, legitimate interest for 7, precise geolocation), and one
// without a vendor id or flag.
const vendorConfig = testConfig + `
destinations:
  - name: own
    type: file
    requires: [analytics, ads]
    tcf: {without_vendor: true}
  - name: partner
    type: file
    requires: [analytics, ads]
    tcf: {vendor_id: 755, purposes: [1, 3, 4], legitimate_interest: [7], flexible_purposes: [7], special_features: [1]}
  - name: unflagged
    type: file
    requires: [analytics, ads]
`

// vendorTC returns a valid TC string granting purposes 1-10 (legitimate
// interest for 2 and 7) and special feature 1, with vendor 755's consent
// and legitimate interest, and 755 disclosed (TCF v2.3), changed by change.
func vendorTC(change func(*tctest.Spec)) string {
	s := tctest.Valid(clocktest.Golden.Add(-24 * time.Hour))
	s.VendorConsent, s.VendorLI, s.Disclosed = []int{755}, []int{755}, []int{755}
	change(&s)
	return s.Encode()
}

// TestDestinationVendors runs the vendor matrix per destination: where GDPR
// applies, each destination gets the event only if its vendor is allowed.
func TestDestinationVendors(t *testing.T) {
	en := newTestEngine(t, vendorConfig)
	const own, partner, unflagged = Dests(1), Dests(2), Dests(4)
	for _, c := range []struct {
		name   string
		gdpr   int8
		tc     string
		want   Dests
		reason consent.VendorReason // partner's, when refused
	}{
		{"vendor consent and LI", 1, vendorTC(func(*tctest.Spec) {}), own | partner, 0},
		{"no vendor consent", 1, vendorTC(func(s *tctest.Spec) { s.VendorConsent = nil }), own, consent.VendorNoConsent},
		{"no vendor LI", 1, vendorTC(func(s *tctest.Spec) { s.VendorLI = nil }), own, consent.VendorNoLI},
		{"no LI for purpose 7", 1, vendorTC(func(s *tctest.Spec) { s.PurposesLI = []int{2} }), own, consent.VendorNoPurposeLI},
		{"publisher restriction on purpose 4", 1, vendorTC(func(s *tctest.Spec) {
			s.Restrictions = []tctest.Restriction{{Purpose: 4, Type: 0, Vendors: []int{755}}}
		}), own, consent.VendorRestricted},
		{"special feature 1 not opted in", 1, vendorTC(func(s *tctest.Spec) { s.SpecialFeatures = nil }), own, consent.VendorNoSpecialFeature},
		{"gdpr absent, TC string present", -1, vendorTC(func(s *tctest.Spec) { s.VendorConsent = nil }), own, consent.VendorNoConsent},
		// TCF v2.3: consent and LI bits of a vendor the CMP did not disclose count for nothing.
		{"vendor not disclosed", 1, vendorTC(func(s *tctest.Spec) { s.Disclosed = []int{754, 756} }), own, consent.VendorNotDisclosed},
		{"vendor not disclosed, gdpr absent", -1, vendorTC(func(s *tctest.Spec) { s.Disclosed = []int{} }), own, consent.VendorNotDisclosed},
		{"gdpr=0: no GDPR, no vendor check", 0, vendorTC(func(s *tctest.Spec) { s.VendorConsent = nil }), own | partner | unflagged, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := plantedEvent("")
			e.Consent.GDPR = c.gdpr
			e.Consent.TCString = []byte(c.tc)
			var out collected
			_, res, err := en.AppendRecords(nil, e, &out)
			if err != nil {
				t.Fatal(err)
			}
			if res.State != StateAds {
				t.Fatalf("state %v; the TC string grants analytics and ads", res.State)
			}
			if res.Dests != c.want {
				t.Fatalf("destinations %03b; want %03b", res.Dests, c.want)
			}
			var got Dests
			for _, d := range out.dests {
				got |= d
			}
			if got != c.want {
				t.Fatalf("records routed to %03b; want %03b", got, c.want)
			}
			if c.gdpr == 0 {
				return
			}
			if res.VendorReasons[consent.VendorNoID] != 1 || res.VendorRefused&unflagged == 0 {
				t.Errorf("the destination without vendor id or flag was not refused: %v", res.VendorReasons)
			}
			if c.reason != 0 && res.VendorReasons[c.reason] != 1 {
				t.Errorf("partner refused for %v; want %v", res.VendorReasons, c.reason)
			}
		})
	}
	// The TC string in GPP's tcfeuv2 section alone (no gdpr, no
	// gdpr_consent): GDPR applies to it as to a standalone one, so the
	// vendors are checked.
	for _, c := range []struct {
		name string
		tc   string
		want Dests
	}{
		{"GPP only, vendor consent", vendorTC(func(*tctest.Spec) {}), own | partner},
		{"GPP only, no vendor consent", vendorTC(func(s *tctest.Spec) { s.VendorConsent = nil }), own},
		{"GPP only, vendor not disclosed", vendorTC(func(s *tctest.Spec) { s.Disclosed = []int{1} }), own},
	} {
		e := plantedEvent("")
		e.Consent.GDPR = -1
		e.Consent.GPP = []byte("DBABMA~" + c.tc)
		var out collected
		_, res, err := en.AppendRecords(nil, e, &out)
		if err != nil {
			t.Fatal(err)
		}
		if res.State != StateAds || res.Dests != c.want {
			t.Errorf("%s: state %v, destinations %03b; want ads, %03b", c.name, res.State, res.Dests, c.want)
		}
	}

	// Explicit consent with gdpr=1 and no TC string: no vendor can be
	// checked, so only our own destination gets the event.
	e := plantedEvent("analytics,ads")
	e.Consent.GDPR = 1
	var out collected
	_, res, _ := en.AppendRecords(nil, e, &out)
	if res.Dests&partner != 0 {
		t.Errorf("gdpr=1 without a TC string: partner allowed (%03b)", res.Dests)
	}
}

// TestDestinationVendorsFromGVL takes vendor declarations from a vendor
// list, and refuses a vendor id the list lacks.
func TestDestinationVendorsFromGVL(t *testing.T) {
	gvl, err := consent.ParseGVL([]byte(`{"vendorListVersion":7,"vendors":{"755":{"id":755,"purposes":[1,3],"legIntPurposes":[],"specialFeatures":[]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	yaml := testConfig + `
  tcf: {gvl_file: vendor-list.json}
destinations:
  - {name: partner, type: file, tcf: {vendor_id: 755}}
`
	cfg, err := config.Parse("t.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wiring.Compile(cfg, nil); err == nil || !strings.Contains(err.Error(), "gvl_file") {
		t.Fatalf("gvl_file without a loaded list: %v", err)
	}
	en, err := New(compile(t, cfg, gvl), Deps{})
	if err != nil {
		t.Fatal(err)
	}
	// Purpose 4 is not declared in the list, so it need not be granted.
	e := plantedEvent("")
	e.Consent.GDPR = 1
	e.Consent.TCString = []byte(vendorTC(func(s *tctest.Spec) { s.PurposesConsent = []int{1, 3, 8, 9} }))
	var out collected
	if _, res, _ := en.AppendRecords(nil, e, &out); res.Dests != 1 {
		t.Fatalf("GVL-declared vendor: destinations %b (purposes %v); want the partner", res.Dests, res.Purposes)
	}
	cfg2, _ := config.Parse("t.yaml", []byte(strings.Replace(yaml, "vendor_id: 755", "vendor_id: 756", 1)))
	if _, err := wiring.Compile(cfg2, gvl); err == nil || !strings.Contains(err.Error(), "destinations[0].tcf.vendor_id: vendor 756 is not in the vendor list") {
		t.Fatalf("vendor missing from the list: %v", err)
	}
}

// TestDestinationVendorsUndecodableTCIgnored: with consent.tcf.require_valid
// off, a TC string that does not decode is ignored for the purposes, but
// GDPR still applies (gdpr=1, or the string itself), so vendors are still
// checked: without a usable TC string only our own destination gets the
// event.
func TestDestinationVendorsUndecodableTCIgnored(t *testing.T) {
	yaml := strings.Replace(vendorConfig, "  purposes: [analytics, ads]\n", "  purposes: [analytics, ads]\n  tcf: {require_valid: false}\n", 1)
	en := newTestEngine(t, yaml)
	const own = Dests(1)
	for _, gdpr := range []int8{1, -1} {
		e := plantedEvent("analytics,ads")
		e.Consent.GDPR = gdpr
		e.Consent.TCString = []byte("garbage")
		var out collected
		_, res, err := en.AppendRecords(nil, e, &out)
		if err != nil {
			t.Fatal(err)
		}
		if res.State != StateAds || !res.Malformed.Has(consent.SignalTCF) {
			t.Fatalf("gdpr %d: state %v, malformed %v; want ads from the explicit field, tcf malformed", gdpr, res.State, res.Malformed)
		}
		if res.Dests != own {
			t.Errorf("gdpr %d: destinations %03b; want %03b (no vendor can be checked)", gdpr, res.Dests, own)
		}
		if res.VendorReasons[consent.VendorNoTCString] != 1 || res.VendorReasons[consent.VendorNoID] != 1 {
			t.Errorf("gdpr %d: refusals %v; want no_tc_string and no_vendor_id", gdpr, res.VendorReasons)
		}
	}
}

// TestDestinationVendorsGPPTCFWithoutString: a GPP signal that makes the
// TCF EU section apply without carrying a TC string (gpp_sid=2 alone, a
// gpp_sid naming 2 over a string without that section, a header listing an
// empty tcfeuv2 section) says GDPR applies and no consent was recorded, as
// gdpr=1 without a string does: vendors are checked, and with no usable TC
// string refused, whatever another signal grants.
func TestDestinationVendorsGPPTCFWithoutString(t *testing.T) {
	// Under priority the explicit field decides the purposes alone, so the
	// event reaches the routing with analytics and ads.
	yaml := strings.Replace(vendorConfig, "  purposes: [analytics, ads]\n",
		"  purposes: [analytics, ads]\n  merge: priority\n  priority: [explicit, tcf, gpp, consent_mode]\n", 1)
	en := newTestEngine(t, yaml)
	const own = Dests(1)
	for _, c := range []struct {
		name        string
		gdpr        int8
		gpp, gppSID string
		want        Dests
	}{
		{"gdpr=1, no TC string (reference)", 1, "", "", own},
		{"gpp_sid=2 alone", -1, "", "2", own},
		{"gpp_sid=2 over a string without tcfeuv2", -1, "DBABTA~1YNN", "2", own},
		{"header lists an empty tcfeuv2 section", -1, "DBABMA~", "", own},
		{"gdpr=0 and gpp_sid=2: the flag says GDPR does not apply", 0, "", "2", own | 2 | 4},
	} {
		e := plantedEvent("analytics,ads")
		e.Consent.GDPR = c.gdpr
		e.Consent.GPP, e.Consent.GPPSID = []byte(c.gpp), []byte(c.gppSID)
		var out collected
		_, res, err := en.AppendRecords(nil, e, &out)
		if err != nil {
			t.Fatal(err)
		}
		if res.State != StateAds {
			t.Fatalf("%s: state %v; the explicit field grants analytics and ads", c.name, res.State)
		}
		if res.Dests != c.want {
			t.Errorf("%s: destinations %03b; want %03b", c.name, res.Dests, c.want)
		}
		if c.want == own && res.VendorReasons[consent.VendorNoTCString] != 1 {
			t.Errorf("%s: refusals %v; want the partner's no_tc_string", c.name, res.VendorReasons)
		}
	}
}
