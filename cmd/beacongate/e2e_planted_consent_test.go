package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent/tctest"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

// The personal data TestE2EPlantedDataUnderEveryConsentSignal plants.
const (
	plEmail    = "jane.planted@example.org"
	plPhone    = "+49 30 98765432"
	plPhoneDig = "4930987654" + "32"
	plIPv4     = "203.0.113.77"
	plIPv6     = "2001:db8:abcd:12:3456:789a:bcde:f012"
	plUID      = "uid-planted-4471"
	plCID      = "cid-planted-8812"
	plMAC      = "a4:5e:60:e8:1b:2c"
	plLat      = "52.520008"
	plLng      = "13.404954"
	plUA       = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.85 Safari/537.36 PlantedBuild/4417"
	// The user agent of an app's web view, which appends the visitor's
	// own user and client ids: pixels and beacons send it (a BLE ping's
	// events have no ids of their own to find in it).
	plUAIDs    = plUA + " ShopApp/5.2 (user " + plUID + "; device " + plCID + ")"
	plTokPath  = "PATHTOKENa8f7d6e5c4b3a2f1e0d9"
	plTokQuery = "QUERYTOKENz9y8x7w6v5u4t3s2r1"
	plTokFrag  = "FRAGTOKENq1w2e3r4t5y6u7i8o9"
	plRefUser  = "Zelda"
	// As German forms and letters write them: the tax id grouped as
	// printed, a phone with the area code set off by " / ", a date of
	// birth in a kebab-case form field.
	plTaxID     = "65 929 970 489"
	plTaxDig    = "659299" + "70489"
	plPhoneSl   = "0151 / 2468 1357"
	plPhoneSlSp = "2468 1357"
	plPhoneSlD  = "2468" + "1357"
	plDOB       = "1987-03-14"
	// The e-mail address escaped once and twice, as forms post it.
	plEmail40   = "jane.planted%40example.org"
	plEmail2540 = "jane.planted%2540example.org"
	// Written as markup and national notations write them: the dots as
	// German sites write them between brackets, the at sign's reference
	// escaped twice, the phone's groups set off by &nbsp;, a Russian
	// number with its trunk prefix 8.
	plEmailPunkt  = "jane.planted [at] example [punkt] org"
	plEmailAmp    = "jane.planted&amp;#64;example.org"
	plPhoneNbsp   = "+49&nbsp;30&nbsp;98765432"
	plPhoneRU     = "8-912-345-67-89"
	plPhoneRUTail = "345-67-89"
)

// plantedCase is one combination of consent signals.
type plantedCase struct {
	name    string
	q       url.Values // signals, as pixel parameters and JSON members
	headers []string
	ads     bool // the ad platforms may get the case's events
	vendor  bool // the IAB vendor 755 (a file sink) may get them
}

// gppHeaderFor encodes a GPP header (version 1) listing the section ids.
func gppHeaderFor(ids ...int) string {
	var w bitWriter
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

// usnatFor encodes a usnat version 1 core with the opt-outs of sale,
// sharing and targeted advertising (1 opted out, 2 did not), nothing else
// refused, and the GPC sub-section when gpc.
func usnatFor(sale, sharing, targeted uint64, gpc bool) string {
	var w bitWriter
	w.put(1, 6)
	for range 6 {
		w.put(1, 2)
	}
	w.put(sale, 2)
	w.put(sharing, 2)
	w.put(targeted, 2)
	w.put(0, 2*12+2*2+8)
	s := w.String()
	if gpc {
		s += ".YA"
	}
	return s
}

type bitWriter struct{ bits []byte }

func (w *bitWriter) put(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		var b byte
		if i < 64 {
			b = byte(v >> uint(i) & 1)
		}
		w.bits = append(w.bits, b)
	}
}

func (w *bitWriter) fib(n int) {
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
	w.bits = append(append(w.bits, code[:top+1]...), 1)
}

func (w *bitWriter) String() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var out []byte
	for i := 0; i < len(w.bits); i += 6 {
		v := 0
		for j := range 6 {
			v <<= 1
			if i+j < len(w.bits) {
				v |= int(w.bits[i+j])
			}
		}
		out = append(out, alphabet[v])
	}
	return string(out)
}

func plantedCases(now time.Time) []plantedCase {
	created := now.Add(-time.Hour)
	tcGrant := tctest.Valid(created)
	tcGrant.VendorConsent, tcGrant.Disclosed = []int{755}, []int{755}
	tcRefuse := tctest.Valid(created)
	tcRefuse.PurposesConsent, tcRefuse.PurposesLI, tcRefuse.SpecialFeatures = nil, nil, nil
	tcRefuse.Disclosed = []int{755}
	tcNoVendor := tctest.Valid(created)
	tcNoVendor.Disclosed = []int{755}
	grant, refuse, noVendor := tcGrant.Encode(), tcRefuse.Encode(), tcNoVendor.Encode()
	const all = "analytics,ads,personalization,precise_geo,device_storage"
	v := func(kv ...string) url.Values {
		q := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	gpcH, dntH := []string{"Sec-GPC", "1"}, []string{"DNT", "1"}
	usnat := gppHeaderFor(7) + "~"
	return []plantedCase{
		{name: "nosignal", q: v()},
		{name: "explicitnone", q: v("consent", "none")},
		{name: "explicitanalytics", q: v("consent", "analytics")},
		{name: "explicitall", q: v("consent", all), ads: true, vendor: true},
		// Ads without analytics: routed to the platforms under their none
		// policy, which keeps nothing they could match on (README).
		{name: "explicitads", q: v("consent", "ads")},
		{name: "tcfgrant", q: v("gdpr", "1", "gdpr_consent", grant), ads: true, vendor: true},
		{name: "tcfrefuse", q: v("gdpr", "1", "gdpr_consent", refuse)},
		{name: "tcfnovendor", q: v("gdpr", "1", "gdpr_consent", noVendor), ads: true},
		{name: "tcfgdprnostring", q: v("gdpr", "1", "consent", all)},
		{name: "gpptcfgrant", q: v("gpp", gppHeaderFor(2)+"~"+grant, "gpp_sid", "2"), ads: true, vendor: true},
		{name: "gpptcfrefuse", q: v("gpp", gppHeaderFor(2)+"~"+refuse, "gpp_sid", "2")},
		{name: "gppusnatnone", q: v("consent", all, "gpp", usnat+usnatFor(2, 2, 2, false), "gpp_sid", "7"), ads: true, vendor: true},
		{name: "gppusnatsale", q: v("consent", all, "gpp", usnat+usnatFor(1, 2, 2, false), "gpp_sid", "7")},
		{name: "gppusnatsharing", q: v("consent", all, "gpp", usnat+usnatFor(2, 1, 2, false), "gpp_sid", "7")},
		{name: "gppusnattargeted", q: v("consent", all, "gpp", usnat+usnatFor(2, 2, 1, false), "gpp_sid", "7")},
		{name: "gppusnatgpc", q: v("consent", all, "gpp", usnat+usnatFor(2, 2, 2, true), "gpp_sid", "7")},
		{name: "gppusnatnosid", q: v("consent", all, "gpp", usnat+usnatFor(1, 2, 2, false))},
		{name: "gppsidnostring", q: v("consent", all, "gpp_sid", "7")},
		{name: "gppuspv1optout", q: v("consent", all, "gpp", gppHeaderFor(6)+"~1YYN", "gpp_sid", "6")},
		{name: "usprivacyoptout", q: v("consent", all, "us_privacy", "1YYN")},
		{name: "usprivacynooptout", q: v("consent", all, "us_privacy", "1YNN"), ads: true, vendor: true},
		{name: "usprivacymalformed", q: v("consent", all, "us_privacy", "1yyn")},
		{name: "usprivacycookieoptout", q: v("consent", all), headers: []string{"Cookie", "usprivacy=1YYN"}},
		{name: "gpc", q: v("consent", all), headers: gpcH},
		{name: "dnt", q: v("consent", all), headers: dntH},
		{name: "gcmgranted", q: v("gcs", "G111", "gcd", "11t1t1t1t5"), ads: true, vendor: true},
		{name: "gcsonly", q: v("gcs", "G111")},
		{name: "gcduserdatadenied", q: v("gcd", "13r3r3q3r5")},
		{name: "gcdpersonalizationdenied", q: v("gcd", "13r3r3r3q5")},
		// Conflicting combinations.
		{name: "tcfgrantgpc", q: v("gdpr", "1", "gdpr_consent", grant), headers: gpcH},
		{name: "tcfgrantdnt", q: v("gdpr", "1", "gdpr_consent", grant), headers: dntH},
		{name: "tcfgrantusprivacy", q: v("gdpr", "1", "gdpr_consent", grant, "us_privacy", "1YYN")},
		{name: "tcfgrantgcsdenied", q: v("gdpr", "1", "gdpr_consent", grant, "gcs", "G100")},
		{name: "tcfrefuseexplicitall", q: v("gdpr", "1", "gdpr_consent", refuse, "consent", all)},
		{name: "gcsgrantedgcdnouserdata", q: v("gcs", "G111", "gcd", "13r3r3q3r5")},
		{name: "explicitallgcdnouserdata", q: v("consent", all, "gcd", "13r3r3q3r5")},
		{name: "explicitallgcsdenied", q: v("consent", all, "gcs", "G100")},
		{name: "gcmgrantedusnattargeted", q: v("gcs", "G111", "gcd", "11t1t1t1t5", "gpp", usnat+usnatFor(2, 2, 1, false), "gpp_sid", "7")},
		{name: "explicitnonegcmgranted", q: v("consent", "none", "gcs", "G111", "gcd", "11t1t1t1t5")},
		{name: "tcfgrantgpcdnt", q: v("gdpr", "1", "gdpr_consent", grant, "consent", all), headers: append(append([]string{}, gpcH...), dntH...)},
	}
}

// TestE2EPlantedDataUnderEveryConsentSignal plants personal data (an
// e-mail, a phone number, a full IPv4 and IPv6 address, user and client
// ids, a device MAC, precise coordinates, a full user agent (for pixels
// and beacons an app's web view's, holding the user and client ids), tokens
// in a URL's path, query and fragment (names as a personalised landing
// page carries them, fn and ln), a referrer naming a person, contact
// fields and free text holding all of them; German forms' tax id grouped
// as printed and as a form sends it, a phone with " / " after the area
// code, kebab-case form fields, the e-mail escaped as %40 and %2540, its
// dots written [punkt], its at sign as &amp;#64;, a phone with &nbsp;
// between its groups, a Russian number with trunk prefix 8) into
// pixels, beacons and BLE pings, under every consent signal and
// conflicting combinations, and sends them through the real gateway to
// file sinks of several policies, an IAB vendor's file sink, an HTTP
// partner that refuses every batch for good and the three ad platforms'
// contract servers. Then it searches every output (sink files, the
// platforms' and the partner's requests, dead letters, spool, the
// gateway's log lines, /metrics, the tap, the audit log, what "beacongate
// explain" says is kept and sent for a sample under each case's signals,
// "beacongate report", "deadletter list" and "audit verify") for each
// value and its trivial encodings: no ad platform may get an event of a
// visitor who opted out by any one signal, no destination a field its
// policy does not keep, and no log line or metric the personal data.
func TestE2EPlantedDataUnderEveryConsentSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	const tok = "e2e-token-0123456789"
	meta := contract.New(t, contract.Meta, "1234567890", tok)
	ga := contract.New(t, contract.GA4, "G-PLANTED1", tok)
	tt := contract.New(t, contract.TikTok, "CPLANTED12345", tok)
	certs, tokFile := writeContractFiles(t, dir, tok, meta, ga, tt)
	// A partner that refuses every batch for good: each is dead-lettered.
	var refusedMu sync.Mutex
	var refused bytes.Buffer
	refLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		refusedMu.Lock()
		refused.Write(b)
		refusedMu.Unlock()
		http.Error(w, "unknown tenant", http.StatusBadRequest)
	}), ReadHeaderTimeout: 5 * time.Second}
	go refSrv.Serve(refLn)
	t.Cleanup(func() { refSrv.Close() })
	retry := `, timeout: 5s, retry: {initial_backoff: 20ms, max_backoff: 300ms}}`
	adPolicy := `    policies:
      ads: {contact: hash, click_ids: keep, user_agent: {action: keep}}
`
	cfg := writeE2EConfig(t, dir, "planted.yaml", `server:
  trusted_proxies: [127.0.0.1/32]
sites:
  - id: shop
    origins: [https://shop.example]
consent:
  purposes: [analytics, ads, personalization, precise_geo, device_storage]
properties:
  allow: [case, note, plan, account]
pseudonym:
  mode: derived
  secret_env: BEACONGATE_PSEUDONYM_SECRET
policies:
  ads:
    user_agent: {action: keep}
destinations:
  - name: warehouse
    type: file
    requires: []
    tcf: {without_vendor: true}
    batch: {max_age: 50ms}
    policies:
      ads: {user_agent: {action: reduce}}
  - name: strict
    type: file
    requires: [analytics]
    tcf: {without_vendor: true}
    batch: {max_age: 50ms}
    policies:
      analytics: {url: path, referrer: origin, properties: drop, ip: {action: drop}}
      ads: {url: path, referrer: origin, properties: drop, ip: {action: drop}, user_agent: {action: reduce}}
  - name: refuser
    type: http
    requires: []
    tcf: {without_vendor: true}
    compression: none
    batch: {max_age: 50ms}
    policies:
      ads: {user_agent: {action: reduce}}
    http: {url: "http://`+refLn.Addr().String()+`/ingest", timeout: 5s, retry: {initial_backoff: 20ms, max_backoff: 300ms}}
  - name: vendor
    type: file
    requires: [analytics, ads]
    tcf: {vendor_id: 755, purposes: [1, 3, 4, 7]}
    batch: {max_age: 50ms}
  - name: meta
    type: meta_capi
    requires: [ads]
    tcf: {without_vendor: true}
    batch: {max_age: 50ms}
`+adPolicy+`    meta_capi: {pixel_id: "1234567890", access_token_file: `+tokFile+`, endpoint: "`+meta.URL()+`"`+retry+`
  - name: ga
    type: ga4
    requires: [ads]
    tcf: {without_vendor: true}
    batch: {max_age: 50ms}
`+adPolicy+`    ga4: {measurement_id: G-PLANTED1, api_secret_file: `+tokFile+`, endpoint: "`+ga.URL()+`"`+retry+`
  - name: tt
    type: tiktok
    requires: [ads]
    tcf: {without_vendor: true}
    batch: {max_age: 50ms}
`+adPolicy+`    tiktok: {event_source_id: CPLANTED12345, access_token_file: `+tokFile+`, endpoint: "`+tt.URL()+`"`+retry+`
`)
	// The commands below (report, deadletter, audit) run at the gateway's
	// time, so that the dead letters' ages against the retention do not
	// depend on the day the test runs.
	pinClocks(t, clocktest.Golden)
	if code, out, errOut := runCLI(t, "config", "check", cfg); code != 0 {
		t.Fatalf("config check: exit %d\n%s%s", code, out, errOut)
	}
	const secret = "planted-secret-0123456789abcdef0123456789"
	p := startGatewayEnv(t, []string{startEnv(clocktest.Golden),
		"SSL_CERT_FILE=" + certs, "BEACONGATE_PSEUDONYM_SECRET=" + secret}, nil, data, cfg)

	// The tap, open before the first event.
	var tapMu sync.Mutex
	var tapBuf bytes.Buffer
	tapResp, err := http.Get("http://" + p.admin + "/tap")
	if err != nil {
		t.Fatal(err)
	}
	defer tapResp.Body.Close()
	go func() {
		b := make([]byte, 32<<10)
		for {
			n, err := tapResp.Body.Read(b)
			tapMu.Lock()
			tapBuf.Write(b[:n])
			tapMu.Unlock()
			if err != nil {
				return
			}
		}
	}()

	page := "https://shop.example/account/" + plUID + "/reset/" + plTokPath + "/" + plEmail + "?token=" + plTokQuery +
		"&email=" + url.QueryEscape(plEmail) + "&phone=" + url.QueryEscape(plPhone) + "&lat=" + plLat + "&lng=" + plLng +
		"&first-name=" + plRefUser + "&fn=" + plRefUser + "&ln=" + plRefUser + "&date-of-birth=" + plDOB + "&x=" + url.QueryEscape(plTaxID) + "&y=" + url.QueryEscape(plPhoneSl) +
		"&c=" + plEmail2540 + "&d=" + url.QueryEscape(plEmail40) + "#access_token=" + plTokFrag
	ref := "https://mail.example/inbox/" + plEmail + "/" + plCID + "?name=" + plRefUser + "&first_name=" + plRefUser + "&ip=" + plIPv4 + "&mac=" + url.QueryEscape(plMAC) +
		"&last-name=" + plRefUser + "&date-of-birth=" + plDOB + "&m=" + plEmail40
	note := "call " + plPhone + " or write to " + plEmail + ", I am at " + plLat + "," + plLng + " (POINT(" + plLng + " " + plLat +
		")) from " + plIPv4 + " / " + plIPv6 + " device " + plMAC +
		"; IdNr " + plTaxID + " (as the form sent it: " + url.QueryEscape(plTaxID) + "), Tel. " + plPhoneSl + ", mail " + plEmail40 + " or " + plEmail2540 +
		"; " + plEmailPunkt + ", " + plEmailAmp + ", Tel. " + plPhoneNbsp + ", " + plPhoneRU
	// The user's own id in a property: the record has its pseudonym only.
	account := "user " + plUID
	cases := plantedCases(clocktest.Golden)
	send := func(c plantedCase, i int) {
		hdr := append([]string{"User-Agent", plUA, "X-Forwarded-For", plIPv4, "Accept-Language", "de-DE"}, c.headers...)
		appHdr := append([]string{"User-Agent", plUAIDs}, hdr[2:]...)
		// The pixel.
		q := url.Values{}
		for k, v := range c.q {
			q[k] = v
		}
		q.Set("site", "shop")
		q.Set("event", "Purchase")
		q.Set("url", page)
		q.Set("ref", ref)
		q.Set("uid", plUID)
		q.Set("cid", plCID)
		q.Set("eid", fmt.Sprintf("casepix%02d", i))
		q.Set("p.case", fmt.Sprintf("case%02dpix", i))
		q.Set("p.note", note)
		q.Set("p.account", account)
		q.Set("p.plan", "pro")
		q.Set("p.em", plEmail)
		q.Set("p.ph", plPhone)
		q.Set("p.fn", plRefUser)
		q.Set("p.ct", "Berlin")
		q.Set("p.zp", "10115")
		getPixel(t, p.url("/p.gif?"+q.Encode()), appHdr...)

		// The beacon, from an IPv6 address.
		m := map[string]any{"site": "shop", "event": "Lead", "url": page, "ref": ref, "uid": plUID, "cid": plCID,
			"eid":   fmt.Sprintf("casebcn%02d", i),
			"props": map[string]any{"case": fmt.Sprintf("case%02dbcn", i), "note": note, "account": account, "em": plEmail, "ph": plPhone}}
		for k := range c.q {
			m[k] = c.q.Get(k)
		}
		post(t, p.url("/b"), m, append(appHdr[:2:2], append([]string{"X-Forwarded-For", plIPv6}, c.headers...)...))

		// The BLE ping (its events take no uid, cid or eid): the device's
		// MAC, and a zone name (written under every policy) with a phone.
		b := map[string]any{"site": "shop", "store": "berlin-01", "sensor": "gate-3",
			"props": map[string]any{"case": fmt.Sprintf("case%02dble", i), "note": note, "zone": "shoes " + plPhone},
			"sightings": []any{map[string]any{"uuid": "f7826da6-4fa2-4e98-8024-bc5b71e0893e", "major": 100, "minor": 7,
				"rssi": -60, "mac": plMAC}}}
		for k := range c.q {
			b[k] = c.q.Get(k)
		}
		post(t, p.url("/ble"), b, hdr)
	}
	for i, c := range cases {
		send(c, i)
	}
	nEvents := 3 * len(cases)
	out := filepath.Join(data, "out")
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, recs := readOut(t, filepath.Join(out, "warehouse"))
		if len(recs) >= nEvents {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("warehouse: %d records of %d\n%s", len(recs), nEvents, p.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Each platform gets the pixel and the beacon of every case that
	// grants ads (the BLE events go to the dead letters of GA4, without a
	// client id, and TikTok, without an offline event set).
	caseRe := regexp.MustCompile(`case(\d\d)(pix|bcn|ble)|case(pix|bcn|ble)(\d\d)`)
	casesIn := func(s *contract.Server) map[string]bool {
		got := map[string]bool{}
		for _, r := range s.Requests() {
			for _, m := range caseRe.FindAllStringSubmatch(r, -1) {
				got[m[0]] = true
			}
		}
		return got
	}
	for _, s := range []*contract.Server{meta, ga, tt} {
		for {
			got, missing := casesIn(s), ""
			for i, c := range cases {
				for _, k := range []string{"pix", "bcn"} {
					if c.ads && !got[fmt.Sprintf("case%02d%s", i, k)] && !got["case"+k+fmt.Sprintf("%02d", i)] {
						missing = c.name
					}
				}
			}
			if missing == "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not get case %s, which grants ads\n%s", s.Platform, missing, p.logText())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// Every event is dead-lettered by the refusing partner.
	for metricValue(t, p, `beacongate_upstream_dead_letter_records_total{destination="refuser"}`) < float64(nEvents) {
		if time.Now().After(deadline) {
			t.Fatalf("refuser: not every event dead-lettered\n%s", p.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // an event that should not arrive would show now
	_, metrics := httpGet(t, "http://"+p.admin+"/metrics")
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.logText())
	}
	tapMu.Lock()
	tap := tapBuf.String()
	tapMu.Unlock()

	// Which cases each platform got: only those that grant ads.
	for _, s := range []*contract.Server{meta, ga, tt} {
		reqs := s.Requests()
		got := map[string]bool{}
		for _, r := range reqs {
			for _, m := range caseRe.FindAllStringSubmatch(r, -1) {
				n := m[1] + m[4]
				var i int
				fmt.Sscanf(n, "%d", &i)
				if i >= len(cases) {
					continue
				}
				got[cases[i].name] = true
				if !cases[i].ads {
					t.Errorf("%s got an event of case %s (%s), which grants no ads", s.Platform, cases[i].name, m[0])
				}
			}
		}
		var names []string
		for n := range got {
			names = append(names, n)
		}
		sort.Strings(names)
		t.Logf("%s: %d requests, cases %v", s.Platform, len(reqs), names)
	}

	// The outputs, each as text.
	outputs := map[string]string{"log": p.logText(), "metrics": string(metrics), "tap": tap}
	refusedMu.Lock()
	outputs["http:refuser"] = refused.String()
	refusedMu.Unlock()
	if _, err := os.Stat(filepath.Join(data, "deadletter", "refuser")); err != nil {
		t.Errorf("no dead letters of refuser: %v", err)
	}

	// The operator's tools, run on the same data directory: explain of a
	// sample carrying the planted data under each case's signals, the
	// record of processing and the dead-letter list.
	t.Setenv("BEACONGATE_PSEUDONYM_SECRET", secret)
	for i, c := range cases {
		q := url.Values{}
		for k, v := range c.q {
			q[k] = v
		}
		q.Set("site", "shop")
		q.Set("event", "Purchase")
		q.Set("url", page)
		q.Set("ref", ref)
		q.Set("uid", plUID)
		q.Set("cid", plCID)
		q.Set("eid", fmt.Sprintf("casexpl%02d", i))
		q.Set("p.note", note)
		q.Set("p.account", account)
		q.Set("p.em", plEmail)
		q.Set("p.ph", plPhone)
		q.Set("p.fn", plRefUser)
		sample := "GET /p.gif?" + q.Encode() + " HTTP/1.1\r\nHost: collect.example\r\nUser-Agent: " + plUAIDs +
			"\r\nX-Forwarded-For: " + plIPv4 + "\r\nAccept-Language: de-DE\r\n"
		for j := 0; j+1 < len(c.headers); j += 2 {
			sample += c.headers[j] + ": " + c.headers[j+1] + "\r\n"
		}
		sampleFile := filepath.Join(dir, "sample-"+c.name+".http")
		if err := os.WriteFile(sampleFile, []byte(sample+"\r\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		at := clocktest.Golden.Format(time.RFC3339)
		code, stdout, stderr := runCLI(t, "explain", "-config", cfg, "-data", data, "-request", sampleFile, "-ip", "127.0.0.1", "-at", at, "-json")
		if code != 0 {
			t.Fatalf("explain %s: exit %d\n%s", c.name, code, stderr)
		}
		// explain shows what arrived (the operator's own sample, contact
		// data left out); what it says leaves is held to the same rules as
		// what leaves.
		var doc any
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("explain %s -json: %v", c.name, err)
		}
		outputs["explain:"+c.name] = explainResults(doc)
		outputs["explain-stderr:"+c.name] = stderr
		code, stdout, stderr = runCLI(t, "explain", "-config", cfg, "-data", data, "-request", sampleFile, "-ip", "127.0.0.1", "-at", at)
		if code != 0 {
			t.Fatalf("explain %s: exit %d\n%s", c.name, code, stderr)
		}
		// Contact data is shown to nobody, not even as it arrived.
		for _, line := range strings.Split(stdout, "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || f[0] != "props.em" && f[0] != "props.ph" && f[0] != "props.fn" && f[0] != "request" {
				continue
			}
			for _, v := range []string{"em=" + url.QueryEscape(plEmail), "ph=" + url.QueryEscape(plPhone), "fn=" + plRefUser, plPhone} {
				if f[0] != "request" && strings.Contains(line, v[3:]) || f[0] == "request" && strings.Contains(line, v) {
					t.Errorf("explain %s shows the contact value %q: %s", c.name, v, line)
				}
			}
		}
		for _, line := range strings.Split(stdout, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "record: ") || strings.HasPrefix(strings.TrimSpace(line), "request: ") {
				outputs["explain-text:"+c.name] += line + "\n"
			}
		}
	}
	for _, args := range [][]string{
		{"report", "-config", cfg, "-data", data},
		{"report", "-config", cfg, "-data", data, "-format", "html"},
		{"deadletter", "list", "-config", cfg, "-data", data, "refuser"},
		{"deadletter", "list", "-config", cfg, "-data", data, "ga"},
		{"deadletter", "replay", "-dry-run", "-config", cfg, "-data", data, "refuser"},
		{"audit", "verify", "-data", data},
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 && code != 3 {
			t.Errorf("%s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		outputs["cli:"+strings.Join(args, " ")] = stdout + stderr
	}
	for _, name := range []string{"warehouse", "strict", "vendor"} {
		b, _ := readOut(t, filepath.Join(out, name))
		outputs["file:"+name] = string(b)
	}
	for _, s := range []*contract.Server{meta, ga, tt} {
		outputs[string(s.Platform)] = strings.Join(s.Requests(), "\n")
	}
	filepath.WalkDir(data, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(path, out+string(filepath.Separator)) {
			return nil
		}
		b, _ := os.ReadFile(path)
		rel, _ := filepath.Rel(data, path)
		outputs["data:"+rel] = string(b)
		return nil
	})

	// Each output searched holds something: an empty one would prove nothing.
	var names []string
	for name, text := range outputs {
		if text == "" && !strings.HasPrefix(name, "data:") && !strings.HasPrefix(name, "explain-stderr:") {
			t.Errorf("output %s is empty", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	t.Logf("%d outputs searched: %s", len(names), strings.Join(names, ", "))
	if !strings.Contains(strings.Join(names, "\n"), "data:deadletter/refuser/") {
		t.Errorf("no dead-letter file of refuser among the outputs")
	}

	// Values that may reach no output in any form.
	never := []string{plPhone, plPhoneDig, "98765432", plIPv4, plIPv6, plUID, plCID, plMAC, "a45e60e81b2c",
		plLat, plLng, plTokPath, plTokQuery, plTokFrag, plRefUser, "jane.planted", "planted@",
		plTaxID, plTaxDig, plPhoneSl, plPhoneSlSp, plPhoneSlD, plDOB, "19870314", plEmail40, plEmail2540,
		plEmailPunkt, plEmailAmp, plPhoneNbsp, plPhoneRU, plPhoneRUTail}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	// The contact hashes may reach the ad platforms (and their records in
	// the spool and the tap), for cases that grant ads only.
	hashes := []string{sum(plEmail), sum(plPhoneDig), sum("+" + plPhoneDig), sum(strings.ToLower(plRefUser))}
	for name, text := range outputs {
		lower := strings.ToLower(text)
		for _, v := range never {
			for _, enc := range encodings(v) {
				if strings.Contains(text, enc) || strings.Contains(lower, strings.ToLower(enc)) {
					t.Errorf("%s holds %q (as %q)%s", name, v, enc, around(text, enc))
				}
			}
			if h := sum(v); v != plPhoneDig && strings.Contains(lower, h) {
				t.Errorf("%s holds the SHA-256 of %q", name, v)
			}
		}
		adsOutput := name == string(contract.Meta) || name == string(contract.GA4) || name == string(contract.TikTok) ||
			name == "tap" || strings.HasPrefix(name, "explain") || strings.HasPrefix(name, "data:spool") || strings.HasPrefix(name, "data:deadletter/meta") ||
			strings.HasPrefix(name, "data:deadletter/ga") || strings.HasPrefix(name, "data:deadletter/tt")
		for _, h := range hashes {
			if strings.Contains(lower, h) && !adsOutput {
				t.Errorf("%s holds a contact hash %s%s", name, h, around(text, h))
			}
		}
		// The full user agent: only the ad platforms' records keep it.
		if strings.Contains(text, "PlantedBuild") && !adsOutput && name != "file:vendor" {
			t.Errorf("%s holds the full user agent%s", name, around(text, "PlantedBuild"))
		}
	}
	// Per record: no contact hash or full user agent where ads is missing.
	for _, name := range []string{string(contract.Meta), string(contract.GA4), string(contract.TikTok), "tap"} {
		for _, line := range strings.Split(outputs[name], "\n") {
			m := caseRe.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			var i int
			fmt.Sscanf(m[1]+m[4], "%d", &i)
			if i >= len(cases) || cases[i].ads {
				continue
			}
			for _, h := range append(hashes, "PlantedBuild", `"contact"`, `"click"`) {
				if strings.Contains(line, h) {
					t.Errorf("%s: case %s, without ads, holds %s: %s", name, cases[i].name, h, line)
				}
			}
		}
	}
	// The vendor's sink: only cases whose TC string allows vendor 755.
	for _, line := range strings.Split(outputs["file:vendor"], "\n") {
		if m := caseRe.FindStringSubmatch(line); m != nil {
			var i int
			fmt.Sscanf(m[1]+m[4], "%d", &i)
			if i < len(cases) && !cases[i].vendor {
				t.Errorf("vendor 755 got case %s: %s", cases[i].name, line)
			}
		}
	}
	// The strict sink keeps no query, properties or address.
	for _, line := range strings.Split(outputs["file:strict"], "\n") {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) != nil {
			continue
		}
		if u, _ := r["url"].(string); strings.ContainsAny(u, "?#") {
			t.Errorf("strict: url %q keeps a query or fragment", u)
		}
		if rf, _ := r["referrer"].(string); strings.Count(rf, "/") > 2 {
			t.Errorf("strict: referrer %q is more than an origin", rf)
		}
		for _, k := range []string{"props", "ip", "user_agent", "contact", "click"} {
			if _, ok := r[k]; ok {
				t.Errorf("strict: record keeps %s: %s", k, line)
			}
		}
	}
}

// explainResults returns explain's JSON document without what arrived
// (fields' "arrived", the request's URI): what it says is kept and sent.
func explainResults(doc any) string {
	var strip func(v any)
	strip = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			delete(v, "arrived")
			if r, ok := v["request"].(map[string]any); ok {
				delete(r, "uri")
			}
			for _, x := range v {
				strip(x)
			}
		case []any:
			for _, x := range v {
				strip(x)
			}
		}
	}
	strip(doc)
	b, _ := json.MarshalIndent(doc, "", " ")
	return string(b)
}

// encodings returns v and its trivial encodings: URL-escaped (query and
// path), base64 (standard and URL alphabets, with and without padding).
func encodings(v string) []string {
	e := []string{v, url.QueryEscape(v), url.PathEscape(v),
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))}
	out := e[:0]
	seen := map[string]bool{}
	for _, s := range e {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// around returns the text around the first occurrence of s, for a report.
func around(text, s string) string {
	i := strings.Index(strings.ToLower(text), strings.ToLower(s))
	if i < 0 {
		return ""
	}
	lo, hi := max(0, i-200), min(len(text), i+len(s)+200)
	return "\n\t..." + text[lo:hi] + "..."
}

// post sends m as JSON to u with the headers given as name, value pairs
// and fails t unless the answer is 2xx.
func post(t *testing.T, u string, m map[string]any, header []string) {
	t.Helper()
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d %s", u, resp.StatusCode, msg)
	}
}
