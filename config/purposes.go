package config

import (
	"fmt"
	"strconv"
	"strings"
)

// PurposeSet is a set of purposes as a bit mask. The zero value is the empty
// set. It is a plain value: comparing, copying and testing never allocate.
type PurposeSet uint8

// NewPurposeSet returns the set of ps.
func NewPurposeSet(ps ...Purpose) PurposeSet {
	var s PurposeSet
	for _, p := range ps {
		s = s.With(p)
	}
	return s
}

// Has reports whether p is in s.
func (s PurposeSet) Has(p Purpose) bool { return p < 8 && s&(1<<p) != 0 }

// With returns s with p added.
func (s PurposeSet) With(p Purpose) PurposeSet {
	if p >= 8 {
		return s
	}
	return s | 1<<p
}

// Covers reports whether every purpose in t is also in s. A destination
// with requires t receives an event whose granted purposes s cover t.
func (s PurposeSet) Covers(t PurposeSet) bool { return s&t == t }

// String lists the purposes as in the file, e.g. "analytics, ads", or "none".
func (s PurposeSet) String() string {
	var names []string
	for i := range purposeNames {
		if s.Has(Purpose(i)) {
			names = append(names, purposeNames[i])
		}
	}
	if names == nil {
		return "none"
	}
	return strings.Join(names, ", ")
}

// PolicyName names one of the three policies.
type PolicyName uint8

// PolicyName values.
const (
	PolicyNone      PolicyName = iota // analytics not granted
	PolicyAnalytics                   // analytics granted, ads not
	PolicyAds                         // analytics and ads granted
)

var policyNames = []string{"none", "analytics", "ads"}

// String returns the key of the policy under policies.
func (n PolicyName) String() string { return enumString(policyNames, uint8(n)) }

// Get returns the policy named n; an unknown name gets the none policy, so a
// mistake fails closed.
func (p *Policies) Get(n PolicyName) *Policy {
	switch n {
	case PolicyAnalytics:
		return &p.Analytics
	case PolicyAds:
		return &p.Ads
	}
	return &p.None
}

// FileRef is a file named in a config.
type FileRef struct {
	Key    string // key path, e.g. "pseudonym.secret_file"
	Path   string // as written in the file
	Secret bool   // holds a secret, so it must not be readable by every user
}

// Files lists every file the config names that must exist where the
// gateway runs, for a check that they do. Parse already refused secret
// files that exist but are readable by every user. Files the gateway or
// its commands create when missing (privacy.suppression_file,
// ble.optout_file and ble.optout_key_file) are not listed.
func (c *Config) Files() []FileRef {
	var fs []FileRef
	add := func(key, path string, secret bool) {
		if path != "" {
			fs = append(fs, FileRef{Key: key, Path: path, Secret: secret})
		}
	}
	add("geoip.database", c.GeoIP.Database, false)
	add("server.admin_token_file", c.Server.AdminTokenFile, true)
	add("pseudonym.secret_file", c.Pseudonym.SecretFile, true)
	add("consent.tcf.gvl_file", c.Consent.TCF.GVLFile, false)
	for i := range c.Destinations {
		d := &c.Destinations[i]
		base := itemPath("destinations", i)
		switch d.Type {
		case DestinationHTTP:
			add(base+".http.bearer_token_file", d.HTTP.BearerTokenFile, true)
			add(base+".http.tls.ca_file", d.HTTP.TLS.CAFile, false)
			add(base+".http.tls.cert_file", d.HTTP.TLS.CertFile, false)
			add(base+".http.tls.key_file", d.HTTP.TLS.KeyFile, true)
		case DestinationMetaCAPI:
			add(base+".meta_capi.access_token_file", d.MetaCAPI.AccessTokenFile, true)
		case DestinationGA4:
			add(base+".ga4.api_secret_file", d.GA4.APISecretFile, true)
		case DestinationTikTok:
			add(base+".tiktok.access_token_file", d.TikTok.AccessTokenFile, true)
		case DestinationKafka:
			add(base+".kafka.tls.ca_file", d.Kafka.TLS.CAFile, false)
			add(base+".kafka.tls.cert_file", d.Kafka.TLS.CertFile, false)
			add(base+".kafka.tls.key_file", d.Kafka.TLS.KeyFile, true)
			add(base+".kafka.sasl.password_file", d.Kafka.SASL.PasswordFile, true)
		case DestinationNATS:
			add(base+".nats.credentials_file", d.NATS.CredentialsFile, true)
			add(base+".nats.tls.ca_file", d.NATS.TLS.CAFile, false)
			add(base+".nats.tls.cert_file", d.NATS.TLS.CertFile, false)
			add(base+".nats.tls.key_file", d.NATS.TLS.KeyFile, true)
		}
	}
	return fs
}

// Summary describes c in one line, e.g. "2 sites, 3 destinations (local
// file, ...), durability process".
func (c *Config) Summary() string {
	var b strings.Builder
	sites := "any site"
	if n := len(c.Sites); n == 1 {
		sites = "1 site"
	} else if n > 1 {
		sites = strconv.Itoa(n) + " sites"
	}
	fmt.Fprintf(&b, "%s, %d destination", sites, len(c.Destinations))
	if len(c.Destinations) != 1 {
		b.WriteByte('s')
	}
	b.WriteString(" (")
	for i := range c.Destinations {
		d := &c.Destinations[i]
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Name + " " + d.Type.String())
		if len(d.Requires) > 0 {
			b.WriteString(" needs " + NewPurposeSet(d.Requires...).String())
		}
	}
	fmt.Fprintf(&b, "), purposes %s, pseudonyms %s/%s, durability %s",
		NewPurposeSet(c.Consent.Purposes...), c.Pseudonym.Mode, c.Pseudonym.Period, c.Spool.Durability)
	return b.String()
}
