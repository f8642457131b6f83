package anonymize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/consent/tctest"
	"github.com/beacongate/beacongate/anonymize/recordtest"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/event"
)

// This file is a metamorphic test of the whole engine: less consent never
// yields more data. A case is an event full of planted personal data and
// two sets of consent signals, A and B, where B is A with one to three
// withdrawals (a TCF purpose, vendor or special feature consent removed,
// GPC or DNT added, a Consent Mode type denied, a US Privacy or GPP opt-out,
// the explicit field listing fewer purposes, gdpr=1, an undecodable,
// expired, future, global or pre-v2.3 TC string, copies that conflict). For
// every destination, B's record may not exist where A's does not, and each
// of its fields is no more precise than A's: the address no longer a
// prefix, the location no finer, the user agent no fuller, no pseudonym
// where A dropped the id, the URL and referrer no less cleaned, no
// property, contact datum or click id A did not keep. The engine's own
// answer must agree: B's purposes, destinations and personalised
// advertising within A's.
//
// The documented exceptions, each checked for what it allows and no more,
// are in lessConsentException.

// lessConsentNow is when every case's event arrives.
var lessConsentNow = clocktest.Golden

// lessConsentDests are the destinations of the configs but the default one:
// every kind of requires, own policies that differ from the site-wide ones
// (each monotone: no state keeps less than a state below it), TCF vendors
// with consent, legitimate interest and special features, and
// destinations outside TCF.
const lessConsentDests = `
properties:
  allow: [plan, note, cart_value, secret_field, em, gclid, _fbp]
sites:
  - {id: shop.example, routes: ["/products/{sku}"]}
  - {id: backend, server_to_server: true}
policies:
  none: {geo: {level: continent}}
  analytics: {referrer: path}
  ads: {user_agent: {action: keep}, geo: {level: city, grid: 0.1}}
destinations:
  - name: warehouse
    type: file
    tcf: {without_vendor: true}
    policies:
      none: {ip: {action: truncate, v4_prefix: 8, v6_prefix: 16}}
      analytics: {ip: {action: truncate, v4_prefix: 16, v6_prefix: 32}, client_id: drop}
      ads: {ip: {action: truncate, v4_prefix: 24, v6_prefix: 48}, client_id: drop}
  - name: lab
    type: file
    requires: [analytics]
    tcf: {vendor_id: 50, purposes: [1, 8, 9], legitimate_interest: [7]}
    policies:
      analytics: {url: keep, referrer: clean}
      ads: {url: keep, referrer: keep, ip: {action: keep}, geo: {level: city, grid: 0.01}}
  - name: perso
    type: file
    requires: [personalization]
    tcf: {vendor_id: 32, purposes: [1, 5, 6]}
  - name: meta
    type: meta_capi
    requires: [analytics, ads]
    tcf: {vendor_id: 89, purposes: [1, 3, 4, 7]}
    meta_capi: {pixel_id: "1234567890", access_token_file: /nonexistent/meta.token}
    policies: {ads: {contact: hash, click_ids: keep}}
  - name: ga
    type: ga4
    requires: [ads]
    tcf: {vendor_id: 755, purposes: [1, 3, 4], legitimate_interest: [7], special_features: [1]}
    ga4: {measurement_id: G-TEST123, api_secret_file: /nonexistent/ga.secret}
    policies: {ads: {contact: hash, click_ids: keep}}
  - name: tiktok
    type: tiktok
    requires: [analytics, ads]
    tcf: {without_vendor: true}
    tiktok: {event_source_id: CABC123, access_token_file: /nonexistent/tt.token}
    policies: {ads: {contact: hash, click_ids: keep}}
  - name: bare
    type: file
    tcf: {without_vendor: true}
    policies:
      none: {ip: {action: drop}, geo: {level: none}, user_agent: {action: drop}, accept_language: drop, url: drop, referrer: drop, visitor_hash: false}
`

// lessConsentConfigs are the configs every case runs under.
var lessConsentConfigs = []struct {
	name string
	yaml string
}{
	{"default config", ""},
	{"most_restrictive", `
consent:
  purposes: [analytics, ads, personalization]
` + lessConsentDests},
	{"priority", `
consent:
  purposes: [analytics, ads, personalization]
  merge: priority
` + lessConsentDests},
	{"most_restrictive, opt-out signals off", `
consent:
  purposes: [analytics, ads, personalization]
  honour_opt_out_signals: false
` + lessConsentDests},
	{"priority reordered, opt-out signals off, all purposes, geo from truncated", `
consent:
  purposes: [analytics, ads, personalization, precise_geo, device_storage]
  merge: priority
  priority: [consent_mode, gpp, tcf, explicit]
  honour_opt_out_signals: false
geoip:
  lookup_from: truncated
` + lessConsentDests},
	{"default analytics", `
consent:
  purposes: [analytics, ads, personalization]
  default: [analytics]
` + lessConsentDests},
	{"priority, default analytics and ads", `
consent:
  purposes: [analytics, ads, personalization]
  default: [analytics, ads]
  merge: priority
` + lessConsentDests},
	{"TC strings that do not decode ignored", `
consent:
  purposes: [analytics, ads, personalization]
  tcf: {require_valid: false}
` + lessConsentDests},
	{"our vendor id, GPP rejected", `
consent:
  purposes: [analytics, ads, personalization, precise_geo]
  gpp: reject
  tcf: {vendor_id: 50}
` + lessConsentDests},
}

// lessConsentEngines compiles lessConsentConfigs.
func lessConsentEngines(t testing.TB) []*Engine {
	t.Helper()
	var out []*Engine
	for _, c := range lessConsentConfigs {
		cfg, err := config.Parse("test.yaml", []byte(c.yaml))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		out = append(out, newTestEngineFor(t, cfg, lessConsentNow))
	}
	return out
}

// chooser turns bytes into choices: the fuzzer's input, or a seeded
// stream's. Past the end every choice is the first.
type chooser struct {
	b []byte
	i int
}

func (c *chooser) n(k int) int {
	if c.i >= len(c.b) || k <= 1 {
		c.i++
		return 0
	}
	v := int(c.b[c.i])
	c.i++
	return v % k
}

func (c *chooser) bit() bool { return c.n(2) == 1 }

func pick[T any](c *chooser, xs ...T) T { return xs[c.n(len(xs))] }

// cmState is one Consent Mode type's state.
type cmState uint8

const (
	cmGranted cmState = iota
	cmDenied
	cmUnset // gcd only: no default, no update (effective: denied)
)

// usnatSpec is a GPP US National (section 7) core, version 1.
type usnatSpec struct {
	optOuts [3]uint64 // sale, sharing, targeted ads: 1 opted out, 2 did not, 0 n/a
	geo     uint64    // precise geolocation: 1 no consent, 2 consent, 0 n/a
	child   [2]uint64 // known child 13-16, under 13: 1 no consent, 2 consent, 0 n/a
	gpc     bool
}

func (u usnatSpec) encode() string {
	var w gppBits
	w.put(1, 6)
	for range 6 {
		w.put(1, 2) // every notice given
	}
	for _, o := range u.optOuts {
		w.put(o, 2)
	}
	for i := 1; i <= 12; i++ {
		if i == 8 {
			w.put(u.geo, 2)
		} else {
			w.put(0, 2)
		}
	}
	for _, c := range u.child {
		w.put(c, 2)
	}
	w.put(0, 8) // PersonalDataConsents and the three MSPA fields
	s := w.String()
	if u.gpc {
		s += ".YA"
	} else {
		s += ".QA"
	}
	return s
}

// gppBits writes bits into base64url characters (GPP has no byte rounding).
type gppBits struct{ bits []byte }

func (w *gppBits) put(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		w.bits = append(w.bits, byte(v>>uint(i)&1))
	}
}

func (w *gppBits) fib(n int) {
	f := []int{1, 2}
	for f[len(f)-1] <= n {
		f = append(f, f[len(f)-1]+f[len(f)-2])
	}
	code := make([]byte, len(f))
	top := 0
	for i := len(f) - 1; i >= 0; i-- {
		if f[i] <= n {
			code[i] = 1
			n -= f[i]
			top = max(top, i)
		}
	}
	w.bits = append(w.bits, code[:top+1]...)
	w.bits = append(w.bits, 1)
}

func (w *gppBits) String() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var sb strings.Builder
	for i := 0; i < len(w.bits); i += 6 {
		v := 0
		for j := range 6 {
			v <<= 1
			if i+j < len(w.bits) {
				v |= int(w.bits[i+j])
			}
		}
		sb.WriteByte(alphabet[v])
	}
	return sb.String()
}

// gppHeaderOf encodes a GPP header listing ids (ascending).
func gppHeaderOf(ids []int) string {
	var w gppBits
	w.put(3, 6)
	w.put(1, 6)
	w.put(uint64(len(ids)), 12)
	last := 0
	for _, id := range ids {
		w.put(0, 1)
		w.fib(id - last)
		last = id
	}
	return w.String()
}

// tcBreak is how a TC string is made worthless.
type tcBreak uint8

const (
	tcIntact      tcBreak = iota
	tcJunk                // does not decode
	tcTruncated           // the first 40 characters only
	tcExpired             // last updated 14 months before the request
	tcFuture              // created an hour after the request
	tcGlobal              // not service-specific (TCF 2.2)
	tcNoDisclosed         // no disclosed vendors segment (TCF v2.3)
)

// signals are a request's consent signals, as the generator and the
// withdrawals see them.
type signals struct {
	gdpr     int8 // -1 absent
	tc       *tctest.Spec
	tcBreak  tcBreak
	tcAlone  bool // as gdpr_consent
	tcInGPP  bool // as the GPP string's tcfeuv2 section
	gppOther bool // the GPP copy differs from the standalone one (a conflict)

	gcs, gcd bool       // which Consent Mode parameters are sent
	cm       [4]cmState // ad_storage, analytics_storage, ad_user_data, ad_personalization

	usp      string // "" absent
	gppUSP   string // the GPP uspv1 section, "" absent
	usnat    *usnatSpec
	gppState bool // a US state section (Colorado, 10): not decoded
	gppSID   bool
	gppCA    bool // a tcfcav1 section (5): a consent regime beacongate cannot read

	explicit    []string // nil: absent; empty: "none"
	explicitBad bool     // the explicit field carries an unknown purpose: malformed
	gpc, dnt    bool
}

func (s signals) clone() signals {
	c := s
	if s.tc != nil {
		tc := *s.tc
		tc.PurposesConsent = slices.Clone(s.tc.PurposesConsent)
		tc.PurposesLI = slices.Clone(s.tc.PurposesLI)
		tc.SpecialFeatures = slices.Clone(s.tc.SpecialFeatures)
		tc.VendorConsent = slices.Clone(s.tc.VendorConsent)
		tc.VendorLI = slices.Clone(s.tc.VendorLI)
		tc.Disclosed = slices.Clone(s.tc.Disclosed)
		c.tc = &tc
	}
	if s.usnat != nil {
		u := *s.usnat
		c.usnat = &u
	}
	c.explicit = slices.Clone(s.explicit)
	if s.explicit != nil && c.explicit == nil {
		c.explicit = []string{}
	}
	return c
}

// tcString returns the TC string the signals carry.
func (s *signals) tcString() string {
	spec := *s.tc
	switch s.tcBreak {
	case tcJunk:
		return "CO_not-a-tc-string"
	case tcExpired:
		spec.Created = lessConsentNow.AddDate(0, -14, 0)
		spec.LastUpdated = spec.Created
	case tcFuture:
		spec.Created = lessConsentNow.Add(time.Hour)
		spec.LastUpdated = spec.Created
	case tcGlobal:
		spec.ServiceSpecific = false
	case tcNoDisclosed:
		spec.Disclosed = nil
	}
	tc := spec.Encode()
	if s.tcBreak == tcTruncated && len(tc) > 40 {
		tc = tc[:40]
	}
	return tc
}

// apply writes the signals into e.Consent.
func (s *signals) apply(e *event.Event) {
	e.ResetConsent()
	c := &e.Consent
	c.GDPR = s.gdpr
	var tc string
	if s.tc != nil {
		tc = s.tcString()
		if s.tcAlone {
			c.TCString = []byte(tc)
		}
	}
	if s.gcs {
		g := []byte("G1")
		for _, st := range s.cm[:2] {
			g = append(g, "100"[st])
		}
		c.GCS = g
	}
	if s.gcd {
		g := []byte("11")
		for _, st := range s.cm {
			g = append(g, "tpl"[st], '1')
		}
		g[len(g)-1] = '5'
		c.GCD = g
	}
	c.USPrivacy = []byte(s.usp)
	var ids []int
	var secs []string
	if s.tc != nil && s.tcInGPP {
		sec := tc
		if s.gppOther {
			other := *s.tc
			other.PurposesConsent = []int{1}
			sec = other.Encode()
		}
		ids, secs = append(ids, 2), append(secs, sec)
	}
	if s.gppCA {
		ids, secs = append(ids, 5), append(secs, "BPXxRfAPXxRfAAfKABENB")
	}
	if s.gppUSP != "" {
		ids, secs = append(ids, 6), append(secs, s.gppUSP)
	}
	if s.usnat != nil {
		ids, secs = append(ids, 7), append(secs, s.usnat.encode())
	}
	if s.gppState {
		ids, secs = append(ids, 10), append(secs, "BVoYYYI")
	}
	if len(ids) > 0 {
		c.GPP = []byte(gppHeaderOf(ids) + "~" + strings.Join(secs, "~"))
		if s.gppSID {
			var sid []string
			for _, id := range ids {
				sid = append(sid, fmt.Sprint(id))
			}
			c.GPPSID = []byte(strings.Join(sid, ","))
		}
	}
	switch {
	case s.explicit == nil:
	case len(s.explicit) == 0:
		c.Explicit = []byte("none")
	default:
		c.Explicit = []byte(strings.Join(s.explicit, ","))
	}
	if s.explicitBad {
		if len(c.Explicit) > 0 {
			c.Explicit = append(c.Explicit, ',')
		}
		c.Explicit = append(c.Explicit, "cookies"...)
	}
	c.GPC, c.DNT = s.gpc, s.dnt
}

func (s *signals) String() string {
	var e event.Event
	e.Reset()
	s.apply(&e)
	c := &e.Consent
	return fmt.Sprintf("gdpr=%d tc=%q gcs=%q gcd=%q us_privacy=%q gpp=%q gpp_sid=%q consent=%q gpc=%v dnt=%v",
		c.GDPR, c.TCString, c.GCS, c.GCD, c.USPrivacy, c.GPP, c.GPPSID, c.Explicit, c.GPC, c.DNT)
}

var lessConsentPurposeNames = []string{"analytics", "ads", "personalization", "precise_geo", "device_storage"}

// genSignals draws a set of consent signals, mostly generous ones, so that
// withdrawals have something to take away.
func genSignals(c *chooser) signals {
	s := signals{gdpr: pick[int8](c, -1, 1, 0, 1)}
	if c.n(3) != 0 {
		spec := tctest.Valid(lessConsentNow.Add(-24 * time.Hour))
		spec.PurposesConsent = nil
		for p := 1; p <= 10; p++ {
			if c.n(10) != 0 {
				spec.PurposesConsent = append(spec.PurposesConsent, p)
			}
		}
		spec.PurposesLI = nil
		if c.bit() {
			spec.PurposesLI = []int{2, 7}
		}
		if c.n(4) == 0 {
			spec.SpecialFeatures = nil
		}
		for _, v := range []int{32, 50, 89, 755} {
			if c.n(8) != 0 {
				spec.VendorConsent = append(spec.VendorConsent, v)
			}
			if c.bit() {
				spec.VendorLI = append(spec.VendorLI, v)
			}
			if c.n(6) != 0 {
				spec.Disclosed = append(spec.Disclosed, v)
			}
		}
		s.tc = &spec
		switch c.n(4) {
		case 0, 1:
			s.tcAlone = true
		case 2:
			s.tcInGPP = true
		default:
			s.tcAlone, s.tcInGPP = true, true
		}
		if c.n(8) == 0 {
			s.tcBreak = tcBreak(1 + c.n(6))
		}
	}
	if c.n(3) == 0 {
		s.gcs, s.gcd = c.bit(), c.bit()
		if !s.gcs && !s.gcd {
			s.gcd = true
		}
		for i := range s.cm {
			s.cm[i] = pick(c, cmGranted, cmGranted, cmGranted, cmGranted, cmGranted, cmDenied, cmUnset)
		}
	}
	if c.n(4) == 0 {
		s.usp = pick(c, "1YNN", "1---", "1NNY", "1YNN", "1YYN")
	}
	if c.n(4) == 0 {
		s.gppUSP = pick(c, "1YNN", "1---", "1YYN")
	}
	if c.n(5) == 0 {
		u := usnatSpec{optOuts: [3]uint64{2, 2, 2}, geo: pick[uint64](c, 2, 0, 2), child: [2]uint64{0, 0}}
		if c.n(5) == 0 {
			u.optOuts[c.n(3)] = 1
		}
		s.usnat = &u
	}
	s.gppState = c.n(10) == 0
	s.gppSID = c.bit()
	if c.n(3) != 0 {
		s.explicit = []string{}
		for _, p := range lessConsentPurposeNames {
			if c.n(6) != 0 {
				s.explicit = append(s.explicit, p)
			}
		}
	}
	s.gpc = c.n(12) == 0
	s.dnt = c.n(12) == 0
	return s
}

// withdraw changes s to give less consent, in one of the ways a visitor,
// a CMP or a browser withdraws it, and says how.
func withdraw(c *chooser, s *signals) string {
	switch c.n(13) {
	case 0: // a TCF purpose
		if s.tc != nil && len(s.tc.PurposesConsent) > 0 {
			i := c.n(len(s.tc.PurposesConsent))
			p := s.tc.PurposesConsent[i]
			s.tc.PurposesConsent = slices.Delete(s.tc.PurposesConsent, i, i+1)
			return fmt.Sprintf("TCF purpose %d consent removed", p)
		}
	case 1: // a TCF legitimate interest, or the special feature
		if s.tc != nil && len(s.tc.PurposesLI) > 0 && c.bit() {
			s.tc.PurposesLI = s.tc.PurposesLI[1:]
			return "a TCF legitimate interest removed"
		}
		if s.tc != nil && len(s.tc.SpecialFeatures) > 0 {
			s.tc.SpecialFeatures = nil
			return "TCF special feature 1 removed"
		}
	case 2: // a vendor's consent, legitimate interest or disclosure
		if s.tc != nil {
			v := pick(c, 32, 50, 89, 755)
			switch c.n(3) {
			case 0:
				s.tc.VendorConsent = slices.DeleteFunc(s.tc.VendorConsent, func(x int) bool { return x == v })
				return fmt.Sprintf("vendor %d consent removed", v)
			case 1:
				s.tc.VendorLI = slices.DeleteFunc(s.tc.VendorLI, func(x int) bool { return x == v })
				return fmt.Sprintf("vendor %d legitimate interest removed", v)
			default:
				if s.tc.Disclosed != nil {
					s.tc.Disclosed = slices.DeleteFunc(s.tc.Disclosed, func(x int) bool { return x == v })
					return fmt.Sprintf("vendor %d not disclosed", v)
				}
			}
		}
	case 3: // the TC string made worthless
		if s.tc != nil {
			s.tcBreak = tcBreak(1 + c.n(6))
			return fmt.Sprintf("TC string broken (%d)", s.tcBreak)
		}
		s.gdpr = 1
		spec := tctest.Valid(lessConsentNow.Add(-24 * time.Hour))
		s.tc, s.tcAlone, s.tcBreak = &spec, true, tcJunk
		return "gdpr=1 and an undecodable TC string added"
	case 4:
		if !s.gpc {
			s.gpc = true
			return "GPC added"
		}
	case 5:
		if !s.dnt {
			s.dnt = true
			return "DNT added"
		}
	case 6: // a Consent Mode type denied
		if !s.gcs && !s.gcd {
			s.gcs, s.gcd = c.bit(), true
			s.cm = [4]cmState{cmDenied, cmDenied, cmDenied, cmDenied}
			return "Consent Mode, all denied, added"
		}
		i := c.n(4)
		if !s.gcd {
			i %= 2
		}
		if s.cm[i] == cmGranted {
			s.cm[i] = pick(c, cmDenied, cmUnset)
			if !s.gcd && s.cm[i] == cmUnset {
				s.cm[i] = cmDenied
			}
			return fmt.Sprintf("Consent Mode type %d denied", i)
		}
	case 7: // US Privacy opt-out of sale
		if s.usp != "1YYN" {
			s.usp = pick(c, "1YYN", "1-Y-", "1XNN")
			return "US Privacy opt-out " + s.usp
		}
	case 8: // GPP opt-outs
		switch c.n(4) {
		case 0:
			s.gppUSP = "1YYN"
			return "GPP uspv1 opt-out"
		case 1:
			if s.usnat == nil {
				s.usnat = &usnatSpec{optOuts: [3]uint64{2, 2, 2}, geo: 2}
			}
			s.usnat.optOuts[c.n(3)] = 1
			return "GPP usnat opt-out"
		case 2:
			if s.usnat != nil && !s.usnat.gpc {
				s.usnat.gpc = true
				return "GPP usnat GPC"
			}
			if s.usnat != nil && s.usnat.geo != 1 {
				s.usnat.geo = 1
				return "GPP usnat no consent to precise geolocation"
			}
		default:
			if !s.gppState {
				s.gppState = true
				return "GPP state section added"
			}
		}
	case 9: // the explicit field lists fewer purposes
		if s.explicit == nil {
			s.explicit = []string{}
			return "consent=none added"
		}
		if len(s.explicit) > 0 {
			i := c.n(len(s.explicit))
			p := s.explicit[i]
			s.explicit = slices.Delete(s.explicit, i, i+1)
			return "explicit " + p + " removed"
		}
	case 10: // GDPR applies
		if s.gdpr != 1 {
			s.gdpr = 1
			return "gdpr=1"
		}
	case 11: // the two TC copies disagree
		if s.tc != nil && s.tcAlone && s.tcInGPP && !s.gppOther {
			s.gppOther = true
			return "GPP tcfeuv2 differs from gdpr_consent"
		}
	case 12: // a child under 13 without parental consent
		if s.usnat != nil && s.usnat.child[1] != 1 {
			s.usnat.child[1] = 1
			return "GPP usnat known child under 13"
		}
	}
	return ""
}

// genEvent draws an event of any kind, with personal data planted in its
// ids, address, URL, referrer, user agent, properties, contact fields and
// click ids.
func genEvent(c *chooser) *event.Event {
	e := &event.Event{}
	e.Reset()
	e.Kind = pick(c, event.KindPixel, event.KindBeacon, event.KindBLE)
	e.ReceivedAt = lessConsentNow
	b := byte(1 + c.n(254))
	e.ClientIP = pick(c,
		netip.AddrFrom4([4]byte{81, 2, 69, b}),
		netip.AddrFrom4([4]byte{81, 2, 69, b}),
		netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, b, 0x42, 0, 7, 0, 0, 0, 0, 0, 0, 0, b}),
		netip.AddrFrom4([4]byte{203, 0, 113, b}),
		netip.AddrFrom16([16]byte{0x20, 0x02, 81, 2, 69, b, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}),
	)
	e.Site = []byte(pick(c, "shop.example", "shop.example", "backend"))
	e.Name = []byte(pick(c, "page_view", "signup "+plantedEmail, "order_"+plantedUID, "add_to_cart"))
	e.URL = []byte(pick(c,
		"https://shop.example/account/"+plantedEmail+"/orders?gclid="+plantedGclid+"&utm_source=news&phone="+url.QueryEscape(plantedPhone)+"#iban="+plantedIBAN,
		"https://shop.example/products/ABC-123?fbclid=IwAR0planted&email=jane%40example.org&utm_campaign=x",
		"https://shop.example/u/"+plantedUID+"/Abc123XyZ99qq?token=Zm9vYmFyYmF6cXV4cXV1eHh5eg&ref=nl",
		"https://jane.shop.example/cart;jsessionid=0123456789ABCDEF?ttclid=ttclidPlanted",
		"https://81.2.69.142/checkout?card="+url.QueryEscape(plantedCard),
		"",
	))
	e.Referrer = []byte(pick(c,
		"https://mail.example/inbox?to="+url.QueryEscape(plantedEmail),
		"https://www.google.com/search?q=jane.doe%40example.org+shoes",
		"https://user:secret@ref.example/p/Abc123XyZ99/"+plantedUID+"?lat=52.520008&lng=13.404954",
		"",
	))
	if c.n(4) != 0 {
		e.UserID = []byte(plantedUID)
	}
	if c.n(4) != 0 {
		e.ClientID = []byte(plantedCID)
	}
	if c.bit() {
		e.EventID = []byte(pick(c, "evt0000000000000000001", plantedUID+"-1733412345678"))
	}
	e.UserAgent = []byte(pick(c,
		chromeUA,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1 "+plantedEmail,
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"okhttp/4.12.0",
		"",
	))
	e.AcceptLanguage = []byte(pick(c, "de-DE,de;q=0.9,en;q=0.8", "", "en-GB"))
	if c.n(3) != 0 {
		e.AddProp([]byte("plan"), []byte("pro"), event.PropString)
		e.AddProp([]byte("note"), []byte("call me at "+plantedPhone+", mail "+plantedObfuscated), event.PropString)
		e.AddProp([]byte("cart_value"), []byte("129.5"), event.PropNumber)
		e.AddProp([]byte("secret_field"), []byte(plantedUID), event.PropString)
	}
	keys := make([]string, 0, len(plantedAdIDs))
	for k := range plantedAdIDs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if c.n(3) == 0 {
			e.AddProp([]byte(k), []byte(plantedAdIDs[k]), event.PropString)
		}
	}
	if e.Kind == event.KindBLE {
		e.Store = []byte(pick(c, "berlin-01", "Jane's iPhone"))
		e.Sensor = []byte("door-1")
		s := &e.Sighting
		s.Major, s.Minor = -1, -1
		s.Namespace, s.Instance = []byte("edd1ebeac04e5defa017"), []byte("0123456789ab")
		s.RSSI, s.HasRSSI = -60, true
		s.SeenAtMS = lessConsentNow.Add(-time.Second).UnixMilli()
		switch c.n(4) {
		case 0:
			s.DeviceID, s.DeviceKind = []byte(plantedMAC), event.DeviceMAC
		case 1:
			s.DeviceID, s.DeviceKind, s.Randomized = []byte("a6:5e:60:e8:1b:2c"), event.DeviceMAC, true
		case 2:
			s.DeviceID, s.DeviceKind = []byte("6d92078a-8246-4ba4-ae5b-76104861e7dc"), event.DeviceAdID
		default:
			s.DeviceID, s.DeviceKind = []byte("app-instance-planted-77"), event.DeviceAppInstance
		}
	}
	return e
}

// lessConsentCase is one metamorphic pair: the signals A, the signals B
// that withdraw consent relative to A, and the event both are sent with.
type lessConsentCase struct {
	config    int
	a, b      signals
	withdrawn []string
	mk        func() *event.Event
}

// genLessConsentCase draws a case from c.
func genLessConsentCase(c *chooser) lessConsentCase {
	lc := lessConsentCase{config: c.n(len(lessConsentConfigs))}
	lc.a = genSignals(c)
	lc.b = lc.a.clone()
	for tries := 0; len(lc.withdrawn) < 1+c.n(3) && tries < 12; tries++ {
		if w := withdraw(c, &lc.b); w != "" {
			lc.withdrawn = append(lc.withdrawn, w)
		}
	}
	if len(lc.withdrawn) == 0 {
		lc.b.gpc, lc.b.dnt = true, true
		lc.withdrawn = append(lc.withdrawn, "GPC and DNT")
	}
	start := c.i
	genEvent(c)
	lc.mk = func() *event.Event { return genEvent(&chooser{b: c.b, i: start}) }
	// Two more withdrawals, drawn last so that inputs drawn before they
	// existed read as they did (past the end of the input neither is
	// made): an unreadable reading next to readable ones, which with a
	// non-empty consent.default says that default, never what a readable
	// reading on the same request refuses (lessConsentException).
	if c.n(4) == 3 && !lc.b.gppCA {
		lc.b.gppCA = true
		lc.withdrawn = append(lc.withdrawn, "GPP tcfcav1 section added")
	}
	if c.n(4) == 3 && !lc.b.explicitBad {
		lc.b.explicitBad = true
		lc.withdrawn = append(lc.withdrawn, "consent field made malformed")
	}
	return lc
}

// sent is what one destination gets of one event.
type sent struct {
	gets   bool
	why    string
	record map[string]any
	raw    []byte
}

// sendTo runs e with signals s through the engine's router (Recipients runs
// AppendRecords, the request path's code) and returns each destination's
// record and the engine's answer.
func sendTo(t testing.TB, en *Engine, e *event.Event, s *signals) ([]sent, Result) {
	t.Helper()
	s.apply(e)
	rs, res := en.Recipients(e)
	out := make([]sent, len(rs))
	for i, r := range rs {
		out[i] = sent{gets: r.Gets, why: r.Why, raw: r.Record}
		if r.Gets {
			d := json.NewDecoder(bytes.NewReader(r.Record))
			d.UseNumber()
			if err := d.Decode(&out[i].record); err != nil {
				t.Fatalf("record is not JSON: %v\n%s", err, r.Record)
			}
		}
	}
	return out, res
}

// checkLessConsent runs one case and reports every way B's outcome holds
// more than A's that no documented exception allows.
func checkLessConsent(t testing.TB, engines []*Engine, label string, lc lessConsentCase) {
	t.Helper()
	en := engines[lc.config]
	outA, resA := sendTo(t, en, lc.mk(), &lc.a)
	outB, resB := sendTo(t, en, lc.mk(), &lc.b)
	global, perDest := moreThan(en, outA, resA, outB, resB)
	if len(global) == 0 && len(perDest) == 0 {
		return
	}
	// A documented exception bounds B by another outcome X instead: what
	// B may hold beyond A, X must hold too.
	if x, why := lessConsentException(en, lc, resB); x != nil {
		outX, resX := sendTo(t, en, lc.mk(), x)
		globalX, perDestX := moreThan(en, outX, resX, outB, resB)
		if len(globalX) == 0 {
			global = nil
		} else if resB.Purposes&^(resA.Purposes|resX.Purposes) == 0 && resB.Dests&^(resA.Dests|resX.Dests) == 0 {
			global = nil
		}
		for i := range perDest {
			if _, ok := perDestX[i]; !ok {
				delete(perDest, i)
			}
		}
		if len(global) == 0 && len(perDest) == 0 {
			return
		}
		global = append(global, "(not within the exception either: "+why+", bounded by "+x.String()+")")
	}
	var problems []string
	problems = append(problems, global...)
	for i := range outB {
		problems = append(problems, perDest[i]...)
	}
	t.Errorf("%s: config %q, withdrawn %v\n  A: %v\n  B: %v\n%s", label, lessConsentConfigs[lc.config].name, lc.withdrawn,
		lc.a.String(), lc.b.String(), strings.Join(problems, "\n"))
}

// moreThan returns what outcome B holds beyond outcome A: in the engine's
// answer, and per destination in its records.
func moreThan(en *Engine, outA []sent, resA Result, outB []sent, resB Result) (global []string, perDest map[int][]string) {
	bad := func(format string, args ...any) { global = append(global, fmt.Sprintf(format, args...)) }
	if resB.Purposes&^resA.Purposes != 0 {
		bad("purposes %v; with more consent %v", resB.Purposes, resA.Purposes)
	}
	if resB.State > resA.State {
		bad("state %v; with more consent %v", resB.State, resA.State)
	}
	if resB.AdPersonalization && !resA.AdPersonalization {
		bad("ad_personalization granted; not with more consent")
	}
	if resB.Dests&^resA.Dests != 0 {
		bad("destinations %b allowed; with more consent %b", resB.Dests, resA.Dests)
	}
	perDest = map[int][]string{}
	for i := range outB {
		a, b := outA[i], outB[i]
		name := en.dests[i].name
		switch {
		case !b.gets:
		case !a.gets && crawlerDropped(a, b):
		case !a.gets:
			perDest[i] = append(perDest[i], fmt.Sprintf("%s gets a record it does not get with more consent (%s):\n  B %s", name, a.why, b.raw))
		default:
			for _, p := range recordtest.Exceeds(a.record, b.record) {
				perDest[i] = append(perDest[i], fmt.Sprintf("%s: %s\n  A %s\n  B %s", name, p, a.raw, b.raw))
			}
		}
	}
	return global, perDest
}

// crawlerDropped reports the documented case where a destination gets a
// crawler's event with less consent but not with more: the built-in
// policies flag crawlers under none and analytics and drop them under ads
// (README, "Policies: what each field becomes", the crawlers row), so a
// crawler that loses ads is recorded, flagged. A crawler is no person whose
// consent was withdrawn. The record must say bot.
func crawlerDropped(a, b sent) bool {
	return strings.Contains(a.why, "policy drops this user agent") && b.record["bot"] == true
}

// lessConsentException returns, where a documented rule lets B's outcome
// exceed A's, the signals whose outcome bounds B's instead, and the rule:
//
//   - A malformed or rejected grant signal (a TC string that does not
//     decode, is expired, dated in the future, global or without the
//     disclosed vendors segment; gdpr=1 without a string; copies that
//     conflict; a GPP section beacongate cannot read) "says the configured
//     default for every purpose it could speak for" (SIGNALS.md, Combining
//     signals, 1), not "no": with a consent.default that is not empty, such
//     a signal can grant what a valid copy of it refused, but never what a
//     readable reading on the same request refuses, of another signal or of
//     its own (a valid tcfeuv2 section in a GPP string that also carries a
//     section beacongate cannot read): under either merge rule
//     (consent.TestUnreadableSignalNeverOverridesAReadableRefusal,
//     consent.TestUnreadableSectionDoesNotHideAReadableRefusal). B is then
//     bounded by the default minus every purpose a readable reading of B
//     refuses (readableRefusals): a request with the explicit field listing
//     just those, or without any signal where nothing is taken away. Copies
//     of a TC string that differ are malformed as a whole, and the
//     refusals they hold are not read (SIGNALS.md, Repeated signals).
//   - With consent.tcf.require_valid: false, a TC string that does not
//     decode "is ignored as if it were absent when purposes are decided"
//     (docs/config.md), and so is the gdpr flag that came with it (GDPR
//     still applies to the vendor checks): it can no longer refuse what the
//     other signals grant, as gdpr=1 alone or a valid string would. B is
//     then bounded by B without the string and the flag.
func lessConsentException(en *Engine, lc lessConsentCase, resB Result) (*signals, string) {
	grants := resB.Malformed | resB.Rejected
	grantSignal := false
	for _, sig := range []consent.Signal{consent.SignalExplicit, consent.SignalTCF, consent.SignalGPP, consent.SignalConsentMode} {
		grantSignal = grantSignal || grants.Has(sig)
	}
	if def := en.plan.Consent.Evaluator.Default; grantSignal && def != 0 {
		refused := readableRefusals(en, lc)
		bound := def &^ refused
		if bound == def {
			return &signals{gdpr: -1}, "a malformed or rejected signal says consent.default"
		}
		x := &signals{gdpr: -1, explicit: []string{}}
		for i, name := range lessConsentPurposeNames {
			if bound&(1<<i) != 0 {
				x.explicit = append(x.explicit, name)
			}
		}
		return x, fmt.Sprintf("a malformed or rejected signal says consent.default %v, minus %v a readable reading refuses", def, refused)
	}
	if !en.requireValid && lc.b.tc != nil && lc.b.tcAlone && (lc.b.tcBreak == tcJunk || lc.b.tcBreak == tcTruncated) {
		x := lc.b.clone()
		x.tcAlone, x.gdpr = false, -1
		if !x.tcInGPP {
			x.tc = nil
		}
		return &x, "consent.tcf.require_valid: false ignores an undecodable TC string"
	}
	return nil, ""
}

// readableRefusals returns what the readable grant readings of lc.b refuse:
// each reading (the explicit field, the TC string as B carries it, Consent
// Mode) is sent alone, and one the engine finds malformed or rejected
// refuses nothing. The TC string's reading keeps B's carriers, so copies
// that differ read as the conflict they are and a tcfeuv2 section of a GPP
// string that is not honoured as grants reads as such. Opt-outs are left
// out: they take their purposes off B's answer whatever the merge.
func readableRefusals(en *Engine, lc lessConsentCase) consent.Purposes {
	b := &lc.b
	var readings []signals
	if b.explicit != nil && !b.explicitBad {
		readings = append(readings, signals{gdpr: -1, explicit: b.explicit})
	}
	if b.tc != nil {
		readings = append(readings, signals{gdpr: b.gdpr, tc: b.tc, tcBreak: b.tcBreak,
			tcAlone: b.tcAlone, tcInGPP: b.tcInGPP, gppOther: b.gppOther, gppSID: b.gppSID})
	}
	if b.gcs || b.gcd {
		readings = append(readings, signals{gdpr: -1, gcs: b.gcs, gcd: b.gcd, cm: b.cm})
	}
	var refused consent.Purposes
	for _, x := range readings {
		e := lc.mk()
		x.apply(e)
		_, res := en.Recipients(e)
		if res.Malformed|res.Rejected == 0 {
			refused |= consent.AllPurposes &^ res.Purposes
		}
	}
	return refused
}

// TestLessConsentNeverMoreData: for thousands of seeded cases, an event
// sent with consent signals B that withdraw consent relative to A reaches
// no destination A's does not, and nowhere with a field more precise than
// A's.
func TestLessConsentNeverMoreData(t *testing.T) {
	engines := lessConsentEngines(t)
	n := 6000
	if testing.Short() {
		n = 600
	}
	buf := make([]byte, 160)
	for i := range n {
		r := rand.New(rand.NewPCG(20261124, uint64(i)))
		for j := range buf {
			buf[j] = byte(r.Uint32())
		}
		checkLessConsent(t, engines, fmt.Sprintf("case %d", i), genLessConsentCase(&chooser{b: slices.Clone(buf)}))
	}
}

// FuzzLessConsent is TestLessConsentNeverMoreData on the fuzzer's choices.
func FuzzLessConsent(f *testing.F) {
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{1}, 160))
	engines := lessConsentEngines(f)
	f.Fuzz(func(t *testing.T, choices []byte) {
		checkLessConsent(t, engines, "fuzz", genLessConsentCase(&chooser{b: choices}))
	})
}

// TestLessConsentUnreadableSectionKeepsARefusal is the case the seeded
// stream rarely draws: under consent.merge: priority with default
// [analytics, ads], a GPP string whose valid tcfeuv2 section refuses ads
// gains a tcfcav1 section beacongate cannot read and the request a
// malformed consent field. The malformed field, first in the order, says
// the default, minus the ads the tcfeuv2 section refuses; the exception
// does not allow ads. Before f8d8e51 the evaluator granted ads here.
func TestLessConsentUnreadableSectionKeepsARefusal(t *testing.T) {
	engines := lessConsentEngines(t)
	config := slices.IndexFunc(lessConsentConfigs, func(c struct{ name, yaml string }) bool {
		return c.name == "priority, default analytics and ads"
	})
	spec := tctest.Valid(lessConsentNow.Add(-24 * time.Hour))
	spec.PurposesConsent = []int{1, 8, 9}
	spec.PurposesLI = nil
	lc := lessConsentCase{
		config: config,
		a:      signals{gdpr: 1, tc: &spec, tcInGPP: true},
		mk:     func() *event.Event { return genEvent(&chooser{}) },
	}
	lc.b = lc.a.clone()
	lc.b.gppCA, lc.b.explicitBad = true, true
	lc.withdrawn = []string{"GPP tcfcav1 section added", "consent field made malformed"}
	checkLessConsent(t, engines, "unreadable section", lc)
}
