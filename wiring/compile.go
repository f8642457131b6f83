package wiring

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/scrub"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/plan"
)

// Compile compiles cfg, a config that passed config.Parse (or
// config.Default), into a plan. gvl is the vendor list of
// consent.tcf.gvl_file (LoadGVL), nil when the config names none; the
// destinations' vendor declarations come from it. Compile never panics:
// a hand-built config with values out of range is an error naming the
// field.
func Compile(cfg *config.Config, gvl *consent.GVL) (*plan.Plan, error) {
	var errs []error
	p := &plan.Plan{
		Properties:       append([]string(nil), cfg.Properties.Allow...),
		Scan:             scanOptions(cfg),
		GeoFromTruncated: cfg.GeoIP.LookupFrom == config.LookupTruncated,
		Pseudonym: plan.Pseudonym{
			Derived:     cfg.Pseudonym.Mode == config.PseudonymDerived,
			Period:      cfg.Pseudonym.Period.D(),
			VisitorHash: cfg.Pseudonym.VisitorHash,
		},
	}
	var err error
	if p.Consent, err = compileConsent(&cfg.Consent); err != nil {
		errs = append(errs, err)
	}
	if cfg.Consent.TCF.GVLFile != "" {
		if gvl == nil {
			errs = append(errs, errors.New("consent.tcf.gvl_file: set, but no vendor list was loaded"))
		} else {
			p.Consent.GVLVersion = gvl.Version
		}
	}
	if len(cfg.BLE.Beacons) > 0 {
		p.Beacons = cfg.BLE.BeaconIDs()
	}
	p.BLEAggregates = cfg.BLE.Output == config.BLEOutputAggregates
	for _, s := range cfg.Sites {
		if s.ServerToServer {
			p.ServerToServerSites = append(p.ServerToServerSites, s.ID)
		}
	}
	if p.Policies, err = compilePolicies(&cfg.Policies, "policies"); err != nil {
		errs = append(errs, err)
	}
	for i := range cfg.Destinations {
		d := &cfg.Destinations[i]
		key := fmt.Sprintf("destinations[%d]", i)
		pd := plan.Destination{Name: d.Name, WithoutVendor: d.TCF.WithoutVendor, Platform: PlatformOf(d.Type)}
		if pd.Requires, err = purposesOf(d.Requires); err != nil {
			errs = append(errs, fmt.Errorf("%s.requires: %w", key, err))
		}
		if pd.Vendor, err = vendorOf(&d.TCF, gvl); err != nil {
			errs = append(errs, fmt.Errorf("%s.tcf.vendor_id: %w", key, err))
		}
		if pd.Policies, err = compilePolicies(&d.Policies, key+".policies"); err != nil {
			errs = append(errs, err)
		}
		if pd.Platform == plan.PlatformMeta || pd.Platform == plan.PlatformTikTok {
			// Their event APIs take no app event from the gateway (see
			// upstream/adplatform: reason no_app_data): HTTP client
			// libraries' events are not routed there at all.
			for s := range pd.Policies {
				pd.Policies[s].NoAppEvents = true
			}
		}
		p.Destinations = append(p.Destinations, pd)
	}
	// Lists whose order and repeats change nothing are kept sorted and
	// unique, so the version does not move when the file is reordered.
	p.Properties = sortedSet(p.Properties)
	p.Beacons = sortedSet(p.Beacons)
	p.ServerToServerSites = sortedSet(p.ServerToServerSites)
	p.Scan.ExtraClickIDs = sortedSet(p.Scan.ExtraClickIDs)
	p.Scan.DropParams = sortedSet(p.Scan.DropParams)
	if err := p.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// compilePolicies compiles the three policies of a policies section.
func compilePolicies(ps *config.Policies, key string) ([plan.NumStates]plan.Policy, error) {
	var out [plan.NumStates]plan.Policy
	var errs []error
	for s, cp := range [plan.NumStates]*config.Policy{&ps.None, &ps.Analytics, &ps.Ads} {
		var err error
		if out[s], err = compilePolicy(cp); err != nil {
			errs = append(errs, fmt.Errorf("%s.%s: %w", key, plan.State(s), err))
		}
	}
	return out, errors.Join(errs...)
}

// compilePolicy maps one config policy onto the plan's enums.
func compilePolicy(c *config.Policy) (plan.Policy, error) {
	e := enumMapper{}
	p := plan.Policy{
		IP:          mapEnum(&e, "ip.action", c.IP.Action, ipActions[:]),
		V4Prefix:    c.IP.V4Prefix,
		V6Prefix:    c.IP.V6Prefix,
		Geo:         mapEnum(&e, "geo.level", c.Geo.Level, geoLevels[:]),
		Grid:        c.Geo.Grid,
		UA:          mapEnum(&e, "user_agent.action", c.UserAgent.Action, uaActions[:]),
		Bots:        mapEnum(&e, "bots", c.Bots, botActions[:]),
		HTTPClients: mapEnum(&e, "http_clients", c.HTTPClients, botActions[:]),
		UserID:      mapEnum(&e, "user_id", c.UserID, idActions[:]),
		ClientID:    mapEnum(&e, "client_id", c.ClientID, idActions[:]),
		DeviceID:    mapEnum(&e, "device_id", c.DeviceID, idActions[:]),
		URL:         mapEnum(&e, "url", c.URL, urlActions[:]),
		Referrer:    mapEnum(&e, "referrer", c.Referrer, referrerActions[:]),
		Language:    mapEnum(&e, "accept_language", c.AcceptLanguage, languageActions[:]),
		Properties:  mapEnum(&e, "properties", c.Properties, propertiesActions[:]),
		VisitorHash: c.VisitorHash,
		Contact:     mapEnum(&e, "contact", c.Contact, contactActions[:]),
		ClickIDs:    mapEnum(&e, "click_ids", c.ClickIDs, clickIDActions[:]),
	}
	// Settings an action ignores are zeroed: they change no record, so
	// they must not change the version.
	if p.IP != plan.IPTruncate {
		p.V4Prefix, p.V6Prefix = 0, 0
	}
	if p.Geo == plan.GeoNone {
		p.Grid = 0
	}
	return p, errors.Join(e.errs...)
}

// The config's enums, in their declaration order, onto the plan's.
var (
	ipActions         = [...]plan.IPAction{config.IPDrop: plan.IPDrop, config.IPTruncate: plan.IPTruncate, config.IPKeep: plan.IPKeep}
	geoLevels         = [...]plan.GeoLevel{config.GeoNone: plan.GeoNone, config.GeoContinent: plan.GeoContinent, config.GeoCountry: plan.GeoCountry, config.GeoRegion: plan.GeoRegion, config.GeoCity: plan.GeoCity}
	uaActions         = [...]plan.UAAction{config.UADrop: plan.UADrop, config.UAReduce: plan.UAReduce, config.UAKeep: plan.UAKeep}
	botActions        = [...]plan.BotAction{config.BotsDrop: plan.BotsDrop, config.BotsFlag: plan.BotsFlag, config.BotsKeep: plan.BotsKeep}
	idActions         = [...]plan.IDAction{config.IDDrop: plan.IDDrop, config.IDPseudonymize: plan.IDPseudonymize}
	urlActions        = [...]plan.URLAction{config.URLDrop: plan.URLDrop, config.URLPath: plan.URLPath, config.URLClean: plan.URLClean, config.URLKeep: plan.URLKeep}
	referrerActions   = [...]plan.ReferrerAction{config.ReferrerDrop: plan.ReferrerDrop, config.ReferrerOrigin: plan.ReferrerOrigin, config.ReferrerPath: plan.ReferrerPath, config.ReferrerClean: plan.ReferrerClean, config.ReferrerKeep: plan.ReferrerKeep}
	languageActions   = [...]plan.LanguageAction{config.LanguageDrop: plan.LanguageDrop, config.LanguagePrimary: plan.LanguagePrimary}
	propertiesActions = [...]plan.PropertiesAction{config.PropertiesDrop: plan.PropertiesDrop, config.PropertiesAllowlist: plan.PropertiesAllowlist}
	contactActions    = [...]plan.ContactAction{config.ContactDrop: plan.ContactDrop, config.ContactHash: plan.ContactHash}
	clickIDActions    = [...]plan.ClickIDAction{config.ClickIDsDrop: plan.ClickIDsDrop, config.ClickIDsKeep: plan.ClickIDsKeep}
)

// PlatformOf is the ad platform of a destination type (PlatformNone for
// the warehouse's types).
func PlatformOf(t config.DestinationType) plan.Platform {
	switch t {
	case config.DestinationMetaCAPI:
		return plan.PlatformMeta
	case config.DestinationGA4:
		return plan.PlatformGoogle
	case config.DestinationTikTok:
		return plan.PlatformTikTok
	}
	return plan.PlatformNone
}

// enumMapper collects the errors of mapEnum calls.
type enumMapper struct{ errs []error }

// mapEnum returns table[v], or records an error naming field when v is out
// of range (a hand-built config; config.Parse never yields one).
func mapEnum[C ~uint8, P any](e *enumMapper, field string, v C, table []P) P {
	if int(v) >= len(table) {
		e.errs = append(e.errs, fmt.Errorf("%s: unknown value %d", field, v))
		var zero P
		return zero
	}
	return table[v]
}

// purposesOf maps config purposes onto the consent package's.
func purposesOf(ps []config.Purpose) (consent.Purposes, error) {
	var out consent.Purposes
	for _, p := range ps {
		cp, err := consent.ParsePurpose(p.String())
		if err != nil {
			return 0, err
		}
		out = out.With(cp)
	}
	return out, nil
}

// compileConsent compiles the consent section.
func compileConsent(c *config.Consent) (plan.Consent, error) {
	var errs []error
	enabled, err := purposesOf(c.Purposes)
	errs = append(errs, err)
	def, err := purposesOf(c.Default)
	errs = append(errs, err)
	o := consent.Options{
		Default:   def,
		IgnoreGPC: !c.HonourOptOutSignals,
		IgnoreDNT: !c.HonourOptOutSignals,
		VendorID:  c.TCF.VendorID,
		MaxAge:    c.TCF.MaxAge.D(),
		TCF:       map[consent.Purpose]consent.TCFRule{},
	}
	o.Merge, err = consent.ParseMergeRule(c.Merge.String())
	errs = append(errs, err)
	o.GPP, err = consent.ParseGPPMode(c.GPP.String())
	errs = append(errs, err)
	var listed consent.SignalSet
	for _, s := range c.Priority {
		sig, err := consent.ParseSignal(s.String())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		listed = listed.With(sig)
		switch sig {
		case consent.SignalExplicit, consent.SignalTCF, consent.SignalGPP, consent.SignalConsentMode:
			o.Priority = append(o.Priority, sig)
		}
		// us_privacy, gpc and dnt only ever withdraw purposes, so their
		// place in the priority list does not matter.
	}
	m := &c.TCF.Mapping
	for p, rule := range map[consent.Purpose]*config.TCFRule{
		consent.Analytics: &m.Analytics, consent.Ads: &m.Ads, consent.Personalization: &m.Personalization,
		consent.PreciseGeo: &m.PreciseGeo, consent.DeviceStorage: &m.DeviceStorage,
	} {
		var r consent.TCFRule
		for _, id := range rule.Purposes {
			r.Purposes = append(r.Purposes, int(id))
		}
		for _, id := range rule.SpecialFeatures {
			r.SpecialFeatures = append(r.SpecialFeatures, int(id))
		}
		o.TCF[p] = r
	}
	if err := errors.Join(errs...); err != nil {
		return plan.Consent{}, fmt.Errorf("consent: %w", err)
	}
	pc := plan.Consent{Evaluator: o, Enabled: enabled, RequireValidTC: c.TCF.RequireValid}
	// A priority list promises that the grant signals it leaves out are
	// ignored: the engine hands them to the evaluator as absent. Of a GPP
	// string only the grants are left out: its opt-outs apply whatever the
	// merge, as US Privacy's do.
	if c.Merge == config.MergePriority {
		for _, sig := range []consent.Signal{consent.SignalExplicit, consent.SignalTCF, consent.SignalConsentMode} {
			if !listed.Has(sig) {
				pc.Ignored = pc.Ignored.With(sig)
			}
		}
		pc.Evaluator.GPPOptOutsOnly = !listed.Has(consent.SignalGPP)
	}
	return pc, nil
}

// vendorOf returns a destination's vendor declaration: from the vendor
// list when one is given, else from the config.
func vendorOf(t *config.DestinationTCF, gvl *consent.GVL) (consent.Vendor, error) {
	if t.VendorID == 0 {
		return consent.Vendor{}, nil
	}
	if gvl != nil {
		v, ok := gvl.Vendor(t.VendorID)
		if !ok {
			return v, fmt.Errorf("vendor %d is not in the vendor list (version %d), or was deleted from it", t.VendorID, gvl.Version)
		}
		return v, nil
	}
	v := consent.Vendor{ID: t.VendorID}
	for _, p := range t.Purposes {
		v.Consent |= 1 << uint(p-1)
	}
	for _, p := range t.LegitimateInterest {
		v.LI |= 1 << uint(p-1)
	}
	for _, p := range t.FlexiblePurposes {
		v.Flexible |= 1 << uint(p-1)
	}
	for _, f := range t.SpecialFeatures {
		v.SpecialFeatures |= 1 << uint(f-1)
	}
	return v, nil
}

// scanOptions maps the scan section and what the sites declare about their
// page URLs (the hosts of their origins, their routes) onto the scanner's
// options.
func scanOptions(cfg *config.Config) scrub.Options {
	s := &cfg.Scan
	o := scrub.Options{
		ExtraClickIDs: s.ExtraClickIDs, DropParams: s.DropParams, DropUTM: s.DropUTM, KeepUUIDs: s.KeepUUIDs,
		Shape: scrub.Shape{MaxLength: s.PathMaxLength, MaxDigitPercent: s.PathMaxDigitPercent},
	}
	for _, s := range cfg.Sites {
		if len(s.Origins) == 0 && len(s.Routes) == 0 {
			continue
		}
		site := scrub.Site{ID: s.ID, Routes: s.Routes}
		for _, origin := range s.Origins {
			if h := originHost(origin); h != "" {
				site.Hosts = append(site.Hosts, h)
			}
		}
		o.Sites = append(o.Sites, site)
	}
	return o
}

// originHost returns the host of a validated origin (scheme://host[:port]),
// without the port.
func originHost(origin string) string {
	_, rest, ok := strings.Cut(origin, "://")
	if !ok {
		return ""
	}
	if strings.HasPrefix(rest, "[") {
		if k := strings.IndexByte(rest, ']'); k >= 0 {
			return rest[:k+1]
		}
		return ""
	}
	if k := strings.LastIndexByte(rest, ':'); k >= 0 {
		rest = rest[:k]
	}
	return strings.ToLower(rest)
}

// sortedSet returns the distinct strings of s in order; nil stays nil.
func sortedSet(s []string) []string {
	if len(s) == 0 {
		return s
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
