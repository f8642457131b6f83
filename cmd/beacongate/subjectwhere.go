package main

import (
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/plan"
	"github.com/beacongate/beacongate/ropa"
	"github.com/beacongate/beacongate/wiring"
)

// subjectWhere is, for one record field of a lookup, the destinations that
// can have received its values, and those that never do.
type subjectWhere struct {
	Field        string   `json:"field"`
	Destinations []string `json:"destinations"`
	Never        []string `json:"never,omitempty"`
}

// fieldRules are the policy rules that put a lookup's fields in a record.
var fieldRules = map[string]string{"user": "user_id", "client": "client_id", "device": "device_id", "visitor": "visitor_hash"}

// whereFields says, for each record field of fields ("user", "client",
// "device", "visitor": a BLE sighting's), which destinations of cfg can
// have received it, by the plan the gateway compiles from cfg: a
// destination that gets events of a state its purposes can reach whose
// policy keeps the field, and, for an ad platform, whose request format
// carries it (package adwire; Meta and TikTok carry no pseudonym, GA4
// the user and client ones). The device pseudonym and a BLE visitor hash
// are in BLE sighting records only, which reach no destination with
// ble.output: aggregates.
func whereFields(cfg *config.Config, fields []string) ([]subjectWhere, error) {
	gvl, err := wiring.LoadGVL(cfg)
	if err != nil {
		return nil, err
	}
	p, err := wiring.Compile(cfg, gvl)
	if err != nil {
		return nil, err
	}
	facts := ropa.FactsOf(cfg)
	var out []subjectWhere
	for _, f := range fields {
		w := subjectWhere{Field: f, Destinations: []string{}}
		for i := range p.Destinations {
			if receivesField(cfg, p, facts, i, f) {
				w.Destinations = append(w.Destinations, p.Destinations[i].Name)
			} else {
				w.Never = append(w.Never, p.Destinations[i].Name)
			}
		}
		out = append(out, w)
	}
	return out, nil
}

// receivesField reports whether destination i of p can have received
// record field f (see whereFields).
func receivesField(cfg *config.Config, p *plan.Plan, facts ropa.Facts, i int, f string) bool {
	if (f == "device" || f == "visitor") && cfg.BLE.Output != config.BLEOutputSightings {
		return false
	}
	wire, ad := ropa.WirePlatform(p.Destinations[i].Platform)
	for st := plan.StateNone; st < plan.NumStates; st++ {
		ok, extra := p.Receives(i, st)
		if !ok || !p.Reachable(st) || p.Consent.Enabled&extra != extra {
			continue
		}
		for _, r := range ropa.DestinationRules(p, facts, i, st) {
			if r.Field != fieldRules[f] || !r.Kept {
				continue
			}
			if !ad || len(ropa.SentFields(wire, r)) > 0 {
				return true
			}
		}
	}
	return false
}
