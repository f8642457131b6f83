package anonymize

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/consent/tctest"
)

// TestTCStringAndGPPSectionConflict: a separate TC string (gdpr_consent,
// the euconsent-v2 cookie) and a GPP string's tcfeuv2 section that differ
// are two TCF signals that disagree: a conflict, as a cookie and a
// different gdpr_consent are, so TCF counts as malformed (a refusal, no
// usable TC string for the vendors) under either merge rule, whether or
// not an undecodable TC string is ignored. Equal copies count once.
func TestTCStringAndGPPSectionConflict(t *testing.T) {
	granting := vendorTC(func(*tctest.Spec) {})
	refusing := vendorTC(func(s *tctest.Spec) { s.PurposesConsent, s.VendorConsent = []int{1}, nil })
	const own, partner = Dests(1), Dests(2)
	for _, c := range []struct {
		name, yaml, explicit string
		tc, gppTC            string
		state                State
		dests                Dests
		malformed            bool
	}{
		{"most_restrictive, separate grants", "", "", granting, refusing, StateNone, 0, true},
		{"most_restrictive, section grants", "", "", refusing, granting, StateNone, 0, true},
		{"most_restrictive, require_valid: false", "  tcf: {require_valid: false}\n", "", granting, refusing, StateNone, 0, true},
		{"priority, explicit decides, no vendor", "  merge: priority\n", "analytics,ads", granting, refusing, StateAds, own, true},
		{"priority, require_valid: false", "  merge: priority\n  tcf: {require_valid: false}\n", "", granting, refusing, StateNone, 0, true},
		{"priority, tcf first", "  merge: priority\n  priority: [tcf, gpp, explicit, consent_mode]\n", "analytics,ads", granting, refusing, StateNone, 0, true},
		{"equal copies", "", "", granting, granting, StateAds, own | partner, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			en := newTestEngine(t, strings.Replace(vendorConfig, "  purposes: [analytics, ads]\n", "  purposes: [analytics, ads]\n"+c.yaml, 1))
			e := plantedEvent(c.explicit)
			e.Consent.GDPR = -1
			e.Consent.TCString = []byte(c.tc)
			e.Consent.GPP = []byte("DBABMA~" + c.gppTC)
			for range 2 { // the second from the consent cache
				var out collected
				_, res, err := en.AppendRecords(nil, e, &out)
				if err != nil {
					t.Fatal(err)
				}
				if res.State != c.state || res.Dests != c.dests || res.Malformed.Has(consent.SignalTCF) != c.malformed {
					t.Fatalf("state %v, destinations %03b, malformed %v; want %v, %03b, tcf malformed %v",
						res.State, res.Dests, res.Malformed, c.state, c.dests, c.malformed)
				}
			}
			ans := en.Decide(e)
			if ans.Malformed.Has(consent.SignalTCF) != c.malformed || ans.TCSource != consent.SignalTCF {
				t.Errorf("Decide: malformed %v, TC source %v; want tcf malformed %v, source tcf", ans.Malformed, ans.TCSource, c.malformed)
			}
		})
	}
}
