package anonymize

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/geo"
	"github.com/beacongate/beacongate/anonymize/ipmask"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/anonymize/scrub"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/contact"
	"github.com/beacongate/beacongate/plan"
)

// State is the consent state that selects a policy (plan.State).
type State = plan.State

// The consent states, from the most to the least restrictive.
const (
	StateNone      = plan.StateNone      // analytics not granted
	StateAnalytics = plan.StateAnalytics // analytics granted, ads not
	StateAds       = plan.StateAds       // analytics and ads granted
	numStates      = plan.NumStates
)

// StateOf returns the state that the granted purposes select (plan.StateOf).
func StateOf(p consent.Purposes) State { return plan.StateOf(p) }

// Result says what the engine decided for one event.
type Result struct {
	// DroppedProps counts allowlisted properties left out because their
	// value cannot be written as JSON that every consumer decodes: a number
	// beyond float64 (1e999) or not a JSON number at all, a boolean other
	// than true or false.
	DroppedProps int
	// DroppedContact counts contact values left out of a destination's
	// record because they cannot be normalised (an e-mail without '@', a
	// phone without digits, a value too long).
	DroppedContact int

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
	// AdPersonalization: ads is granted for personalised advertising too
	// (consent.Answer.AdPersonalization, limited to the configured
	// purposes), written in the record's consent as "ad_personalization":
	// true.
	AdPersonalization bool

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
// the GeoIP database holder. What the engine decides comes from the plan
// alone.
type Deps struct {
	Keys *pseudonym.Keyring // nil: ids that the policy pseudonymizes are dropped
	Geo  *geo.Reloadable    // nil: no location
	// Clock stamps events that arrive without a receive time (dry runs);
	// nil means clock.Real. The gateway stamps every request itself.
	Clock clock.Clock
}

// Engine applies the configured privacy policy to events. It is immutable
// and safe for concurrent use; a config reload builds a new Engine.
type Engine struct {
	plan         *plan.Plan
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
	beacons      map[string]struct{} // ble.beacons; nil: every beacon identity is kept
	// bleAggregates: one record per BLE sighting, under the site-wide
	// policy (plan.Plan.BLEAggregates).
	bleAggregates bool
	version       string
	tcMaxAge      time.Duration // consent.tcf.max_age, for cached decisions
	caches        caches
	// id tells engines apart in what a scratch remembers (geoMemo) without
	// a pointer that would keep a replaced engine alive.
	id uint64
}

// engineIDs numbers the engines made by New.
var engineIDs atomic.Uint64

// scratch is the per-call working memory: the decoded TC string and a buffer
// for intermediate encodings. It comes from Engine.scratch.
type scratch struct {
	tc  consent.TCString
	sig consent.Signals
	buf []byte
	// ua is the last user agent reduced with this scratch and its result:
	// the 40 sightings of a BLE ping, a visitor's page views and most bot
	// traffic repeat the same header, and a comparison is far cheaper than
	// a parse (see memo.go).
	ua uaMemo
	// groups is AppendRecords' working list of distinct policies.
	groups []policyGroup
	// memo keeps an event's keyed hashes across its records.
	memo idMemo
	// geo is the last geo lookup made with this scratch.
	geo geoMemo
	// text and consent are the last clean short texts and the last consent
	// decision (see memo.go).
	text    textMemo
	consent consentMemo
	// context is the last record context written (see appendContext).
	context contextMemo
	// key is where the consent and URL cache keys are built: room for
	// twice the longest URL key (appendCleanURL's decoding scratch). A
	// key array on the stack was zeroed on every call, and with a
	// goroutine per connection each request's stack is cold in the CPU
	// cache: ~3 % of the single pixel's CPU (perf annotate); the most
	// recently used scratch is warm. Both keys are cleared after use: the
	// URL cache keeps only a keyed hash of its key, and the consent key's
	// bytes stay in the cache and the memo only as long as they do.
	key []byte
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
	return &scratch{buf: make([]byte, 0, 1024), groups: make([]policyGroup, 0, MaxDestinations),
		text: newTextMemo(), consent: newConsentMemo(), context: newContextMemo(),
		key: make([]byte, 0, max(2*urlCacheMaxKey, consentCacheMaxKey))}
}

func putScratch(sc *scratch) {
	sc.sig.Reset() // drop references to the caller's request bytes
	scratches.mu.Lock()
	if len(scratches.stack) < maxScratches {
		scratches.stack = append(scratches.stack, sc)
	}
	scratches.mu.Unlock()
}

// New builds an Engine that applies p. p must not change afterwards. A
// plan that fails p.Validate is an error, never a panic.
func New(p *plan.Plan, deps Deps) (*Engine, error) {
	if p == nil {
		return nil, errors.New("anonymize: no plan")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	ev, err := consent.NewEvaluator(p.Consent.Evaluator)
	if err != nil {
		return nil, fmt.Errorf("consent settings: %w", err)
	}
	cleaner, err := scrub.New(p.Scan)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	en := &Engine{
		plan:         p,
		ignored:      p.Consent.Ignored,
		requireValid: p.Consent.RequireValidTC,
		evaluator:    ev,
		enabled:      p.Consent.Enabled,
		cleaner:      cleaner,
		keys:         deps.Keys,
		geo:          deps.Geo,
		clock:        clock.Or(deps.Clock),
		geoFromTrunc: p.GeoFromTruncated,
		visitorHash:  p.Pseudonym.VisitorHash && deps.Keys != nil,
		allowedProps: make(map[string]struct{}, len(p.Properties)),
		version:      p.Version(),
		tcMaxAge:     p.Consent.Evaluator.MaxAge,
		id:           engineIDs.Add(1),
		caches:       newCaches(),
	}
	for _, name := range p.Properties {
		// Contact data goes hashed to ad platforms, or nowhere; click ids
		// and ad cookies go under "click" where the policy keeps them
		// (click_ids: keep): neither is ever a property, so an allowlist
		// naming them does not carry them past the consent that keeps
		// them out. So are the click ids the scanner removes from URLs
		// (msclkid, yclid, scan.extra_click_ids, ...), which bg.js sends
		// as properties too and no record has a place for.
		if _, isContact := contact.ParseField([]byte(name)); isContact || neverProp(cleaner, []byte(name)) {
			continue
		}
		en.allowedProps[name] = struct{}{}
	}
	en.bleAggregates = p.BLEAggregates
	for _, id := range p.Beacons {
		if en.beacons == nil {
			en.beacons = map[string]struct{}{}
		}
		en.beacons[id] = struct{}{}
	}
	for _, id := range p.ServerToServerSites {
		if en.s2sSites == nil {
			en.s2sSites = map[string]struct{}{}
		}
		en.s2sSites[id] = struct{}{}
	}
	en.compileDestinations(p)
	return en, nil
}

// compileDestinations compiles the site-wide policies and each
// destination's, sharing equal ones, and the routing table. p is valid.
func (en *Engine) compileDestinations(p *plan.Plan) {
	for s := range p.Policies {
		en.site[s] = en.internPolicy(compilePolicy(&p.Policies[s], plan.PlatformNone))
	}
	for i := range p.Destinations {
		d := &p.Destinations[i]
		dest := destination{name: d.Name, requires: d.Requires, withoutVendor: d.WithoutVendor, vendor: d.Vendor}
		for s := range d.Policies {
			dest.policy[s] = en.internPolicy(compilePolicy(&d.Policies[s], d.Platform))
		}
		en.dests = append(en.dests, dest)
	}
	for granted := range en.routes {
		for i := range p.Destinations {
			if p.Destinations[i].Accepts(consent.Purposes(granted)) {
				en.routes[granted] |= 1 << uint(i)
			}
		}
	}
}

// Plan returns the plan the engine applies.
func (en *Engine) Plan() *plan.Plan { return en.plan }

// serverToServer reports whether site posts server-to-server.
func (en *Engine) serverToServer(site []byte) bool {
	if en.s2sSites == nil {
		return false
	}
	_, ok := en.s2sSites[string(site)]
	return ok
}

// Version returns the policy version written into every record.
func (en *Engine) Version() string { return en.version }

// ipForLookup is the address geo lookups use under the policy. With
// geoip.lookup_from: truncated it is the address as the policy's ip rule
// keeps it, and where that rule drops the address, the address cut to the
// prefixes of the visitor hash (/24, /48): the location the policy allows
// (the none policy's country) is still written, and the full address is
// still never used.
func (en *Engine) ipForLookup(addr netip.Addr, p *policy) netip.Addr {
	if !en.geoFromTrunc {
		return addr
	}
	switch p.ip {
	case plan.IPKeep:
		return addr
	case plan.IPTruncate:
		return ipmask.Truncate(addr, p.v4, p.v6)
	}
	return ipmask.Truncate(addr, VisitorIPv4Bits, VisitorIPv6Bits)
}
