package ropa

import (
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/anonymize/scrub"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/plan"
)

// tcfPurposeNames are the IAB TCF v2.2 purpose names, by id.
var tcfPurposeNames = [...]string{
	1:  "Store and/or access information on a device",
	2:  "Use limited data to select advertising",
	3:  "Create profiles for personalised advertising",
	4:  "Use profiles to select personalised advertising",
	5:  "Create profiles to personalise content",
	6:  "Use profiles to select personalised content",
	7:  "Measure advertising performance",
	8:  "Measure content performance",
	9:  "Understand audiences through statistics or combinations of data from different sources",
	10: "Develop and improve services",
	11: "Use limited data to select content",
}

// tcfFeatureNames are the IAB TCF v2.2 special feature names, by id.
var tcfFeatureNames = [...]string{
	1: "Use precise geolocation data",
	2: "Actively scan device characteristics for identification",
}

var purposeMeaning = map[config.Purpose]string{
	config.PurposeAnalytics:       "measurement and statistics about the use of the site, app or store",
	config.PurposeAds:             "advertising, ad measurement and retargeting",
	config.PurposePersonalization: "content personalised from a profile of the visitor",
	config.PurposePreciseGeo:      "location more precise than city level",
	config.PurposeDeviceStorage:   "storing or reading an identifier on the visitor's device",
}

var allPurposes = []config.Purpose{config.PurposeAnalytics, config.PurposeAds, config.PurposePersonalization, config.PurposePreciseGeo, config.PurposeDeviceStorage}

// grantSignals are the signals that can grant purposes, in the engine's
// default priority order (consent.DefaultOptions).
var grantSignals = []config.Signal{config.SignalExplicit, config.SignalTCF, config.SignalGPP, config.SignalConsentMode}

// document lays the report out as blocks.
func (r *Report) document() *doc {
	d := &doc{}
	cfg := r.cfg
	source := r.Source
	if source == "" {
		source = "the embedded default config"
	}
	d.heading(1, "top", "Record of processing activities: beacongate")
	d.para("Generated from ", code(source), " on ", r.Generated.UTC().Format("2006-01-02 15:04 MST"),
		". Policy version ", code(r.PolicyVersion), ".")
	d.para("This record is generated from the gateway's configuration by ", code("beacongate report"),
		", so it describes what the gateway does with that configuration. Regenerate it whenever the configuration changes. "+
			"Every output record carries ", code(`"policy": "`+r.PolicyVersion+`"`),
		"; records with another policy version were produced under other rules.")
	r.openingController(d) // controller.go
	toc := len(d.blocks)

	r.controller(d) // controller.go
	r.overview(d)
	r.consent(d)
	r.states(d)
	r.pseudonyms(d)
	scanning(d, cfg, r.plan)
	r.recipients(d)
	r.retention(d)
	r.retail(d)     // retail.go
	r.toComplete(d) // controller.go
	d.contents(toc)
	return d
}

func (r *Report) overview(d *doc) {
	cfg := r.cfg
	d.heading(2, "overview", "1. Overview")
	var items []inline
	items = append(items, line("Processing: collection of usage events from web pages (tracking pixel ", code("GET /p.gif"),
		", ", code("sendBeacon"), " to ", code("POST /b"), ") and of in-store BLE beacon sightings (", code("POST /ble"),
		"). Each event is anonymized according to the visitor's consent before it is stored or shipped; fields outside the request vocabulary are ignored."))
	if len(cfg.Sites) == 0 {
		items = append(items, line("Sites: any site id is accepted (no ", code("sites"), " are configured); browsers get no CORS permission."))
	} else {
		l := line("Sites: ")
		for i, s := range cfg.Sites {
			if i > 0 {
				l = append(l, span{Text: "; "})
			}
			l = append(l, span{Text: s.ID, Code: true})
			switch {
			case s.ServerToServer:
				l = append(l, line(" (", code("server_to_server"), ": its events are posted by its own servers, so no IP address, location or visitor hash is taken from the sending address, and an HTTP client user agent never makes them bot traffic)")...)
			case len(s.Origins) > 0:
				l = append(l, line(" (browser origins ", codeList(s.Origins), ")")...)
			default:
				l = append(l, line(" (no browser origins: server-to-server only)")...)
			}
		}
		items = append(items, l)
	}
	items = append(items, line("Purposes used: ", codeList(names(cfg.Consent.Purposes)), ". A purpose not listed is never granted, whatever a signal says."))
	def := r.plan.Consent.Evaluator.Default
	items = append(items, line("Without any consent signal: granted ", code(purposeWords(def)), ", so the ", code(plan.StateOf(def).String()), " policy applies."))
	var reach []string
	for _, s := range r.States {
		if s.Reachable {
			reach = append(reach, s.Name.String())
		}
	}
	items = append(items, line("Consent states in use: ", codeList(reach), "."))
	var dests []string
	for _, ds := range r.Destinations {
		dests = append(dests, ds.Name)
	}
	items = append(items, line("Recipients (destinations): ", codeList(dests), "."))
	items = append(items, line("Records are queued in ", code(cfg.Spool.Dir), " until every destination that should receive them has taken them."))
	d.list(items...)
}

func (r *Report) consent(d *doc) {
	cfg := r.cfg
	c := &cfg.Consent
	enabled := config.NewPurposeSet(c.Purposes...)
	def := config.NewPurposeSet(c.Default...)
	d.heading(2, "consent", "2. Consent")

	d.heading(3, "purposes", "2.1 Purposes")
	var rows [][]inline
	for _, p := range allPurposes {
		used, dflt := "no: never granted", "no"
		if enabled.Has(p) {
			used = "yes"
		}
		if def.Has(p) {
			dflt = "yes"
		}
		rows = append(rows, []inline{line(code(p.String())), line(purposeMeaning[p]), line(used), line(dflt)})
	}
	d.table([]string{"Purpose", "Meaning", "Used", "Granted without a signal"}, rows)
	if def != 0 {
		d.para("Note: ", code("consent.default"), " grants ", code(def.String()),
			" to requests that carry no consent signal. This needs a legal basis other than consent.")
	}

	d.heading(3, "signals", "2.2 Signals honoured")
	order := effectivePriority(c)
	listed := map[config.Signal]bool{}
	for _, s := range c.Priority {
		listed[s] = true
	}
	honour := func(s config.Signal) string {
		if c.Merge == config.MergePriority {
			for i, o := range order {
				if o == s {
					return "yes, priority " + strconv.Itoa(i+1)
				}
			}
			if !listed[s] {
				return "no: not listed in consent.priority, so treated as absent"
			}
		}
		return "yes"
	}
	gpp := honour(config.SignalGPP)
	unlisted := c.Merge == config.MergePriority && !listed[config.SignalGPP]
	switch {
	case unlisted && c.GPP == config.GPPReject:
		// Not decoded, and its refusal left out: absent, as honour says.
	case unlisted:
		// Its grants are left out, its opt-outs are not (see wiring).
		gpp = "its US sections' opt-outs only: what it grants is not listed in consent.priority, so treated as absent"
	case c.GPP == config.GPPReject:
		gpp = "refused: a request carrying a GPP string is treated as refusing every purpose"
	}
	optOut := "yes"
	if !c.HonourOptOutSignals {
		optOut = "no (honour_opt_out_signals: false)"
	}
	rows = [][]inline{
		{line(code("explicit")), line("the ", code("consent"), " field (purpose names, or ", code("none"), ")"),
			line("grants the purposes it lists and refuses the others"), line(honour(config.SignalExplicit))},
		{line(code("tcf")), line("IAB TCF v2 TC string: ", code("gdpr_consent"), " parameter or ", code("euconsent-v2"), " cookie, with the ", code("gdpr"), " flag"),
			line("grants per the TCF mapping below; must be a valid TCF 2.2 and v2.3 string (one last updated on or after 2026-02-28 must carry the disclosed vendors segment)", tcAge(c.TCF.MaxAge.D())), line(honour(config.SignalTCF))},
		{line(code("gpp")), line("IAB GPP string: ", code("gpp"), " and ", code("gpp_sid"), " parameters"),
			line("its TCF EU section grants like a TC string; US sections opt out of ads (and personalization for GPC); sections that cannot be read refuse every purpose"), line(gpp)},
		{line(code("consent_mode")), line("Google Consent Mode v2: ", code("gcs"), " and ", code("gcd"), " parameters"),
			line("analytics from analytics_storage; ads from ad_storage and ad_user_data granted and ad_personalization not denied (gcs alone never grants ads: it does not carry ad_user_data); device_storage from ad_storage and analytics_storage"), line(honour(config.SignalConsentMode))},
		{line(code("us_privacy")), line("IAB US Privacy string: ", code("us_privacy"), " parameter or ", code("usprivacy"), " cookie"),
			line("opt-out only: an opt-out of sale removes ads"), line("yes")},
		{line(code("gpc")), line("the ", code("Sec-GPC: 1"), " header (Global Privacy Control)"),
			line("opt-out only: removes ads and personalization, whatever other signals say"), line(optOut)},
		{line(code("dnt")), line("the ", code("DNT: 1"), " header (Do Not Track)"),
			line("opt-out only: removes ads and personalization, whatever other signals say"), line(optOut)},
	}
	d.table([]string{"Signal", "Read from", "Effect", "Honoured"}, rows)
	d.para("A signal that cannot be decoded (malformed) or that breaks its own rules (rejected) counts, for every purpose it speaks for, as the configured default (",
		code(def.String()), "): it never grants more than no signal at all. "+
			"A purpose that no present signal speaks for also gets the default.")
	if !cfg.Consent.TCF.RequireValid {
		d.para("Exception: ", code("consent.tcf.require_valid"), " is false, so a TC string that cannot be decoded is treated as absent and the other signals decide.")
	}

	d.heading(3, "merge", "2.3 Merge rule")
	if c.Merge == config.MergePriority {
		d.para("Merge rule ", code("priority"), ": for each purpose, the first signal present in this order decides alone: ",
			codeList(signalNames(order)), ". Opt-out signals (us_privacy, gpc, dnt) are applied afterwards and cannot be overridden.")
	} else {
		d.para("Merge rule ", code("most_restrictive"), ": a purpose is granted only if every signal present that speaks for it grants it. "+
			"Opt-out signals (us_privacy, gpc, dnt) are applied afterwards and cannot be overridden.")
	}
	d.para("Which policy applies: ", code("ads"), " when analytics and ads are both granted, else ", code("analytics"),
		" when analytics is granted, else ", code("none"), ". Other granted purposes only decide which destinations receive the event.")

	d.heading(3, "tcf", "2.4 TCF mapping")
	m := &c.TCF.Mapping
	rules := []struct {
		p config.Purpose
		r *config.TCFRule
	}{
		{config.PurposeAnalytics, &m.Analytics}, {config.PurposeAds, &m.Ads}, {config.PurposePersonalization, &m.Personalization},
		{config.PurposePreciseGeo, &m.PreciseGeo}, {config.PurposeDeviceStorage, &m.DeviceStorage},
	}
	rows = nil
	for _, x := range rules {
		var ps, fs []string
		for _, id := range x.r.Purposes {
			ps = append(ps, tcfName(int(id), tcfPurposeNames[:]))
		}
		for _, id := range x.r.SpecialFeatures {
			fs = append(fs, tcfName(int(id), tcfFeatureNames[:]))
		}
		used := ""
		if !enabled.Has(x.p) {
			used = " (purpose not used)"
		}
		rows = append(rows, []inline{line(code(x.p.String()), used), line(joinOr(ps, "none")), line(joinOr(fs, "none"))})
	}
	d.table([]string{"Our purpose", "TCF purposes that must all have consent", "Special features that must be opted in"}, rows)
	if c.TCF.VendorID != 0 {
		d.para("Vendor check: a TC string grants a purpose only if our IAB vendor id ", code(strconv.Itoa(c.TCF.VendorID)),
			" has consent too, and the publisher's restrictions on our vendor apply; where the string has a disclosed vendors segment (TCF v2.3), our vendor must be in it.")
	} else {
		d.para("Vendor check: none (", code("consent.tcf.vendor_id: 0"), "); the purposes of the TC string's core segment decide.")
	}
	d.para("Legitimate interest is not accepted as a basis: every requirement above is on the basis of consent.")
}

func (r *Report) states(d *doc) {
	d.heading(2, "states", "3. Data collected per consent state")
	d.para("Always recorded, in every state: a unique event id (it identifies the record, not the visitor), the time received, the kind of event, the site id, " +
		"the event name (scanned like free text), the consent state, granted purposes and deciding signal, and the policy version. " +
		"BLE sightings also carry the store and sensor (scanned like free text), the beacon's identity, the signal strength and the time seen.")
	for _, s := range r.States {
		d.heading(3, "state-"+s.Name.String(), "State ", code(s.Name.String()))
		d.para("Applies when ", s.When, ". Policy ", code("policies."+s.Name.String()), ".")
		if !s.Reachable {
			implied, _ := s.Name.Purposes()
			d.para("This state never applies with this configuration: it needs ", code(purposeWords(implied)),
				", and not all of them are in ", code("consent.purposes"), ". Its policy is listed for completeness.")
		}
		var rows [][]inline
		var dropped []string
		for _, f := range s.Rules {
			kept := "no"
			if f.Kept {
				kept = "yes"
			}
			rows = append(rows, []inline{line(f.Category), line(f.Source), line(code(f.Field + ": " + f.Action)), line(kept), line(f.Treatment)})
			if !f.Kept {
				dropped = append(dropped, f.Category)
			}
		}
		d.table([]string{"Category", "Source", "Rule", "Kept", "Treatment"}, rows)
		d.para("Dropped in this state: ", joinOr(dropped, "nothing"), ".")
		if !s.Reachable {
			continue
		}
		if len(s.Recipients) == 0 {
			d.para("Recipients: none. Events in this state are anonymized and then discarded.")
			continue
		}
		var items []inline
		for _, rc := range s.Recipients {
			traffic := r.trafficDiff(s, rc.Destination)
			if rc.Condition == "" {
				items = append(items, line(code(rc.Destination), ": every event in this state", traffic))
			} else {
				items = append(items, line(code(rc.Destination), ": only events for which ", code(rc.Condition), " is also granted", traffic))
			}
		}
		d.para("Recipients:")
		d.list(items...)
	}
}

func (r *Report) pseudonyms(d *doc) {
	p := &r.cfg.Pseudonym
	d.heading(2, "pseudonyms", "4. Pseudonyms and re-identification")
	items := []inline{
		line("Mode ", code(p.Mode.String()), ", period ", code(p.Period.String()), ": ", PseudonymSummary(r.plan.Pseudonym, r.facts), "."),
		line("A pseudonym is HMAC-SHA256 over the site and the identifier, cut to 128 bits (22 characters of base64url). It cannot be reversed; it can only be confirmed by someone who holds the period's key and guesses the identifier."),
		line("Periods are counted from the Unix epoch in UTC: a period that divides 24h starts at 00:00 UTC on every gateway instance. An event stamped just before a period ends is still hashed with that period's key for ",
			code(config.Duration(pseudonym.DefaultGrace).String()), " after the end."),
	}
	if p.Mode == config.PseudonymDerived && r.cfg.Privacy.KeyStore {
		items = append(items,
			line("Key source: a random key for each period that began after the key store was created, kept in the key store ", code(keyStoreDir(r.cfg)),
				" wrapped (AES-256-GCM) by a key derived from the secret in ", secretWhere(p),
				"; the periods that began before the store was created keep their keys derived with HKDF-SHA256 from the secret. Every gateway instance that holds the secret and shares the key store computes the same pseudonyms, and restarts keep them."),
			line("Who can re-identify: whoever holds the secret and the key store can read the key of every period still stored, link a visitor's pseudonyms across those periods, and confirm a guessed identifier. Once a period's key is destroyed, nobody can recompute its pseudonyms, not even the secret's holder; the keys of periods that began before the store was created can still be derived from the secret. ",
				keyRetentionWords(r.cfg)))
	} else if p.Mode == config.PseudonymDerived {
		items = append(items,
			line("Key source: each period's key is derived with HKDF-SHA256 from the secret in ", secretWhere(p),
				". Every gateway instance holding the secret computes the same pseudonyms, and restarts keep them."),
			line("Who can re-identify: whoever holds the secret can recompute the key of every past and future period, link a visitor's pseudonyms across periods, and confirm a guessed identifier. Protect the secret like a password; rotating it starts unlinkable pseudonyms."))
	} else {
		items = append(items,
			line("Key source: a random key for each period, drawn from the operating system's random source, held only in memory and never written, logged or shared. It is forgotten ",
				code(config.Duration(pseudonym.DefaultGrace).String()), " after its period ends."),
			line("Who can re-identify: while a period lasts, only the running gateway process; after rotation, nobody. Pseudonyms change when the gateway restarts and differ between gateway instances."))
	}
	if p.VisitorHash {
		items = append(items, line("Visitor hash: where a policy enables it, a keyed hash of the site, the address truncated to /"+strconv.Itoa(visitorV4Bits)+
			" (IPv4) or /"+strconv.Itoa(visitorV6Bits)+" (IPv6) and the reduced user agent, with its own key, replaced every "+dayWords(pseudonym.DefaultVisitorPeriod)+
			" whatever the pseudonym period, and made in the same mode as the pseudonyms. For a web event it counts unique visitors without any identifier. "+
			"A BLE sighting's visitor hash is not of that kind: it is a keyed hash of the site and the sighting's device id (MAC address or advertising id; none for a randomized MAC) with the same daily key, "+
			"a pseudonym of the device for the day, which whoever can compute that day's key can confirm from a guessed device id ("+bleVisitorWhere(r.cfg)+")."))
	} else {
		items = append(items, line("Visitor hash: off (", code("pseudonym.visitor_hash: false"), ")."))
	}
	d.list(items...)
}

func scanning(d *doc, cfg *config.Config, p *plan.Plan) {
	o := p.Scan // what the engine compiles its cleaner from
	d.heading(2, "scanning", "5. Free-text and URL scanning")
	d.para("Page URLs and referrers under the ", code("path"), " and ", code("clean"), " rules, the site id, the event name, keys and string or number values of allowlisted properties, BLE store and sensor names, and the raw user agent where a policy keeps it are scanned under every policy. Percent-escapes are decoded first (up to eight nested rounds; a value still escaped after that is removed), and base64 runs are decoded to look for e-mail addresses. What is found:")
	tokens := "tokens (UUIDs, long hex ids, API keys, long random letters)"
	if o.KeepUUIDs {
		tokens = "tokens (long hex ids, API keys, long random letters)"
	}
	items := []inline{
		line("e-mail addresses (also base64-encoded), phone numbers (national and international notations), payment card numbers (any separator, issuer range and Luhn checked), IBANs (mod-97 checked), IPv4 and IPv6 addresses, MAC addresses, national ids with a check (DE Steuer-ID, ES DNI/NIE, UK NINO, FR NIR, IT codice fiscale, NL BSN), devices named after their owner (\"Jane's iPhone\") and "+tokens+" are replaced by a marker such as ", code("[email]"), " in text and path segments; a query, fragment or matrix (", code(";name="), ") parameter holding one is removed whole; a URL whose host is an IP address (other than loopback) is dropped;"),
		line("click and cross-site identifiers are removed from queries and fragments: ", codeList(sorted(append(append([]string(nil), scrub.BuiltinClickIDs...), o.ExtraClickIDs...)))),
		line("parameters removed because of their name, whatever their value: ", codeList(sorted(append(append(append([]string(nil), scrub.BuiltinDropParams...), scrub.BuiltinURLDropParams...), o.DropParams...)))),
		line("user names and passwords in URLs (", code("user:password@"), ") are always removed; URLs that cannot be parsed safely (", code("mailto:"), ", ", code("javascript:"), ", bad hosts) are dropped or cut to their origin."),
	}
	if o.KeepUUIDs {
		// The engine's cleaner no longer takes a UUID for a token: it stays
		// in text, property values, path segments and parameters.
		items = append(items, line("UUIDs are kept (", code("scan.keep_uuids"), "): a UUID in a URL, a property value or other scanned text is not a token, so it stays, and so does a parameter holding one; where a policy keeps the path only, the path-shape rule below still replaces a segment holding one with ", code("{id}"), "."))
	}
	if o.DropUTM {
		items = append(items, line(code("utm_*"), " campaign parameters are removed."))
	} else {
		items = append(items, line(code("utm_*"), " campaign parameters are kept, and their values scanned like any other."))
	}
	d.list(items...)
	var routed []inline
	for _, s := range cfg.Sites {
		if len(s.Routes) > 0 {
			routed = append(routed, line("site ", code(s.ID), ": ", codeList(s.Routes)))
		}
	}
	d.para("Structure comes before scanning. A site may declare the routes of its pages (", code("sites[].routes"), "): a page URL matching one keeps its literal segments and treats each placeholder by its type (",
		code("{sku}"), ", ", code("{number}"), ", ", code("{slug}"), " and ", code("{uuid}"), " keep a value of their shape, ", code("{opaque}"), " or ", code("{id}"), " always becomes ", code("{id}"),
		"). Without a match, where a policy keeps the path only, a segment is kept only when it has the shape of a path word (letters, digits and dashes, at most ",
		code(strconv.Itoa(shapeLen(o.Shape))), " bytes, at most ", code(strconv.Itoa(shapeDigits(o.Shape))), " % digits, few case changes), else it becomes ", code("{id}"),
		". When a site lists origins, its page URLs must use one of their hosts: a sub-domain is reduced to it, any other host drops the URL (but where a policy keeps the URL as sent, listed below if any: it is neither checked nor scanned).")
	if len(routed) > 0 {
		d.list(routed...)
	} else {
		d.para("No site declares routes.")
	}
	d.para("Each record lists the kinds removed from it in a ", code("scrubbed"), " field, and the gateway counts them per kind (",
		code("beacongate_anonymize_scrubbed_total"), ").")
	var keep []string
	for st := plan.StateNone; st < plan.NumStates; st++ {
		p := &p.Policies[st]
		if p.URL == plan.URLKeep {
			keep = append(keep, "url in "+st.String())
		}
		if p.Referrer == plan.ReferrerKeep {
			keep = append(keep, "referrer in "+st.String())
		}
	}
	// A destination's own policies keep what the site-wide ones may not.
	for i := range p.Destinations {
		dst := &p.Destinations[i]
		for st := plan.StateNone; st < plan.NumStates; st++ {
			own, site := &dst.Policies[st], &p.Policies[st]
			if own.URL == plan.URLKeep && site.URL != plan.URLKeep {
				keep = append(keep, "url in "+st.String()+" for "+dst.Name)
			}
			if own.Referrer == plan.ReferrerKeep && site.Referrer != plan.ReferrerKeep {
				keep = append(keep, "referrer in "+st.String()+" for "+dst.Name)
			}
		}
	}
	if len(keep) > 0 {
		d.para("Not scanned, because the policy keeps them as sent: ", codeList(keep), ".")
	}
}

func (r *Report) recipients(d *doc) {
	cfg := r.cfg
	d.heading(2, "recipients", "6. Recipients")
	var rows [][]inline
	for i, rd := range r.Destinations {
		cd := &cfg.Destinations[i]
		req := "nothing (every event)"
		if rd.Requires != 0 {
			req = rd.Requires.String()
		}
		rows = append(rows, []inline{line(code(rd.Name)), line(rd.Type.String()), line(code(rd.Address)), line(req),
			line(joinOr(rd.States, "none")), transport(cd)})
	}
	d.table([]string{"Destination", "Type", "Address", "Requires", "Receives states", "Transport"}, rows)

	var head []string
	head = append(head, "State")
	for _, rd := range r.Destinations {
		head = append(head, rd.Name)
	}
	rows = nil
	for _, s := range r.States {
		row := []inline{line(code(s.Name.String()))}
		for _, rd := range r.Destinations {
			cell := "no"
			if !s.Reachable {
				cell = "(state not used)"
			}
			for _, rc := range s.Recipients {
				if rc.Destination == rd.Name {
					cell = "yes"
					if rc.Condition != "" {
						cell = "if " + rc.Condition + " granted"
					}
				}
			}
			row = append(row, line(cell))
		}
		rows = append(rows, row)
	}
	d.para("Which destination receives which state:")
	d.table(head, rows)

	for i, rd := range r.Destinations {
		d.heading(3, "recipient-"+rd.Name, "Recipient ", code(rd.Name))
		d.para("TCF basis: ", rd.Vendor, ".")
		if rd.OwnPolicy {
			d.para("Policy: its own (", code("destinations[].policies"), "), over the site-wide policies.")
		} else {
			d.para("Policy: the site-wide policies.")
		}
		var items []inline
		pp := r.plan.Destinations[i].Platform
		w, ad := WirePlatform(pp)
		for _, s := range r.States {
			rules := rd.Rules[s.Name]
			if rules == nil {
				continue
			}
			if ad {
				items = append(items, wireLine(w, pp, s.Name.String(), rules))
				continue
			}
			var kept, dropped, notSent []string
			for _, f := range rules {
				switch {
				case isTraffic(f.Field) && !f.Kept:
					// Not a field left out: such events are not sent to it.
					notSent = append(notSent, f.Category+" ("+f.Field+": "+f.Action+")")
				case f.Kept:
					kept = append(kept, f.Category+" ("+f.Action+")")
				default:
					dropped = append(dropped, f.Category)
				}
			}
			l := line(code(s.Name.String()), ": kept ", joinOr(kept, "nothing"), "; dropped ", joinOr(dropped, "nothing"))
			if len(notSent) > 0 {
				l = append(l, line("; events it does not get at all: ", strings.Join(notSent, ", "))...)
			}
			items = append(items, append(l, line(".")...))
		}
		if len(items) == 0 {
			d.para("Receives no state.")
			continue
		}
		if ad {
			d.para("Data it receives, per state: its events go in the platform's own request format, which carries only some members of its record, " +
				"in the form named (the record is the one kept for it in the spool):")
		} else {
			d.para("Data categories it receives, per state:")
		}
		d.list(items...)
	}
}

// isTraffic reports whether field is a rule on a whole class of traffic
// (crawlers, HTTP clients), which keeps or discards whole events rather
// than a field of them.
func isTraffic(field string) bool { return field == "bots" || field == "http_clients" }

// trafficDiff says where destination dest's own policy in state s keeps or
// discards a class of traffic (crawlers, HTTP clients) otherwise than the
// state's site-wide policy, which the state's table shows: such a
// destination does not get every event of the state, or gets events the
// table says are discarded. Empty when they agree.
func (r *Report) trafficDiff(s State, dest string) inline {
	var rules []FieldRule
	for i := range r.Destinations {
		if r.Destinations[i].Name == dest {
			rules = r.Destinations[i].Rules[s.Name]
		}
	}
	siteKept := map[string]bool{}
	for _, f := range s.Rules {
		if isTraffic(f.Field) {
			siteKept[f.Field] = f.Kept
		}
	}
	var discards, keeps []string
	for _, f := range rules {
		if !isTraffic(f.Field) || f.Kept == siteKept[f.Field] {
			continue
		}
		w := f.Category // "HTTP client traffic"
		if f.Field == "bots" {
			w = "crawler traffic"
		}
		if f.Kept {
			keeps = append(keeps, w)
		} else {
			discards = append(discards, w)
		}
	}
	var l inline
	if len(discards) > 0 {
		l = append(l, line(" but ", strings.Join(discards, " and "), ", which its own policy discards")...)
	}
	if len(keeps) > 0 {
		l = append(l, line(", and ", strings.Join(keeps, " and "), ", which its own policy keeps while this state's discards it")...)
	}
	return l
}

func transport(d *config.Destination) inline {
	comp := d.Compression.String()
	if d.Level != 0 {
		comp += " level " + strconv.Itoa(d.Level)
	}
	batch := "batches of up to " + strconv.Itoa(d.Batch.MaxEvents) + " events, " + d.Batch.MaxBytes.String() + " or " + d.Batch.MaxAge.String()
	switch d.Type {
	case config.DestinationHTTP:
		auth := "no Authorization header"
		if d.HTTP.BearerTokenFile != "" {
			auth = "bearer token from "
		}
		l := line("HTTP POST of NDJSON, "+comp+", "+batch+"; ", scheme(d.HTTP.URL), "; ", auth)
		if d.HTTP.BearerTokenFile != "" {
			l = append(l, span{Text: d.HTTP.BearerTokenFile, Code: true})
		}
		if len(d.HTTP.Headers) > 0 {
			var hs []string
			for k := range d.HTTP.Headers {
				hs = append(hs, k)
			}
			l = append(l, line("; extra headers ", codeList(sorted(hs)))...)
		}
		return l
	case config.DestinationKafka:
		tls := "without TLS"
		if d.Kafka.TLS.Enabled {
			tls = "over TLS"
		}
		key := map[config.KafkaKey]string{config.KafkaKeySite: "the site id", config.KafkaKeyPseudonym: "the event's pseudonym", config.KafkaKeyNone: "none"}[d.Kafka.Key]
		return line("Kafka records, " + comp + ", " + batch + ", " + tls + ", SASL " + d.Kafka.SASL.Mechanism.String() + "; record key: " + key)
	case config.DestinationNATS:
		tls := "without TLS"
		if d.NATS.TLS.Enabled {
			tls = "over TLS"
		}
		return line("NATS JetStream messages, " + comp + ", " + batch + ", " + tls + ", de-duplicated by event id")
	case config.DestinationMetaCAPI:
		return adTransport("Meta Conversions API", "an access token from ", d.MetaCAPI.AccessTokenFile, d.MetaCAPI.TestEventCode != "", "up to 1,000 events per request")
	case config.DestinationGA4:
		return adTransport("GA4 Measurement Protocol", "an API secret from ", d.GA4.APISecretFile, d.GA4.TestMode, "up to 25 events of one client per request")
	case config.DestinationTikTok:
		return adTransport("TikTok Events API", "an access token from ", d.TikTok.AccessTokenFile, d.TikTok.TestEventCode != "", "up to 1,000 events per request")
	}
	return line("NDJSON files, " + comp + ", " + batch + "; a new file every " + d.File.MaxFileBytes.String() + " or " + d.File.MaxFileAge.String())
}

// adTransport describes an ad platform destination's transport.
func adTransport(api, auth, file string, test bool, limit string) inline {
	l := line("HTTPS requests to the "+api+" in the platform's own format, "+limit+", with "+auth, code(file))
	if test {
		l = append(l, line("; in test mode: the platform shows the events in its test tools and does not use them")...)
	}
	return l
}

func scheme(u string) string {
	if strings.HasPrefix(strings.ToLower(u), "https://") {
		return "over TLS (https)"
	}
	return "without TLS (http)"
}

func (r *Report) retention(d *doc) {
	cfg := r.cfg
	s := &cfg.Spool
	d.heading(2, "retention", "7. Storage and retention")
	dur := "a record is acknowledged once written to the operating system; it survives a crash of the gateway, not a power loss"
	segmentEnd := "a segment file is deleted once all destinations have passed it, or overwritten with zeros and reused for new records"
	if s.Durability == config.DurabilityFsync {
		dur = "a record is acknowledged once flushed to disk; it survives a power loss"
		segmentEnd = "a segment file is deleted once all destinations have passed it"
	}
	full := "new beacon and BLE requests are refused (HTTP 503) while the spool is full, so nothing is acknowledged that cannot be kept"
	if s.WhenFull == config.WhenFullBlock {
		full = "new beacon and BLE requests wait up to " + s.BlockTimeout.String() + " for space, then are refused (HTTP 503)"
	}
	pixelFull := "pixel events are dropped and counted while the spool is full; the pixel still answers its image, so the browser does not learn of the loss"
	if s.PixelWhenFull == config.WhenFullBlock {
		pixelFull = "pixel events wait up to " + s.BlockTimeout.String() + " for space, then are dropped and counted; the pixel always answers its image"
	}
	items := []inline{
		line("Only anonymized records are stored; the raw request is held in memory only while it is processed and is never written, logged or used in a metric label."),
		line("Spool (queue before delivery): ", code(s.Dir), ", at most ", code(s.MaxBytes.String()), " in segments of ", code(s.SegmentBytes.String()),
			". A record stays there until every destination that should receive it has acknowledged it; ", segmentEnd,
			". While a destination is unreachable its records accumulate, and are retried until delivered. A segment found damaged (a torn write after a crash, a bad checksum) is moved to ",
			code(s.Dir+"/quarantine"), " instead, with any cut-off tail, ", quarantineKeep(cfg)),
	}
	if ble := bleSpool(cfg); ble != nil {
		items = append(items, ble)
	}
	items = append(items,
		line("Durability ", code(s.Durability.String()), ": ", dur, "."),
		line("When the spool is full (", code("when_full: "+s.WhenFull.String()), "): ", full, "."),
		line("Pixel events when the spool is full (", code("pixel_when_full: "+s.PixelWhenFull.String()), "): ", pixelFull, "."),
	)
	for i := range cfg.Destinations {
		dd := &cfg.Destinations[i]
		if dd.Type == config.DestinationFile {
			keep := ". beacongate never deletes finished files: their retention period must be enforced outside the gateway."
			if age, ok := cfg.Privacy.Retention[dd.Name]; ok {
				recorded := "logged and counted" // no audit log to record it in
				if cfg.Privacy.AuditLog {
					recorded = "logged, counted and recorded in the audit log"
				}
				keep = "; a finished file is deleted " + durationWords(age.D()) + " after its last write (privacy.retention), and each deletion is " + recorded + "."
			}
			items = append(items, line("File destination ", code(dd.Name), ": files in ", code(dd.File.Dir), keep))
		}
	}
	if dl := cfg.Privacy.DeadLetterRetention; dl != 0 {
		items = append(items, line("Dead letters (batches a destination refused for good) are deleted ", durationWords(dl.D()), " after they were written (privacy.dead_letter_retention)."))
	} else {
		items = append(items, line("Dead letters (batches a destination refused for good) are kept until deleted by hand; set privacy.dead_letter_retention to limit them."))
	}
	if cfg.Privacy.KeyStore && cfg.Pseudonym.Mode == config.PseudonymDerived {
		items = append(items, line("Pseudonym key store: ", code(keyStoreDir(cfg)), ", one wrapped key per pseudonym and visitor-hash period. ", keyRetentionWords(cfg)))
	}
	if cfg.Privacy.AuditLog {
		items = append(items, line("Audit log: ", code(filepath.Join(cfg.Server.DataDir, "audit.log")),
			", hash-chained lines recording config loads, key creation and destruction, retention deletions, suppression changes and subject lookups; a subject appears only as a keyed hash. beacongate never deletes or rotates it: it is kept until deleted by hand."))
	} else {
		items = append(items, line("Audit log: off (", code("privacy.audit_log: false"), ")."))
	}
	items = append(items, line("Suppression list: ", code(suppressionFile(cfg)),
		", the keyed hashes of the subjects and store devices that asked not to be tracked, never their identifiers; an entry is kept until removed with ", code("beacongate subject unsuppress"), "."))
	items = append(items, line("Retention at HTTP, Kafka, NATS and ad platform destinations is set by their operators, not by beacongate."))
	d.list(items...)
}

// bleSpool describes the BLE spool of ble.output: aggregates, where every
// sighting's record waits for its day's aggregates (cmd/beacongate's
// bleSpoolDir); nil when sightings go to the spool like other events.
func bleSpool(cfg *config.Config) inline {
	if cfg.BLE.Output != config.BLEOutputAggregates {
		return nil
	}
	dir := filepath.Join(cfg.Server.DataDir, config.BLESpoolFolder)
	keep := "kept there until deleted by hand; set privacy.quarantine_retention to limit it."
	if q := cfg.Privacy.QuarantineRetention; q != 0 {
		keep = "deleted " + durationWords(q.D()) + " after it was moved there (privacy.quarantine_retention)."
	}
	return line("BLE spool (", code("ble.output: aggregates"), "): ", code(dir),
		", each BLE sighting's record as the site-wide policy of its consent state makes it (with its daily visitor hash), and the aggregates written back before they are sent, with the size and durability of the spool. The records of a UTC day are kept until all its intervals are closed and their aggregates sent; no destination gets them. A damaged segment is moved to ",
		code(dir+"/quarantine"), " and ", keep)
}

// bleVisitorWhere says where a BLE sighting's visitor hash goes.
func bleVisitorWhere(cfg *config.Config) string {
	if cfg.BLE.Output == config.BLEOutputAggregates {
		return "it stays in the BLE spool's records, which no destination gets, until the day's aggregates are sent"
	}
	return "it is in the visitor field of the BLE records the destinations get; beacongate subject lists it per day"
}

// quarantineKeep says how long quarantined spool files are kept.
func quarantineKeep(cfg *config.Config) string {
	if q := cfg.Privacy.QuarantineRetention; q != 0 {
		return "and deleted " + durationWords(q.D()) + " after it was moved there (privacy.quarantine_retention)."
	}
	return "and kept there until deleted by hand; set privacy.quarantine_retention to limit it."
}

// keyStoreDir is where the gateway keeps the pseudonym key store.
func keyStoreDir(cfg *config.Config) string { return filepath.Join(cfg.Server.DataDir, "keys") }

// suppressionFile is the suppression list the gateway reads.
func suppressionFile(cfg *config.Config) string {
	if cfg.Privacy.SuppressionFile != "" {
		return cfg.Privacy.SuppressionFile
	}
	return filepath.Join(cfg.Server.DataDir, "suppressed.txt")
}

// keyRetentionWords says how long the key store keeps a period's key.
func keyRetentionWords(cfg *config.Config) string {
	if kr := cfg.Privacy.KeyRetention; kr != 0 {
		return "A period's key is destroyed " + durationWords(kr.D()) + " after its period ends (privacy.key_retention), and each destruction is recorded in the audit log when it is on."
	}
	return "A period's key is kept until destroyed with beacongate keys forget; set privacy.key_retention to destroy keys automatically."
}

func names(ps []config.Purpose) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func signalNames(ss []config.Signal) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.String())
	}
	return out
}

// effectivePriority is the order in which the engine consults the grant
// signals: those listed in consent.priority, then the others in the default
// order (consent.NewEvaluator appends them; opt-out signals are not ordered).
func effectivePriority(c *config.Consent) []config.Signal {
	var out []config.Signal
	seen := map[config.Signal]bool{}
	for _, s := range c.Priority {
		for _, g := range grantSignals {
			if s == g && !seen[s] {
				out = append(out, s)
				seen[s] = true
			}
		}
	}
	return out // grant signals left out of the list are ignored (anonymize treats them as absent)
}

func tcfName(id int, names []string) string {
	if id > 0 && id < len(names) {
		return strconv.Itoa(id) + " (" + names[id] + ")"
	}
	return strconv.Itoa(id)
}

func joinOr(s []string, empty string) string {
	if len(s) == 0 {
		return empty
	}
	return strings.Join(s, ", ")
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func shapeLen(s scrub.Shape) int {
	if s.MaxLength > 0 {
		return s.MaxLength
	}
	return scrub.DefaultPathMaxLength
}

func shapeDigits(s scrub.Shape) int {
	if s.MaxDigitPercent > 0 {
		return s.MaxDigitPercent
	}
	return scrub.DefaultPathMaxDigitPercent
}

// tcAge says which TC strings are too old or too new to grant anything
// (consent.DatesProblems): the string is rejected, as the table's note
// says.
func tcAge(maxAge time.Duration) string {
	future := "dated more than " + config.Duration(consent.MaxFutureSkew).String() + " after it"
	if maxAge <= 0 {
		return "; one " + future + " is rejected"
	}
	return "; one last updated more than " + durationWords(maxAge) + " before the event arrives (consent.tcf.max_age), or " + future + ", is rejected"
}
