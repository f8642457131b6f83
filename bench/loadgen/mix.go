package loadgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Kind is the endpoint a generated request exercises.
type Kind uint8

// Request kinds.
const (
	KindPixel     Kind = iota // GET pixel with query
	KindBeacon                // sendBeacon POST with a JSON (or form) body
	KindBLE                   // BLE ping batch POST
	KindMalformed             // something a public endpoint must reject or survive
)

// String returns the kind's name as used in flags and reports.
func (k Kind) String() string {
	switch k {
	case KindPixel:
		return "pixel"
	case KindBeacon:
		return "beacon"
	case KindBLE:
		return "ble"
	case KindMalformed:
		return "malformed"
	}
	return "unknown"
}

// Malformation is how a KindMalformed request is broken.
type Malformation uint8

// Malformations, generated in turn.
const (
	NotMalformed Malformation = iota
	BadJSON                   // beacon body that is not JSON, or not an object or array
	Oversized                 // beacon body of Mix.OversizeBytes
	WrongMethod               // PUT/DELETE/PATCH, or GET on a POST endpoint
	BadQuery                  // broken percent-encoding, missing site, bad values
	BadConsent                // well-formed pixel with invalid TC strings and consent values
	BadBLE                    // BLE batch with wrongly typed fields
	numMalformations
)

// String returns the malformation's name.
func (m Malformation) String() string {
	switch m {
	case NotMalformed:
		return "none"
	case BadJSON:
		return "bad_json"
	case Oversized:
		return "oversized"
	case WrongMethod:
		return "wrong_method"
	case BadQuery:
		return "bad_query"
	case BadConsent:
		return "bad_consent"
	case BadBLE:
		return "bad_ble"
	}
	return "unknown"
}

// Header is one request header.
type Header struct{ Key, Value string }

// Request is one prepared request of the traffic mix. Requests are built
// once, before the run, and only read while sending.
type Request struct {
	Kind         Kind
	Malformation Malformation
	Bot          bool // User-Agent is a crawler or script
	Method       string
	URI          string // path and query, sent as is
	Headers      []Header
	Body         []byte
	// Events is the number of events the request carries if the server
	// accepts it (beacon array length, BLE sightings); 0 for requests that
	// must be rejected.
	Events int
}

// Mix describes the traffic: relative weights of the request kinds and the
// shares of bots and of requests that pass a client address in
// X-Forwarded-For. Its zero value is not usable; start from DefaultMix.
type Mix struct {
	Pixel, Beacon, BLE, Malformed  int     // relative weights
	Bots                           float64 // share of requests with a bot User-Agent, 0..1
	Forwarded                      float64 // share with X-Forwarded-For, 0..1
	Sites                          []string
	PixelPath, BeaconPath, BLEPath string
	OversizeBytes                  int // body size of the Oversized malformation
	Seed                           uint64
	// Full makes every pixel carry what a consented page view on a
	// current browser carries: a page URL with a query, a referrer (the ref
	// parameter and the Referer header), a client id, a user id and a TC
	// string as gdpr_consent; and every request that is not a bot a desktop
	// Chrome User-Agent. The optional parts of a pixel are otherwise drawn,
	// so one request alone (Generate(1)) may lack any of them.
	Full bool
	// Now dates the BLE sightings (a few seconds before it); zero means the
	// time of Generate, so a server that drops stale pings keeps them.
	Now time.Time
}

// DefaultMix is a web shop with a few stores: mostly page views, a quarter
// sendBeacon events, some BLE batches, a tenth bots, a few broken requests.
func DefaultMix() Mix {
	return Mix{
		Pixel: 60, Beacon: 25, BLE: 10, Malformed: 5,
		Bots:          0.10,
		Forwarded:     0.90,
		Sites:         []string{"shop-example"},
		PixelPath:     "/p.gif",
		BeaconPath:    "/b",
		BLEPath:       "/ble",
		OversizeBytes: 64<<10 + 1, // one byte over a 64 KiB body limit
		Seed:          1,
	}
}

// String returns the mix in the form Set reads.
func (m Mix) String() string {
	s := fmt.Sprintf("pixel=%d,beacon=%d,ble=%d,malformed=%d,bots=%g,xff=%g,oversize=%d,seed=%d",
		m.Pixel, m.Beacon, m.BLE, m.Malformed, m.Bots, m.Forwarded, m.OversizeBytes, m.Seed)
	if m.Full {
		s += ",full=1"
	}
	return s
}

// Only makes k the only kind of request: the other weights, malformed
// traffic and bots go to 0 (a zero weight of k becomes 100). Shares of
// forwarded addresses, the seed and the paths stay.
func (m *Mix) Only(k Kind) error {
	w := [...]*int{KindPixel: &m.Pixel, KindBeacon: &m.Beacon, KindBLE: &m.BLE}
	if int(k) >= len(w) {
		return fmt.Errorf("mix: only: %q is not pixel, beacon or ble", k)
	}
	keep := *w[k]
	m.Pixel, m.Beacon, m.BLE, m.Malformed, m.Bots = 0, 0, 0, 0, 0
	if keep == 0 {
		keep = 100
	}
	*w[k] = keep
	return nil
}

// Set updates m from a comma-separated list of key=value: pixel, beacon,
// ble and malformed take integer weights, bots and xff shares between 0
// and 1, oversize a size in bytes, seed an integer, full 0 or 1 (see
// Mix.Full), only a kind (pixel, beacon or ble; see Mix.Only). Keys are
// applied in order, so a key after only can change what only set; keys
// not named keep their value.
func (m *Mix) Set(spec string) error {
	for _, kv := range strings.Split(spec, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("mix: %q is not key=value", kv)
		}
		var err error
		switch k {
		case "pixel":
			m.Pixel, err = weight(v)
		case "beacon":
			m.Beacon, err = weight(v)
		case "ble":
			m.BLE, err = weight(v)
		case "malformed":
			m.Malformed, err = weight(v)
		case "bots":
			m.Bots, err = share(v)
		case "xff":
			m.Forwarded, err = share(v)
		case "oversize":
			m.OversizeBytes, err = strconv.Atoi(v)
			if err == nil && (m.OversizeBytes < 1 || m.OversizeBytes > 64<<20) {
				err = errors.New("must be 1..67108864")
			}
		case "seed":
			m.Seed, err = strconv.ParseUint(v, 10, 64)
		case "full":
			m.Full, err = flagValue(v)
		case "only":
			k, ok := kindNamed(v)
			if !ok {
				return errors.New("mix: only: must be pixel, beacon or ble")
			}
			err = m.Only(k)
		default:
			return fmt.Errorf("mix: unknown key %q", k)
		}
		if err != nil {
			return fmt.Errorf("mix: %s: %w", k, err)
		}
	}
	return m.validate()
}

func weight(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err == nil && (n < 0 || n > 1_000_000) {
		err = errors.New("must be 0..1000000")
	}
	return n, err
}

func flagValue(v string) (bool, error) {
	switch v {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, errors.New("must be 0 or 1")
}

// kindNamed returns the well-formed kind with the given name.
func kindNamed(name string) (Kind, bool) {
	for _, k := range []Kind{KindPixel, KindBeacon, KindBLE} {
		if k.String() == name {
			return k, true
		}
	}
	return 0, false
}

func share(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err == nil && !(f >= 0 && f <= 1) {
		err = errors.New("must be between 0 and 1")
	}
	return f, err
}

func (m Mix) validate() error {
	var errs []error
	if m.Pixel < 0 || m.Beacon < 0 || m.BLE < 0 || m.Malformed < 0 || m.Pixel+m.Beacon+m.BLE+m.Malformed <= 0 {
		errs = append(errs, errors.New("mix: weights must be >= 0 with a positive sum"))
	}
	if !(m.Bots >= 0 && m.Bots <= 1) || !(m.Forwarded >= 0 && m.Forwarded <= 1) {
		errs = append(errs, errors.New("mix: shares must be between 0 and 1"))
	}
	if len(m.Sites) == 0 {
		errs = append(errs, errors.New("mix: no site ids"))
	}
	if m.PixelPath == "" || m.BeaconPath == "" || m.BLEPath == "" {
		errs = append(errs, errors.New("mix: empty endpoint path"))
	}
	if m.Malformed > 0 && m.OversizeBytes < 1 {
		errs = append(errs, errors.New("mix: oversize must be positive"))
	}
	return errors.Join(errs...)
}

// apportion splits n into parts proportional to weights, by largest
// remainder, so the shares of a generated mix are exact rather than drawn.
func apportion(n int, weights []int) []int {
	total := 0
	for _, w := range weights {
		total += w
	}
	out := make([]int, len(weights))
	if total == 0 {
		return out
	}
	type rem struct{ i, r int }
	rems := make([]rem, len(weights))
	given := 0
	for i, w := range weights {
		out[i] = n * w / total
		given += out[i]
		rems[i] = rem{i, n * w % total}
	}
	for given < n {
		best := 0
		for j := range rems {
			if rems[j].r > rems[best].r {
				best = j
			}
		}
		out[rems[best].i]++
		rems[best].r = -1
		given++
	}
	return out
}

// Generate builds n requests of the mix, in a shuffled order, from m.Seed:
// the same mix and n give the same requests. The shares of kinds, bots and
// forwarded addresses are exact (largest remainder), the rest is drawn.
// With Now zero, BLE timestamps follow the clock and differ between calls.
func (m Mix) Generate(n int) ([]Request, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, errors.New("mix: need at least one request")
	}
	now := m.Now
	if now.IsZero() {
		now = time.Now()
	}
	g := &gen{m: m, rng: rand.New(rand.NewPCG(m.Seed, 0x6265616367617465)), now: now}
	counts := apportion(n, []int{m.Pixel, m.Beacon, m.BLE, m.Malformed})
	out := make([]Request, 0, n)
	for k, c := range counts {
		for i := range c {
			out = append(out, g.request(Kind(k), i))
		}
	}
	g.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	// Bots and forwarded addresses by exact share, over the shuffled order.
	bots := int(float64(n)*m.Bots + 0.5)
	fwd := int(float64(n)*m.Forwarded + 0.5)
	for i := range out {
		r := &out[i]
		ua := browserUAs[g.rng.IntN(len(browserUAs))]
		if m.Full {
			ua = chromeDesktopUA
		}
		if i < bots {
			r.Bot = true
			ua = botUAs[g.rng.IntN(len(botUAs))]
		}
		r.Headers = append(r.Headers, Header{"User-Agent", ua})
		if i >= n-fwd { // independent of the bot prefix
			r.Headers = append(r.Headers, Header{"X-Forwarded-For", clientIPs[g.rng.IntN(len(clientIPs))]})
		}
	}
	g.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, nil
}

// gen holds the state of one Generate call.
type gen struct {
	m   Mix
	rng *rand.Rand
	now time.Time
}

func (g *gen) pick(s []string) string { return s[g.rng.IntN(len(s))] }
func (g *gen) chance(p float64) bool  { return g.rng.Float64() < p }
func (g *gen) site() string           { return g.pick(g.m.Sites) }

func (g *gen) request(k Kind, i int) Request {
	switch k {
	case KindPixel:
		return g.pixel()
	case KindBeacon:
		return g.beacon()
	case KindBLE:
		return g.ble()
	}
	return g.malformed(Malformation(1 + i%int(numMalformations-1)))
}

// query builds a URL query in a fixed key order, as a pixel script does.
type query struct{ b strings.Builder }

func (q *query) add(k, v string) {
	if q.b.Len() > 0 {
		q.b.WriteByte('&')
	}
	q.b.WriteString(url.QueryEscape(k))
	q.b.WriteByte('=')
	q.b.WriteString(url.QueryEscape(v))
}

var (
	pageHosts = []string{"https://www.shop-example.com", "https://m.shop-example.de", "https://blog.shop-example.org"}
	pagePaths = []string{
		"/de-de/damen/schuhe/sneaker/runner-pro-2-black-white-p-4711081542.html",
		"/en-us/men/jackets/outdoor/alpine-shell-gore-tex-insulated-jacket-navy-p-1234567.html",
		"/checkout/confirmation/order-2024-11-29-000381",
		"/search/results/all-categories/sort-relevance/page-3/",
		"/account/newsletter/unsubscribe/confirm/",
		"/blog/2024/11/how-we-measure-without-cookies-a-practical-guide-for-retailers/",
	}
	events    = []string{"pageview", "click", "scroll", "add_to_cart", "view_item", "purchase", "search"}
	filterKVs = []string{"color=black", "size=42", "sort=price_asc", "page=2", "brand=acme%20outdoor", "material=recycled-polyester",
		"variant=4711081542-042", "view=grid", "ref_src=homepage_teaser_slot_3", "currency=EUR", "lang=de", "availability=in_stock"}
	referrers = []string{"https://www.google.com/", "https://www.bing.com/search?q=running+shoes+black+42&form=QBLH",
		"https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.shop-example.com%2F", "android-app://com.google.android.gm/", ""}
)

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func (g *gen) token(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = b64url[g.rng.IntN(len(b64url))]
	}
	return string(b)
}

func (g *gen) uuid() string {
	const hex = "0123456789abcdef"
	b := []byte("xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx")
	for i, c := range b {
		if c == 'x' {
			b[i] = hex[g.rng.IntN(16)]
		}
	}
	return string(b)
}

// pageURL returns a page URL of about target bytes: a product or content
// path, campaign parameters, click ids and sometimes an e-mail address.
func (g *gen) pageURL(target int) string {
	var b strings.Builder
	b.WriteString(g.pick(pageHosts))
	path := g.pick(pagePaths)
	if strings.HasSuffix(path, "/unsubscribe/confirm/") {
		path += url.PathEscape(g.pick(emails))
	}
	b.WriteString(path)
	sep := byte('?')
	add := func(kv string) {
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(kv)
	}
	if g.chance(0.6) {
		add("utm_source=newsletter&utm_medium=email&utm_campaign=2024_11_black_friday_early_access_segment_b")
		add("utm_content=hero_banner_cta_" + strconv.Itoa(1+g.rng.IntN(4)))
	}
	if g.chance(0.35) {
		add("gclid=Cj0KCQiA" + g.token(78) + "_BwE")
	}
	if g.chance(0.1) {
		add("fbclid=IwAR" + g.token(58))
	}
	if g.chance(0.15) {
		add("email=" + url.QueryEscape(g.pick(emails)))
	}
	for i := g.rng.IntN(len(filterKVs)); b.Len() < target; i++ {
		add(filterKVs[i%len(filterKVs)])
	}
	return b.String()
}

func (g *gen) pixel() Request {
	page := g.pageURL(360 + g.rng.IntN(80))
	var q query
	q.add("site", g.site())
	q.add("event", g.pick(events[:3]))
	// Each "|| full" comes after the draw, so the default traffic does not
	// change with Full's existence.
	full := g.m.Full
	if g.chance(0.85) || full {
		q.add("url", page)
	}
	ref := g.pick(referrers)
	if ref == "" && full {
		ref = referrers[0]
	}
	if ref != "" {
		q.add("ref", ref)
	}
	if g.chance(0.7) || full {
		q.add("cid", g.uuid())
	}
	if g.chance(0.05) {
		q.add("uid", g.pick(emails))
	} else if g.chance(0.1) || full {
		q.add("uid", "u-"+strconv.Itoa(100000+g.rng.IntN(900000)))
	}
	if g.chance(0.3) {
		q.add("p.sku", "SKU-"+strconv.Itoa(10000+g.rng.IntN(90000)))
		q.add("p.price", strconv.FormatFloat(float64(g.rng.IntN(20000))/100, 'f', 2, 64))
	}
	cookieTC := ""
	if g.chance(0.6) || full {
		q.add("gdpr", "1")
		tc := g.pick(tcStrings(validTC))
		if g.chance(0.85) || full {
			q.add("gdpr_consent", tc)
		} else {
			cookieTC = tc // the CMP's cookie instead of the parameter
		}
	}
	if g.chance(0.5) {
		q.add("gcs", g.pick(gcsValues))
		q.add("gcd", g.pick(gcdValues))
	}
	if g.chance(0.15) {
		q.add("us_privacy", g.pick(usPrivacyValues))
	}
	if g.chance(0.1) {
		q.add("gpp", gppString)
		q.add("gpp_sid", gppSID)
	}
	if g.chance(0.3) {
		q.add("consent", strings.Join(consentSets[g.rng.IntN(len(consentSets))], ","))
	}
	r := Request{Kind: KindPixel, Method: "GET", URI: g.m.PixelPath + "?" + q.b.String(), Events: 1}
	r.Headers = append(r.Headers,
		Header{"Accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"},
		Header{"Accept-Language", g.pick(acceptLanguages)})
	if g.chance(0.9) || full {
		r.Headers = append(r.Headers, Header{"Referer", page})
	}
	if cookieTC != "" {
		r.Headers = append(r.Headers, Header{"Cookie", "euconsent-v2=" + cookieTC + "; _ga=GA1.1.123456789.1732420000"})
	}
	r.Headers = g.privacyHeaders(r.Headers)
	return r
}

func (g *gen) privacyHeaders(h []Header) []Header {
	if g.chance(0.1) {
		h = append(h, Header{"Sec-GPC", "1"})
	}
	if g.chance(0.05) {
		h = append(h, Header{"DNT", "1"})
	}
	return h
}

func tcStrings(v []tcVector) []string {
	out := make([]string, len(v))
	for i := range v {
		out[i] = v[i].tc
	}
	return out
}

// beaconEvent is one sendBeacon event, as the vocabulary spells it.
type beaconEvent struct {
	Site        string         `json:"site"`
	Event       string         `json:"event"`
	URL         string         `json:"url,omitempty"`
	Ref         string         `json:"ref,omitempty"`
	UID         string         `json:"uid,omitempty"`
	CID         string         `json:"cid,omitempty"`
	Props       map[string]any `json:"props,omitempty"`
	GDPR        *int           `json:"gdpr,omitempty"`
	GDPRConsent string         `json:"gdpr_consent,omitempty"`
	GCS         string         `json:"gcs,omitempty"`
	GCD         string         `json:"gcd,omitempty"`
	USPrivacy   string         `json:"us_privacy,omitempty"`
	Consent     []string       `json:"consent,omitempty"`
}

func (g *gen) beaconEvent() beaconEvent {
	e := beaconEvent{Site: g.site(), Event: g.pick(events[1:]), URL: g.pageURL(120 + g.rng.IntN(200)), CID: g.uuid()}
	if g.chance(0.4) {
		e.Ref = g.pick(referrers)
	}
	if g.chance(0.1) {
		e.UID = g.pick(emails)
	}
	e.Props = map[string]any{"sku": "SKU-" + strconv.Itoa(10000+g.rng.IntN(90000)), "price": float64(g.rng.IntN(20000)) / 100, "in_stock": g.chance(0.8)}
	if g.chance(0.05) {
		e.Props["contact"] = g.pick(emails)
	}
	if g.chance(0.6) {
		one := 1
		e.GDPR = &one
		e.GDPRConsent = g.pick(tcStrings(validTC))
	}
	if g.chance(0.5) {
		e.GCS, e.GCD = g.pick(gcsValues), g.pick(gcdValues)
	}
	if g.chance(0.1) {
		e.USPrivacy = g.pick(usPrivacyValues)
	}
	if g.chance(0.4) {
		e.Consent = consentSets[g.rng.IntN(len(consentSets))]
	}
	return e
}

func (g *gen) beacon() Request {
	r := Request{Kind: KindBeacon, Method: "POST", URI: g.m.BeaconPath}
	var body any
	switch n := 1 + g.rng.IntN(4); {
	case g.chance(0.05): // a form-encoded beacon with the pixel's keys
		e := g.beaconEvent()
		var q query
		q.add("site", e.Site)
		q.add("event", e.Event)
		q.add("url", e.URL)
		q.add("cid", e.CID)
		if e.GCS != "" {
			q.add("gcs", e.GCS)
		}
		r.Body = []byte(q.b.String())
		r.Events = 1
		r.Headers = append(r.Headers, Header{"Content-Type", "application/x-www-form-urlencoded"})
	case n == 1 || g.chance(0.4):
		body, r.Events = g.beaconEvent(), 1
	default:
		evs := make([]beaconEvent, n)
		for i := range evs {
			evs[i] = g.beaconEvent()
		}
		body, r.Events = evs, n
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			panic(err) // cannot happen: plain structs of strings and numbers
		}
		r.Body = b
		ct := "text/plain;charset=UTF-8" // what navigator.sendBeacon sends for a string
		if g.chance(0.15) {
			ct = "application/json"
		}
		r.Headers = append(r.Headers, Header{"Content-Type", ct})
	}
	r.Headers = append(r.Headers,
		Header{"Origin", g.pick(pageHosts)},
		Header{"Accept-Language", g.pick(acceptLanguages)})
	r.Headers = g.privacyHeaders(r.Headers)
	return r
}

// sighting is one BLE advertisement heard by a sensor.
type sighting struct {
	UUID          string `json:"uuid,omitempty"`
	Major         int    `json:"major,omitempty"`
	Minor         int    `json:"minor,omitempty"`
	Namespace     string `json:"namespace,omitempty"`
	Instance      string `json:"instance,omitempty"`
	RSSI          int    `json:"rssi"`
	TS            any    `json:"ts"`
	MAC           string `json:"mac,omitempty"`
	ADID          string `json:"adid,omitempty"`
	AppInstanceID string `json:"app_instance_id,omitempty"`
}

type bleBatch struct {
	Site      string     `json:"site"`
	Store     string     `json:"store"`
	Sensor    string     `json:"sensor"`
	Consent   string     `json:"consent,omitempty"`
	GCS       string     `json:"gcs,omitempty"`
	Sightings []sighting `json:"sightings"`
}

func (g *gen) mac() string {
	const hex = "0123456789abcdef"
	b := []byte("xx:xx:xx:xx:xx:xx")
	for i, c := range b {
		if c == 'x' {
			b[i] = hex[g.rng.IntN(16)]
		}
	}
	return string(b)
}

func (g *gen) ble() Request {
	stores := []string{"berlin-01", "hamburg-02", "muenchen-03", "stockholm-01"}
	b := bleBatch{Site: "store-chain", Store: g.pick(stores), Sensor: "gate-" + strconv.Itoa(1+g.rng.IntN(6))}
	if g.chance(0.7) {
		b.Consent = strings.Join(consentSets[g.rng.IntN(len(consentSets))], ",")
	}
	if g.chance(0.3) {
		b.GCS = g.pick(gcsValues)
	}
	n := 3 + g.rng.IntN(10)
	base := g.now.UnixMilli()
	for i := range n {
		s := sighting{RSSI: -40 - g.rng.IntN(55)}
		if g.chance(0.7) {
			s.UUID, s.Major, s.Minor = "f7826da6-4fa2-4e98-8024-bc5b71e0893e", 100+g.rng.IntN(5), 1+g.rng.IntN(40)
		} else {
			s.Namespace, s.Instance = "edd1ebeac04e5defa017", fmt.Sprintf("%012x", g.rng.Uint64()&0xffffffffffff)
		}
		ts := base - int64(n-i)*250
		if g.chance(0.2) {
			s.TS = time.UnixMilli(ts).UTC().Format(time.RFC3339Nano)
		} else {
			s.TS = ts
		}
		switch g.rng.IntN(3) {
		case 0:
			s.MAC = g.mac()
		case 1:
			s.ADID = g.uuid()
		default:
			s.AppInstanceID = g.token(32)
		}
		b.Sightings = append(b.Sightings, s)
	}
	body, err := json.Marshal(b)
	if err != nil {
		panic(err) // cannot happen: plain structs
	}
	return Request{Kind: KindBLE, Method: "POST", URI: g.m.BLEPath, Body: body, Events: n,
		Headers: []Header{{"Content-Type", "application/json"}}}
}

func (g *gen) malformed(m Malformation) Request {
	r := Request{Kind: KindMalformed, Malformation: m}
	textPlain := Header{"Content-Type", "text/plain;charset=UTF-8"}
	switch m {
	case BadJSON:
		bodies := []string{
			`{"site":"` + g.site() + `","event":"click","url":"https://www.shop-example.com/de-de/damen`,
			`[{"site":"` + g.site() + `",}]`,
			`{"site": shop-example, "event": pageview}`,
			"\xff\xfe{\x00\"\x00s\x00",
			`null`,
			`"just a string"`,
			``,
		}
		r.Method, r.URI, r.Body = "POST", g.m.BeaconPath, []byte(g.pick(bodies))
		r.Headers = []Header{textPlain}
	case Oversized:
		e := g.beaconEvent()
		e.Props = map[string]any{"blob": ""}
		b, _ := json.Marshal(e)
		if pad := g.m.OversizeBytes - len(b); pad > 0 { // grow the string to the exact size
			e.Props["blob"] = strings.Repeat("A", pad)
			b, _ = json.Marshal(e)
		}
		r.Method, r.URI, r.Body = "POST", g.m.BeaconPath, b
		r.Headers = []Header{textPlain}
	case WrongMethod:
		switch g.rng.IntN(4) {
		case 0:
			r.Method, r.URI = "PUT", g.m.PixelPath+"?site="+g.site()
		case 1:
			r.Method, r.URI = "DELETE", g.m.BeaconPath
		case 2:
			r.Method, r.URI = "GET", g.m.BLEPath+"?site=store-chain"
		default:
			r.Method, r.URI, r.Body = "PATCH", g.m.BeaconPath, []byte(`{"site":"`+g.site()+`"}`)
			r.Headers = []Header{textPlain}
		}
	case BadQuery:
		queries := []string{
			"site=%zz&url=%E0%A4%A",
			"event=pageview&url=https%3A%2F%2Fwww.shop-example.com%2F", // no site
			"site=" + g.site() + "&gdpr=2&gcs=G1X9&gcd=zz&us_privacy=1ynnn&gpp_sid=x,,y",
			"site=" + g.site() + "&props=%7B%22a%22%3A%5B1%2C2%5D%7D&p.=empty&p." + strings.Repeat("k", 300) + "=v",
			"site=" + g.site() + "&url=javascript:alert(1)&ref=%00%01%02",
		}
		r.Method, r.URI = "GET", g.m.PixelPath+"?"+g.pick(queries)
	case BadConsent:
		var q query
		q.add("site", g.site())
		q.add("url", g.pageURL(200))
		q.add("gdpr", "1")
		q.add("gdpr_consent", g.pick(tcStrings(invalidTC)))
		q.add("gcd", "13"+g.token(8))
		q.add("consent", "analytics,everything,"+g.token(6))
		r.Method, r.URI, r.Events = "GET", g.m.PixelPath+"?"+q.b.String(), 1
	case BadBLE:
		bodies := []string{
			`{"site":"store-chain","store":"berlin-01","sensor":"gate-1","sightings":[{"rssi":"loud","ts":"yesterday","mac":"zz:zz"}]}`,
			`{"site":"store-chain","sightings":{"uuid":"not-an-array"}}`,
			`{"site":"store-chain","store":"berlin-01","sensor":"gate-1","sightings":[{"major":70000,"minor":-1,"rssi":12,"ts":-5}]}`,
		}
		r.Method, r.URI, r.Body = "POST", g.m.BLEPath, []byte(g.pick(bodies))
		r.Headers = []Header{{"Content-Type", "application/json"}}
	}
	return r
}
