package plan

import (
	"bytes"
	"encoding/json"

	"github.com/beacongate/beacongate/anonymize/consent"
)

// Hold says why a dead-lettered record may not be sent again to its
// destination (see ReplayHold); HoldNone when it may.
type Hold uint8

// The reasons, in the order ReplayHold tests them.
const (
	HoldNone       Hold = iota
	HoldUnreadable      // the record's consent or policy version cannot be read
	HoldUnknown         // made under a plan version of which no copy is saved (and that is not the current one)
	HoldRemoved         // the destination was not in the plan the record was made under
	HoldRequires        // the purposes granted do not cover what the destination requires now
	HoldConsent         // the consent rules changed (or no longer select the record's state)
	HoldVendor          // the destination's TCF vendor declaration changed: the vendor check cannot be re-run
	HoldPolicy          // the destination's policy for the record's state, or a setting that shapes every record, changed
	NumHolds
)

var holdWhy = [NumHolds]string{
	"",
	"its consent or policy version cannot be read",
	"it was made under a policy version of which the data directory keeps no readable copy",
	"the destination was not in the policy it was made under",
	"the purposes granted do not cover what the destination requires now",
	"the consent rules changed since it was made",
	"the destination's TCF vendor declaration changed since it was made (the vendor check cannot be run again without the TC string)",
	"the destination's policy (or a setting that shapes every record: properties, scanning, pseudonyms, geo, server-to-server sites, beacons) changed since it was made",
}

// String says why, in words (never a record's values).
func (h Hold) String() string {
	if h < NumHolds {
		return holdWhy[h]
	}
	return "unknown"
}

// ReplayHold reports whether a record made under plan old, for destination
// name, in state s with the purposes granted, may be sent to name under
// plan cur: only if cur would have sent it, in that very form. The
// purposes are checked against what name requires now; the rest, which
// the record alone cannot be checked against (the consent rules that read
// the signals, the TCF vendor check, which needs the TC string, the policy
// that shaped the record), must be unchanged from old to cur. old nil
// means the record's plan is unknown: held, fail closed.
func ReplayHold(old, cur *Plan, name string, s State, granted consent.Purposes) Hold {
	if old == nil {
		return HoldUnknown
	}
	if s >= NumStates {
		return HoldUnreadable
	}
	var d, od *Destination
	for i := range cur.Destinations {
		if cur.Destinations[i].Name == name {
			d = &cur.Destinations[i]
		}
	}
	for i := range old.Destinations {
		if old.Destinations[i].Name == name {
			od = &old.Destinations[i]
		}
	}
	if d == nil || od == nil {
		return HoldRemoved
	}
	granted &= cur.Consent.Enabled
	if !d.Accepts(granted) {
		return HoldRequires
	}
	oc, cc := old.Consent, cur.Consent
	oc.GVLVersion, cc.GVLVersion = 0, 0 // the vendors' own declarations are compared below
	if !sameJSON(oc, cc) || StateOf(granted) != s {
		return HoldConsent
	}
	if od.Vendor != d.Vendor || od.WithoutVendor != d.WithoutVendor {
		return HoldVendor
	}
	if od.Platform != d.Platform || !sameJSON(od.Policies[s], d.Policies[s]) || !sameShaping(old, cur) {
		return HoldPolicy
	}
	return HoldNone
}

// sameShaping reports whether the settings that shape every record are
// the same in a and b.
func sameShaping(a, b *Plan) bool {
	type shaping struct {
		Properties          []string
		Scan                any
		Pseudonym           Pseudonym
		GeoFromTruncated    bool
		ServerToServerSites []string
		Beacons             []string
		BLEAggregates       bool
	}
	of := func(p *Plan) shaping {
		return shaping{p.Properties, p.Scan, p.Pseudonym, p.GeoFromTruncated, p.ServerToServerSites, p.Beacons, p.BLEAggregates}
	}
	return sameJSON(of(a), of(b))
}

// sameJSON compares a and b as Version does: by their JSON encoding.
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
