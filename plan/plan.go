// Package plan is the compiled privacy policy of a deployment: what each
// field of an event becomes in each consent state, for the warehouse and
// for every destination, and how consent signals become purposes. It is
// plain, immutable data with its own enums, built once from the config by
// package wiring and read by the engine (package anonymize), the router,
// "beacongate explain" and "beacongate report". It knows nothing of YAML:
// the engine never sees the config.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/scrub"
)

// MaxDestinations is the most destinations a plan may route to: the engine
// routes with one bit per destination.
const MaxDestinations = 64

// Plan is the compiled policy. Build it with package wiring (from a
// config) or by hand in tests, check it with Validate, and do not change
// it once an engine uses it.
type Plan struct {
	// Consent says how signals become purposes.
	Consent Consent
	// Policies are the site-wide policies, by state: what the warehouse
	// and every destination without policies of its own receive.
	Policies [NumStates]Policy
	// Destinations are the recipients in config order; destination i is
	// upstream.RouteTo(i).
	Destinations []Destination
	// Properties are the custom property names a policy's
	// PropertiesAllowlist keeps.
	Properties []string
	// Scan configures the free-text scanner that cleans URLs, user agents
	// and property values.
	Scan scrub.Options
	// Pseudonym is how identifiers are pseudonymized.
	Pseudonym Pseudonym
	// GeoFromTruncated looks the location up from the address as the
	// policy keeps it (truncated), not from the full address.
	GeoFromTruncated bool
	// ServerToServerSites are the ids of the sites whose senders post from
	// servers: HTTP client user agents are people's events there.
	ServerToServerSites []string
	// Beacons are the BLE beacon identities the stores deploy (iBeacon
	// UUIDs, Eddystone namespaces, lower case); a sighting of another
	// beacon loses the beacon's identity. Empty: identities are kept.
	Beacons []string `json:",omitempty"`
	// BLEAggregates: BLE sightings are aggregated at the edge (ble.output:
	// aggregates). No destination gets a sighting's record; the
	// aggregation counts each record it gets as a sighting, so the engine
	// makes one per sighting, under the site-wide policy, whatever the
	// destinations' policies.
	BLEAggregates bool `json:",omitempty"`
}

// Consent is the compiled consent section.
type Consent struct {
	// Evaluator configures the consent.Evaluator.
	Evaluator consent.Options
	// Enabled are the purposes the deployment uses: nothing else is ever
	// granted.
	Enabled consent.Purposes
	// Ignored are grant signals that a priority merge leaves out: the
	// engine treats them as absent.
	Ignored consent.SignalSet
	// RequireValidTC: an undecodable TC string counts as a refusal (true)
	// or as absent (false).
	RequireValidTC bool
	// GVLVersion is the version of the IAB Global Vendor List the
	// destinations' vendor declarations come from; 0 when they come from
	// the config.
	GVLVersion int `json:",omitempty"`
}

// Pseudonym is how identifiers are pseudonymized.
type Pseudonym struct {
	// Derived keys come from a secret and agree across instances and
	// restarts; otherwise each period's key is random and never stored.
	Derived bool
	// Period is how long one key (and so one pseudonym) lasts.
	Period time.Duration
	// VisitorHash gives events a daily visitor hash where a policy asks.
	VisitorHash bool
}

// Destination is one recipient of records.
type Destination struct {
	// Name is the destination's name, unique in the plan.
	Name string
	// Requires are the purposes that must all be granted for an event to
	// reach it.
	Requires consent.Purposes
	// Vendor is its IAB TCF vendor declaration; ID 0 when it has none.
	Vendor consent.Vendor
	// Platform is the ad platform the destination sends to, whose
	// normalisation its hashed contact data follows; PlatformNone for the
	// warehouse's destinations.
	Platform Platform
	// WithoutVendor lets a destination without a vendor id receive events
	// where GDPR applies (our own processing, or a processor of ours).
	WithoutVendor bool
	// Policies are what it receives, by state: the site-wide policies
	// unless it has its own.
	Policies [NumStates]Policy
}

// Validate reports every problem that keeps p from being compiled into an
// engine: enum values out of range, prefixes out of bounds, too many or
// unnamed destinations. It never panics.
func (p *Plan) Validate() error {
	var errs []error
	for s := range NumStates {
		if err := p.Policies[s].Validate(); err != nil {
			errs = append(errs, fmt.Errorf("policies.%s: %w", s, err))
		}
		// The site-wide policies reach every destination.
		if p.Policies[s].Contact != ContactDrop || p.Policies[s].ClickIDs != ClickIDsDrop {
			errs = append(errs, fmt.Errorf("policies.%s: contact data and click ids are a destination's own, never site-wide", s))
		}
	}
	if len(p.Destinations) > MaxDestinations {
		errs = append(errs, fmt.Errorf("destinations: %d listed; at most %d are supported", len(p.Destinations), MaxDestinations))
	}
	seen := map[string]bool{}
	for i := range p.Destinations {
		d := &p.Destinations[i]
		if d.Name == "" {
			errs = append(errs, fmt.Errorf("destinations[%d]: no name", i))
		} else if seen[d.Name] {
			errs = append(errs, fmt.Errorf("destinations[%d]: name %q used twice", i, d.Name))
		}
		seen[d.Name] = true
		if d.Platform >= numPlatforms {
			errs = append(errs, fmt.Errorf("destinations[%d] (%s): unknown platform %d", i, d.Name, d.Platform))
		}
		for s := range NumStates {
			if err := d.Policies[s].Validate(); err != nil {
				errs = append(errs, fmt.Errorf("destinations[%d] (%s).policies.%s: %w", i, d.Name, s, err))
			}
			if d.Policies[s].Contact == ContactHash && d.Platform == PlatformNone {
				errs = append(errs, fmt.Errorf("destinations[%d] (%s).policies.%s: contact: hash needs an ad platform destination", i, d.Name, s))
			}
		}
	}
	if p.Pseudonym.Period < 0 {
		errs = append(errs, errors.New("pseudonym.period: negative"))
	}
	return errors.Join(errs...)
}

// Version is a short hash of everything in p that decides what a record
// contains and who receives it, so an auditor can tell which rules produced
// a record: it changes exactly when the plan does.
func (p *Plan) Version() string {
	// Every field is plain data; only a NaN grid could fail to encode,
	// and Validate refuses it: encode hashes its description instead of
	// panicking.
	sum := sha256.Sum256(p.Encode())
	return hex.EncodeToString(sum[:6])
}

// DistinctPolicies reports whether destination i has policies of its own.
func (p *Plan) DistinctPolicies(i int) bool {
	return p.Destinations[i].Policies != p.Policies
}

// ServerToServer reports whether site posts server to server.
func (p *Plan) ServerToServer(site string) bool {
	for _, s := range p.ServerToServerSites {
		if s == site {
			return true
		}
	}
	return false
}
