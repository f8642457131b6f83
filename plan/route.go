package plan

import "github.com/beacongate/beacongate/anonymize/consent"

// StateOf returns the state that the granted purposes select: the one
// place that decides which policy applies.
func StateOf(granted consent.Purposes) State {
	switch {
	case granted.Has(consent.Analytics) && granted.Has(consent.Ads):
		return StateAds
	case granted.Has(consent.Analytics):
		return StateAnalytics
	}
	return StateNone
}

// Purposes returns the purposes state s implies and those it excludes:
// every event in s has the first granted and none of the second.
func (s State) Purposes() (implied, excluded consent.Purposes) {
	switch s {
	case StateAnalytics:
		return consent.Purposes(0).With(consent.Analytics), consent.Purposes(0).With(consent.Ads)
	case StateAds:
		return consent.Purposes(0).With(consent.Analytics).With(consent.Ads), 0
	}
	return 0, consent.Purposes(0).With(consent.Analytics)
}

// Accepts reports whether an event with the granted purposes is routed to
// d: every purpose d requires is granted. Where GDPR applies, the vendor
// check (consent.CheckVendor) comes on top, per event.
func (d *Destination) Accepts(granted consent.Purposes) bool {
	return granted&d.Requires == d.Requires
}

// Reachable reports whether the purposes the deployment uses can select
// state s: a purpose it does not use is never granted.
func (p *Plan) Reachable(s State) bool {
	implied, _ := s.Purposes()
	return p.Consent.Enabled&implied == implied
}

// Receives reports whether destination i gets events of state s, and
// which purposes beyond those s implies must also be granted for it.
func (p *Plan) Receives(i int, s State) (ok bool, alsoNeeded consent.Purposes) {
	d := &p.Destinations[i]
	implied, excluded := s.Purposes()
	if d.Requires&excluded != 0 {
		return false, 0 // no event of s has an excluded purpose granted
	}
	return true, d.Requires &^ implied
}
