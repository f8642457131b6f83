package ropa

import (
	"strconv"
	"strings"
	"time"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/config"
)

// Report is the record of processing for one config. Build makes it; it
// holds the config it was built from and reads it when rendering, so render
// a Report before changing that config.
type Report struct {
	// Source is the name of the config file ("" for the embedded default).
	Source string
	// PolicyVersion is anonymize.PolicyVersion of the config: the "policy"
	// field of every record produced under it.
	PolicyVersion string
	// Generated is when the report was built; WriteMarkdown and WriteHTML
	// print it. Set it before rendering for a reproducible document.
	Generated time.Time
	// States describes the three consent states, none, analytics and ads.
	States []State
	// Destinations describes every destination, in config order.
	Destinations []Destination

	cfg *config.Config
}

// State is what one consent state's policy collects and who receives it.
type State struct {
	// Name is the state, as under policies in the config.
	Name config.PolicyName
	// When says when the state applies, in words.
	When string
	// Reachable is false when the configured purposes can never select this
	// state (e.g. ads is not in consent.purposes).
	Reachable bool
	// Rules are the policy's field rules, see Rules.
	Rules []FieldRule
	// Recipients are the destinations that receive events in this state.
	Recipients []Recipient
}

// Recipient is a destination receiving events of one state.
type Recipient struct {
	// Destination is the destination's name.
	Destination string
	// Condition is "" when every event in the state is sent, else the
	// purposes that must be granted too, e.g. "device_storage".
	Condition string
}

// Destination is one configured destination.
type Destination struct {
	// Name and Type are as in the config.
	Name string
	Type config.DestinationType
	// Address is where it writes: a directory, a URL, or brokers and topic.
	Address string
	// Requires lists the purposes that must all be granted, as in the config.
	Requires config.PurposeSet
	// States lists the states whose events it receives, with conditions.
	States []string
	// Vendor says on what TCF basis it receives events where GDPR applies.
	Vendor string
	// OwnPolicy is whether it sets policies of its own.
	OwnPolicy bool
	// Rules are its field rules per state it receives (indexed by
	// config.PolicyName; nil for a state it never receives).
	Rules [3][]FieldRule
}

// Build makes the record of processing for cfg, which must be a config
// that passed config.Parse (or config.Default).
func Build(cfg *config.Config) *Report {
	r := &Report{
		Source:        cfg.Source(),
		PolicyVersion: anonymize.PolicyVersion(cfg),
		Generated:     time.Now().UTC(),
		cfg:           cfg,
	}
	enabled := config.NewPurposeSet(cfg.Consent.Purposes...)
	for _, st := range []config.PolicyName{config.PolicyNone, config.PolicyAnalytics, config.PolicyAds} {
		s := State{Name: st, When: stateWhen(st), Reachable: reachable(st, enabled), Rules: Rules(cfg, st)}
		if s.Reachable {
			for i := range cfg.Destinations {
				d := &cfg.Destinations[i]
				if ok, extra := receives(st, config.NewPurposeSet(d.Requires...)); ok {
					rc := Recipient{Destination: d.Name}
					if extra != 0 {
						rc.Condition = extra.String()
					}
					s.Recipients = append(s.Recipients, rc)
				}
			}
		}
		r.States = append(r.States, s)
	}
	for i := range cfg.Destinations {
		d := &cfg.Destinations[i]
		rd := Destination{Name: d.Name, Type: d.Type, Address: destinationAddress(d), Requires: config.NewPurposeSet(d.Requires...),
			Vendor: vendorBasis(&d.TCF, cfg.Consent.TCF.GVLFile != ""), OwnPolicy: d.Policies != cfg.Policies}
		for _, s := range r.States {
			for _, rc := range s.Recipients {
				if rc.Destination != d.Name {
					continue
				}
				rd.Rules[s.Name] = DestinationRules(cfg, i, s.Name)
				if rc.Condition != "" {
					rd.States = append(rd.States, s.Name.String()+" (when "+rc.Condition+" is also granted)")
				} else {
					rd.States = append(rd.States, s.Name.String())
				}
			}
		}
		r.Destinations = append(r.Destinations, rd)
	}
	return r
}

func stateWhen(st config.PolicyName) string {
	switch st {
	case config.PolicyAnalytics:
		return "analytics is granted and ads is not"
	case config.PolicyAds:
		return "analytics and ads are both granted"
	}
	return "analytics is not granted (including every request without a consent signal, unless consent.default grants analytics)"
}

// stateBase returns the purposes a state implies and those it excludes.
func stateBase(st config.PolicyName) (implied, excluded config.PurposeSet) {
	switch st {
	case config.PolicyAnalytics:
		return config.NewPurposeSet(config.PurposeAnalytics), config.NewPurposeSet(config.PurposeAds)
	case config.PolicyAds:
		return config.NewPurposeSet(config.PurposeAnalytics, config.PurposeAds), 0
	}
	return 0, config.NewPurposeSet(config.PurposeAnalytics)
}

// reachable reports whether the enabled purposes can select st: a purpose
// not in consent.purposes is never granted.
func reachable(st config.PolicyName, enabled config.PurposeSet) bool {
	implied, _ := stateBase(st)
	return enabled.Covers(implied)
}

// receives reports whether a destination requiring req gets events of
// state st, and which purposes beyond those the state implies must also be
// granted. Config validation guarantees req is within consent.purposes.
func receives(st config.PolicyName, req config.PurposeSet) (bool, config.PurposeSet) {
	implied, excluded := stateBase(st)
	if req&excluded != 0 {
		return false, 0
	}
	return true, req &^ implied
}

func destinationAddress(d *config.Destination) string {
	switch d.Type {
	case config.DestinationHTTP:
		return d.HTTP.URL
	case config.DestinationKafka:
		return "topic " + d.Kafka.Topic + " on " + strings.Join(d.Kafka.Brokers, ", ")
	}
	return d.File.Dir
}

// vendorBasis says in words on what TCF basis a destination receives events
// where GDPR applies.
func vendorBasis(t *config.DestinationTCF, gvl bool) string {
	switch {
	case t.VendorID != 0 && gvl:
		return "IAB TCF vendor " + strconv.Itoa(t.VendorID) + ": only events whose TC string allows this vendor every purpose and special feature the vendor list declares for it"
	case t.VendorID != 0:
		b := "IAB TCF vendor " + strconv.Itoa(t.VendorID) + ": only events whose TC string gives this vendor consent"
		if len(t.Purposes) > 0 {
			b += " for purposes " + tcfList(t.Purposes)
		}
		if len(t.LegitimateInterest) > 0 {
			b += ", legitimate interest for purposes " + tcfList(t.LegitimateInterest)
		}
		if len(t.SpecialFeatures) > 0 {
			var ids []string
			for _, f := range t.SpecialFeatures {
				ids = append(ids, strconv.Itoa(int(f)))
			}
			b += ", and opts in to special features " + strings.Join(ids, ", ")
		}
		return b
	case t.WithoutVendor:
		return "our own processing, not a TCF vendor (tcf.without_vendor): receives events where GDPR applies under our purposes alone"
	}
	return "no TCF vendor id and not marked as our own processing: receives no event where GDPR applies"
}

func tcfList(ps []config.TCFPurpose) string {
	var ids []string
	for _, p := range ps {
		ids = append(ids, strconv.Itoa(int(p)))
	}
	return strings.Join(ids, ", ")
}
