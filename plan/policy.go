package plan

import (
	"errors"
	"fmt"
	"math"
)

// State is the consent state that selects a policy.
type State uint8

// The consent states, from the most to the least restrictive.
const (
	StateNone      State = iota // analytics not granted
	StateAnalytics              // analytics granted, ads not
	StateAds                    // analytics and ads granted
	NumStates
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

// Policy is what each field of an event becomes in one consent state.
type Policy struct {
	IP       IPAction
	V4Prefix int // bits of an IPv4 address IPTruncate keeps
	V6Prefix int // bits of an IPv6 address IPTruncate keeps
	Geo      GeoLevel
	Grid     float64 // coordinates rounded to this grid, degrees; 0: none
	UA       UAAction
	// Bots is what happens to crawlers' events, HTTPClients to those of
	// HTTP client libraries.
	Bots        BotAction
	HTTPClients BotAction
	UserID      IDAction
	ClientID    IDAction
	DeviceID    IDAction
	URL         URLAction
	Referrer    ReferrerAction
	Language    LanguageAction
	Properties  PropertiesAction
	VisitorHash bool
	// Contact is what happens to the contact data the page sends for an
	// ad platform's matching; ContactHash needs the destination's
	// Platform.
	Contact ContactAction
	// ClickIDs is what happens to click ids and ad platform cookies.
	ClickIDs ClickIDAction
	// NoAppEvents drops the events of HTTP client libraries whatever
	// HTTPClients says and whatever the site, server-to-server ones
	// included: for a recipient that takes no app events from the gateway
	// (Meta's and TikTok's event APIs require app data it does not know).
	NoAppEvents bool `json:",omitempty"`
}

// Validate reports the fields of p that hold values out of range.
func (p *Policy) Validate() error {
	var errs []error
	check := func(field string, v, n uint8) {
		if v >= n {
			errs = append(errs, fmt.Errorf("%s: unknown action %d", field, v))
		}
	}
	check("ip", uint8(p.IP), uint8(numIPActions))
	check("geo", uint8(p.Geo), uint8(numGeoLevels))
	check("user_agent", uint8(p.UA), uint8(numUAActions))
	check("bots", uint8(p.Bots), uint8(numBotActions))
	check("http_clients", uint8(p.HTTPClients), uint8(numBotActions))
	check("user_id", uint8(p.UserID), uint8(numIDActions))
	check("client_id", uint8(p.ClientID), uint8(numIDActions))
	check("device_id", uint8(p.DeviceID), uint8(numIDActions))
	check("url", uint8(p.URL), uint8(numURLActions))
	check("referrer", uint8(p.Referrer), uint8(numReferrerActions))
	check("accept_language", uint8(p.Language), uint8(numLanguageActions))
	check("properties", uint8(p.Properties), uint8(numPropertiesActions))
	check("contact", uint8(p.Contact), uint8(numContactActions))
	check("click_ids", uint8(p.ClickIDs), uint8(numClickIDActions))
	if p.V4Prefix < 0 || p.V4Prefix > 32 {
		errs = append(errs, fmt.Errorf("ip.v4_prefix: %d is not in 0..32", p.V4Prefix))
	}
	if p.V6Prefix < 0 || p.V6Prefix > 128 {
		errs = append(errs, fmt.Errorf("ip.v6_prefix: %d is not in 0..128", p.V6Prefix))
	}
	if math.IsNaN(p.Grid) || p.Grid < 0 {
		errs = append(errs, errors.New("geo.grid: must be 0 or a positive number of degrees"))
	}
	return errors.Join(errs...)
}

// IPAction is what is kept of the client IP address.
type IPAction uint8

// IPAction values.
const (
	IPDrop     IPAction = iota // nothing
	IPTruncate                 // the network prefix
	IPKeep                     // the whole address
	numIPActions
)

// GeoLevel is the finest location kept.
type GeoLevel uint8

// GeoLevel values.
const (
	GeoNone      GeoLevel = iota // no location
	GeoContinent                 // continent code
	GeoCountry                   // country code
	GeoRegion                    // first-level subdivision
	GeoCity                      // city name
	numGeoLevels
)

// UAAction is what is kept of the User-Agent header.
type UAAction uint8

// UAAction values.
const (
	UADrop   UAAction = iota // nothing
	UAReduce                 // browser, OS and device class only
	UAKeep                   // the header as sent, scanned
	numUAActions
)

// BotAction is what happens to the events of a class of sender.
type BotAction uint8

// BotAction values.
const (
	BotsDrop BotAction = iota // discard the event
	BotsFlag                  // keep it, marked
	BotsKeep                  // treat it like any other
	numBotActions
)

// IDAction is what is kept of an identifier.
type IDAction uint8

// IDAction values.
const (
	IDDrop         IDAction = iota // nothing
	IDPseudonymize                 // a keyed hash that changes every pseudonym period
	numIDActions
)

// URLAction is what is kept of the page URL.
type URLAction uint8

// URLAction values.
const (
	URLDrop  URLAction = iota // nothing
	URLPath                   // origin and path
	URLClean                  // origin, path, and non-identifying parameters
	URLKeep                   // as sent
	numURLActions
)

// ReferrerAction is what is kept of the referrer URL.
type ReferrerAction uint8

// ReferrerAction values.
const (
	ReferrerDrop   ReferrerAction = iota // nothing
	ReferrerOrigin                       // scheme and host
	ReferrerPath                         // origin and path
	ReferrerClean                        // like URLClean
	ReferrerKeep                         // as sent
	numReferrerActions
)

// LanguageAction is what is kept of the Accept-Language header.
type LanguageAction uint8

// LanguageAction values.
const (
	LanguageDrop    LanguageAction = iota // nothing
	LanguagePrimary                       // the first language, without region
	numLanguageActions
)

// PropertiesAction is which custom properties are kept.
type PropertiesAction uint8

// PropertiesAction values.
const (
	PropertiesDrop      PropertiesAction = iota // none
	PropertiesAllowlist                         // those named in Plan.Properties
	numPropertiesActions
)

// ContactAction is what happens to contact data (e-mail, phone, names,
// city, zip, country, external id).
type ContactAction uint8

// ContactAction values.
const (
	ContactDrop ContactAction = iota // nothing
	ContactHash                      // normalised and SHA-256-hashed for the destination's platform
	numContactActions
)

// ClickIDAction is what happens to click ids and ad platform cookies.
type ClickIDAction uint8

// ClickIDAction values.
const (
	ClickIDsDrop ClickIDAction = iota // nothing
	ClickIDsKeep                      // recorded as captured
	numClickIDActions
)

// Platform is the ad platform whose normalisation a destination's hashed
// contact data follows.
type Platform uint8

// Platform values.
const (
	PlatformNone   Platform = iota // not an ad platform: contact data is never recorded
	PlatformMeta                   // Meta Conversions API
	PlatformGoogle                 // GA4 Measurement Protocol
	PlatformTikTok                 // TikTok Events API
	numPlatforms
)

// Names of the enums' values, as the config writes them.
var (
	ipActionNames         = [...]string{"drop", "truncate", "keep"}
	geoLevelNames         = [...]string{"none", "continent", "country", "region", "city"}
	uaActionNames         = [...]string{"drop", "reduce", "keep"}
	botActionNames        = [...]string{"drop", "flag", "keep"}
	idActionNames         = [...]string{"drop", "pseudonymize"}
	urlActionNames        = [...]string{"drop", "path", "clean", "keep"}
	referrerActionNames   = [...]string{"drop", "origin", "path", "clean", "keep"}
	languageActionNames   = [...]string{"drop", "primary"}
	propertiesActionNames = [...]string{"drop", "allowlist"}
	contactActionNames    = [...]string{"drop", "hash"}
	clickIDActionNames    = [...]string{"drop", "keep"}
	platformNames         = [...]string{"none", "meta", "google", "tiktok"}
)

// name returns names[v], or "unknown(v)" for a value out of range.
func name(names []string, v uint8) string {
	if int(v) < len(names) {
		return names[v]
	}
	return fmt.Sprintf("unknown(%d)", v)
}

// String returns the action's name, as in the config.
func (a IPAction) String() string { return name(ipActionNames[:], uint8(a)) }

// String returns the level's name, as in the config.
func (l GeoLevel) String() string { return name(geoLevelNames[:], uint8(l)) }

// String returns the action's name, as in the config.
func (a UAAction) String() string { return name(uaActionNames[:], uint8(a)) }

// String returns the action's name, as in the config.
func (a BotAction) String() string { return name(botActionNames[:], uint8(a)) }

// String returns the action's name, as in the config.
func (a IDAction) String() string { return name(idActionNames[:], uint8(a)) }

// String returns the action's name, as in the config.
func (a URLAction) String() string { return name(urlActionNames[:], uint8(a)) }

// String returns the action's name, as in the config.
func (a ReferrerAction) String() string { return name(referrerActionNames[:], uint8(a)) }

// String returns the action's name, as in the config.
func (a LanguageAction) String() string { return name(languageActionNames[:], uint8(a)) }

// String returns the action's name, as in the config.
func (a PropertiesAction) String() string { return name(propertiesActionNames[:], uint8(a)) }

// String returns the action's name, as in the config.
func (a ContactAction) String() string { return name(contactActionNames[:], uint8(a)) }

// String returns the action's name, as in the config.
func (a ClickIDAction) String() string { return name(clickIDActionNames[:], uint8(a)) }

// String returns the platform's name.
func (p Platform) String() string { return name(platformNames[:], uint8(p)) }
