package anonymize

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"sync"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/geo"
	"github.com/beacongate/beacongate/anonymize/ipmask"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/anonymize/scrub"
	"github.com/beacongate/beacongate/anonymize/useragent"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/config"
)

// State is the consent state that selects a policy.
type State uint8

// The consent states, from the most to the least restrictive.
const (
	StateNone      State = iota // analytics not granted
	StateAnalytics              // analytics granted, ads not
	StateAds                    // analytics and ads granted
	numStates
)

// String returns the state's name, as in the config's policies section.
func (s State) String() string {
	switch s {
	case StateAnalytics:
		return "analytics"
	case StateAds:
		return "ads"
	}
	return "none"
}

// StateOf returns the state that the granted purposes select.
func StateOf(p consent.Purposes) State {
	switch {
	case p.Has(consent.Analytics) && p.Has(consent.Ads):
		return StateAds
	case p.Has(consent.Analytics):
		return StateAnalytics
	}
	return StateNone
}

// Result says what the engine decided for one event.
type Result struct {
	// DroppedProps counts allowlisted properties left out because their
	// value cannot be written as JSON that every consumer decodes: a number
	// beyond float64 (1e999) or not a JSON number at all, a boolean other
	// than true or false.
	DroppedProps int

	State    State
	Purposes consent.Purposes // granted purposes, limited to the configured ones
	Decider  consent.Signal   // the signal that decided
	Drop     bool             // the policy discards the event (bots: drop or http_clients: drop)
	Bot      bool             // the user agent is a known crawler
	// HTTPClient: the user agent is an HTTP client library (not a bot).
	HTTPClient bool
	Scrubbed   scrub.Found // kinds of personal data removed from free text
	// Malformed holds the consent signals that arrived but did not decode
	// (an unknown purpose name, a broken TC string, ...), each counted as a
	// refusal; Rejected those that decoded but were not relied on (a TC
	// string breaking the TCF 2.2 rules). The gateway counts them per
	// signal, so a site that sends junk consent can see it.
	Malformed consent.SignalSet
	Rejected  consent.SignalSet

	// Dests are the destinations whose required purposes are granted
	// (AppendRecords only).
	Dests Dests
	// Records counts the records AppendRecords handed on: one per distinct
	// policy among Dests, less those whose policy drops the event.
	Records int
	// VendorRefused are the destinations whose purposes are granted but
	// which GDPR and the TC string do not allow; VendorReasons counts them
	// by consent.VendorReason.
	VendorRefused Dests
	VendorReasons [consent.NumVendorReasons]uint8
}

// Deps are the long-lived parts an Engine uses and that outlive a config
// reload: pseudonym keys (an ephemeral key must not change on reload) and
// the GeoIP database holder.
type Deps struct {
	Keys *pseudonym.Keyring // nil: ids that the policy pseudonymizes are dropped
	Geo  *geo.Reloadable    // nil: no location
	// GVL is the IAB Global Vendor List that declares the purposes of
	// destinations' vendor ids; needed when consent.tcf.gvl_file is set.
	GVL *consent.GVL
	// Clock stamps events that arrive without a receive time (dry runs);
	// nil means clock.Real. The gateway stamps every request itself.
	Clock clock.Clock
}

// Engine applies the configured privacy policy to events. It is immutable
// and safe for concurrent use; a config reload builds a new Engine.
type Engine struct {
	ignored      consent.SignalSet // grant signals left out of a priority list: treated as absent
	requireValid bool              // false: an undecodable TC string counts as absent
	evaluator    *consent.Evaluator
	enabled      consent.Purposes
	// policies holds every distinct compiled policy: the site-wide ones
	// first, then the destinations' own. site and dests index into it.
	policies     []policy
	site         [numStates]uint8
	dests        []destination
	routes       [1 << 8]Dests // granted purposes → destinations
	cleaner      *scrub.Cleaner
	keys         *pseudonym.Keyring
	geo          *geo.Reloadable
	clock        clock.Clock
	geoFromTrunc bool
	visitorHash  bool
	allowedProps map[string]struct{}
	s2sSites     map[string]struct{} // sites[].server_to_server; nil when none
	version      string
}

// scratch is the per-call working memory: the decoded TC string and a buffer
// for intermediate encodings. It comes from Engine.scratch.
type scratch struct {
	tc  consent.TCString
	sig consent.Signals
	buf []byte
	// The last user agent reduced with this scratch and its result: the 40
	// sightings of a BLE ping, a visitor's page views and most bot traffic
	// repeat the same header, and a comparison is far cheaper than a parse.
	lastUA   []byte
	lastInfo useragent.Info
	// groups is AppendRecords' working list of distinct policies.
	groups []policyGroup
}

// scratches keeps scratch values across garbage collections (a sync.Pool
// would drop them, and a new one costs a 6 KiB TC string buffer). It is a
// stack, so the scratch handed out is the most recently used one, still warm
// in the CPU cache. Engines of successive configs share it: nothing in a
// scratch depends on the config.
var scratches struct {
	mu    sync.Mutex
	stack []*scratch
}

// maxScratches bounds the kept scratch values: about one per request in flight.
const maxScratches = 1024

func getScratch() *scratch {
	scratches.mu.Lock()
	if n := len(scratches.stack); n > 0 {
		sc := scratches.stack[n-1]
		scratches.stack[n-1] = nil
		scratches.stack = scratches.stack[:n-1]
		scratches.mu.Unlock()
		return sc
	}
	scratches.mu.Unlock()
	return &scratch{buf: make([]byte, 0, 1024), groups: make([]policyGroup, 0, MaxDestinations)}
}

func putScratch(sc *scratch) {
	sc.sig.Reset() // drop references to the caller's request bytes
	scratches.mu.Lock()
	if len(scratches.stack) < maxScratches {
		scratches.stack = append(scratches.stack, sc)
	}
	scratches.mu.Unlock()
}

// reduceUA parses ua, or reuses the previous result for the same bytes.
func (sc *scratch) reduceUA(ua []byte) useragent.Info {
	if len(sc.lastUA) == len(ua) && string(sc.lastUA) == string(ua) {
		return sc.lastInfo
	}
	sc.lastInfo = useragent.Parse(ua)
	sc.lastUA = append(sc.lastUA[:0], ua...)
	return sc.lastInfo
}

// New compiles cfg into an Engine.
func New(cfg *config.Config, deps Deps) (*Engine, error) {
	ev, enabled, err := newEvaluator(&cfg.Consent)
	if err != nil {
		return nil, err
	}
	cleaner, err := scrub.New(scrubOptionsFor(cfg))
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	en := &Engine{
		ignored:      ignoredSignals(&cfg.Consent),
		requireValid: cfg.Consent.TCF.RequireValid,
		evaluator:    ev,
		enabled:      enabled,
		cleaner:      cleaner,
		keys:         deps.Keys,
		geo:          deps.Geo,
		clock:        clock.Or(deps.Clock),
		geoFromTrunc: cfg.GeoIP.LookupFrom == config.LookupTruncated,
		visitorHash:  cfg.Pseudonym.VisitorHash && deps.Keys != nil,
		allowedProps: make(map[string]struct{}, len(cfg.Properties.Allow)),
		version:      PolicyVersion(cfg),
	}
	for _, name := range cfg.Properties.Allow {
		en.allowedProps[name] = struct{}{}
	}
	for _, id := range ServerToServerSites(cfg) {
		if en.s2sSites == nil {
			en.s2sSites = map[string]struct{}{}
		}
		en.s2sSites[id] = struct{}{}
	}
	if err := en.compileDestinations(cfg, deps.GVL); err != nil {
		return nil, err
	}
	return en, nil
}

// compileDestinations compiles the site-wide policies and each
// destination's, sharing equal ones, and the routing table.
func (en *Engine) compileDestinations(cfg *config.Config, gvl *consent.GVL) error {
	if cfg.Consent.TCF.GVLFile != "" && gvl == nil {
		return fmt.Errorf("consent.tcf.gvl_file: set, but no vendor list was loaded")
	}
	if len(cfg.Destinations) > MaxDestinations {
		return fmt.Errorf("destinations: %d listed; at most %d are supported", len(cfg.Destinations), MaxDestinations)
	}
	for s, p := range [numStates]*config.Policy{&cfg.Policies.None, &cfg.Policies.Analytics, &cfg.Policies.Ads} {
		en.site[s], _ = en.internPolicy(compilePolicy(p)) // three policies always fit
	}
	for i := range cfg.Destinations {
		d := &cfg.Destinations[i]
		req, err := purposesOf(d.Requires)
		if err != nil {
			return fmt.Errorf("destinations[%d].requires: %w", i, err)
		}
		dest := destination{name: d.Name, requires: req, withoutVendor: d.TCF.WithoutVendor}
		if dest.vendor, err = vendorOf(&d.TCF, gvl); err != nil {
			return fmt.Errorf("destinations[%d].tcf.vendor_id: %w", i, err)
		}
		for s, p := range [numStates]*config.Policy{&d.Policies.None, &d.Policies.Analytics, &d.Policies.Ads} {
			if dest.policy[s], err = en.internPolicy(compilePolicy(p)); err != nil {
				return fmt.Errorf("destinations[%d].policies: %w", i, err)
			}
		}
		en.dests = append(en.dests, dest)
	}
	for granted := range en.routes {
		for i, d := range en.dests {
			if consent.Purposes(granted)&d.requires == d.requires {
				en.routes[granted] |= 1 << uint(i)
			}
		}
	}
	return nil
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

// ServerToServerSites lists the ids of the sites declared server_to_server,
// in config order.
func ServerToServerSites(cfg *config.Config) []string {
	var ids []string
	for _, s := range cfg.Sites {
		if s.ServerToServer {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// serverToServer reports whether site posts server-to-server.
func (en *Engine) serverToServer(site []byte) bool {
	if en.s2sSites == nil {
		return false
	}
	_, ok := en.s2sSites[string(site)]
	return ok
}

// ScrubOptions maps the config's scan section onto the scanner's options.
func ScrubOptions(s *config.Scan) scrub.Options {
	return scrub.Options{ExtraClickIDs: s.ExtraClickIDs, DropParams: s.DropParams, DropUTM: s.DropUTM, KeepUUIDs: s.KeepUUIDs}
}

// PolicyVersion is a short hash of everything in cfg that decides what a
// record contains (consent, policies, properties, pseudonym and GeoIP
// settings, server-to-server sites), so an auditor can tell which rules
// produced a record.
func PolicyVersion(cfg *config.Config) string {
	// Which vendor list routes events does not change what a record
	// contains: leave gvl_file out, and its key too, so versions stay what
	// they were before the setting existed.
	consentSettings := cfg.Consent
	consentSettings.TCF.GVLFile = ""
	b, err := json.Marshal(struct {
		Consent    config.Consent
		Policies   config.Policies
		Properties config.Properties
		Scan       config.Scan
		Mode       config.PseudonymMode
		Period     config.Duration
		Visitor    bool
		LookupFrom config.LookupFrom
		S2S        []string `json:",omitempty"` // omitted when no site is server-to-server
		Routes     []string `json:",omitempty"` // omitted when no site declares routes
		// Destinations whose policies differ from the site-wide ones;
		// omitted when none does, so such configs keep their version.
		Own []destinationPolicies `json:",omitempty"`
	}{consentSettings, cfg.Policies, cfg.Properties, cfg.Scan, cfg.Pseudonym.Mode, cfg.Pseudonym.Period, cfg.Pseudonym.VisitorHash, cfg.GeoIP.LookupFrom,
		ServerToServerSites(cfg), siteRoutes(cfg), ownPolicies(cfg)})
	if err != nil {
		panic("anonymize: policy not serializable: " + err.Error()) // config types are plain data
	}
	b = bytes.Replace(b, []byte(`,"GVLFile":""`), nil, 1)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// destinationPolicies names a destination with policies of its own.
type destinationPolicies struct {
	Name     string
	Policies config.Policies
}

// ownPolicies lists the destinations whose policies differ from the
// site-wide ones, in config order.
func ownPolicies(cfg *config.Config) []destinationPolicies {
	var own []destinationPolicies
	for _, d := range cfg.Destinations {
		if d.Policies != cfg.Policies {
			own = append(own, destinationPolicies{d.Name, d.Policies})
		}
	}
	return own
}

// Version returns the policy version written into every record.
func (en *Engine) Version() string { return en.version }

// ipForLookup is the address geo lookups use under the policy.
func (en *Engine) ipForLookup(addr netip.Addr, p *policy) netip.Addr {
	if !en.geoFromTrunc {
		return addr
	}
	switch p.ip {
	case config.IPKeep:
		return addr
	case config.IPTruncate:
		return ipmask.Truncate(addr, p.v4, p.v6)
	}
	return netip.Addr{}
}
