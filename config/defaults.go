package config

import (
	"path/filepath"
	"reflect"
	"time"
)

// The built-in defaults live here, next to nothing else, so there is one
// place to read them. Parse fills every key that the file does not mention
// from builtin(); a key that is present is taken as written, so
// "honour_opt_out_signals: false" and "v4_prefix: 0" mean what they say.
// default.yaml spells the same values out for readers, every key of them
// (TestDefaultYAMLSpellsOutEveryKey), and a test checks that parsing an
// empty file gives exactly Default().

const (
	defaultDataDir = "./beacongate-data"
	// 48 bits ≈ site or provider; a /64 can still single out one household.
	defaultV6Prefix = 48
	// 24 bits hides the host among 256 addresses of its network.
	defaultV4Prefix = 24
)

// Spool segment sizes by durability (see Spool.SegmentBytes): small where
// delivered segments are recycled, so that their pages stay cached.
const (
	ProcessSegmentBytes ByteSize = 16 << 20
	FsyncSegmentBytes   ByteSize = 64 << 20
)

func builtin() Config {
	return Config{
		Server: Server{
			Listen:                 ":8080",
			Admin:                  "127.0.0.1:9100",
			ReadTimeout:            Duration(5 * time.Second),
			WriteTimeout:           Duration(5 * time.Second),
			IdleTimeout:            Duration(60 * time.Second),
			MaxHeaderBytes:         8 << 10,
			MaxBodyBytes:           64 << 10, // the sendBeacon quota of browsers
			MaxConnsPerIP:          100,
			ShutdownTimeout:        Duration(8 * time.Second), // below Docker's 10 s stop timeout
			MaxEventsPerRequest:    50,
			MaxSightingsPerRequest: 200,
			MaxSightingAge:         Duration(7 * 24 * time.Hour),
			MaxSightingAhead:       Duration(5 * time.Minute),
			TrustedProxies:         []CIDR{},
			ClientIPHeader:         "X-Forwarded-For",
			MaxRequestsPerClient:   100,
			DataDir:                defaultDataDir,
		},
		Sites:      []Site{},
		Properties: Properties{Allow: []string{}},
		Scan:       Scan{ExtraClickIDs: []string{}, DropParams: []string{}},
		Consent: Consent{
			Purposes:            []Purpose{PurposeAnalytics},
			Default:             []Purpose{},
			Merge:               MergeMostRestrictive,
			Priority:            []Signal{SignalExplicit, SignalTCF, SignalGPP, SignalUSPrivacy, SignalConsentMode, SignalGPC, SignalDNT},
			HonourOptOutSignals: true,
			TCF: TCF{
				VendorID:     0,
				RequireValid: true,
				MaxAge:       Duration(395 * 24 * time.Hour), // 13 months, the IAB's renewal period
				Mapping: TCFMapping{
					// Purpose 1 is storage and access on the device; 8 and 9 are
					// content measurement and market research.
					Analytics: TCFRule{Purposes: []TCFPurpose{1, 8, 9}, SpecialFeatures: []TCFFeature{}},
					// 3 and 4: create and use a personalised ads profile; 7: measure ads.
					Ads: TCFRule{Purposes: []TCFPurpose{1, 3, 4, 7}, SpecialFeatures: []TCFFeature{}},
					// 5 and 6: create and use a personalised content profile.
					Personalization: TCFRule{Purposes: []TCFPurpose{1, 5, 6}, SpecialFeatures: []TCFFeature{}},
					// Special feature 1: use precise geolocation data.
					PreciseGeo:    TCFRule{Purposes: []TCFPurpose{}, SpecialFeatures: []TCFFeature{1}},
					DeviceStorage: TCFRule{Purposes: []TCFPurpose{1}, SpecialFeatures: []TCFFeature{}},
				},
			},
			GPP: GPPHonour,
		},
		Pseudonym: Pseudonym{
			Mode:        PseudonymEphemeral, // derived needs a secret, which we cannot invent
			Period:      Duration(24 * time.Hour),
			VisitorHash: true,
		},
		GeoIP: GeoIP{LookupFrom: LookupFull},
		Policies: Policies{
			None: Policy{
				IP:             IPRule{Action: IPDrop, V4Prefix: defaultV4Prefix, V6Prefix: defaultV6Prefix},
				Geo:            GeoRule{Level: GeoCountry},
				UserAgent:      UARule{Action: UAReduce},
				Bots:           BotsFlag,
				HTTPClients:    BotsKeep,
				UserID:         IDDrop,
				ClientID:       IDDrop,
				DeviceID:       IDDrop,
				URL:            URLPath,
				Referrer:       ReferrerOrigin,
				AcceptLanguage: LanguagePrimary,
				Properties:     PropertiesDrop,
				VisitorHash:    true,
			},
			Analytics: Policy{
				IP:             IPRule{Action: IPTruncate, V4Prefix: defaultV4Prefix, V6Prefix: defaultV6Prefix},
				Geo:            GeoRule{Level: GeoCity},
				UserAgent:      UARule{Action: UAReduce},
				Bots:           BotsFlag,
				HTTPClients:    BotsKeep,
				UserID:         IDPseudonymize,
				ClientID:       IDPseudonymize,
				DeviceID:       IDPseudonymize,
				URL:            URLClean,
				Referrer:       ReferrerClean,
				AcceptLanguage: LanguagePrimary,
				Properties:     PropertiesAllowlist,
				VisitorHash:    true,
			},
			Ads: Policy{
				IP:             IPRule{Action: IPTruncate, V4Prefix: defaultV4Prefix, V6Prefix: defaultV6Prefix},
				Geo:            GeoRule{Level: GeoCity},
				UserAgent:      UARule{Action: UAKeep}, // ad partners check the full header for fraud
				Bots:           BotsDrop,               // crawler traffic must not reach ad partners
				HTTPClients:    BotsKeep,               // server-to-server senders act for people
				UserID:         IDPseudonymize,
				ClientID:       IDPseudonymize,
				DeviceID:       IDPseudonymize,
				URL:            URLClean,
				Referrer:       ReferrerClean,
				AcceptLanguage: LanguagePrimary,
				Properties:     PropertiesAllowlist,
				VisitorHash:    true,
			},
		},
		Destinations: []Destination{func() Destination {
			d := defaultDestination()
			d.Name, d.Type = "local", DestinationFile
			d.TCF.WithoutVendor = true // our own file, not a TCF vendor
			return d
		}()},
		Privacy: Privacy{Retention: map[string]Duration{}, AuditLog: true,
			LegalBasis: map[string]string{}, Recipients: map[string]Recipient{}},
		Spool: Spool{
			MaxBytes:      1 << 30,
			SegmentBytes:  ProcessSegmentBytes,
			Durability:    DurabilityProcess,
			FsyncMaxDelay: Duration(5 * time.Millisecond),
			WhenFull:      WhenFullShed,
			BlockTimeout:  Duration(time.Second),
		},
		BLE: defaultBLE(),
	}
}

// defaultDestination holds the defaults of every key of a destination.
func defaultDestination() Destination {
	return Destination{
		Requires: []Purpose{},
		TCF: DestinationTCF{
			Purposes: []TCFPurpose{}, LegitimateInterest: []TCFPurpose{},
			FlexiblePurposes: []TCFPurpose{}, SpecialFeatures: []TCFFeature{},
		},
		Batch: Batch{
			MaxEvents: 1000,
			MaxBytes:  1 << 20,
			MaxAge:    Duration(time.Second),
		},
		Compression: CompressionZstd,
		File: FileDestination{
			MaxFileBytes: 64 << 20,
			MaxFileAge:   Duration(time.Hour),
		},
		HTTP: HTTPDestination{
			Headers: map[string]string{},
			Timeout: Duration(10 * time.Second),
			Retry: Retry{
				InitialBackoff: Duration(100 * time.Millisecond),
				MaxBackoff:     Duration(30 * time.Second),

				RedirectDeadLetterAfter: Duration(15 * time.Minute),
				AuthDeadLetterAfter:     Duration(15 * time.Minute),
			},
		},
		Kafka: KafkaDestination{
			Brokers:    []string{},
			Key:        KafkaKeySite,
			CheckTopic: true,
		},
		NATS:     defaultNATS(),
		MetaCAPI: MetaCAPIDestination{APIVersion: "v23.0", Endpoint: "https://graph.facebook.com", Timeout: Duration(30 * time.Second), Retry: defaultAdRetry()},
		GA4:      GA4Destination{Endpoint: "https://www.google-analytics.com", Timeout: Duration(30 * time.Second), MaxInFlight: 8, Retry: defaultAdRetry()},
		TikTok:   TikTokDestination{Endpoint: "https://business-api.tiktok.com", Timeout: Duration(30 * time.Second), Retry: defaultAdRetry()},
	}
}

// defaultAdRetry is the backoff of the ad platform destinations: as http's.
func defaultAdRetry() Retry {
	return Retry{
		InitialBackoff:          Duration(100 * time.Millisecond),
		MaxBackoff:              Duration(30 * time.Second),
		RedirectDeadLetterAfter: Duration(15 * time.Minute),
		AuthDeadLetterAfter:     Duration(15 * time.Minute),
	}
}

// itemDefault returns the defaults for one list item of type t.
func itemDefault(t reflect.Type) reflect.Value {
	if t == reflect.TypeFor[Destination]() {
		return reflect.ValueOf(defaultDestination())
	}
	return reflect.New(t).Elem()
}

// fillDefaults copies into v every value of def whose key path is absent
// from the file, walking into the sections and list items that are present.
func fillDefaults(v, def reflect.Value, path string, present func(string) bool) {
	t := v.Type()
	switch {
	case t.Kind() == reflect.Struct && !isScalarType(t):
		for _, f := range fieldsOf(t) {
			fp := joinPath(path, f.name)
			if !present(fp) {
				v.Field(f.index).Set(def.Field(f.index))
				continue
			}
			fillDefaults(v.Field(f.index), def.Field(f.index), fp, present)
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct && !isScalarType(t.Elem()):
		for i := range v.Len() {
			fillDefaults(v.Index(i), itemDefault(t.Elem()), itemPath(path, i), present)
		}
	case t.Kind() == reflect.Slice && v.IsNil():
		// A key written with no value ("requires:") is an empty list, not
		// "no list": give consumers a non-nil slice either way.
		v.Set(reflect.MakeSlice(t, 0, 0))
	case t.Kind() == reflect.Map && v.IsNil():
		v.Set(reflect.MakeMap(t))
	}
}

// deriveDirs fills the directories that follow data_dir.
func (c *Config) deriveDirs() {
	if c.Spool.Dir == "" || c.Spool.dirDerived {
		c.Spool.Dir = filepath.Join(c.Server.DataDir, "spool")
		c.Spool.dirDerived = true
	}
	for i := range c.Destinations {
		d := &c.Destinations[i]
		if d.Type != DestinationFile {
			continue
		}
		if d.File.Dir == "" || d.File.dirDerived {
			d.File.Dir = filepath.Join(c.Server.DataDir, "out", d.Name)
			d.File.dirDerived = true
		}
	}
}

// SetDataDir replaces server.data_dir, as the -data command-line flag does,
// and moves the directories that were derived from it (spool.dir and the dir
// of file destinations that name none). Call it only before c is shared.
func (c *Config) SetDataDir(dir string) {
	c.Server.DataDir = dir
	c.deriveDirs()
}
