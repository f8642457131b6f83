package anonymize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent/tctest"
	"github.com/beacongate/beacongate/anonymize/scrub"
	"github.com/beacongate/beacongate/bench/loadgen"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/internal/jsonstr"
)

// cacheConfig routes to destinations with distinct policies, a TCF vendor
// check and a site with routes, so every cached input (consent with vendor
// verdicts, user agent, page URL by site and mode, referrer) reaches a
// record.
const cacheConfig = `
properties:
  allow: [plan, note, cart_value]
consent:
  purposes: [analytics, ads]
  tcf: {max_age: 400d}
sites:
  - id: shop-example
    routes: ["/de-de/damen/schuhe/{slug}/{sku}"]
policies:
  ads:
    user_agent: {action: keep}
destinations:
  - name: warehouse
    type: file
    policies:
      analytics: {url: path, referrer: origin}
  - name: partner
    type: file
    requires: [analytics, ads]
    tcf: {vendor_id: 755, purposes: [1, 3, 4], legitimate_interest: [7], flexible_purposes: [7], special_features: [1]}
  - name: lab
    type: file
    requires: [analytics]
    tcf: {without_vendor: true}
    policies:
      analytics: {url: keep}
`

// mixEvents turns the project's traffic mix (bench/loadgen, seeded; a seed
// divisible by 3 gives BLE requests only) into
// the events the gateway would hand over: one per pixel request and one per
// BLE sighting, the sightings of a batch sharing its consent, agent and
// address as they do in the gateway. Arrival times spread over about a
// year, so TC strings cross consent.tcf.max_age.
func mixEvents(t testing.TB, n int, seed uint64) [][]*event.Event {
	t.Helper()
	m := loadgen.DefaultMix()
	m.Seed = seed
	m.Beacon, m.Malformed = 0, 0
	if seed%3 == 0 { // BLE requests only
		m.Pixel = 0
	}
	m.Now = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	reqs, err := m.Generate(n)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 21))
	vendor := tctest.Valid(m.Now.Add(-200 * 24 * time.Hour))
	vendor.VendorConsent, vendor.VendorLI = []int{755}, []int{755}
	tcs := []string{realTC, tctest.Valid(m.Now.Add(-30 * 24 * time.Hour)).Encode(), vendor.Encode(), "CO_broken", ""}
	var out [][]*event.Event
	for _, r := range reqs {
		common := &event.Event{}
		common.Reset()
		common.ReceivedAt = m.Now.Add(-time.Duration(rng.IntN(400*24)) * time.Hour).Add(time.Duration(rng.IntN(3600)) * time.Second)
		common.ClientIP = netip.MustParseAddr("81.2.69.142")
		for _, h := range r.Headers {
			switch h.Key {
			case "User-Agent":
				common.UserAgent = []byte(h.Value)
			case "Accept-Language":
				common.AcceptLanguage = []byte(h.Value)
			case "Referer":
				common.Referrer = []byte(h.Value)
			case "Sec-GPC":
				common.Consent.GPC = true
			case "DNT":
				common.Consent.DNT = true
			case "Cookie":
				if v, ok := strings.CutPrefix(h.Value, "euconsent-v2="); ok {
					v, _, _ = strings.Cut(v, ";")
					common.Consent.TCString = []byte(v)
				}
			case "X-Forwarded-For":
				common.ClientIP = netip.MustParseAddr(h.Value)
			}
		}
		if rng.IntN(10) == 0 { // a few more TC strings, some broken, some conflicting
			common.Consent.TCString = []byte(tcs[rng.IntN(len(tcs))])
			if rng.IntN(3) == 0 {
				common.Consent.Conflicts |= event.ConflictTCString
			}
		}
		switch r.Kind {
		case loadgen.KindPixel:
			e := common
			e.Kind = event.KindPixel
			_, raw, _ := strings.Cut(r.URI, "?")
			q, err := url.ParseQuery(raw)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range q {
				v := []byte(vs[0])
				switch k {
				case "site":
					e.Site = v
				case "event":
					e.Name = v
				case "url":
					e.URL = v
				case "ref":
					e.Referrer = v
				case "cid":
					e.ClientID = v
				case "uid":
					e.UserID = v
				case "gdpr":
					e.Consent.GDPR = int8(vs[0][0] - '0')
				case "gdpr_consent":
					e.Consent.TCString = v
				case "gcs":
					e.Consent.GCS = v
				case "gcd":
					e.Consent.GCD = v
				case "us_privacy":
					e.Consent.USPrivacy = v
				case "gpp":
					e.Consent.GPP = v
				case "gpp_sid":
					e.Consent.GPPSID = v
				case "consent":
					e.Consent.Explicit = v
				}
			}
			out = append(out, []*event.Event{e})
		case loadgen.KindBLE:
			var b struct {
				Site, Store, Sensor, Consent, GCS string
				Sightings                         []struct {
					UUID, Namespace, Instance, MAC, ADID string
					Major, Minor, RSSI                   int
				}
			}
			if err := json.Unmarshal(r.Body, &b); err != nil {
				t.Fatal(err)
			}
			var batch []*event.Event
			for _, s := range b.Sightings {
				e := &event.Event{}
				e.Reset()
				e.CopyShared(common)
				e.Kind = event.KindBLE
				e.Site, e.Store, e.Sensor = []byte(b.Site), []byte(b.Store), []byte(b.Sensor)
				e.Name = []byte("ble_sighting")
				e.Consent.Explicit, e.Consent.GCS = []byte(b.Consent), []byte(b.GCS)
				sg := &e.Sighting
				sg.UUID, sg.Namespace, sg.Instance = []byte(s.UUID), []byte(s.Namespace), []byte(s.Instance)
				sg.Major, sg.Minor, sg.RSSI, sg.HasRSSI = int32(s.Major), int32(s.Minor), int16(s.RSSI), true
				sg.SeenAtMS = common.ReceivedAt.UnixMilli() - 500
				switch {
				case s.MAC != "":
					sg.DeviceID, sg.DeviceKind = []byte(strings.ToLower(s.MAC)), event.DeviceMAC
					sg.Randomized = rng.IntN(4) == 0
				case s.ADID != "":
					sg.DeviceID, sg.DeviceKind = []byte(s.ADID), event.DeviceAdID
				}
				batch = append(batch, e)
			}
			out = append(out, batch)
		}
	}
	return out
}

// recordsOf runs e through AppendRecords and returns its records, each
// with its destinations, the event id blanked (it is random per record),
// and the Result.
func recordsOf(t testing.TB, en *Engine, e *event.Event, buf []byte) (string, Result) {
	t.Helper()
	var c recipientsCollector
	_, res, err := en.AppendRecords(buf[:0], e, &c)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, rec := range c.recs {
		fmt.Fprintf(&b, "%b %s\n", c.dests[i], blankID(rec))
	}
	return b.String(), res
}

// blankID replaces the value of the record's leading "id" field.
func blankID(rec []byte) []byte {
	const pre = `{"v":1,"id":"`
	if !bytes.HasPrefix(rec, []byte(pre)) {
		return rec
	}
	end := bytes.IndexByte(rec[len(pre):], '"')
	return append([]byte(pre+"-"), rec[len(pre)+end:]...)
}

// uncached returns a copy of en without caches: the reference the
// differential tests compare against.
func uncached(en *Engine) *Engine {
	c := *en
	c.caches = caches{}
	return &c
}

// TestCachesDifferential runs a large seeded mix of pixel hits and BLE
// batches through one engine with warm caches and through the same engine
// without caches: every record (event ids aside) and every Result must be
// identical, and the caches must actually have been hit.
func TestCachesDifferential(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 500
	}
	for _, seed := range []uint64{1, 2, 3} { // 3: BLE requests only
		en := newTestEngine(t, cacheConfig)
		ref := uncached(en)
		buf := make([]byte, 0, 16<<10)
		var all []*event.Event
		for _, batch := range mixEvents(t, n, seed) {
			all = append(all, batch...)
		}
		// One engine after the other, so the scratch's memo of the last
		// user agent does not stand in for the cache.
		want := make([]string, len(all))
		wres := make([]Result, len(all))
		for i, e := range all {
			want[i], wres[i] = recordsOf(t, ref, e, buf)
		}
		events := len(all)
		for i, e := range all {
			got, gres := recordsOf(t, en, e, buf)
			if got != want[i] || gres != wres[i] {
				t.Fatalf("seed %d, event %d: cached engine differs\ncached:   %+v\n%s\nuncached: %+v\n%s", seed, i, gres, got, wres[i], want[i])
			}
		}
		c, ua, u, tx := en.CachesStats()
		t.Logf("seed %d: %d events; hits/misses consent %d/%d, ua %d/%d, url %d/%d, text %d/%d", seed, events, c.Hits, c.Misses, ua.Hits, ua.Misses, u.Hits, u.Misses, tx.Hits, tx.Misses)
		if c.Hits == 0 || ua.Hits == 0 || (u.Hits == 0 && seed%3 != 0) || tx.Hits == 0 {
			t.Fatalf("a cache was never hit: consent %+v, ua %+v, url %+v, text %+v", c, ua, u, tx)
		}
	}
}

// TestConsentCacheChecksDates: a cached decision on a TC string is not
// reused once the string has grown older than consent.tcf.max_age, or when
// an earlier arrival puts it in the future.
func TestConsentCacheChecksDates(t *testing.T) {
	en := newTestEngine(t, cacheConfig)
	ref := uncached(en)
	s := tctest.Valid(clocktest.Golden.Add(-24 * time.Hour))
	s.VendorConsent, s.VendorLI = []int{755}, []int{755}
	tc := s.Encode()
	buf := make([]byte, 0, 16<<10)
	e := plantedEvent("")
	e.Consent.GDPR = 1
	e.Consent.TCString = []byte(tc)
	at0 := clocktest.Golden
	dates := []time.Time{at0, at0.Add(450 * 24 * time.Hour), at0.Add(-450 * 24 * time.Hour), at0, at0.Add(-2 * 24 * time.Hour)}
	states := map[State]bool{}
	for _, at := range dates {
		e.ReceivedAt = at
		want, wres := recordsOf(t, ref, e, buf)
		got, gres := recordsOf(t, en, e, buf)
		if got != want || gres != wres {
			t.Fatalf("at %v: cached %+v, uncached %+v\n%s\n%s", at, gres, wres, got, want)
		}
		states[wres.State] = true
	}
	if len(states) < 2 {
		t.Fatalf("the dates did not change the decision (%v): the test checks nothing", states)
	}
}

// FuzzCachesDifferential feeds arbitrary consent strings, user agents,
// URLs and event names, each twice (a miss, then a hit), then with a click
// id and a query added to the URLs (a hit under a key without them, or a
// miss), to an engine with caches and one without: the records must be
// identical.
func FuzzCachesDifferential(f *testing.F) {
	f.Add("analytics", realTC, "BPh_yAABAAAAAAAAAAAAAAAA", "1YNN", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", "https://shop-example.com/de-de/damen/schuhe/x/SKU-1?gclid=abc&email=a%40b.c", "https://www.google.com/", int8(1), false, "signup a@b.example")
	f.Add("", "CO_broken", "", "", "curl/8.0", "not a url \xff", "", int8(-1), true, "\xff\x00")
	f.Add("ads", "", "G111", "", "", "", "android-app://com.google.android.gm/", int8(0), false, "")
	en := newTestEngine(f, cacheConfig)
	ref := uncached(en)
	f.Fuzz(func(t *testing.T, explicit, tc, gcs, usp, ua, page, referrer string, gdpr int8, conflict bool, name string) {
		e := plantedEvent(explicit)
		e.Site = []byte("shop-example")
		e.Consent.TCString, e.Consent.GCS, e.Consent.USPrivacy = []byte(tc), []byte(gcs), []byte(usp)
		e.Consent.GDPR = gdpr
		if conflict {
			e.Consent.Conflicts = event.ConflictTCString
		}
		e.UserAgent, e.URL, e.Referrer = []byte(ua), []byte(page), []byte(referrer)
		e.Name = []byte(name)
		buf := make([]byte, 0, 16<<10)
		for round := range 3 {
			if round == 2 {
				e.URL = append(e.URL, "&gclid=Cj0KCQiA"+name...)
				e.Referrer = append(e.Referrer, "?q="+name...)
			}
			want, wres := recordsOf(t, ref, e, buf)
			got, gres := recordsOf(t, en, e, buf)
			if got != want || gres != wres {
				t.Fatalf("round %d: cached %+v, uncached %+v\n%s\n%s", round, gres, wres, got, want)
			}
		}
	})
}

// TestCachesConcurrent runs the mix on several goroutines against one
// engine with caches (run with -race): every record must still equal the
// uncached engine's.
func TestCachesConcurrent(t *testing.T) {
	en := newTestEngine(t, cacheConfig)
	ref := uncached(en)
	var all []*event.Event
	for _, batch := range mixEvents(t, 600, 4) {
		all = append(all, batch...)
	}
	want := make([]string, len(all))
	buf := make([]byte, 0, 16<<10)
	for i, e := range all {
		want[i], _ = recordsOf(t, ref, e, buf)
	}
	const workers = 4
	errs := make(chan string, workers)
	for w := range workers {
		go func() {
			buf := make([]byte, 0, 16<<10)
			for k := range all {
				i := (k + w*len(all)/workers) % len(all)
				var c recipientsCollector
				_, _, err := en.AppendRecords(buf[:0], all[i], &c)
				var b strings.Builder
				for j, rec := range c.recs {
					fmt.Fprintf(&b, "%b %s\n", c.dests[j], blankID(rec))
				}
				if err != nil || b.String() != want[i] {
					errs <- fmt.Sprintf("event %d: %v\n%s\nwant\n%s", i, err, b.String(), want[i])
					return
				}
			}
			errs <- ""
		}()
	}
	for range workers {
		if msg := <-errs; msg != "" {
			t.Fatal(msg)
		}
	}
}

// TestBLEBatchDecidesOnce: the sightings of one BLE request, handed to the
// engine one by one as delivery does, decide consent and scan the batch's
// shared free text once; the records equal the uncached engine's.
func TestBLEBatchDecidesOnce(t *testing.T) {
	en := newTestEngine(t, testConfig+`
destinations:
  - {name: warehouse, type: file}
`)
	ref := uncached(en)
	batch := bleBatch(40)
	buf := make([]byte, 0, 16<<10)
	for i, e := range batch {
		want, wres := recordsOf(t, ref, e, buf)
		got, gres := recordsOf(t, en, e, buf)
		if got != want || gres != wres || gres.Records != 1 {
			t.Fatalf("sighting %d: cached %+v, uncached %+v\n%s\n%s", i, gres, wres, got, want)
		}
	}
	// The other 39 are answered by the scratch's memos (memo.go), without
	// a cache lookup: one goroutine, so every call gets the same scratch
	// back (the uncached reference engine uses no memo).
	c, _, _, tx := en.CachesStats()
	if c != (CacheStats{Hits: 0, Misses: 1}) {
		t.Fatalf("consent cache %+v for one request of 40 sightings; want one miss, then the scratch's memo", c)
	}
	// site, event name, store, sensor: each scanned for the first sighting only
	if tx != (CacheStats{Hits: 0, Misses: 4}) {
		t.Fatalf("shared free text: cache %+v; want 4 misses, then the scratch's memo", tx)
	}
}

// TestCachesKeepNoPersonalData: a URL or text in which the cleaner finds
// personal data is cleaned as always but never kept in a cache, whose keys
// are raw request bytes.
func TestCachesKeepNoPersonalData(t *testing.T) {
	for _, consent := range []string{"analytics,ads", "analytics", ""} {
		t.Run("consent="+consent, func(t *testing.T) { testCachesKeepNoPersonalData(t, consent) })
	}
}

func testCachesKeepNoPersonalData(t *testing.T, consent string) {
	en := newTestEngine(t, cacheConfig)
	e := plantedEvent(consent) // e-mail, phone and IBAN in URL, referrer and name
	buf := make([]byte, 0, 16<<10)
	for range 2 {
		if _, res := recordsOf(t, en, e, buf); res.Records == 0 || res.Scrubbed == 0 {
			t.Fatalf("no record, or nothing scrubbed: %+v", res)
		}
	}
	// URLs of which the cleaner reads only the origin, whatever the mode:
	// an app's referrer, another scheme.
	for _, u := range []string{"android-app://com.google.android.gm/?to=" + plantedEmail, "ftp://files.example/u/" + plantedEmail} {
		e := plantedEvent(consent)
		e.Referrer, e.URL = []byte(u), []byte(u)
		recordsOf(t, en, e, buf)
	}
	_, _, _, tx := en.CachesStats()
	if tx.Misses == 0 {
		t.Fatalf("text %+v: no text was looked up", tx)
	}
	keptSite := false
	for i := range en.caches.text.shards {
		for _, s := range en.caches.text.shards[i].slots {
			keptSite = keptSite || s.hash != 0 && string(s.key) == string(e.Site)
		}
	}
	if !keptSite {
		t.Fatal("the clean site id was not kept in the text cache")
	}
	// Nor in a scratch's memo of the last texts.
	scratches.mu.Lock()
	for _, sc := range scratches.stack {
		for _, s := range sc.text.slots {
			if bytes.Contains(s.in, []byte(plantedEmail)) || bytes.Contains(s.out, []byte(plantedEmail)) {
				scratches.mu.Unlock()
				t.Fatalf("a scratch's text memo keeps personal data: %q", s.in)
			}
		}
	}
	scratches.mu.Unlock()
	for _, c := range []*cache[scrub.Found]{en.caches.url, en.caches.text} {
		for i := range c.shards {
			for _, s := range c.shards[i].slots {
				if s.hash == 0 {
					continue
				}
				for _, b := range [][]byte{s.key, s.val} {
					if bytes.Contains(b, []byte(plantedEmail)) || bytes.Contains(b, []byte("%40")) {
						t.Fatalf("a cache keeps personal data: %q -> %q", s.key, s.val)
					}
				}
				if c == en.caches.url && len(s.key) != len(hashKey{}) {
					t.Fatalf("the URL cache holds a %d-byte key, not a hash", len(s.key))
				}
			}
		}
	}
}

// TestConsentKeyCoversConsent: every field of event.Consent changes the
// consent cache's key, so a signal added to the event cannot be left out
// of it (two events differing only there would share a decision). Seen
// alone is exempt: the parser's note of which signals it read, for its
// conflict check; no decision reads it (they read Conflicts, which is in
// the key).
func TestConsentKeyCoversConsent(t *testing.T) {
	var zero event.Consent
	base := string(appendConsentKey(nil, &zero))
	typ := reflect.TypeOf(zero)
	for i := range typ.NumField() {
		if typ.Field(i).Name == "Seen" {
			continue
		}
		var c event.Consent
		f := reflect.ValueOf(&c).Elem().Field(i)
		switch f.Kind() {
		case reflect.Slice:
			f.SetBytes([]byte("x"))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int8, reflect.Int, reflect.Int16, reflect.Int32, reflect.Int64:
			f.SetInt(1)
		case reflect.Uint8, reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			f.SetUint(1)
		default:
			t.Fatalf("event.Consent.%s: kind %v unknown to this test", typ.Field(i).Name, f.Kind())
		}
		if string(appendConsentKey(nil, &c)) == base {
			t.Errorf("event.Consent.%s does not enter the consent cache key (appendConsentKey)", typ.Field(i).Name)
		}
		if consentKeyLen(&c) < len(appendConsentKey(nil, &c)) {
			t.Errorf("event.Consent.%s: consentKeyLen is below the key's length", typ.Field(i).Name)
		}
	}
}

// TestUserAgentWithPersonalDataNotKept: a User-Agent header in which the
// scanner finds personal data (here a crawler's contact address) is reduced
// as always, but kept neither in the user-agent cache nor in a scratch's
// memo of the last header, whose keys are raw request bytes; a clean header
// is kept and found again.
func TestUserAgentWithPersonalDataNotKept(t *testing.T) {
	en := newTestEngine(t, cacheConfig)
	ref := uncached(en)
	buf := make([]byte, 0, 16<<10)
	const clean = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	kept := func() string {
		for i := range en.caches.ua.shards {
			for _, s := range en.caches.ua.shards[i].slots {
				if s.hash != 0 && bytes.Contains(s.key, []byte(plantedEmail)) {
					return "the user-agent cache keeps " + string(s.key)
				}
			}
		}
		scratches.mu.Lock()
		defer scratches.mu.Unlock()
		for _, sc := range scratches.stack {
			if bytes.Contains(sc.ua.raw[:cap(sc.ua.raw)], []byte(plantedEmail)) {
				return "a scratch keeps its last user agent " + string(sc.ua.raw)
			}
		}
		return ""
	}
	for _, ua := range []string{
		"Mozilla/5.0 (compatible; ExampleBot/1.2; +https://bot.example/info; " + plantedEmail + ")",
		"MyShopApp/4.2 (iPhone; iOS 17.1; user " + plantedEmail + ")",
		clean,
	} {
		e := plantedEvent("analytics")
		e.UserAgent = []byte(ua)
		for range 2 {
			got, gres := recordsOf(t, en, e, buf)
			if msg := kept(); msg != "" {
				t.Fatal(msg)
			}
			want, wres := recordsOf(t, ref, e, buf)
			if got != want || gres != wres {
				t.Fatalf("%q: cached engine differs\n%s\n%s", ua, got, want)
			}
		}
	}
	// Found again without a scan: a clean header in the cache as sent, a
	// flagged one (an app that put its user's phone number there) by its
	// keyed hash.
	const inApp = "MyShopApp/4.2 (iPhone; iOS 17.1; tel +49 151 12345678)"
	if _, f := en.cleaner.AppendUserAgent(nil, []byte(inApp)); f == 0 {
		t.Fatal("the app's header is not flagged by the scanner")
	}
	for _, ua := range []string{clean, inApp, inApp} {
		scratches.mu.Lock()
		for _, sc := range scratches.stack {
			sc.ua = uaMemo{} // so that the lookup below reaches the caches
		}
		scratches.mu.Unlock()
		e := plantedEvent("analytics")
		e.UserAgent = []byte(ua)
		got, _ := recordsOf(t, en, e, buf)
		if want, _ := recordsOf(t, ref, e, buf); got != want {
			t.Fatalf("%q: cached engine differs\n%s\n%s", ua, got, want)
		}
	}
	if _, ua, _, _ := en.CachesStats(); ua.Hits == 0 {
		t.Fatalf("user-agent cache %+v: the clean header was not kept", ua)
	}
	if h, _ := en.caches.uaFlagged.stats(); h == 0 {
		t.Fatal("the flagged header was scanned again instead of found by its hash")
	}
	for i := range en.caches.uaFlagged.shards {
		for _, s := range en.caches.uaFlagged.shards[i].slots {
			if s.hash != 0 && len(s.key) != len(hashKey{}) {
				t.Fatalf("the flagged-header cache holds a %d-byte key, not a hash", len(s.key))
			}
		}
	}
}

// TestUserAgentLookupsCountOnce: a user agent looked up in the caches
// counts one hit or one miss in CachesStats, whichever of the two caches
// (headers as sent, flagged headers by hash) answers; one a scratch's memo
// answers is not counted.
func TestUserAgentLookupsCountOnce(t *testing.T) {
	const (
		clean = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
		inApp = "MyShopApp/4.2 (iPhone; iOS 17.1; tel +49 151 12345678)"
	)
	buf := make([]byte, 0, 16<<10)
	for _, c := range []struct {
		name      string
		agents    []string
		clearMemo bool
		want      CacheStats
	}{
		{"caches", []string{clean, clean, inApp, inApp, clean}, true, CacheStats{Hits: 3, Misses: 2}},
		{"memo", []string{clean, clean, inApp, inApp}, false, CacheStats{Misses: 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			en := newTestEngine(t, cacheConfig)
			for _, ua := range c.agents {
				if c.clearMemo {
					scratches.mu.Lock()
					for _, sc := range scratches.stack {
						sc.ua = uaMemo{}
					}
					scratches.mu.Unlock()
				}
				e := plantedEvent("analytics")
				e.UserAgent = []byte(ua)
				recordsOf(t, en, e, buf)
			}
			if _, got, _, _ := en.CachesStats(); got != c.want {
				t.Fatalf("user-agent lookups %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestCleanURLQuotedAsWritten: the URL cache holds the cleaned URL as its
// quoted JSON string, so a miss and a hit must both give exactly what
// quoting the cleaner's own output gives (jsonstr.Append, not the engine's
// requote), with the same kinds, and nothing when cleaning leaves nothing.
func TestCleanURLQuotedAsWritten(t *testing.T) {
	en := newTestEngine(t, cacheConfig)
	site := []byte("shop-example")
	long := "https://www.shop-example.com/p?" + strings.Repeat("a=1&", 240) + "gclid=x"
	urls := []string{
		"https://www.shop-example.com/de-de/damen/schuhe/sneaker/4711?utm_source=news&utm_medium=mail&gclid=abc&page=2",
		"https://www.shop-example.com/search?q=<script>&x=\"y\"&z=a\\b&fbclid=1",
		"https://www.shop-example.com/p?q=\u2028line&e=%E2%80%A8&gclid=2",
		"https://www.shop-example.com/p?bad=\xff\xfe&gclid=3",
		"https://www.shop-example.com/p?email=max%40example.de&sort=asc",
		"https://other.example.org/x?y=1&z=2",
		"https://203.0.113.7/admin?a=1&gclid=4",
		"android-app://com.google.android.gm/",
		"/relative/path?a=1&b=2&gclid=5",
		"mailto:max@example.de",
		"",
		long,
	}
	sc := getScratch()
	defer putScratch(sc)
	kb := sc.key
	for _, raw := range urls {
		for _, mode := range []scrub.URLMode{scrub.URLOrigin, scrub.URLPath, scrub.URLClean} {
			for _, s := range [][]byte{site, nil} {
				cleaned, wantF := en.cleaner.AppendPageURL(nil, []byte(raw), mode, s)
				var want []byte
				if len(cleaned) > 0 {
					want = jsonstr.Append(nil, cleaned)
				}
				for _, pass := range []string{"first", "second"} {
					got, f := en.appendCleanURL([]byte("prefix"), []byte(raw), mode, s, kb)
					if string(got) != "prefix"+string(want) || f != wantF {
						t.Errorf("%s call, mode %v, site %q, %q:\n got %q (kinds %v)\nwant %q (kinds %v)", pass, mode, s, raw, got[len("prefix"):], f, want, wantF)
					}
				}
			}
		}
	}
}

// TestKeyRoomCleared: the scratch's key room, where a URL's cache key and
// the cleaner's decoding scratch are built from the raw URL, keeps no byte
// of it once the URL is cleaned (the cache keeps a keyed hash only), and
// no consent signal once the decision is made, whether it was decided,
// found in the cache or in the memo.
func TestKeyRoomCleared(t *testing.T) {
	en := newTestEngine(t, cacheConfig)
	sc := getScratch()
	defer putScratch(sc)
	const secret = "max.mustermann%40example.de"
	for _, raw := range []string{
		"https://shop.example/p?email=" + secret + "&gclid=abc",
		"https://shop.example/p?q=" + secret,
		"https://shop.example/%65mail/" + secret,
	} {
		for _, mode := range []scrub.URLMode{scrub.URLOrigin, scrub.URLPath, scrub.URLClean} {
			out, _ := en.appendCleanURL(nil, []byte(raw), mode, []byte("shop"), sc.key[:0])
			if bytes.Contains(out, []byte("mustermann")) {
				continue // a mode that keeps it in the record is not this test's concern
			}
			if room := sc.key[:cap(sc.key)]; bytes.Contains(room, []byte("mustermann")) {
				t.Errorf("mode %v, %q: the key room still holds the raw URL", mode, raw)
			}
		}
	}
	tc := vendorTC(func(s *tctest.Spec) { s.CMPID = 7 })
	for _, pass := range []string{"decided", "from the memo", "from the cache"} {
		if pass == "from the cache" {
			sc.consent.lookup(0, nil, time.Time{}, 0) // another engine's id: the memo forgets
		}
		e := plantedEvent("")
		e.Consent.GDPR = 1
		e.Consent.TCString = []byte(tc)
		var res Result
		en.decideRouted(e, sc, &res)
		if room := sc.key[:cap(sc.key)]; bytes.Contains(room, []byte(tc[len(tc)/2:])) {
			t.Errorf("consent %s: the key room still holds the TC string", pass)
		}
	}
}
