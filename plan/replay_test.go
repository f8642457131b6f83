package plan

import (
	"testing"

	"github.com/beacongate/beacongate/anonymize/consent"
)

// replayPlan is a plan with one TCF vendor destination, partner, and one
// of our own, own.
func replayPlan() *Plan {
	p := &Plan{Consent: Consent{Enabled: consent.Of(consent.Analytics, consent.Ads)}, Properties: []string{"seq"}}
	p.Policies[StateAnalytics].IP = IPTruncate
	p.Policies[StateAnalytics].V4Prefix = 24
	p.Destinations = []Destination{
		{Name: "partner", Requires: consent.Of(consent.Analytics), Vendor: consent.Vendor{ID: 755, Consent: 1<<1 | 1<<7}, Policies: p.Policies},
		{Name: "own", WithoutVendor: true, Policies: p.Policies},
	}
	return p
}

// TestReplayHold: a record is sent again only if the plan now would have
// sent it to the destination in that form; each change the record cannot
// be checked against holds it back, with its reason; a change to another
// destination holds nothing back.
func TestReplayHold(t *testing.T) {
	analytics := consent.Of(consent.Analytics)
	cases := []struct {
		name   string
		change func(p *Plan)
		state  State
		gr     consent.Purposes
		want   Hold
	}{
		{"unchanged", func(*Plan) {}, StateAnalytics, analytics, HoldNone},
		{"another destination's policy", func(p *Plan) { p.Destinations[1].Policies[StateAnalytics].IP = IPDrop }, StateAnalytics, analytics, HoldNone},
		{"another destination's vendor", func(p *Plan) { p.Destinations[1].WithoutVendor = false }, StateAnalytics, analytics, HoldNone},
		{"requires still covered", func(p *Plan) { p.Destinations[0].Requires = 0 }, StateAnalytics, analytics, HoldNone},
		{"requires ads now", func(p *Plan) { p.Destinations[0].Requires = consent.Of(consent.Analytics, consent.Ads) }, StateAnalytics, analytics, HoldRequires},
		{"a purpose no longer used", func(p *Plan) { p.Consent.Enabled = consent.Of(consent.Ads) }, StateAnalytics, analytics, HoldRequires},
		{"consent rules", func(p *Plan) { p.Consent.Evaluator.IgnoreGPC = true }, StateAnalytics, analytics, HoldConsent},
		{"the vendor list's version alone", func(p *Plan) { p.Consent.GVLVersion = 99 }, StateAnalytics, analytics, HoldNone},
		{"vendor purposes", func(p *Plan) { p.Destinations[0].Vendor.Consent |= 1 << 3 }, StateAnalytics, analytics, HoldVendor},
		{"vendor id", func(p *Plan) { p.Destinations[0].Vendor.ID = 756 }, StateAnalytics, analytics, HoldVendor},
		{"its policy in the record's state", func(p *Plan) { p.Destinations[0].Policies[StateAnalytics].IP = IPDrop }, StateAnalytics, analytics, HoldPolicy},
		{"its policy in another state", func(p *Plan) { p.Destinations[0].Policies[StateAds].IP = IPDrop }, StateAnalytics, analytics, HoldNone},
		{"properties", func(p *Plan) { p.Properties = nil }, StateAnalytics, analytics, HoldPolicy},
		{"pseudonyms", func(p *Plan) { p.Pseudonym.VisitorHash = true }, StateAnalytics, analytics, HoldPolicy},
		{"removed", func(p *Plan) { p.Destinations = p.Destinations[1:] }, StateAnalytics, analytics, HoldRemoved},
		{"state out of range", func(*Plan) {}, NumStates, analytics, HoldUnreadable},
	}
	for _, c := range cases {
		old, cur := replayPlan(), replayPlan()
		c.change(cur)
		if got := ReplayHold(old, cur, "partner", c.state, c.gr); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if got := ReplayHold(nil, replayPlan(), "partner", StateAnalytics, analytics); got != HoldUnknown {
		t.Errorf("unknown plan: %q", got)
	}
	for h := Hold(1); h < NumHolds; h++ {
		if h.String() == "" || h.String() == "unknown" {
			t.Errorf("hold %d has no words", h)
		}
	}
}
