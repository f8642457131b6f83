package plan

import (
	"testing"

	"github.com/beacongate/beacongate/anonymize/consent"
)

// TestReceivesAgreesWithAccepts: for every set of granted purposes, a
// destination receives the event exactly when Receives says it gets the
// state's events and the extra purposes it names are granted too. Routing
// is decided once (Accepts); the report's per-state view is derived.
func TestReceivesAgreesWithAccepts(t *testing.T) {
	all := consent.Purposes(0)
	for _, pu := range []consent.Purpose{consent.Analytics, consent.Ads, consent.Personalization, consent.PreciseGeo, consent.DeviceStorage} {
		all = all.With(pu)
	}
	p := &Plan{Consent: Consent{Enabled: all}}
	for req := consent.Purposes(0); req <= all; req++ {
		p.Destinations = append(p.Destinations, Destination{Name: req.String(), Requires: req})
	}
	for granted := consent.Purposes(0); granted <= all; granted++ {
		st := StateOf(granted)
		for i := range p.Destinations {
			d := &p.Destinations[i]
			ok, extra := p.Receives(i, st)
			want := d.Accepts(granted)
			got := ok && granted&extra == extra
			if got != want {
				t.Fatalf("granted %v (state %s), requires %v: Receives says %v (also %v), Accepts %v", granted, st, d.Requires, ok, extra, want)
			}
		}
	}
}

// TestReachable: a state whose purposes the deployment does not use is
// never selected.
func TestReachable(t *testing.T) {
	analytics := consent.Purposes(0).With(consent.Analytics)
	p := &Plan{Consent: Consent{Enabled: analytics}}
	if !p.Reachable(StateNone) || !p.Reachable(StateAnalytics) || p.Reachable(StateAds) {
		t.Errorf("analytics only: none %v analytics %v ads %v", p.Reachable(StateNone), p.Reachable(StateAnalytics), p.Reachable(StateAds))
	}
}
