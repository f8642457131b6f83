package ropa

import (
	"strconv"
	"strings"

	"github.com/beacongate/beacongate/config"
)

// controller writes the parts of Art. 30(1) GDPR the configuration cannot
// know and the officer states in privacy.controller, privacy.legal_basis
// and privacy.recipients: who the controller is, the legal basis of each
// purpose, and each recipient's role, country and transfer mechanism.
// Anything not stated is listed by toComplete.
func (r *Report) controller(d *doc) {
	p := &r.cfg.Privacy
	c := &p.Controller
	d.heading(2, "controller", "Controller, legal bases and recipients' roles")
	var items []inline
	for _, f := range controllerFields(c) {
		if f.value != "" {
			items = append(items, line(f.label+": "+f.value))
		}
	}
	for _, pu := range r.cfg.Consent.Purposes {
		if b := p.LegalBasis[pu.String()]; b != "" {
			items = append(items, line("Legal basis for ", code(pu.String()), ": "+b))
		}
	}
	for _, dd := range r.cfg.Destinations {
		rc, ok := p.Recipients[dd.Name]
		if !ok {
			continue
		}
		l := line("Recipient of ", code(dd.Name), ": ")
		l = append(l, line(orMissing(rc.Role, "role not stated")+"; country "+orMissing(rc.Country, "not stated")+
			"; transfer mechanism "+orMissing(rc.Transfer, "not stated"))...)
		items = append(items, l)
	}
	if len(items) == 0 {
		d.para("Nothing is stated yet: see the section To complete.")
		return
	}
	d.list(items...)
}

type labelled struct{ key, label, value string }

func controllerFields(c *config.Controller) []labelled {
	return []labelled{
		{"privacy.controller.name", "Controller", c.Name},
		{"privacy.controller.address", "Address", c.Address},
		{"privacy.controller.contact", "Contact", c.Contact},
		{"privacy.controller.dpo", "Data protection officer", c.DPO},
		{"privacy.controller.representative", "Representative in the Union", c.Representative},
	}
}

func orMissing(v, missing string) string {
	if v == "" {
		return missing
	}
	return v
}

// toComplete lists every item of the record the configuration leaves
// open, with the key that fills it, so that nothing is left to a hand
// edit that the next generation would lose.
func (r *Report) toComplete(d *doc) {
	items := r.missing()
	d.heading(2, "to-complete", "To complete")
	if len(items) == 0 {
		d.para("Nothing: every item of the record is stated in the configuration.")
		return
	}
	d.para("These items of the record of processing are not in the configuration yet. Add them there, not to this document: it is regenerated from the configuration.")
	d.list(items...)
}

// openingController is the opening's sentence on the controller's part of
// the record: stated in full, in part, or not at all.
func (r *Report) openingController(d *doc) {
	p := &r.cfg.Privacy
	missing := len(r.missing())
	name := p.Controller.Name
	switch {
	case missing == 0:
		d.para("The controller (", name, "), its contact details and data protection officer, the legal basis of each purpose and each recipient's role, country and retention are stated in the configuration (",
			code("privacy"), ") and shown under Controller, legal bases and recipients' roles. What a recipient does with the data once it has received them belongs in that recipient's own record.")
	case name != "":
		n := "1 item is"
		if missing > 1 {
			n = strconv.Itoa(missing) + " items are"
		}
		d.para("The controller is ", name, " (", code("privacy.controller.name"), "). ", n,
			" not stated in the configuration yet; they are listed, with the setting that states each, under To complete.")
	default:
		d.para("The controller's identity and contact details, the legal bases of the purposes and the recipients' roles are not stated in the configuration yet. State them under ",
			code("privacy.controller"), ", ", code("privacy.legal_basis"), " and ", code("privacy.recipients"),
			", not in this document, which is regenerated from the configuration; the items still missing are listed under To complete.")
	}
}

// missing returns the items of the record the configuration leaves open.
func (r *Report) missing() []inline {
	p := &r.cfg.Privacy
	var items []inline
	for _, f := range controllerFields(&p.Controller) {
		if f.value == "" && f.key != "privacy.controller.representative" {
			items = append(items, line(f.label+": set ", code(f.key), "."))
		}
	}
	if p.Controller.Representative == "" {
		items = append(items, line("Representative in the Union: set ", code("privacy.controller.representative"),
			" if the controller is established outside the Union; otherwise nothing to do."))
	}
	for _, pu := range r.cfg.Consent.Purposes {
		if p.LegalBasis[pu.String()] == "" {
			items = append(items, line("Legal basis for ", code(pu.String()), ": set ", code("privacy.legal_basis."+pu.String()), "."))
		}
	}
	for _, dd := range r.cfg.Destinations {
		rc := p.Recipients[dd.Name]
		key := "privacy.recipients." + dd.Name
		if rc.Role == "" {
			items = append(items, line("Role of the recipient of ", code(dd.Name), ": set ", code(key+".role"), " (processor, joint_controller or independent_controller)."))
		}
		if rc.Country == "" {
			items = append(items, line("Country of the recipient of ", code(dd.Name), ": set ", code(key+".country"), "."))
		} else if rc.Transfer == "" && !eeaCountries[strings.ToUpper(strings.TrimSpace(rc.Country))] {
			items = append(items, line("Transfer mechanism of the recipient of ", code(dd.Name), " (country "+rc.Country+"): set ", code(key+".transfer"),
				" (e.g. adequacy decision, standard contractual clauses); a country is taken as in the EEA only by its ISO code."))
		}
		if dd.Type == config.DestinationFile {
			if _, ok := p.Retention[dd.Name]; !ok {
				items = append(items, line("Retention of ", code(dd.Name), ": set ", code("privacy.retention."+dd.Name), " (its files are kept forever)."))
			}
		}
	}
	return items
}

// eeaCountries are the ISO 3166-1 alpha-2 codes of the EEA (and EL, the
// EU's code for Greece): a recipient there needs no transfer mechanism
// (Art. 30(1)(e) GDPR); one anywhere else, or in a country not given by
// its code, does.
var eeaCountries = map[string]bool{
	"AT": true, "BE": true, "BG": true, "HR": true, "CY": true, "CZ": true, "DK": true, "EE": true, "FI": true,
	"FR": true, "DE": true, "GR": true, "EL": true, "HU": true, "IE": true, "IT": true, "LV": true, "LT": true,
	"LU": true, "MT": true, "NL": true, "PL": true, "PT": true, "RO": true, "SK": true, "SI": true, "ES": true,
	"SE": true, "IS": true, "LI": true, "NO": true,
}
