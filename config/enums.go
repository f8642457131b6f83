package config

// The enums below are typed small ints; the zero value of each privacy-relevant
// enum is its strictest choice, so a forgotten field fails closed. In the
// file they are written by name.

import (
	"go.yaml.in/yaml/v3"
)

// Purpose is a consent purpose: a reason for processing that a visitor can grant or refuse.
type Purpose uint8

// Purpose values.
const (
	PurposeAnalytics       Purpose = iota // analytics: audience measurement
	PurposeAds                            // ads: advertising and retargeting
	PurposePersonalization                // personalization: content personalization
	PurposePreciseGeo                     // precise_geo: precise geolocation (TCF special feature 1)
	PurposeDeviceStorage                  // device_storage: storing or reading identifiers on the device (TCF purpose 1)
)

var purposeNames = []string{"analytics", "ads", "personalization", "precise_geo", "device_storage"}

// String returns the name of x as written in the file.
func (x Purpose) String() string { return enumString(purposeNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x Purpose) MarshalText() ([]byte, error) { return enumText(purposeNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of Purpose.
func (x *Purpose) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, purposeNames, (*uint8)(x))
}

// enumNames lists the names of Purpose as written in the file.
func (Purpose) enumNames() []string { return purposeNames }

// Signal is a kind of consent signal a request can carry.
type Signal uint8

// Signal values.
const (
	SignalExplicit    Signal = iota // explicit: the tracker's own consent field
	SignalTCF                       // tcf: IAB TCF v2 TC string
	SignalConsentMode               // consent_mode: Google consent mode parameters
	SignalUSPrivacy                 // us_privacy: IAB US Privacy (CCPA) string
	SignalGPP                       // gpp: IAB Global Privacy Platform string
	SignalGPC                       // gpc: Global Privacy Control header
	SignalDNT                       // dnt: Do Not Track header
)

var signalNames = []string{"explicit", "tcf", "consent_mode", "us_privacy", "gpp", "gpc", "dnt"}

// String returns the name of x as written in the file.
func (x Signal) String() string { return enumString(signalNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x Signal) MarshalText() ([]byte, error) { return enumText(signalNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of Signal.
func (x *Signal) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, signalNames, (*uint8)(x))
}

// enumNames lists the names of Signal as written in the file.
func (Signal) enumNames() []string { return signalNames }

// grants reports whether x can grant purposes (explicit, tcf, gpp,
// consent_mode); the others (us_privacy, gpc, dnt) only withdraw them.
func (x Signal) grants() bool {
	switch x {
	case SignalExplicit, SignalTCF, SignalGPP, SignalConsentMode:
		return true
	}
	return false
}

// MergeRule is how several consent signals on one request are combined.
type MergeRule uint8

// MergeRule values.
const (
	MergeMostRestrictive MergeRule = iota // most_restrictive: granted only if every signal present grants it
	MergePriority                         // priority: the first signal present in consent.priority decides
)

var mergeRuleNames = []string{"most_restrictive", "priority"}

// String returns the name of x as written in the file.
func (x MergeRule) String() string { return enumString(mergeRuleNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x MergeRule) MarshalText() ([]byte, error) { return enumText(mergeRuleNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of MergeRule.
func (x *MergeRule) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, mergeRuleNames, (*uint8)(x))
}

// enumNames lists the names of MergeRule as written in the file.
func (MergeRule) enumNames() []string { return mergeRuleNames }

// GPPMode is what is done with an IAB GPP string.
type GPPMode uint8

// GPPMode values.
const (
	GPPHonour GPPMode = iota // honour: decode it
	GPPReject                // reject: refuse every purpose for a request carrying one
)

var gPPModeNames = []string{"honour", "reject"}

// String returns the name of x as written in the file.
func (x GPPMode) String() string { return enumString(gPPModeNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x GPPMode) MarshalText() ([]byte, error) { return enumText(gPPModeNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of GPPMode.
func (x *GPPMode) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, gPPModeNames, (*uint8)(x))
}

// enumNames lists the names of GPPMode as written in the file.
func (GPPMode) enumNames() []string { return gPPModeNames }

// PseudonymMode is how the pseudonym key is made.
type PseudonymMode uint8

// PseudonymMode values.
const (
	PseudonymEphemeral PseudonymMode = iota // ephemeral: random key per period, never stored
	PseudonymDerived                        // derived: key per period derived from a secret
)

var pseudonymModeNames = []string{"ephemeral", "derived"}

// String returns the name of x as written in the file.
func (x PseudonymMode) String() string { return enumString(pseudonymModeNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x PseudonymMode) MarshalText() ([]byte, error) { return enumText(pseudonymModeNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of PseudonymMode.
func (x *PseudonymMode) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, pseudonymModeNames, (*uint8)(x))
}

// enumNames lists the names of PseudonymMode as written in the file.
func (PseudonymMode) enumNames() []string { return pseudonymModeNames }

// LookupFrom is which address the GeoIP lookup uses.
type LookupFrom uint8

// LookupFrom values.
const (
	LookupFull      LookupFrom = iota // full: the address as received
	LookupTruncated                   // truncated: the address after the policy's ip rule (/24, /48 where it drops it)
)

var lookupFromNames = []string{"full", "truncated"}

// String returns the name of x as written in the file.
func (x LookupFrom) String() string { return enumString(lookupFromNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x LookupFrom) MarshalText() ([]byte, error) { return enumText(lookupFromNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of LookupFrom.
func (x *LookupFrom) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, lookupFromNames, (*uint8)(x))
}

// enumNames lists the names of LookupFrom as written in the file.
func (LookupFrom) enumNames() []string { return lookupFromNames }

// IPAction is what is kept of the client IP address.
type IPAction uint8

// IPAction values.
const (
	IPDrop     IPAction = iota // drop: nothing
	IPTruncate                 // truncate: the network prefix
	IPKeep                     // keep: the whole address
)

var iPActionNames = []string{"drop", "truncate", "keep"}

// String returns the name of x as written in the file.
func (x IPAction) String() string { return enumString(iPActionNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x IPAction) MarshalText() ([]byte, error) { return enumText(iPActionNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of IPAction.
func (x *IPAction) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, iPActionNames, (*uint8)(x))
}

// enumNames lists the names of IPAction as written in the file.
func (IPAction) enumNames() []string { return iPActionNames }

// GeoLevel is the finest location kept.
type GeoLevel uint8

// GeoLevel values.
const (
	GeoNone      GeoLevel = iota // none: no location
	GeoContinent                 // continent: continent code
	GeoCountry                   // country: country code
	GeoRegion                    // region: first-level subdivision
	GeoCity                      // city: city name
)

var geoLevelNames = []string{"none", "continent", "country", "region", "city"}

// String returns the name of x as written in the file.
func (x GeoLevel) String() string { return enumString(geoLevelNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x GeoLevel) MarshalText() ([]byte, error) { return enumText(geoLevelNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of GeoLevel.
func (x *GeoLevel) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, geoLevelNames, (*uint8)(x))
}

// enumNames lists the names of GeoLevel as written in the file.
func (GeoLevel) enumNames() []string { return geoLevelNames }

// UAAction is what is kept of the User-Agent header.
type UAAction uint8

// UAAction values.
const (
	UADrop   UAAction = iota // drop: nothing
	UAReduce                 // reduce: browser, OS and device class only
	UAKeep                   // keep: the header as sent
)

var uAActionNames = []string{"drop", "reduce", "keep"}

// String returns the name of x as written in the file.
func (x UAAction) String() string { return enumString(uAActionNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x UAAction) MarshalText() ([]byte, error) { return enumText(uAActionNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of UAAction.
func (x *UAAction) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, uAActionNames, (*uint8)(x))
}

// enumNames lists the names of UAAction as written in the file.
func (UAAction) enumNames() []string { return uAActionNames }

// BotAction is what happens to events from known bots.
type BotAction uint8

// BotAction values.
const (
	BotsDrop BotAction = iota // drop: discard the event
	BotsFlag                  // flag: keep it, marked as bot
	BotsKeep                  // keep: treat it like any other
)

var botActionNames = []string{"drop", "flag", "keep"}

// String returns the name of x as written in the file.
func (x BotAction) String() string { return enumString(botActionNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x BotAction) MarshalText() ([]byte, error) { return enumText(botActionNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of BotAction.
func (x *BotAction) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, botActionNames, (*uint8)(x))
}

// enumNames lists the names of BotAction as written in the file.
func (BotAction) enumNames() []string { return botActionNames }

// IDAction is what is kept of an identifier.
type IDAction uint8

// IDAction values.
const (
	IDDrop         IDAction = iota // drop: nothing
	IDPseudonymize                 // pseudonymize: a keyed hash that changes every pseudonym period
)

var iDActionNames = []string{"drop", "pseudonymize"}

// String returns the name of x as written in the file.
func (x IDAction) String() string { return enumString(iDActionNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x IDAction) MarshalText() ([]byte, error) { return enumText(iDActionNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of IDAction.
func (x *IDAction) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, iDActionNames, (*uint8)(x))
}

// enumNames lists the names of IDAction as written in the file.
func (IDAction) enumNames() []string { return iDActionNames }

// URLAction is what is kept of the page URL.
type URLAction uint8

// URLAction values.
const (
	URLDrop  URLAction = iota // drop: nothing
	URLPath                   // path: the path only
	URLClean                  // clean: path and non-identifying query parameters
	URLKeep                   // keep: the URL as sent
)

var uRLActionNames = []string{"drop", "path", "clean", "keep"}

// String returns the name of x as written in the file.
func (x URLAction) String() string { return enumString(uRLActionNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x URLAction) MarshalText() ([]byte, error) { return enumText(uRLActionNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of URLAction.
func (x *URLAction) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, uRLActionNames, (*uint8)(x))
}

// enumNames lists the names of URLAction as written in the file.
func (URLAction) enumNames() []string { return uRLActionNames }

// ReferrerAction is what is kept of the referrer URL.
type ReferrerAction uint8

// ReferrerAction values.
const (
	ReferrerDrop   ReferrerAction = iota // drop: nothing
	ReferrerOrigin                       // origin: scheme and host
	ReferrerPath                         // path: origin and path
	ReferrerClean                        // clean: like url: clean
	ReferrerKeep                         // keep: the URL as sent
)

var referrerActionNames = []string{"drop", "origin", "path", "clean", "keep"}

// String returns the name of x as written in the file.
func (x ReferrerAction) String() string { return enumString(referrerActionNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x ReferrerAction) MarshalText() ([]byte, error) { return enumText(referrerActionNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of ReferrerAction.
func (x *ReferrerAction) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, referrerActionNames, (*uint8)(x))
}

// enumNames lists the names of ReferrerAction as written in the file.
func (ReferrerAction) enumNames() []string { return referrerActionNames }

// LanguageAction is what is kept of the Accept-Language header.
type LanguageAction uint8

// LanguageAction values.
const (
	LanguageDrop    LanguageAction = iota // drop: nothing
	LanguagePrimary                       // primary: the first language, without region
)

var languageActionNames = []string{"drop", "primary"}

// String returns the name of x as written in the file.
func (x LanguageAction) String() string { return enumString(languageActionNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x LanguageAction) MarshalText() ([]byte, error) { return enumText(languageActionNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of LanguageAction.
func (x *LanguageAction) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, languageActionNames, (*uint8)(x))
}

// enumNames lists the names of LanguageAction as written in the file.
func (LanguageAction) enumNames() []string { return languageActionNames }

// ContactAction is what happens to contact data the page sends for an ad
// platform's matching (e-mail, phone, names, city, zip, country, external
// id).
type ContactAction uint8

// ContactAction values.
const (
	ContactDrop ContactAction = iota // drop: nothing
	ContactHash                      // hash: normalised and SHA-256-hashed for the destination's platform
)

var contactActionNames = []string{"drop", "hash"}

// String returns the name of x as written in the file.
func (x ContactAction) String() string { return enumString(contactActionNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x ContactAction) MarshalText() ([]byte, error) { return enumText(contactActionNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of ContactAction.
func (x *ContactAction) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, contactActionNames, (*uint8)(x))
}

// enumNames lists the names of ContactAction as written in the file.
func (ContactAction) enumNames() []string { return contactActionNames }

// ClickIDAction is what happens to click ids and ad platform cookies.
type ClickIDAction uint8

// ClickIDAction values.
const (
	ClickIDsDrop ClickIDAction = iota // drop: nothing
	ClickIDsKeep                      // keep: as captured, in the record's click field
)

var clickIDActionNames = []string{"drop", "keep"}

// String returns the name of x as written in the file.
func (x ClickIDAction) String() string { return enumString(clickIDActionNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x ClickIDAction) MarshalText() ([]byte, error) { return enumText(clickIDActionNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of ClickIDAction.
func (x *ClickIDAction) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, clickIDActionNames, (*uint8)(x))
}

// enumNames lists the names of ClickIDAction as written in the file.
func (ClickIDAction) enumNames() []string { return clickIDActionNames }

// PropertiesAction is which custom properties are kept.
type PropertiesAction uint8

// PropertiesAction values.
const (
	PropertiesDrop      PropertiesAction = iota // drop: none
	PropertiesAllowlist                         // allowlist: those named in properties.allow
)

var propertiesActionNames = []string{"drop", "allowlist"}

// String returns the name of x as written in the file.
func (x PropertiesAction) String() string { return enumString(propertiesActionNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x PropertiesAction) MarshalText() ([]byte, error) {
	return enumText(propertiesActionNames, uint8(x))
}

// UnmarshalYAML accepts one of the names of PropertiesAction.
func (x *PropertiesAction) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, propertiesActionNames, (*uint8)(x))
}

// enumNames lists the names of PropertiesAction as written in the file.
func (PropertiesAction) enumNames() []string { return propertiesActionNames }

// DestinationType is the kind of a destination.
type DestinationType uint8

// DestinationType values.
const (
	DestinationFile     DestinationType = iota // file: local files
	DestinationHTTP                            // http: POST to a URL
	DestinationKafka                           // kafka: produce to a Kafka topic
	DestinationNATS                            // nats: publish to a NATS JetStream stream
	DestinationMetaCAPI                        // meta_capi: Meta Conversions API
	DestinationGA4                             // ga4: GA4 Measurement Protocol
	DestinationTikTok                          // tiktok: TikTok Events API
)

// AdPlatform reports whether t is an ad platform's API (meta_capi, ga4,
// tiktok).
func (t DestinationType) AdPlatform() bool {
	return t == DestinationMetaCAPI || t == DestinationGA4 || t == DestinationTikTok
}

var destinationTypeNames = []string{"file", "http", "kafka", "nats", "meta_capi", "ga4", "tiktok"}

// String returns the name of x as written in the file.
func (x DestinationType) String() string { return enumString(destinationTypeNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x DestinationType) MarshalText() ([]byte, error) {
	return enumText(destinationTypeNames, uint8(x))
}

// UnmarshalYAML accepts one of the names of DestinationType.
func (x *DestinationType) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, destinationTypeNames, (*uint8)(x))
}

// enumNames lists the names of DestinationType as written in the file.
func (DestinationType) enumNames() []string { return destinationTypeNames }

// Compression is the compression of a batch.
type Compression uint8

// Compression values.
const (
	CompressionZstd Compression = iota // zstd: Zstandard
	CompressionGzip                    // gzip: gzip
	CompressionNone                    // none: no compression
)

var compressionNames = []string{"zstd", "gzip", "none"}

// String returns the name of x as written in the file.
func (x Compression) String() string { return enumString(compressionNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x Compression) MarshalText() ([]byte, error) { return enumText(compressionNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of Compression.
func (x *Compression) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, compressionNames, (*uint8)(x))
}

// enumNames lists the names of Compression as written in the file.
func (Compression) enumNames() []string { return compressionNames }

// KafkaKey is the Kafka record key.
type KafkaKey uint8

// KafkaKey values.
const (
	KafkaKeySite      KafkaKey = iota // site: the site id
	KafkaKeyPseudonym                 // pseudonym: the event's pseudonymous id
	KafkaKeyNone                      // none: no key
)

var kafkaKeyNames = []string{"site", "pseudonym", "none"}

// String returns the name of x as written in the file.
func (x KafkaKey) String() string { return enumString(kafkaKeyNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x KafkaKey) MarshalText() ([]byte, error) { return enumText(kafkaKeyNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of KafkaKey.
func (x *KafkaKey) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, kafkaKeyNames, (*uint8)(x))
}

// enumNames lists the names of KafkaKey as written in the file.
func (KafkaKey) enumNames() []string { return kafkaKeyNames }

// SASLMechanism is a SASL mechanism.
type SASLMechanism uint8

// SASLMechanism values.
const (
	SASLNone        SASLMechanism = iota // none: no SASL
	SASLPlain                            // plain: PLAIN
	SASLScramSHA256                      // scram-sha-256: SCRAM-SHA-256
	SASLScramSHA512                      // scram-sha-512: SCRAM-SHA-512
)

var sASLMechanismNames = []string{"none", "plain", "scram-sha-256", "scram-sha-512"}

// String returns the name of x as written in the file.
func (x SASLMechanism) String() string { return enumString(sASLMechanismNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x SASLMechanism) MarshalText() ([]byte, error) { return enumText(sASLMechanismNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of SASLMechanism.
func (x *SASLMechanism) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, sASLMechanismNames, (*uint8)(x))
}

// enumNames lists the names of SASLMechanism as written in the file.
func (SASLMechanism) enumNames() []string { return sASLMechanismNames }

// Durability is when an event counts as accepted.
type Durability uint8

// Durability values.
const (
	DurabilityProcess Durability = iota // process: written to the operating system
	DurabilityFsync                     // fsync: flushed to disk
)

var durabilityNames = []string{"process", "fsync"}

// String returns the name of x as written in the file.
func (x Durability) String() string { return enumString(durabilityNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x Durability) MarshalText() ([]byte, error) { return enumText(durabilityNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of Durability.
func (x *Durability) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, durabilityNames, (*uint8)(x))
}

// enumNames lists the names of Durability as written in the file.
func (Durability) enumNames() []string { return durabilityNames }

// WhenFull is what happens to a request when the spool is full.
type WhenFull uint8

// WhenFull values.
const (
	WhenFullShed  WhenFull = iota // shed: refuse at once
	WhenFullBlock                 // block: wait up to block_timeout, then refuse
)

var whenFullNames = []string{"shed", "block"}

// String returns the name of x as written in the file.
func (x WhenFull) String() string { return enumString(whenFullNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x WhenFull) MarshalText() ([]byte, error) { return enumText(whenFullNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of WhenFull.
func (x *WhenFull) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, whenFullNames, (*uint8)(x))
}

// enumNames lists the names of WhenFull as written in the file.
func (WhenFull) enumNames() []string { return whenFullNames }
