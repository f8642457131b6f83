package ropa

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/consent/tctest"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestReportVendorBasisNamesFlexiblePurposes: a purpose the destination's
// vendor declares flexible (tcf.flexible_purposes) is switched to
// legitimate interest by a publisher restriction that requires it, and the
// engine then sends the event on the vendor's legitimate interest alone,
// with no consent for that purpose; the record of processing said the
// recipient gets "only events whose TC string gives this vendor consent
// for purposes 1, 7", and report -diff showed no change when
// flexible_purposes was added.
func TestReportVendorBasisNamesFlexiblePurposes(t *testing.T) {
	const vendor = 755
	cfg := parse(t, `consent: {purposes: [analytics]}
destinations:
  - name: partner
    type: file
    tcf: {vendor_id: 755, purposes: [1, 7], flexible_purposes: [7]}
`)
	now := clocktest.Golden
	en, err := anonymize.New(compile(t, cfg), anonymize.Deps{Clock: clock.Fixed(now)})
	if err != nil {
		t.Fatal(err)
	}
	s := tctest.Valid(now.AddDate(0, 0, -1))
	s.PurposesConsent = []int{1, 8, 9} // analytics; no consent for 7
	s.PurposesLI = []int{7}
	s.VendorConsent, s.VendorLI, s.Disclosed = []int{vendor}, []int{vendor}, []int{vendor}
	s.Restrictions = []tctest.Restriction{{Purpose: 7, Type: 2, Vendors: []int{vendor}}} // require legitimate interest
	e := claimsEvent(cfg, "shop", "", false, now)
	e.Consent.Explicit = nil
	e.Consent.GDPR = 1
	e.Consent.TCString = []byte(s.Encode())
	recs, _ := en.Recipients(e)
	if !recs[0].Gets {
		t.Fatalf("the engine does not send the event to the vendor: %s", recs[0].Why)
	}
	_, _, text := render(t, build(t, cfg))
	if strings.Contains(text, "gives this vendor consent for purposes 1, 7;") {
		t.Errorf("the report says the vendor gets only events with consent for purposes 1 and 7; the engine sends it one without consent for 7")
	}
	if want := "purpose 7 is flexible: where a publisher restriction requires legitimate interest for it, the vendor's legitimate interest is relied on instead"; !strings.Contains(text, want) {
		t.Errorf("report lacks %q", want)
	}
}

// TestReportStatesTCStringMaxAge: consent.tcf.max_age decides which TC
// strings grant anything (one last updated 40 days before the event
// grants analytics under the default, nothing under 30d: the engine
// shows it), yet the record of processing never named it, and report
// -diff said "No change" when it changed.
func TestReportStatesTCStringMaxAge(t *testing.T) {
	now := clocktest.Golden
	s := tctest.Valid(now.AddDate(0, 0, -40))
	for _, tc := range []struct {
		yaml, want string
		grants     bool
	}{
		{"", "one last updated more than 9480h (395 days) before the event arrives (consent.tcf.max_age), or dated more than 5m after it, is rejected", true},
		{"consent: {tcf: {max_age: 30d}}", "one last updated more than 720h (30 days) before the event arrives (consent.tcf.max_age), or dated more than 5m after it, is rejected", false},
	} {
		cfg := parse(t, tc.yaml)
		en, err := anonymize.New(compile(t, cfg), anonymize.Deps{Clock: clock.Fixed(now)})
		if err != nil {
			t.Fatal(err)
		}
		e := claimsEvent(cfg, "shop", "", false, now)
		e.Consent.Explicit = nil
		e.Consent.GDPR = 1
		e.Consent.TCString = []byte(s.Encode())
		recs, _ := en.Recipients(e)
		if granted := recs[0].Gets && strings.Contains(string(recs[0].Record), `"state":"analytics"`); granted != tc.grants {
			t.Fatalf("%q: a TC string of 40 days grants analytics: %v; want %v\n%s", tc.yaml, granted, tc.grants, recs[0].Record)
		}
		if _, _, text := render(t, build(t, cfg)); !strings.Contains(text, tc.want) {
			t.Errorf("%q: report lacks %q", tc.yaml, tc.want)
		}
	}
}
