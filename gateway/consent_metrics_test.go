package gateway

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestConsentCaseAndMalformedCounts: consent values match case-insensitively
// ("Analytics" grants analytics), and a malformed or unrecognised signal is
// counted per signal, so a site sending junk consent can see it.
func TestConsentCaseAndMalformedCounts(t *testing.T) {
	p := newPipelineGateway(t, goldenConfig, "", clocktest.Golden)
	d := newDriver(p.g, "81.2.69.142")
	send := func(body string) string {
		t.Helper()
		before := len(p.sp.records)
		if st := d.do(rawRequest("POST", "/b", []byte(body), "Content-Type", "application/json")).StatusCode(); st != 204 {
			t.Fatalf("%s: status %d", body, st)
		}
		if len(p.sp.records) != before+1 {
			t.Fatalf("%s: no record", body)
		}
		return p.sp.records[before]
	}
	if rec := send(`{"site":"s","consent":"Analytics"}`); !strings.Contains(rec, `"state":"analytics"`) {
		t.Fatalf("consent Analytics: %s", rec)
	}
	if rec := send(`{"site":"s","consent":["ANALYTICS","Ads"]}`); !strings.Contains(rec, `"state":"ads"`) {
		t.Fatalf("consent [ANALYTICS, Ads]: %s", rec)
	}
	count := func(want ...float64) {
		t.Helper()
		for i, sig := range []string{"explicit", "tcf", "consent_mode", "us_privacy", "gpp"} {
			if got := p.counter(t, "beacongate_anonymize_consent_malformed_total", "signal", sig); got != want[i] {
				t.Fatalf("malformed{signal=%s} = %v; want %v", sig, got, want[i])
			}
		}
	}
	count(0, 0, 0, 0, 0)
	send(`{"site":"s","consent":"analytics,bogus"}`)
	send(`{"site":"s","consent":"analytics","gcs":"junk","us_privacy":"junk"}`)
	send(`{"site":"s","gdpr":1,"gdpr_consent":"not-a-tc-string"}`)
	count(1, 1, 1, 1, 0) // explicit, tcf, consent_mode, us_privacy, gpp
}
