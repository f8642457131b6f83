package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent/tctest"
	"github.com/beacongate/beacongate/anonymize/recordtest"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/upstream"
)

// This file is anonymize's TestLessConsentNeverMoreData one level up: from
// HTTP requests, through the real handler and the real engine. A case is a
// request (a pixel, a beacon as JSON, a JSON array, a form or multipart
// body, or a BLE ping) carrying consent signals A in every place the gateway
// reads them, with every spelling it accepts (percent-encoded keys and
// values, JSON escapes, equal copies in two places, the TC string in the
// query or body and in cookies, header lines joined or repeated), and the
// same request with signals B that withdraw consent: a GPC or DNT header in
// one of its forms, a second, different copy of a signal in another place
// (a cookie, an encoded key, a repeated header), a purpose or vendor removed
// from every copy, an opt-out, gdpr=1. Copies under names the gateway does
// not read (other case, cookies other than euconsent-v2, a BLE sighting's
// own fields) are added with the most generous values, and must change
// nothing. For every destination, B's record may not exist where A's does
// not, and no field of it may hold more than A's (recordtest.Exceeds).

// httpLessConfigs are the configs every case may run under. None sets a
// consent.default or relaxes consent.tcf.require_valid, the two documented
// ways a malformed signal can grant more than a readable refusal (see
// anonymize's lessConsentException): here every withdrawal must hold.
var httpLessConfigs = []struct{ name, yaml string }{
	{"default config", ""},
	{"most_restrictive", `
consent:
  purposes: [analytics, ads, personalization, precise_geo, device_storage]
` + httpLessDests},
	{"priority", `
consent:
  purposes: [analytics, ads, personalization, precise_geo, device_storage]
  merge: priority
` + httpLessDests},
	{"priority reordered, opt-out signals off", `
consent:
  purposes: [analytics, ads, personalization, precise_geo, device_storage]
  merge: priority
  priority: [consent_mode, gpp, tcf, explicit]
  honour_opt_out_signals: false
` + httpLessDests},
	{"our vendor id, GPP rejected", `
consent:
  purposes: [analytics, ads, personalization, precise_geo]
  gpp: reject
  tcf: {vendor_id: 50}
` + httpLessDests},
}

// httpLessDests are destinations with every kind of requires, TCF vendors
// with consent, legitimate interest and a special feature, and own
// policies that keep more under more consent.
const httpLessDests = `
properties:
  allow: [plan, note, zone]
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
  - name: adsv
    type: file
    requires: [analytics, ads]
    tcf: {vendor_id: 89, purposes: [1, 3, 4, 7]}
  - name: geov
    type: file
    requires: [ads]
    tcf: {vendor_id: 755, purposes: [1, 3, 4], legitimate_interest: [7], special_features: [1]}
  - name: own_ads
    type: file
    requires: [analytics, ads]
    tcf: {without_vendor: true}
`

var httpLessNow = clocktest.Golden

// sigCopy is one copy of a consent signal as a request carries it.
type sigCopy struct {
	name  string // the vocabulary key ("gdpr_consent"), cookie or header name
	value string
	where int8 // field, cookie or header
	// How a field is spelt: the key or value escaped (a query's %XX, a
	// JSON string's \u00XX), consent as a JSON list, gdpr as a JSON number
	// or boolean. The spellings mean the same value.
	escKey, escVal, list, typed bool
	// line puts a cookie or header on a line of its own; lower writes its
	// name in lower case (headers: an HTTP/2 proxy does; cookie names are
	// case-sensitive, so a lower-case cookie is another cookie).
	line, lower bool
}

const (
	whereField int8 = iota
	whereCookie
	whereHeader
)

// httpSignals are the consent signals of one request, in order.
type httpSignals []sigCopy

func (s httpSignals) clone() httpSignals { return slices.Clone(s) }

func (s httpSignals) has(name string) bool {
	return slices.ContainsFunc(s, func(c sigCopy) bool { return c.name == name })
}

func (s httpSignals) String() string {
	var b strings.Builder
	for _, c := range s {
		fmt.Fprintf(&b, "\n    %s %s=%q", [...]string{"field", "cookie", "header"}[c.where], c.name, c.value)
		if c.escKey || c.escVal || c.list || c.typed || c.line || c.lower {
			fmt.Fprintf(&b, " (escKey %v escVal %v list %v typed %v line %v lower %v)", c.escKey, c.escVal, c.list, c.typed, c.line, c.lower)
		}
	}
	return b.String()
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

// tcOf encodes a TC string with the given purposes, vendors (consent,
// legitimate interest and disclosure alike) and special feature 1.
func tcOf(purposes, vendors []int, sf bool) string {
	spec := tctest.Valid(httpLessNow.Add(-24 * time.Hour))
	spec.PurposesConsent = purposes
	spec.VendorConsent, spec.VendorLI, spec.Disclosed = vendors, vendors, append([]int{}, vendors...)
	if !sf {
		spec.SpecialFeatures = nil
	}
	return spec.Encode()
}

// tcFull grants everything every destination could ask for.
var tcFull = tcOf([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []int{32, 50, 89, 755}, true)

// GPP strings: a header with the uspv1 section (6) alone, and that section.
const (
	gppUSPNoOptOut = "DBABTA~1YNN"
	gppUSPOptOut   = "DBABTA~1YYN"
)

var purposeNames = []string{"analytics", "ads", "personalization", "precise_geo", "device_storage"}

// tcState is the TC string's content a case draws; the withdrawals make
// it smaller.
type tcState struct {
	purposes, vendors []int
	sf                bool
}

func (t tcState) encode() string { return tcOf(t.purposes, t.vendors, t.sf) }

// genHTTPSignals draws generous signals A, spread over the places the
// gateway reads them, with equal copies in more than one place.
func genHTTPSignals(c *chooser) (httpSignals, *tcState) {
	var s httpSignals
	field := func(name, value string) sigCopy {
		return sigCopy{name: name, value: value, where: whereField, escKey: c.n(4) == 0, escVal: c.n(4) == 0, list: c.bit(), typed: c.bit()}
	}
	if c.n(3) != 0 {
		s = append(s, field("gdpr", pick(c, "1", "1", "0", "true")))
	}
	var tc *tcState
	if c.n(4) != 0 {
		tc = &tcState{sf: c.n(4) != 0}
		for p := 1; p <= 10; p++ {
			if c.n(8) != 0 {
				tc.purposes = append(tc.purposes, p)
			}
		}
		for _, v := range []int{32, 50, 89, 755} {
			if c.n(6) != 0 {
				tc.vendors = append(tc.vendors, v)
			}
		}
		enc := tc.encode()
		switch c.n(5) {
		case 0, 1:
			s = append(s, field("gdpr_consent", enc))
		case 2:
			s = append(s, sigCopy{name: "euconsent-v2", value: enc, where: whereCookie, line: c.bit()})
		case 3: // the same string in the field and a cookie: one copy
			s = append(s, field("gdpr_consent", enc), sigCopy{name: "euconsent-v2", value: enc, where: whereCookie, line: c.bit()})
		default: // two equal cookies, one on a line of its own
			s = append(s, sigCopy{name: "euconsent-v2", value: enc, where: whereCookie},
				sigCopy{name: "euconsent-v2", value: enc, where: whereCookie, line: true})
		}
	}
	if c.n(3) == 0 {
		s = append(s, field("gcs", pick(c, "G111", "G111", "G101")))
		if c.bit() {
			s = append(s, field("gcd", pick(c, "11t1t1t1t5", "13r3r3r3r5", "11t1t1t1t5")))
		}
	}
	if c.n(4) == 0 {
		s = append(s, field("us_privacy", pick(c, "1YNN", "1---", "1NNY")))
	}
	if c.n(5) == 0 {
		s = append(s, field("gpp", gppUSPNoOptOut))
		if c.bit() {
			s = append(s, field("gpp_sid", "6"))
		}
	}
	if c.n(3) != 0 {
		var list []string
		for _, p := range purposeNames {
			if c.n(6) != 0 {
				list = append(list, p)
			}
		}
		v := "none"
		if len(list) > 0 {
			v = strings.Join(list, ",")
		}
		s = append(s, field("consent", v))
		if c.n(4) == 0 { // an equal copy, spelt otherwise
			s = append(s, field("consent", v))
		}
	}
	if c.n(4) == 0 { // opt-out headers that do not opt out
		s = append(s, sigCopy{name: pick(c, "Sec-GPC", "DNT"), value: pick(c, "0", "0, 0"), where: whereHeader})
	}
	return s, tc
}

// insert adds a copy to s at a drawn position.
func insert(c *chooser, s httpSignals, cp sigCopy) httpSignals {
	return slices.Insert(s, c.n(len(s)+1), cp)
}

// withdrawHTTP changes s to give less consent, and says how.
func withdrawHTTP(c *chooser, s httpSignals, tc *tcState) (httpSignals, string) {
	switch c.n(14) {
	case 0, 1: // GPC or DNT, in one of their forms
		name := pick(c, "Sec-GPC", "DNT")
		switch c.n(4) {
		case 0:
			return insert(c, s, sigCopy{name: name, value: "1", where: whereHeader}), name + ": 1"
		case 1:
			return insert(c, s, sigCopy{name: name, value: "1", where: whereHeader, lower: true}), strings.ToLower(name) + ": 1"
		case 2:
			s = insert(c, s, sigCopy{name: name, value: "0", where: whereHeader})
			return insert(c, s, sigCopy{name: name, value: "1", where: whereHeader}), name + ": 0 and " + name + ": 1"
		default:
			return insert(c, s, sigCopy{name: name, value: "0, 1", where: whereHeader}), name + ": 0, 1"
		}
	case 2: // a TCF purpose removed from every copy
		if tc != nil && len(tc.purposes) > 0 {
			i := c.n(len(tc.purposes))
			p := tc.purposes[i]
			old := tc.encode()
			tc.purposes = slices.Delete(slices.Clone(tc.purposes), i, i+1)
			return replaceValue(s, old, tc.encode()), fmt.Sprintf("TCF purpose %d removed", p)
		}
	case 3: // a vendor removed from every copy
		if tc != nil && len(tc.vendors) > 0 {
			i := c.n(len(tc.vendors))
			v := tc.vendors[i]
			old := tc.encode()
			tc.vendors = slices.Delete(slices.Clone(tc.vendors), i, i+1)
			return replaceValue(s, old, tc.encode()), fmt.Sprintf("vendor %d removed", v)
		}
	case 4: // a second, different TC string in a cookie
		other := tcOf([]int{1}, nil, false)
		if tc == nil {
			return insert(c, s, sigCopy{name: "gdpr", value: "1", where: whereField}), "gdpr=1"
		}
		return insert(c, s, sigCopy{name: "euconsent-v2", value: other, where: whereCookie, line: c.bit()}), "a different euconsent-v2 cookie"
	case 5: // a different TC string in the field, beside the cookie or field
		if tc != nil {
			other := pick(c, tcOf([]int{1, 8}, []int{50}, false), "")
			return insert(c, s, sigCopy{name: "gdpr_consent", value: other, where: whereField, escKey: c.bit()}), fmt.Sprintf("gdpr_consent=%q beside the TC string", other)
		}
	case 6: // a purpose removed from the explicit field
		for i, cp := range s {
			if cp.name == "consent" && cp.value != "none" {
				list := strings.Split(cp.value, ",")
				j := c.n(len(list))
				gone := list[j]
				list = slices.Delete(list, j, j+1)
				v := "none"
				if len(list) > 0 {
					v = strings.Join(list, ",")
				}
				return replaceValue(s, s[i].value, v), "explicit " + gone + " removed"
			}
		}
		return insert(c, s, sigCopy{name: "consent", value: "none", where: whereField, escKey: c.bit()}), "consent=none added"
	case 7: // a second explicit copy that differs, under an escaped key
		v := pick(c, "analytics", "none", "", "ANALYTICS,ADS")
		if !s.has("consent") {
			v = "none" // a first copy: only a refusal withdraws
		}
		return insert(c, s, sigCopy{name: "consent", value: v, where: whereField, escKey: true, escVal: c.bit()}), fmt.Sprintf("consent=%q, key escaped", v)
	case 8: // US Privacy opt-out of sale
		if !s.has("us_privacy") || c.bit() {
			return insert(c, s, sigCopy{name: "us_privacy", value: "1YYN", where: whereField, escVal: c.bit()}), "us_privacy=1YYN added"
		}
		return replaceName(s, "us_privacy", "1YYN"), "us_privacy=1YYN"
	case 9: // gdpr applies
		return insert(c, s, sigCopy{name: "gdpr", value: pick(c, "1", "${GDPR}", "true"), where: whereField, typed: c.bit()}), "gdpr applies"
	case 10: // a Consent Mode type denied, or a second copy that differs
		if s.has("gcs") && c.bit() {
			return replaceName(s, "gcs", "G100"), "gcs=G100"
		}
		return insert(c, s, sigCopy{name: "gcs", value: pick(c, "G100", "G110"), where: whereField, escKey: c.bit()}), "a gcs copy denying"
	case 11: // GPP: an opt-out, or a second copy
		if s.has("gpp") {
			return replaceName(s, "gpp", gppUSPOptOut), "GPP uspv1 opt-out"
		}
		return insert(c, s, sigCopy{name: "gpp", value: gppUSPOptOut, where: whereField}), "GPP opt-out added"
	case 12: // an empty copy of a value signal
		name := pick(c, "consent", "us_privacy", "gcs", "gdpr_consent", "gpp_sid")
		if s.has(name) {
			return insert(c, s, sigCopy{name: name, value: "", where: whereField}), "an empty " + name + " copy"
		}
	}
	return s, ""
}

// replaceValue gives every copy whose value is old the value v.
func replaceValue(s httpSignals, old, v string) httpSignals {
	for i := range s {
		if s[i].value == old {
			s[i].value = v
		}
	}
	return s
}

// replaceName gives every copy of the signal name the value v.
func replaceName(s httpSignals, name, v string) httpSignals {
	for i := range s {
		if s[i].name == name {
			s[i].value = v
		}
	}
	return s
}

// decoys are copies under names the gateway does not read, with the most
// generous values: if one were read as a signal, it could grant.
func decoys(c *chooser) httpSignals {
	all := strings.Join(purposeNames, ",")
	var out httpSignals
	for _, d := range []sigCopy{
		{name: "Consent", value: all, where: whereField},
		{name: "CONSENT", value: all, where: whereField},
		{name: "Gdpr_Consent", value: tcFull, where: whereField},
		{name: "GDPR", value: "0", where: whereField},
		{name: "consent ", value: all, where: whereField},
		{name: "EUCONSENT-V2", value: tcFull, where: whereCookie},
		{name: "euconsent-v2-x", value: tcFull, where: whereCookie},
		{name: "gcs", value: "G111", where: whereCookie},
		{name: "USPRIVACY", value: "1NNN", where: whereCookie},
		{name: "us_privacy", value: "1NNN", where: whereCookie},
		{name: "Sec-GPC-Ignore", value: "0", where: whereHeader},
	} {
		if c.n(3) == 0 {
			out = append(out, d)
		}
	}
	return out
}

// Request kinds.
const (
	kindPixel = iota
	kindBeaconJSON
	kindBeaconArray
	kindBeaconForm
	kindBeaconMultipart
	kindBLE
	kindCount
)

var kindNames = [...]string{"pixel", "beacon JSON", "beacon JSON array", "beacon form", "beacon multipart", "BLE ping"}

// httpCase is one metamorphic pair.
type httpCase struct {
	config    int
	kind      int
	ctype     string // a JSON beacon's Content-Type
	bleLate   bool   // a BLE ping's signals after its sightings
	a, b      httpSignals
	withdrawn []string
}

func genHTTPCase(c *chooser) httpCase {
	hc := httpCase{config: c.n(len(httpLessConfigs)), kind: c.n(kindCount)}
	hc.ctype = pick(c, "text/plain;charset=UTF-8", "application/json", "")
	hc.bleLate = c.bit()
	var tc *tcState
	hc.a, tc = genHTTPSignals(c)
	hc.b = hc.a.clone()
	for tries := 0; len(hc.withdrawn) < 1+c.n(3) && tries < 12; tries++ {
		var w string
		if hc.b, w = withdrawHTTP(c, hc.b, tc); w != "" {
			hc.withdrawn = append(hc.withdrawn, w)
		}
	}
	if len(hc.withdrawn) == 0 {
		hc.b = append(hc.b, sigCopy{name: "Sec-GPC", value: "1", where: whereHeader})
		hc.withdrawn = append(hc.withdrawn, "Sec-GPC: 1")
	}
	for _, d := range decoys(c) {
		hc.b = insert(c, hc.b, d)
	}
	return hc
}

// escQueryKey percent-encodes the key's first letter (gdpr_consent:
// %67dpr_consent), which the gateway decodes as fasthttp does.
func escQueryKey(k string) string { return fmt.Sprintf("%%%02X", k[0]) + k[1:] }

// escQueryValue percent-encodes every byte of v.
func escQueryValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		fmt.Fprintf(&b, "%%%02X", v[i])
	}
	return b.String()
}

// jsonEsc writes s as a JSON string, every letter \u-escaped when esc.
func jsonEsc(s string, esc bool) string {
	if !esc {
		b, _ := json.Marshal(s)
		return string(b)
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	b.WriteByte('"')
	return b.String()
}

// jsonMember writes a field copy as a JSON object member.
func jsonMember(cp sigCopy) string {
	key := jsonEsc(cp.name, cp.escKey)
	switch {
	case cp.name == "consent" && cp.list:
		var items []string
		if cp.value != "none" && cp.value != "" {
			for _, p := range strings.Split(cp.value, ",") {
				items = append(items, jsonEsc(p, cp.escVal))
			}
		} else if cp.value == "none" {
			items = append(items, jsonEsc("none", cp.escVal))
		}
		return key + ":[" + strings.Join(items, ",") + "]"
	case cp.name == "gdpr" && cp.typed && cp.value == "1":
		return key + ":" + pickStr(cp.escVal, "1", "1.0")
	case cp.name == "gdpr" && cp.typed && cp.value == "true":
		return key + ":true"
	case cp.name == "gdpr" && cp.typed && cp.value == "0":
		return key + ":0"
	}
	return key + ":" + jsonEsc(cp.value, cp.escVal)
}

func pickStr(second bool, a, b string) string {
	if second {
		return b
	}
	return a
}

// queryArg writes a field copy as a query or form argument.
func queryArg(cp sigCopy) string {
	k := url.QueryEscape(cp.name)
	if cp.escKey {
		k = escQueryKey(cp.name)
	}
	v := url.QueryEscape(cp.value)
	if cp.escVal {
		v = escQueryValue(cp.value)
	}
	return k + "=" + v
}

// The request's other data: personal data of every kind the policies
// treat, the same in A and B.
const (
	lessUA       = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	lessURL      = "https://shop.example/account/jane.doe@example.org/orders?gclid=EAIaIQobChMIplanted&utm_source=news"
	lessRef      = "https://mail.example/inbox?to=jane.doe%40example.org"
	lessUID      = "user-8812"
	lessCID      = "1234567890.1700000000"
	lessPeer     = "81.2.69.142"
	lessBoundary = "----formdata-lessconsent"
	bleUUID      = "f7826da6-4fa2-4e98-8024-bc5b71e0893e"
	bleDevice    = "a4:5e:60:e8:1b:2c"
)

// render builds the raw HTTP request of kind carrying signals s.
func (hc *httpCase) render(s httpSignals) []byte {
	headers := []string{"User-Agent", lessUA, "Accept-Language", "de-DE,de;q=0.9"}
	var cookieLine []string
	var cookieLines []string
	var fields []sigCopy
	for _, cp := range s {
		switch cp.where {
		case whereField:
			fields = append(fields, cp)
		case whereCookie:
			if cp.line {
				cookieLines = append(cookieLines, cp.name+"="+cp.value)
			} else {
				cookieLine = append(cookieLine, cp.name+"="+cp.value)
			}
		case whereHeader:
			name := cp.name
			if cp.lower {
				name = strings.ToLower(name)
			}
			headers = append(headers, name, cp.value)
		}
	}
	if len(cookieLine) > 0 {
		headers = append(headers, "Cookie", strings.Join(append([]string{"_ga=GA1.1.1"}, cookieLine...), "; "))
	}
	for _, l := range cookieLines {
		headers = append(headers, "Cookie", l)
	}
	ts := httpLessNow.Add(-time.Minute).UnixMilli()
	switch hc.kind {
	case kindPixel, kindBeaconForm:
		args := []string{"site=shop.example", "url=" + url.QueryEscape(lessURL), "ref=" + url.QueryEscape(lessRef),
			"uid=" + lessUID, "cid=" + lessCID, "p.plan=pro", "p.note=" + url.QueryEscape("call +49 30 1234567")}
		for _, f := range fields {
			args = append(args, queryArg(f))
		}
		q := strings.Join(args, "&")
		if hc.kind == kindPixel {
			return rawRequest("GET", "/p.gif?"+q, nil, headers...)
		}
		return rawRequest("POST", "/b", []byte(q), append(headers, "Content-Type", "application/x-www-form-urlencoded")...)
	case kindBeaconMultipart:
		var b bytes.Buffer
		part := func(k, v string) {
			fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", lessBoundary, k, v)
		}
		part("site", "shop.example")
		part("url", lessURL)
		part("ref", lessRef)
		part("uid", lessUID)
		part("cid", lessCID)
		part("p.plan", "pro")
		for _, f := range fields {
			part(f.name, f.value) // a part's name and content are taken as sent
		}
		fmt.Fprintf(&b, "--%s--\r\n", lessBoundary)
		return rawRequest("POST", "/b", b.Bytes(), append(headers, "Content-Type", "multipart/form-data; boundary="+lessBoundary)...)
	case kindBeaconJSON, kindBeaconArray:
		obj := func(name string) string {
			m := []string{`"site":"shop.example"`, `"event":"` + name + `"`, `"url":` + jsonEsc(lessURL, false), `"ref":` + jsonEsc(lessRef, false),
				`"uid":"` + lessUID + `"`, `"cid":"` + lessCID + `"`, `"props":{"plan":"pro","note":"call +49 30 1234567"}`}
			for _, f := range fields {
				m = append(m, jsonMember(f))
			}
			return "{" + strings.Join(m, ",") + "}"
		}
		body := obj("first")
		if hc.kind == kindBeaconArray {
			body = "[" + obj("first") + "," + obj("second") + "]"
		}
		if hc.ctype != "" {
			headers = append(headers, "Content-Type", hc.ctype)
		}
		return rawRequest("POST", "/b", []byte(body), headers...)
	default: // BLE
		sightings := fmt.Sprintf(`"sightings":[{"uuid":%q,"major":1,"minor":2,"rssi":-60,"ts":%d,"mac":%q,"props":{"zone":"z1"},"consent":%q,"gdpr":0},`+
			`{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-70,"ts":%d,"adid":"38400000-8cf0-11bd-b23e-10b96e40000d","props":{"zone":"z2"}}]`,
			bleUUID, ts, bleDevice, strings.Join(purposeNames, ","), ts)
		m := []string{`"site":"shop.example"`, `"store":"berlin-01"`, `"sensor":"gate-3"`, `"props":{"plan":"pro"}`}
		if !hc.bleLate { // signals after the list: it is read again with them
			m = append(m, sightings)
		}
		for _, f := range fields {
			m = append(m, jsonMember(f))
		}
		if hc.bleLate {
			m = append(m, sightings)
		}
		return rawRequest("POST", "/ble", []byte("{"+strings.Join(m, ",")+"}"), append(headers, "Content-Type", "application/json")...)
	}
}

// eventRecords are one event's records, by destination name.
type eventRecords map[string]map[string]any

// httpOutcome is what a request produced: per event (named by its
// event name and BLE zone), each destination's record.
type httpOutcome struct {
	events map[string]eventRecords
	raw    map[string]map[string]string
}

// sendHTTP runs raw through the pipeline's gateway and collects its
// records.
func sendHTTP(t testing.TB, p *pipeline, dr *driver, raw []byte) httpOutcome {
	t.Helper()
	p.sp.records, p.sp.routes = p.sp.records[:0], p.sp.routes[:0]
	resp := dr.do(raw)
	if sc := resp.StatusCode(); sc != 200 && sc != 204 {
		t.Fatalf("status %d: %s\n%s", sc, resp.Body(), raw)
	}
	if len(p.sp.records) == 0 {
		t.Fatalf("no record (every request has a destination without requires)\n%s", raw)
	}
	out := httpOutcome{events: map[string]eventRecords{}, raw: map[string]map[string]string{}}
	for i, rec := range p.sp.records {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(rec))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("record is not JSON: %v\n%s", err, rec)
		}
		key := fmt.Sprint(m["event"])
		if b, ok := m["ble"].(map[string]any); ok {
			key += "/" + fmt.Sprint(b["zone"])
		}
		if out.events[key] == nil {
			out.events[key], out.raw[key] = eventRecords{}, map[string]string{}
		}
		for j, name := range p.names {
			if p.sp.routes[i]&upstream.RouteTo(j) != 0 {
				if _, dup := out.events[key][name]; dup {
					t.Fatalf("event %s: two records for %s", key, name)
				}
				out.events[key][name], out.raw[key][name] = m, rec
			}
		}
	}
	return out
}

// purposesOf reads a record's consent purposes.
func purposesOf(rec map[string]any) []string {
	c, _ := rec["consent"].(map[string]any)
	l, _ := c["purposes"].([]any)
	var out []string
	for _, p := range l {
		out = append(out, fmt.Sprint(p))
	}
	return out
}

// checkHTTPLess sends A and B and reports where B's records hold more.
func checkHTTPLess(t testing.TB, pipes []*pipeline, label string, hc httpCase) {
	t.Helper()
	p := pipes[hc.config]
	dr := newDriver(p.g, lessPeer)
	rawA, rawB := hc.render(hc.a), hc.render(hc.b)
	outA := sendHTTP(t, p, dr, rawA)
	outB := sendHTTP(t, p, dr, rawB)
	var problems []string
	if len(outA.events) != len(outB.events) {
		problems = append(problems, fmt.Sprintf("%d events; with more consent %d", len(outB.events), len(outA.events)))
	}
	for ev, recsB := range outB.events {
		recsA := outA.events[ev]
		for _, name := range p.names {
			b, ok := recsB[name]
			if !ok {
				continue
			}
			a, ok := recsA[name]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: %s gets a record it does not get with more consent:\n  B %s", ev, name, outB.raw[ev][name]))
				continue
			}
			var more []string
			for _, pb := range purposesOf(b) {
				if !slices.Contains(purposesOf(a), pb) {
					more = append(more, "purpose "+pb)
				}
			}
			more = append(more, recordtest.Exceeds(a, b)...)
			for _, m := range more {
				problems = append(problems, fmt.Sprintf("%s: %s: %s\n  A %s\n  B %s", ev, name, m, outA.raw[ev][name], outB.raw[ev][name]))
			}
		}
	}
	if len(problems) > 0 {
		t.Errorf("%s: %s, config %q, withdrawn %v\n  A:%v\n  B:%v\n%s\n--- request B:\n%s", label, kindNames[hc.kind], httpLessConfigs[hc.config].name,
			hc.withdrawn, hc.a, hc.b, strings.Join(problems, "\n"), rawB)
	}
}

// httpLessPipelines builds a pipeline per config, on the pinned clock.
func httpLessPipelines(t testing.TB) []*pipeline {
	t.Helper()
	var out []*pipeline
	for _, c := range httpLessConfigs {
		out = append(out, newPipelineGateway(t, c.yaml, "", httpLessNow))
	}
	return out
}

// TestLessConsentOverHTTP: for seeded cases, a request whose consent
// signals B withdraw consent relative to A's, wherever and however the
// signals are written, reaches no destination A's does not, and nowhere
// with a field more precise than A's.
func TestLessConsentOverHTTP(t *testing.T) {
	pipes := httpLessPipelines(t)
	n := 3000
	if testing.Short() {
		n = 400
	}
	buf := make([]byte, 128)
	for i := range n {
		r := rand.New(rand.NewPCG(20261124, uint64(i)))
		for j := range buf {
			buf[j] = byte(r.Uint32())
		}
		checkHTTPLess(t, pipes, fmt.Sprintf("case %d", i), genHTTPCase(&chooser{b: slices.Clone(buf)}))
	}
}

// FuzzLessConsentOverHTTP is TestLessConsentOverHTTP on the fuzzer's
// choices.
func FuzzLessConsentOverHTTP(f *testing.F) {
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{1}, 128))
	f.Add(bytes.Repeat([]byte{2, 7}, 64))
	for k := range kindCount {
		f.Add([]byte{1, byte(k), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})
	}
	pipes := httpLessPipelines(f)
	f.Fuzz(func(t *testing.T, choices []byte) {
		checkHTTPLess(t, pipes, "fuzz", genHTTPCase(&chooser{b: choices}))
	})
}

// TestRepeatedSignalsOverHTTP sends one signal in two places, or spelt two
// ways, in every kind of request, and checks what SIGNALS.md ("Repeated
// signals") says: copies that differ are a refusal, equal copies count once,
// an opt-out header counts if any copy says 1, and a name the gateway does
// not read (another case, another cookie, a BLE sighting's own fields)
// changes nothing.
func TestRepeatedSignalsOverHTTP(t *testing.T) {
	p := newPipelineGateway(t, goldenConfig, "", httpLessNow)
	dr := newDriver(p.g, lessPeer)
	// Vendor 14 (retargeting) has consent in tcAll; tcOne consents to
	// purpose 1 alone.
	spec := tctest.Valid(httpLessNow.Add(-24 * time.Hour))
	spec.VendorConsent, spec.VendorLI, spec.Disclosed = []int{14}, []int{14}, []int{14}
	tcAll := spec.Encode()
	spec.PurposesConsent = []int{1}
	tcOne := spec.Encode()
	explicit := sigCopy{name: "consent", value: "analytics,ads", where: whereField}
	f := func(name, v string) sigCopy { return sigCopy{name: name, value: v, where: whereField} }
	cookie := func(v string, line bool) sigCopy {
		return sigCopy{name: "euconsent-v2", value: v, where: whereCookie, line: line}
	}
	header := func(name, v string) sigCopy { return sigCopy{name: name, value: v, where: whereHeader} }
	for _, c := range []struct {
		name        string
		s           httpSignals
		state, dest string
	}{
		{"explicit alone", httpSignals{explicit}, "ads", "[all,retargeting]"},
		{"TC string in the field and an equal cookie", httpSignals{explicit, f("gdpr_consent", tcAll), cookie(tcAll, false)}, "ads", "[all,retargeting]"},
		{"TC string in two equal cookies on two lines", httpSignals{explicit, cookie(tcAll, false), cookie(tcAll, true)}, "ads", "[all,retargeting]"},
		{"TC string in the field, a different cookie", httpSignals{explicit, f("gdpr_consent", tcAll), cookie(tcOne, false)}, "none", "[all]"},
		{"TC string in a cookie, a different field", httpSignals{explicit, cookie(tcAll, false), f("gdpr_consent", tcOne)}, "none", "[all]"},
		{"TC string in a cookie, a different one on another line", httpSignals{explicit, cookie(tcAll, false), cookie(tcOne, true)}, "none", "[all]"},
		// fasthttp's cookie parser drops a value holding '"' or '\\';
		// such a copy is still a copy that differs, and alone a TC
		// string that does not decode.
		{"TC string in a cookie, a different one with a backslash", httpSignals{explicit, cookie(tcAll, false), cookie(tcOne+`\\`, false)}, "none", "[all]"},
		{"TC string in a cookie, a different one with a quote", httpSignals{explicit, cookie(tcAll, false), cookie(`"`+tcOne, true)}, "none", "[all]"},
		{"a cookie with a quote alone", httpSignals{explicit, cookie(`CO"junk`, false)}, "none", "[all]"},
		{"a quoted TC string and the same in the field", httpSignals{explicit, cookie(`"`+tcAll+`"`, false), f("gdpr_consent", tcAll)}, "ads", "[all,retargeting]"},
		{"TC string in a cookie, an empty field", httpSignals{explicit, cookie(tcAll, false), f("gdpr_consent", "")}, "none", "[all]"},
		{"TC string in a cookie, an escaped key's different copy", httpSignals{explicit, cookie(tcAll, false), {name: "gdpr_consent", value: tcOne, where: whereField, escKey: true}}, "none", "[all]"},
		{"TC string in a cookie, another in a cookie of another case", httpSignals{explicit, cookie(tcAll, false), {name: "EUCONSENT-V2", value: tcOne, where: whereCookie}}, "ads", "[all,retargeting]"},
		{"explicit, an escaped key's different copy", httpSignals{explicit, {name: "consent", value: "analytics", where: whereField, escKey: true}}, "none", "[all]"},
		{"explicit, an escaped value's equal copy", httpSignals{explicit, {name: "consent", value: "analytics,ads", where: whereField, escVal: true, list: true}}, "ads", "[all,retargeting]"},
		{"explicit, an empty copy", httpSignals{explicit, f("consent", "")}, "none", "[all]"},
		{"explicit under another case only", httpSignals{f("Consent", "analytics,ads"), f("CONSENT", "analytics,ads")}, "none", "[all]"},
		{"Sec-GPC 0 then 1", httpSignals{explicit, header("Sec-GPC", "0"), header("Sec-GPC", "1")}, "analytics", "[all]"},
		{"sec-gpc in lower case", httpSignals{explicit, {name: "Sec-GPC", value: "1", where: whereHeader, lower: true}}, "analytics", "[all]"},
		{"DNT 0, 1 on one line", httpSignals{explicit, header("DNT", "0, 1")}, "analytics", "[all]"},
		{"DNT 1 then 0", httpSignals{explicit, header("DNT", "1"), header("DNT", "0")}, "analytics", "[all]"},
		{"us_privacy and an escaped key's opt-out", httpSignals{explicit, f("us_privacy", "1YNN"), {name: "us_privacy", value: "1YYN", where: whereField, escKey: true}}, "analytics", "[all]"},
		{"us_privacy opt-out in the usprivacy cookie", httpSignals{explicit, {name: "usprivacy", value: "1YYN", where: whereCookie}}, "analytics", "[all]"},
		{"us_privacy and a cookie copy that differs", httpSignals{explicit, f("us_privacy", "1YNN"), {name: "usprivacy", value: "1NNN", where: whereCookie}}, "analytics", "[all]"},
		{"us_privacy in a cookie under another name (not read)", httpSignals{explicit, {name: "us_privacy", value: "1YYN", where: whereCookie}}, "ads", "[all,retargeting]"},
		{"gdpr 0 then 1, no TC string", httpSignals{explicit, f("gdpr", "0"), {name: "gdpr", value: "1", where: whereField, typed: true}}, "none", "[all]"},
		{"gcs and a denying copy", httpSignals{explicit, f("gcs", "G111"), {name: "gcs", value: "G100", where: whereField, escKey: true}}, "none", "[all]"},
	} {
		for kind := range kindCount {
			for _, late := range []bool{false, true} {
				if late && kind != kindBLE {
					continue
				}
				hc := httpCase{kind: kind, ctype: "text/plain", bleLate: late}
				raw := hc.render(c.s)
				out := sendHTTP(t, p, dr, raw)
				for ev, recs := range out.events {
					var dests []string
					state := ""
					for _, name := range p.names {
						if r, ok := recs[name]; ok {
							dests = append(dests, name)
							cs, _ := r["consent"].(map[string]any)
							state = fmt.Sprint(cs["state"])
						}
					}
					if got := "[" + strings.Join(dests, ",") + "]"; state != c.state || got != c.dest {
						t.Errorf("%s, %s (signals late %v), event %s: state %s to %s; want %s to %s\n%s", c.name, kindNames[kind], late, ev, state, got, c.state, c.dest, raw)
					}
				}
			}
		}
	}
}

// TestTCCookieLines reads euconsent-v2 cookies from the raw Cookie lines
// as fasthttp does (a line folded onto the next continues it, names and
// values trimmed, a value unquoted), and also where fasthttp drops one.
func TestTCCookieLines(t *testing.T) {
	p, dr, tcAll, tcOne := newTCCookieRig(t)
	for _, c := range []struct {
		name, cookies, want string
	}{
		{"one cookie", "Cookie: a=1; euconsent-v2=" + tcAll, "[all,retargeting]"},
		{"spaces and quotes", "Cookie: a=1 ;  euconsent-v2 = \"" + tcAll + "\" ", "[all,retargeting]"},
		{"folded line, equal copy", "Cookie: a=1;\r\n euconsent-v2=" + tcAll + "\r\nCookie: euconsent-v2=" + tcAll, "[all,retargeting]"},
		{"folded line, different copy", "Cookie: a=1;\r\n\teuconsent-v2=" + tcOne + "\r\nCookie: euconsent-v2=" + tcAll, "[all]"},
		{"a folded line after another header", "X-Other: a\r\n euconsent-v2=" + tcOne + "\r\nCookie: euconsent-v2=" + tcAll, "[all,retargeting]"},
		{"lower-case header name", "cookie: euconsent-v2=" + tcOne + "\r\nCOOKIE: euconsent-v2=" + tcAll, "[all]"},
		{"a backslash in a second copy", "Cookie: euconsent-v2=" + tcAll + "; euconsent-v2=" + tcAll + `\`, "[all]"},
		{"an empty cookie", "Cookie: euconsent-v2=; euconsent-v2=\"\"; euconsent-v2=" + tcAll, "[all,retargeting]"},
		{"a cookie named like it", "Cookie: xeuconsent-v2=" + tcOne + "; euconsent-v2x=" + tcOne + "; euconsent-v2=" + tcAll, "[all,retargeting]"},
	} {
		if got := pixelDestinationsWithCookies(t, p, dr, c.cookies); got != c.want {
			t.Errorf("%s: routed to %s; want %s", c.name, got, c.want)
		}
	}
}

// newTCCookieRig returns the golden pipeline and a driver for the cookie
// tests, with two TC strings for vendor 14: tcAll, whose purposes route the
// pageview to "all" and "retargeting", and tcOne, purpose 1 alone.
func newTCCookieRig(t *testing.T) (p *pipeline, dr *driver, tcAll, tcOne string) {
	t.Helper()
	p = newPipelineGateway(t, goldenConfig, "", httpLessNow)
	dr = newDriver(p.g, lessPeer)
	spec := tctest.Valid(httpLessNow.Add(-24 * time.Hour))
	spec.VendorConsent, spec.VendorLI, spec.Disclosed = []int{14}, []int{14}, []int{14}
	tcAll = spec.Encode()
	spec.PurposesConsent = []int{1}
	tcOne = spec.Encode()
	return p, dr, tcAll, tcOne
}

// pixelDestinationsWithCookies sends a pixel granting analytics and ads
// with the header lines cookies and returns the destinations its pageview
// reached, as "[a,b]".
func pixelDestinationsWithCookies(t *testing.T, p *pipeline, dr *driver, cookies string) string {
	t.Helper()
	raw := "GET /p.gif?site=shop.example&consent=analytics,ads HTTP/1.1\r\nHost: collect.example\r\n" + cookies + "\r\n\r\n"
	out := sendHTTP(t, p, dr, []byte(raw))
	var dests []string
	for _, name := range p.names {
		if _, ok := out.events["pageview"][name]; ok {
			dests = append(dests, name)
		}
	}
	return "[" + strings.Join(dests, ",") + "]"
}

// TestTCCookieFoldedLines: a Cookie line folded onto the next (obs-fold)
// is read as fasthttp reads it, as one value whose fold is a single space
// (RFC 9112, 5.2), not as lines that each start a cookie. A line "Cookie:"
// with nothing after the colon but a fold still carries cookies; a value
// or a name split by a fold is the joined one, and a name that only
// follows a fold inside another cookie's value is no cookie.
func TestTCCookieFoldedLines(t *testing.T) {
	p, dr, tcAll, tcOne := newTCCookieRig(t)
	for _, c := range []struct {
		name, cookies, want string
	}{
		{"a space inside the value, no fold", "Cookie: euconsent-v2=" + tcAll + " x", "[all]"},
		{"a fold inside the value", "Cookie: euconsent-v2=" + tcAll + "\r\n x", "[all]"},
		{"a fold inside the value, tab and spaces", "Cookie: euconsent-v2=" + tcAll + " \r\n\t x ", "[all]"},
		{"an empty Cookie line folded", "Cookie: euconsent-v2=" + tcAll + "\r\nCookie:\r\n euconsent-v2=" + tcOne, "[all]"},
		{"an empty Cookie line folded, equal copy", "Cookie: euconsent-v2=" + tcAll + "\r\nCookie:\r\n euconsent-v2=" + tcAll, "[all,retargeting]"},
		{"the equals sign on a folded line", "Cookie: euconsent-v2=" + tcAll + "\r\nCookie: a=1; euconsent-v2\r\n =" + tcOne, "[all]"},
		{"the name inside a folded value", "Cookie: euconsent-v2=" + tcAll + "; a=1\r\n euconsent-v2=" + tcOne, "[all,retargeting]"},
		{"a fold after a semicolon", "Cookie: a=1\r\n ; euconsent-v2=" + tcAll + ";\r\n\tb=2", "[all,retargeting]"},
		{"a fold before the value", "Cookie: a=1; euconsent-v2=\r\n " + tcAll, "[all,retargeting]"},
		{"a fold inside the quotes", "Cookie: a=1; euconsent-v2=\"\r\n " + tcAll + "\"", "[all]"},
		{"a quoted value folded at its ends", "Cookie: a=1; euconsent-v2=\"" + tcAll + "\"\r\n ;", "[all,retargeting]"},
	} {
		if got := pixelDestinationsWithCookies(t, p, dr, c.cookies); got != c.want {
			t.Errorf("%s: routed to %s; want %s", c.name, got, c.want)
		}
	}
}

// TestBeaconQueryNotRead: POST /b and /ble read their body only (README,
// Request vocabulary); a query string on them is no signal.
func TestBeaconQueryNotRead(t *testing.T) {
	p := newPipelineGateway(t, goldenConfig, "", httpLessNow)
	dr := newDriver(p.g, lessPeer)
	raw := rawRequest("POST", "/b?consent=none&gdpr=1", []byte(`{"site":"shop.example","consent":"analytics,ads"}`), "Content-Type", "text/plain")
	out := sendHTTP(t, p, dr, raw)
	if _, ok := out.events["event"]["retargeting"]; !ok {
		t.Errorf("the query's consent=none and gdpr=1 were read: %v", out.raw)
	}
}
