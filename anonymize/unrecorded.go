package anonymize

import (
	"github.com/beacongate/beacongate/anonymize/scrub"
	"github.com/beacongate/beacongate/contact"
	"github.com/beacongate/beacongate/plan"
)

// UnrecordedProperty is an allowlisted property name that no record ever
// holds under props, whatever its value and the consent.
type UnrecordedProperty struct {
	Name   string
	Reason string // why, e.g. "a click id"
}

// UnrecordedProperties returns the names of p.Properties (properties.allow)
// that no record holds under props, in allowlist order, each with the
// reason the engine leaves it out: contact data (hashed for ad platforms
// only), a click id or ad cookie (under click, or nowhere), or a name that
// says secret or person. The report and config check say so, so that
// neither an operator nor an officer takes them for recorded.
func UnrecordedProperties(p *plan.Plan) []UnrecordedProperty {
	c, err := scrub.New(p.Scan)
	if err != nil {
		return nil // p did not validate: no engine is built from it either
	}
	var out []UnrecordedProperty
	for _, name := range p.Properties {
		if r := unrecordedReason(c, []byte(name)); r != "" {
			out = append(out, UnrecordedProperty{Name: name, Reason: r})
		}
	}
	return out
}

// unrecordedReason says why a property named key is never written under
// props, or "" when it may be: appendProps leaves out what New keeps off
// the allowlist (neverProp, contact data) and what propFate finds a
// sensitive name.
func unrecordedReason(c *scrub.Cleaner, key []byte) string {
	switch _, isContact := contact.ParseField(key); {
	case isContact:
		return "contact data, which goes hashed into the record of an ad platform destination whose policy says contact: hash, never as a property"
	case isClickProp(key):
		return "a click id or ad cookie, which goes under click for a destination whose policy says click_ids: keep, never as a property"
	case neverProp(c, key):
		return "a click id"
	case c.SensitiveName(key).Has(scrub.KindParam):
		return "its name says secret or person"
	}
	return ""
}
