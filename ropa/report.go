package ropa

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/plan"
)

// Report is the record of processing for one config. Build makes it from
// the plan the engine runs (what each field becomes, who receives what)
// and the config's declarations (controller, recipients' roles, retention,
// transport); it reads both when rendering, so render a Report before
// changing that config.
type Report struct {
	// Source is the name of the config file ("" for the embedded default).
	Source string
	// PolicyVersion is the plan's version: the "policy" field of every
	// record produced under it.
	PolicyVersion string
	// Generated is when the report was built; WriteMarkdown and WriteHTML
	// print it. Set it before rendering for a reproducible document.
	Generated time.Time
	// States describes the three consent states, none, analytics and ads.
	States []State
	// Destinations describes every destination, in config order.
	Destinations []Destination

	cfg   *config.Config
	plan  *plan.Plan
	facts Facts
}

// State is what one consent state's policy collects and who receives it.
type State struct {
	// Name is the state, as under policies in the config.
	Name plan.State
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
	Requires consent.Purposes
	// States lists the states whose events it receives, with conditions.
	States []string
	// Vendor says on what TCF basis it receives events where GDPR applies.
	Vendor string
	// OwnPolicy is whether it sets policies of its own.
	OwnPolicy bool
	// Rules are its field rules per state it receives (indexed by
	// plan.State; nil for a state it never receives).
	Rules [3][]FieldRule
}

// Build makes the record of processing for cfg, which must be a config
// that passed config.Parse (or config.Default), and p, the plan compiled
// from it (wiring.Compile).
func Build(cfg *config.Config, p *plan.Plan) *Report {
	r := &Report{
		Source:        cfg.Source(),
		PolicyVersion: p.Version(),
		Generated:     time.Now().UTC(),
		cfg:           cfg,
		plan:          p,
		facts:         FactsOf(cfg),
	}
	for st := plan.StateNone; st < plan.NumStates; st++ {
		s := State{Name: st, When: stateWhen(st), Reachable: p.Reachable(st), Rules: Rules(p, r.facts, st)}
		if s.Reachable {
			for i := range p.Destinations {
				if ok, extra := p.Receives(i, st); ok {
					rc := Recipient{Destination: p.Destinations[i].Name}
					if extra != 0 {
						rc.Condition = purposeWords(extra)
					}
					s.Recipients = append(s.Recipients, rc)
				}
			}
		}
		r.States = append(r.States, s)
	}
	for i := range cfg.Destinations {
		d, pd := &cfg.Destinations[i], &p.Destinations[i]
		rd := Destination{Name: d.Name, Type: d.Type, Address: destinationAddress(d), Requires: pd.Requires,
			Vendor: vendorBasis(&d.TCF, cfg.Consent.TCF.GVLFile != ""), OwnPolicy: p.DistinctPolicies(i)}
		for _, s := range r.States {
			for _, rc := range s.Recipients {
				if rc.Destination != d.Name {
					continue
				}
				rd.Rules[s.Name] = DestinationRules(p, r.facts, i, s.Name)
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

func stateWhen(st plan.State) string {
	switch st {
	case plan.StateAnalytics:
		return "analytics is granted and ads is not"
	case plan.StateAds:
		return "analytics and ads are both granted"
	}
	return "analytics is not granted (including every request without a consent signal, unless consent.default grants analytics)"
}

func destinationAddress(d *config.Destination) string {
	switch d.Type {
	case config.DestinationHTTP:
		return withoutQuery(d.HTTP.URL)
	case config.DestinationKafka:
		return "topic " + d.Kafka.Topic + " on " + strings.Join(d.Kafka.Brokers, ", ")
	case config.DestinationNATS:
		return "subject " + d.NATS.Subject + " on " + strings.Join(d.NATS.URLs, ", ")
	case config.DestinationMetaCAPI:
		return d.MetaCAPI.Endpoint + "/" + d.MetaCAPI.APIVersion + "/" + d.MetaCAPI.PixelID + "/events"
	case config.DestinationGA4:
		return d.GA4.Endpoint + "/mp/collect (measurement id " + d.GA4.MeasurementID + ")"
	case config.DestinationTikTok:
		return d.TikTok.Endpoint + "/open_api/v1.3/event/track/ (event source " + d.TikTok.EventSourceID + ")"
	}
	return d.File.Dir
}

// withoutQuery returns an http destination's url without its query and
// fragment, saying so when it had them: a collector may take its
// credential as a query parameter (`?api_key=`), and the record of
// processing goes to people who must not have it.
func withoutQuery(raw string) string {
	i := strings.IndexAny(raw, "?#")
	if i < 0 {
		return raw
	}
	return raw[:i] + " (query not shown)"
}

// disclosedClause ends a vendor's basis: TCF v2.3's disclosed vendors rule.
const disclosedClause = "; a TC string with a disclosed vendors segment (TCF v2.3) must list this vendor"

// vendorBasis says in words on what TCF basis a destination receives events
// where GDPR applies.
func vendorBasis(t *config.DestinationTCF, gvl bool) string {
	switch {
	case t.VendorID != 0 && gvl:
		return "IAB TCF vendor " + strconv.Itoa(t.VendorID) + ": only events whose TC string allows this vendor every purpose and special feature the vendor list declares for it" + disclosedClause
	case t.VendorID != 0:
		b := "IAB TCF vendor " + strconv.Itoa(t.VendorID) + ": only events whose TC string gives this vendor consent"
		// A flexible purpose takes the other basis where a publisher
		// restriction requires it (consent.CheckVendor); purpose 1 never
		// goes to legitimate interest.
		if len(t.Purposes) > 0 {
			b += " for purposes " + tcfList(t.Purposes)
			if f := flexible(t, t.Purposes, 2); len(f) > 0 {
				b += " (" + purposeIDs(f) + " flexible: where a publisher restriction requires legitimate interest for it, the vendor's legitimate interest is relied on instead)"
			}
		}
		if len(t.LegitimateInterest) > 0 {
			b += ", legitimate interest for purposes " + tcfList(t.LegitimateInterest)
			if f := flexible(t, t.LegitimateInterest, 1); len(f) > 0 {
				b += " (" + purposeIDs(f) + " flexible: where a publisher restriction requires consent for it, consent is needed instead)"
			}
		}
		if len(t.SpecialFeatures) > 0 {
			var ids []string
			for _, f := range t.SpecialFeatures {
				ids = append(ids, strconv.Itoa(int(f)))
			}
			b += ", and opts in to special features " + strings.Join(ids, ", ")
		}
		return b + disclosedClause
	case t.WithoutVendor:
		return "our own processing, not a TCF vendor (tcf.without_vendor): receives events where GDPR applies under our purposes alone"
	}
	return "no TCF vendor id and not marked as our own processing: receives no event where GDPR applies"
}

// flexible returns the purposes of ps that t declares flexible and that
// can take the other basis: purpose 1 never goes from consent (from 2) to
// legitimate interest.
func flexible(t *config.DestinationTCF, ps []config.TCFPurpose, from config.TCFPurpose) []config.TCFPurpose {
	var out []config.TCFPurpose
	for _, p := range ps {
		if p >= from && slices.Contains(t.FlexiblePurposes, p) {
			out = append(out, p)
		}
	}
	return out
}

// purposeIDs names flexible purposes: "purpose 7 is", "purposes 2, 7 are".
func purposeIDs(ps []config.TCFPurpose) string {
	if len(ps) == 1 {
		return "purpose " + tcfList(ps) + " is"
	}
	return "purposes " + tcfList(ps) + " are"
}

func tcfList(ps []config.TCFPurpose) string {
	var ids []string
	for _, p := range ps {
		ids = append(ids, strconv.Itoa(int(p)))
	}
	return strings.Join(ids, ", ")
}

// purposeWords lists purposes as the config writes them: "analytics, ads",
// or "none".
func purposeWords(p consent.Purposes) string {
	return strings.ReplaceAll(p.String(), ",", ", ")
}
