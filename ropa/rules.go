package ropa

import (
	"strconv"
	"strings"
	"time"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/plan"
)

// The visitor hash always hashes the address truncated to these prefixes,
// whatever the policy keeps.
const (
	visitorV4Bits = anonymize.VisitorIPv4Bits
	visitorV6Bits = anonymize.VisitorIPv6Bits
)

// FieldRule is what one policy does with one kind of personal data.
type FieldRule struct {
	// Field is the key of the rule under policies.<state> in the config,
	// e.g. "ip" or "user_id".
	Field string
	// Category is the personal data category in words, e.g. "IP address".
	Category string
	// Source says where the data comes from in a request.
	Source string
	// Action is the rule in the config's own terms, short, e.g.
	// "truncate /24 (IPv4), /48 (IPv6)".
	Action string
	// Treatment says in words what is kept, e.g. "truncated to /24 (IPv4)
	// and /48 (IPv6)".
	Treatment string
	// Kept reports whether anything of the category reaches a record.
	Kept bool
}

// Facts are what the rules need to know beside the plan: settings that
// decide no record's content themselves but whether a rule can apply, and
// where the pseudonym secret lives.
type Facts struct {
	// GeoDatabase: geoip.database is set, so a geo level can apply.
	GeoDatabase bool
	// SecretSource names where the derived-mode secret comes from, in
	// words ("the file /etc/beacongate/secret").
	SecretSource string
	// BLESightings: ble.output is sightings, so BLE sighting records, whose
	// visitor hash is keyed by their device id, reach destinations.
	BLESightings bool
	// KeyStore: privacy.key_store keeps derived-mode keys in a store, from
	// which a period's key can be destroyed: the secret alone then no
	// longer recomputes the keys of periods that began after the store was
	// created.
	KeyStore bool
}

// FactsOf returns the facts of cfg.
func FactsOf(cfg *config.Config) Facts {
	return Facts{GeoDatabase: cfg.GeoIP.Database != "", SecretSource: secretWhere(&cfg.Pseudonym),
		BLESightings: cfg.BLE.Output == config.BLEOutputSightings,
		KeyStore:     cfg.Privacy.KeyStore && cfg.Pseudonym.Mode == config.PseudonymDerived}
}

// Rules returns the field rules of the site-wide policy for state, in
// record order, as the engine compiled from p applies them.
func Rules(p *plan.Plan, f Facts, state plan.State) []FieldRule {
	return policyRules(p, f, &p.Policies[state], plan.PlatformNone)
}

// DestinationRules returns the field rules destination i gets in state: its
// own policy, which is the site-wide one where it sets nothing.
func DestinationRules(p *plan.Plan, f Facts, i int, state plan.State) []FieldRule {
	d := &p.Destinations[i]
	return policyRules(p, f, &d.Policies[state], d.Platform)
}

// policyRules returns the field rules of policy pol for a destination of
// platform (PlatformNone: the site-wide policies), in record order.
func policyRules(p *plan.Plan, f Facts, pol *plan.Policy, platform plan.Platform) []FieldRule {
	rules := []FieldRule{
		ipRule(pol),
		geoRule(p, f, pol),
		uaRule(pol.UA),
		botRule(pol.Bots),
		httpClientRule(p, pol),
		urlRule(pol.URL),
		referrerRule(pol.Referrer),
		idRule(p, f, "user_id", "User ids", "the site's user id (uid), e.g. a login", pol.UserID),
		idRule(p, f, "client_id", "Client ids", "the tracker's client id (cid), e.g. a first-party cookie value", pol.ClientID),
		idRule(p, f, "device_id", "Device ids (BLE MAC addresses, advertising ids, app instance ids)", "BLE sightings: mac, adid or app_instance_id", pol.DeviceID),
		visitorRule(p, f, pol),
		languageRule(pol.Language),
		propertiesRule(p, pol.Properties),
		contactRule(pol.Contact, platform),
		clickRule(pol),
	}
	if s2s := p.ServerToServerSites; len(s2s) > 0 {
		for i := range rules {
			switch f := &rules[i]; f.Field {
			case "ip", "geo", "visitor_hash":
				if f.Kept {
					f.Treatment += "; not for the server-to-server sites " + strings.Join(s2s, ", ") +
						", whose sending address is a server's, not the visitor's"
				}
			}
		}
	}
	if f.BLESightings {
		bleVisitorRules(rules, len(p.ServerToServerSites) > 0)
	}
	return rules
}

// bleVisitorRules says, in the device id and visitor hash rules, that a BLE
// sighting's visitor hash is a daily keyed hash of its device id, not of
// the address and agent (those are the store box's), whatever device_id
// says: the engine's appendBLEVisitor.
func bleVisitorRules(rules []FieldRule, s2s bool) {
	var dev, vis *FieldRule
	for i := range rules {
		switch rules[i].Field {
		case "device_id":
			dev = &rules[i]
		case "visitor_hash":
			vis = &rules[i]
		}
	}
	if dev == nil || vis == nil || !vis.Kept {
		return
	}
	vis.Source += "; for a BLE sighting, the site and its device id (MAC, advertising or app instance id)"
	vis.Treatment += "; a BLE sighting's visitor hash is instead HMAC-SHA256 of the site and its device id (MAC address in one notation, advertising id lower-cased) with the same daily key, none for a randomized MAC or a sighting without a device id: " +
		"a pseudonym of the device for the day"
	if s2s {
		vis.Treatment += ", on the server-to-server sites too"
	}
	if dev.Kept {
		dev.Treatment += "; the visitor hash of a BLE sighting is a daily keyed hash of it too (see visitor_hash)"
	} else {
		dev.Treatment = "not recorded as such; but the visitor hash of a BLE sighting is a daily keyed hash of it (see visitor_hash)"
	}
}

func ipRule(r *plan.Policy) FieldRule {
	f := FieldRule{Field: "ip", Category: "IP address", Source: "the client address (the peer, or server.client_ip_header when the peer is in server.trusted_proxies)", Action: r.IP.String()}
	switch r.IP {
	case plan.IPTruncate:
		f.Kept = true
		f.Action = "truncate /" + strconv.Itoa(r.V4Prefix) + " (IPv4), /" + strconv.Itoa(r.V6Prefix) + " (IPv6)"
		f.Treatment = "truncated to /" + strconv.Itoa(r.V4Prefix) + " (IPv4) and /" + strconv.Itoa(r.V6Prefix) +
			" (IPv6): the last " + strconv.Itoa(32-r.V4Prefix) + " bits of an IPv4 address and the last " +
			strconv.Itoa(128-r.V6Prefix) + " bits of an IPv6 address are set to zero"
		switch {
		case r.V4Prefix == 32 || r.V6Prefix == 128:
			f.Treatment += "; a /32 (IPv4) or /128 (IPv6) prefix keeps the whole address"
		case r.V4Prefix > 24 || r.V6Prefix > 64:
			f.Treatment += "; prefixes longer than /24 (IPv4) or /64 (IPv6) can single out one household or device"
		}
	case plan.IPKeep:
		f.Kept = true
		f.Treatment = "recorded in full"
	default:
		f.Treatment = "not recorded"
	}
	return f
}

func geoRule(pl *plan.Plan, facts Facts, p *plan.Policy) FieldRule {
	f := FieldRule{Field: "geo", Category: "Location", Source: "derived from the IP address with the GeoIP database", Action: p.Geo.String()}
	if p.Geo != plan.GeoNone && p.Grid > 0 {
		f.Action += ", grid " + formatFloat(p.Grid) + "°"
	}
	switch {
	case p.Geo == plan.GeoNone:
		f.Treatment = "not recorded"
	case !facts.GeoDatabase:
		f.Action += " (no geoip.database: none)"
		f.Treatment = "not recorded: no GeoIP database is configured (the policy would allow " + p.Geo.String() + ")"
	default:
		f.Kept = true
		f.Treatment = "kept down to " + geoLevelWords(p.Geo)
		if p.Grid > 0 {
			f.Treatment += ", with coordinates rounded to a " + formatFloat(p.Grid) + "° grid (about " +
				formatFloat(roundTo(p.Grid*111.2, 1)) + " km north-south)"
		} else {
			f.Treatment += ", without coordinates"
		}
		switch {
		case pl.GeoFromTruncated && p.IP != plan.IPDrop:
			f.Treatment += "; looked up from the address after the ip rule, so the full address is not used"
		case pl.GeoFromTruncated:
			f.Treatment += "; looked up from the address truncated to /" + strconv.Itoa(visitorV4Bits) + " (IPv4) or /" +
				strconv.Itoa(visitorV6Bits) + " (IPv6), so the full address is not used"
		default:
			f.Treatment += "; looked up from the full address in memory, before it is truncated or dropped"
		}
	}
	return f
}

func geoLevelWords(l plan.GeoLevel) string {
	switch l {
	case plan.GeoContinent:
		return "the continent"
	case plan.GeoCountry:
		return "the continent and country"
	case plan.GeoRegion:
		return "the continent, country and first-level region"
	}
	return "the continent, country, region and city"
}

func uaRule(a plan.UAAction) FieldRule {
	f := FieldRule{Field: "user_agent", Category: "Device and browser data", Source: "the User-Agent header", Action: a.String()}
	switch a {
	case plan.UAReduce:
		f.Kept = true
		f.Treatment = "reduced to browser family and major version, operating system family, device class (desktop, mobile, ...) and whether it is a known crawler or HTTP client library (and which); the header itself is not recorded"
	case plan.UAKeep:
		f.Kept = true
		f.Treatment = "recorded as sent (the full User-Agent header) with e-mail addresses and advertising ids in it replaced by markers and the event's own user or client id by {id}, plus the reduced form"
	default:
		f.Treatment = "not recorded"
	}
	return f
}

func botRule(a plan.BotAction) FieldRule {
	f := FieldRule{Field: "bots", Category: "Crawler traffic", Source: "requests whose User-Agent is a known crawler: search engine and other bots, headless browsers, uptime checkers", Action: a.String()}
	switch a {
	case plan.BotsFlag:
		f.Kept = true
		f.Treatment = "kept and marked as bot"
	case plan.BotsKeep:
		f.Kept = true
		f.Treatment = "kept like any other event"
	default:
		f.Treatment = "the whole event is discarded"
	}
	return f
}

func httpClientRule(p *plan.Plan, pol *plan.Policy) FieldRule {
	a := pol.HTTPClients
	f := FieldRule{Field: "http_clients", Category: "HTTP client traffic",
		Source: "requests whose User-Agent is an HTTP client library or tool (python-requests, okhttp, Go-http-client, Java, Dart, curl, ...), as app backends, store boxes and native apps send them", Action: a.String()}
	if pol.NoAppEvents {
		f.Action = plan.BotsDrop.String()
		f.Treatment = "the whole event is discarded, for every site: this ad platform takes no app events from the gateway (it requires app data the gateway does not know)"
		return f
	}
	switch a {
	case plan.BotsFlag:
		f.Kept = true
		f.Treatment = "kept and marked as http_client"
	case plan.BotsKeep:
		f.Kept = true
		f.Treatment = "kept like any other event; they are not bots"
	default:
		f.Treatment = "the whole event is discarded"
	}
	if s2s := p.ServerToServerSites; len(s2s) > 0 && a != plan.BotsKeep {
		f.Treatment += "; always kept, unmarked, for the server-to-server sites " + strings.Join(s2s, ", ")
	}
	return f
}

func urlRule(a plan.URLAction) FieldRule {
	f := FieldRule{Field: "url", Category: "Page URL", Source: "the url field (the pixel falls back to the Referer header)", Action: a.String()}
	switch a {
	case plan.URLPath:
		f.Kept = true
		f.Treatment = "scheme, host and path only (no query, no fragment); path segments holding personal data are replaced by markers such as [email]"
	case plan.URLClean:
		f.Kept = true
		f.Treatment = "scheme, host, path, query and fragment, with click ids, sensitive parameters and any parameter or path segment holding personal data removed (see Free-text scanning)"
	case plan.URLKeep:
		f.Kept = true
		f.Treatment = "recorded as sent, without any scanning"
	default:
		f.Treatment = "not recorded"
	}
	return f
}

func referrerRule(a plan.ReferrerAction) FieldRule {
	f := FieldRule{Field: "referrer", Category: "Referrer URL", Source: "the ref field", Action: a.String()}
	switch a {
	case plan.ReferrerOrigin:
		f.Kept = true
		f.Treatment = "scheme and host only"
	case plan.ReferrerPath:
		f.Kept = true
		f.Treatment = "scheme, host and path only; path segments holding personal data are replaced by markers"
	case plan.ReferrerClean:
		f.Kept = true
		f.Treatment = "like the page URL under clean: click ids, sensitive parameters and personal data removed"
	case plan.ReferrerKeep:
		f.Kept = true
		f.Treatment = "recorded as sent, without any scanning"
	default:
		f.Treatment = "not recorded"
	}
	return f
}

func idRule(p *plan.Plan, facts Facts, field, category, source string, a plan.IDAction) FieldRule {
	f := FieldRule{Field: field, Category: category, Source: source, Action: a.String()}
	if a != plan.IDPseudonymize {
		f.Treatment = "not recorded"
		return f
	}
	f.Kept = true
	f.Action = "pseudonymize (" + keyMode(p.Pseudonym) + " key, " + config.Duration(p.Pseudonym.Period).String() + ")"
	f.Treatment = "replaced by a pseudonym: " + PseudonymSummary(p.Pseudonym, facts)
	if field == "device_id" {
		f.Treatment += "; the kind of id (mac, adid, app_instance) is recorded with it"
	}
	return f
}

// keyMode names the pseudonym key mode as the config does.
func keyMode(p plan.Pseudonym) string {
	if p.Derived {
		return "derived"
	}
	return "ephemeral"
}

// PseudonymSummary says in one sentence how pseudonyms are made under p and
// who can re-identify.
func PseudonymSummary(p plan.Pseudonym, facts Facts) string {
	s := "HMAC-SHA256 of the site and the id (so sites cannot join their visitors), with a key that rotates every " + durationWords(p.Period)
	if p.Derived && facts.KeyStore {
		return s + "; derived, with a key store: whoever holds the secret in " + facts.SecretSource +
			" and the key store can read the key of every period still stored, link those periods and confirm a guessed id; a destroyed key cannot be recomputed"
	}
	if p.Derived {
		return s + "; derived: whoever holds the secret in " + facts.SecretSource +
			" can recompute every period's key, link periods and confirm a guessed id"
	}
	return s + "; ephemeral: the key is random and never stored, so nobody can re-identify after rotation"
}

func visitorRule(pl *plan.Plan, facts Facts, p *plan.Policy) FieldRule {
	f := FieldRule{Field: "visitor_hash", Category: "Visitor hash", Source: "computed from the site, the IP address and the reduced user agent", Action: "off"}
	switch {
	case !pl.Pseudonym.VisitorHash:
		f.Action = "off (pseudonym.visitor_hash: false)"
		f.Treatment = "not computed (pseudonym.visitor_hash is false)"
	case !p.VisitorHash:
		f.Treatment = "not computed"
	default:
		f.Kept = true
		f.Action = "daily hash"
		f.Treatment = "HMAC-SHA256 of the site, the address truncated to /" + strconv.Itoa(visitorV4Bits) + " (IPv4) or /" +
			strconv.Itoa(visitorV6Bits) + " (IPv6) and the reduced user agent, with a new key every " + dayWords(pseudonym.DefaultVisitorPeriod) +
			": it counts unique visitors and cannot link one period to the next"
		if pl.Pseudonym.Derived && facts.KeyStore {
			f.Treatment += "; derived, with a key store: whoever holds the secret in " + facts.SecretSource + " and the key store can recompute it until its key is destroyed"
		} else if pl.Pseudonym.Derived {
			f.Treatment += "; derived: whoever holds the secret in " + facts.SecretSource + " can recompute it"
		} else {
			f.Treatment += "; ephemeral: the key is random and never stored"
		}
	}
	return f
}

func languageRule(a plan.LanguageAction) FieldRule {
	f := FieldRule{Field: "accept_language", Category: "Language", Source: "the Accept-Language header", Action: a.String()}
	if a == plan.LanguagePrimary {
		f.Kept = true
		f.Treatment = "the first language only, without region (\"de\" from \"de-DE,de;q=0.9,en;q=0.8\")"
	} else {
		f.Treatment = "not recorded"
	}
	return f
}

func propertiesRule(p *plan.Plan, a plan.PropertiesAction) FieldRule {
	// p.NAME, not p.<name>: Chromium breaks a line between "." and "<",
	// which splits the token in a narrow cell (TestE2EReportInChromium).
	f := FieldRule{Field: "properties", Category: "Custom properties", Source: "props (beacons) or p.NAME query parameters (pixel)", Action: a.String()}
	switch {
	case a != plan.PropertiesAllowlist:
		f.Treatment = "none recorded"
	case len(p.Properties) == 0:
		f.Action = "allowlist (empty)"
		f.Treatment = "none recorded: properties.allow is empty"
	default:
		f.Action = "allowlist: " + strings.Join(p.Properties, ", ")
		never := anonymize.UnrecordedProperties(p)
		out := make(map[string]bool, len(never))
		var why []string
		for _, u := range never {
			out[u.Name] = true
			why = append(why, u.Name+" ("+u.Reason+")")
		}
		var kept []string
		for _, n := range p.Properties {
			if !out[n] {
				kept = append(kept, n)
			}
		}
		if len(kept) == 0 {
			f.Treatment = "none recorded"
		} else {
			f.Kept = true
			f.Treatment = "only " + strings.Join(kept, ", ") +
				"; string values are scanned and e-mail addresses, phone numbers, card numbers, IBANs and tokens are replaced by markers; other properties are dropped"
		}
		if len(why) > 0 {
			// Allowlisted, but the engine never writes them as
			// properties: an officer must not take them for recorded.
			f.Treatment += "; allowlisted but never recorded as properties: " + strings.Join(why, "; ")
		}
	}
	return f
}

// secretWhere names where the derived-mode secret comes from.
func secretWhere(p *config.Pseudonym) string {
	switch {
	case p.SecretFile != "":
		return "the file " + p.SecretFile
	case p.SecretEnv != "":
		return "the environment variable " + p.SecretEnv
	}
	return "(no secret configured)"
}

// durationWords writes d as "24h (1 day)" or "168h (7 days)" when it is a
// whole number of days, else as the config writes it.
func durationWords(d time.Duration) string {
	s := config.Duration(d).String()
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		n := int(d / day)
		if n == 1 {
			return s + " (1 day)"
		}
		return s + " (" + strconv.Itoa(n) + " days)"
	}
	return s
}

// dayWords names a visitor-hash period: "UTC day" for 24h.
func dayWords(d time.Duration) string {
	if d == 24*time.Hour {
		return "UTC day"
	}
	return durationWords(d)
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func roundTo(f float64, decimals int) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', decimals, 64), 64)
	return v
}

func contactRule(a plan.ContactAction, platform plan.Platform) FieldRule {
	f := FieldRule{Field: "contact", Category: "Contact data for ad matching (e-mail, phone, names, city, zip, country, external id)",
		Source: "props em, ph, fn, ln, ct, zp, country, external_id", Action: a.String()}
	if a != plan.ContactHash || platform == plan.PlatformNone {
		f.Treatment = "not recorded (never written as a property either)"
		return f
	}
	f.Kept = true
	f.Action = "hash (" + platform.String() + ")"
	f.Treatment = "only with ads granted: normalised by " + platformWords(platform) + "'s rules and SHA-256-hashed on arrival, before the event is stored; the values in clear never reach the disk or a record"
	if platform == plan.PlatformGoogle {
		f.Treatment += " (city, zip and country are sent in clear, normalised, as Google takes them)"
	}
	return f
}

func clickRule(pol *plan.Policy) FieldRule {
	a := pol.ClickIDs
	f := FieldRule{Field: "click_ids", Category: "Click ids and ad platform cookies",
		Source: "gclid, gbraid, wbraid, fbclid, ttclid in the page URL or props; the _fbp, _fbc, _ttp and _ga cookies as bg.js sends them", Action: a.String()}
	if a != plan.ClickIDsKeep {
		// A URL kept as sent is not scanned: the click ids in its query
		// and fragment stay in the record with it.
		var asSent []string
		if pol.URL == plan.URLKeep {
			asSent = append(asSent, "the page URL is recorded as sent (url: keep)")
		}
		if pol.Referrer == plan.ReferrerKeep {
			asSent = append(asSent, "the referrer is recorded as sent (referrer: keep)")
		}
		switch len(asSent) {
		case 0:
			f.Treatment = "not recorded (removed from URLs by the url and referrer rules)"
		case 1:
			f.Treatment = "not recorded as such; but " + asSent[0] + ", with any click id in its query or fragment (gclid, fbclid, ttclid, ...)"
		default:
			f.Treatment = "not recorded as such; but " + strings.Join(asSent, " and ") + ", with any click id in their queries or fragments (gclid, fbclid, ttclid, ...)"
		}
		return f
	}
	f.Kept = true
	f.Treatment = "only with ads granted: recorded as captured (fbc made from fbclid as Meta documents it, the client id part of _ga)"
	return f
}

func platformWords(p plan.Platform) string {
	switch p {
	case plan.PlatformMeta:
		return "Meta"
	case plan.PlatformGoogle:
		return "Google"
	case plan.PlatformTikTok:
		return "TikTok"
	}
	return p.String()
}
