package anonymize

import (
	"bytes"
	"hash/maphash"
	"net/netip"
	"slices"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/geo"
	"github.com/beacongate/beacongate/anonymize/ipmask"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/anonymize/scrub"
	"github.com/beacongate/beacongate/anonymize/useragent"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/internal/jsonnum"
	"github.com/beacongate/beacongate/internal/jsonstr"
	"github.com/beacongate/beacongate/plan"
)

// RecordVersion is the "v" field of every output record. It changes only
// when a field changes meaning or is removed; new fields may be added.
const RecordVersion = 1

// Visitor hashes use a fixed coarse prefix whatever the policy keeps, so the
// hash counts visitors the same way under every policy.
const (
	VisitorIPv4Bits = 24 // bits of an IPv4 address that enter the visitor hash
	VisitorIPv6Bits = 48 // bits of an IPv6 address that enter the visitor hash
)

// policy is a plan.Policy compiled for the hot path.
type policy struct {
	ip          plan.IPAction
	v4, v6      int
	geoLevel    geo.Level
	grid        float64
	ua          plan.UAAction
	bots        plan.BotAction // crawlers
	httpClients plan.BotAction
	noAppEvents bool // HTTP clients dropped whatever the site (plan.Policy.NoAppEvents)
	userID      plan.IDAction
	clientID    plan.IDAction
	deviceID    plan.IDAction
	url         plan.URLAction
	referrer    plan.ReferrerAction
	lang        plan.LanguageAction
	props       plan.PropertiesAction
	visitorHash bool
	contact     plan.Platform // PlatformNone: contact data dropped; else hashed by its rules
	// click: click ids and ad platform cookies kept; clickFor is the
	// platform whose own ids alone are kept (PlatformNone: every kind, for
	// a destination that is no ad platform and asked for them).
	click    bool
	clickFor plan.Platform
}

// compilePolicy compiles p for a destination of the given platform
// (PlatformNone for the site-wide policies).
func compilePolicy(p *plan.Policy, platform plan.Platform) policy {
	c := policy{
		ip: p.IP, v4: p.V4Prefix, v6: p.V6Prefix,
		geoLevel: geoLevel(p.Geo), grid: p.Grid,
		ua: p.UA, bots: p.Bots, httpClients: p.HTTPClients, noAppEvents: p.NoAppEvents,
		userID: p.UserID, clientID: p.ClientID, deviceID: p.DeviceID,
		url: p.URL, referrer: p.Referrer, lang: p.Language,
		props: p.Properties, visitorHash: p.VisitorHash,
		click: p.ClickIDs == plan.ClickIDsKeep,
	}
	if c.click {
		c.clickFor = platform
	}
	if p.Contact == plan.ContactHash {
		c.contact = platform
	}
	return c
}

func geoLevel(l plan.GeoLevel) geo.Level {
	switch l {
	case plan.GeoContinent:
		return geo.Continent
	case plan.GeoCountry:
		return geo.Country
	case plan.GeoRegion:
		return geo.Region
	case plan.GeoCity:
		return geo.City
	}
	return geo.None
}

// AppendRecord decides consent for e, applies the site-wide policy of the
// resulting state to every field (destinations' own policies are applied by
// AppendRecords), and appends the output record (one JSON object, no
// newline) to dst. When res.Drop is set nothing is appended. dst should be
// a reused buffer: its spare capacity is used as scratch, and with enough of
// it AppendRecord does not allocate. e is only read.
func (en *Engine) AppendRecord(dst []byte, e *event.Event) ([]byte, Result) {
	sc := getScratch()
	defer putScratch(sc)
	var res Result
	en.decideRouted(e, sc, &res)
	res.Dests, res.VendorRefused, res.VendorReasons = 0, 0, [consent.NumVendorReasons]uint8{}
	return en.appendRecord(dst, e, &res, sc, en.site[res.State])
}

// AppendRecordAs is AppendRecord with the consent decision forced to state
// (and the purposes that state implies), for dry runs that show what each
// policy would produce. It is not used on the request path.
func (en *Engine) AppendRecordAs(dst []byte, e *event.Event, state State) ([]byte, Result) {
	sc := getScratch()
	defer putScratch(sc)
	res := Result{State: state, Decider: consent.SignalNone}
	switch state {
	case StateAds:
		res.Purposes = consent.Of(consent.Analytics, consent.Ads)
	case StateAnalytics:
		res.Purposes = consent.Of(consent.Analytics)
	}
	return en.appendRecord(dst, e, &res, sc, en.site[state])
}

// Decide returns the consent decision for e without building a record.
func (en *Engine) Decide(e *event.Event) consent.Answer {
	sc := getScratch()
	defer putScratch(sc)
	return en.decide(e, sc)
}

// decide evaluates e's consent signals, leaving out the ones a priority list
// ignores, and, unless consent.tcf.require_valid, a TC string that does not
// decode.
func (en *Engine) decide(e *event.Event, sc *scratch) consent.Answer {
	fillSignals(&sc.sig, &e.Consent, en.ignored)
	sc.sig.ReceivedAt = e.ReceivedAt
	if sc.sig.ReceivedAt.IsZero() {
		sc.sig.ReceivedAt = en.clock.Now()
	}
	ans := en.evaluator.Evaluate(&sc.sig, &sc.tc)
	// Unless consent.tcf.require_valid, an undecodable TC string is ignored;
	// a conflicting or gdpr-flag problem never is (copies that differ,
	// including a TC string and a different GPP tcfeuv2 section), nor gdpr=1
	// without any TC string (nothing recorded consent: there is no string to
	// ignore).
	if !en.requireValid && ans.Malformed.Has(consent.SignalTCF) && ans.TCSource == consent.SignalTCF && !ans.TCConflict &&
		e.Consent.Conflicts&event.ConflictTCString == 0 && e.Consent.GDPR != event.GDPRNotUnderstood {
		gdpr, src := ans.GDPR, ans.TCSource
		sc.sig.TCString = nil
		sc.sig.GDPR = nil
		ans = en.evaluator.Evaluate(&sc.sig, &sc.tc)
		// Ignored, but still malformed: it is counted and shown. Ignored
		// for the purposes only: GDPR applies as the flag and the string
		// said, so vendors are still checked (and, with no usable TC
		// string, refused).
		ans.Malformed = ans.Malformed.With(consent.SignalTCF)
		ans.GDPR, ans.TCSource = gdpr, src
	}
	return ans
}

// appendRecord appends the record policy en.policies[pi] makes of e under
// the consent decision in r.
func (en *Engine) appendRecord(dst []byte, e *event.Event, r *Result, sc *scratch, pi uint8) ([]byte, Result) {
	res := *r
	p := &en.policies[pi]

	ua, uaAsSent := en.reduceUA(sc, e.UserAgent)
	s2s := en.serverToServer(e.Site)
	agent := plan.BotsKeep // what the policy does with this user agent's class
	switch ua.Class() {
	case useragent.ClassCrawler:
		res.Bot, agent = true, p.bots
	case useragent.ClassHTTPClient:
		res.HTTPClient = true
		switch {
		case p.noAppEvents:
			agent = plan.BotsDrop
		case !s2s:
			agent = p.httpClients
		}
	}
	if agent == plan.BotsDrop {
		res.Drop = true
		return dst, res
	}
	now := e.ReceivedAt
	if now.IsZero() {
		now = en.clock.Now()
	}

	dst = append(dst, `{"v":1`...)
	dst = appendKey(dst, "id")
	dst = append(dst, '"')
	dst = appendEventID(dst)
	dst = append(dst, '"')
	dst = appendTimeField(dst, "received", now)
	dst = append(appendKey(dst, "kind"), '"')
	dst = append(dst, e.Kind.String()...)
	dst = append(dst, '"')
	// The site id is free text from the client: sites.* lists make the
	// gateway reject unknown ones, and under the default config it is
	// scanned like any value (issue 18).
	dst, res.Scrubbed = en.appendScannedText(dst, "site", e.Site, res.Scrubbed, sc)
	dst, res.Scrubbed = en.appendEventName(dst, e, res.Scrubbed, sc)
	dst, res.Scrubbed = en.appendContext(dst, e, &res, sc, pi, s2s, ua, uaAsSent, agent == plan.BotsFlag)
	dst, res.Scrubbed = en.appendURLField(dst, "url", e.URL, e.Site, urlMode(p.url), res.Scrubbed, sc, e)
	dst, res.Scrubbed = en.appendURLField(dst, "referrer", e.Referrer, nil, referrerMode(p.referrer), res.Scrubbed, sc, e)
	dst = en.appendID(dst, &sc.memo, memoUser, "user", e.Site, e.UserID, p.userID, now)
	dst = en.appendID(dst, &sc.memo, memoClient, "client", e.Site, e.ClientID, p.clientID, now)
	if len(e.EventID) > 0 && res.State != StateNone {
		dst, res.Scrubbed = en.appendEventIDField(dst, e, res.Scrubbed, sc)
	}
	if en.visitorHash && p.visitorHash && e.Kind == event.KindBLE {
		dst = en.appendBLEVisitor(dst, e, &sc.memo, now)
	} else if en.visitorHash && p.visitorHash && e.ClientIP.IsValid() && !s2s {
		dst = en.appendHash(dst, &sc.memo, memoVisitor, "visitor", func(d []byte) []byte {
			sc.buf = ua.AppendJSON(sc.buf[:0])
			uaEnd := len(sc.buf)
			sc.buf, _ = ipmask.AppendTruncated(sc.buf, e.ClientIP, VisitorIPv4Bits, VisitorIPv6Bits)
			return en.keys.AppendVisitorHash(d, e.Site, sc.buf[uaEnd:], sc.buf[:uaEnd], now)
		})
	}
	if p.lang == plan.LanguagePrimary {
		if l := primaryLanguage(e.AcceptLanguage); len(l) > 0 {
			// Lower case, as BCP 47 writes a language subtag (tags
			// match case-insensitively): "ZH" and "zh" are one value.
			dst = append(appendKey(dst, "lang"), '"')
			for _, c := range l {
				dst = append(dst, c|0x20) // ASCII letters only
			}
			dst = append(dst, '"')
		}
	}
	dst = en.appendProps(dst, e, p, &res)
	if res.State == StateAds {
		// Matching data for ad platforms: only with ads granted, and only
		// where the destination's own policy asks for it.
		dst = en.appendContact(dst, e.Props, p, sc, &res)
		if p.click {
			dst = appendClick(dst, e, now, p.clickFor)
		}
	}
	if e.Kind == event.KindBLE {
		dst, res.Scrubbed = en.appendBLE(dst, e, p, sc, now, res.Scrubbed)
	}
	if res.Scrubbed != 0 {
		dst = appendScrubbed(dst, res.Scrubbed)
	}
	return append(dst, '}'), res
}

// appendContext appends the members of a record that depend only on the
// consent decision in res, policy p, the client address and the user agent:
// "consent", "policy", "server_to_server" or "ip" and "geo", "ua" and
// "user_agent", and "bot" or "http_client" when flagged. With the caches
// on, the scratch's memo gives the last ones written back when all of that
// is the same (the sightings of a BLE ping, the events of a beacon batch);
// a header the scanner changes is never remembered, so a context from the
// memo adds no scrubbed kinds.
func (en *Engine) appendContext(dst []byte, e *event.Event, res *Result, sc *scratch, pi uint8, s2s bool, ua useragent.Info, uaAsSent, flag bool) ([]byte, scrub.Found) {
	p := &en.policies[pi]
	found := res.Scrubbed
	// Not remembered: a header the scanner changes (only its hash may be
	// kept), and an address written as sent (ip: keep; the memo keeps the
	// members, and an address only as a hash), or with a zone, which the
	// hash leaves out.
	// Nor a kept header that holds the event's own user or client id,
	// which appendUA makes {id}: the memo is keyed by the header, not by
	// the ids.
	memo := en.caches.ua != nil && (uaAsSent || len(e.UserAgent) == 0) &&
		(s2s || !e.ClientIP.IsValid() || p.ip != plan.IPKeep && e.ClientIP.Zone() == "") &&
		(p.ua != plan.UAKeep || !uaHoldsOwnID(e))
	var k contextKey
	if memo {
		k = contextKey{policy: pi, state: res.State, purposes: res.Purposes, decider: res.Decider, adPers: res.AdPersonalization, s2s: s2s}
		if !s2s {
			k.addr = addrKey(e.ClientIP)
		}
		if en.geo != nil {
			// Read before the lookup, as appendGeo does.
			k.geoGen = en.geo.Reloads()
		}
		if out, ok := sc.context.lookup(en.id, k, e.UserAgent); ok {
			return append(dst, out...), found
		}
	}
	mark := len(dst)
	dst = appendConsent(dst, res)
	dst = appendKey(dst, "policy")
	dst = append(dst, '"')
	dst = append(dst, en.version...)
	dst = append(dst, '"')

	if s2s {
		// The address is the sending server's: nothing is taken from it.
		dst = append(appendKey(dst, "server_to_server"), "true"...)
	} else {
		dst = en.appendIP(dst, e.ClientIP, p)
		dst = en.appendGeo(dst, e.ClientIP, p, &sc.geo)
	}
	dst, found = en.appendUA(dst, e, ua, uaAsSent, p, found)
	if flag {
		key := "bot"
		if res.HTTPClient {
			key = "http_client"
		}
		dst = append(appendKey(dst, key), "true"...)
	}
	if memo && found == res.Scrubbed {
		sc.context.remember(k, e.UserAgent, dst[mark:])
	}
	return dst, found
}

// malformedOf returns the signals of e counted as malformed: the answer's,
// and the gdpr flag when it was not understood (under the tcf label; GDPR
// was taken to apply, and the TC string, if any, was read as sent).
func malformedOf(e *event.Event, ans *consent.Answer) consent.SignalSet {
	if e.Consent.GDPR == event.GDPRNotUnderstood {
		return ans.Malformed.With(consent.SignalTCF)
	}
	return ans.Malformed
}

var (
	gdprYes = []byte("1")
	gdprNo  = []byte("0")
)

// fillSignals points the consent decoder's inputs at the event's buffers.
func fillSignals(s *consent.Signals, c *event.Consent, ignored consent.SignalSet) {
	switch c.GDPR {
	case 0:
		s.GDPR = gdprNo
	case 1, event.GDPRNotUnderstood:
		s.GDPR = gdprYes // not understood: GDPR is taken to apply
	default:
		s.GDPR = nil
	}
	s.TCString = c.TCString
	s.GCS = c.GCS
	s.GCD = c.GCD
	s.USPrivacy = c.USPrivacy
	s.GPP = c.GPP
	s.GPPSID = c.GPPSID
	s.Consent = c.Explicit
	s.GPC = c.GPC
	s.DNT = c.DNT
	if ignored != 0 {
		if ignored.Has(consent.SignalExplicit) {
			s.Consent = nil
		}
		if ignored.Has(consent.SignalTCF) {
			s.TCString, s.GDPR = nil, nil
		}
		if ignored.Has(consent.SignalGPP) {
			s.GPP, s.GPPSID = nil, nil
		}
		if ignored.Has(consent.SignalConsentMode) {
			s.GCS, s.GCD = nil, nil
		}
	}
	if k := c.Conflicts; k != 0 {
		// A signal sent twice with different values is a refusal: the
		// evaluator finds it malformed. That holds when the last copy is
		// empty too (consent=none&consent=): an empty copy must not erase
		// the refusal before it. Only a signal the priority list ignores
		// stays out.
		for _, f := range [...]struct {
			bit event.Conflicts
			sig consent.Signal
			dst *[]byte
		}{{event.ConflictTCString, consent.SignalTCF, &s.TCString}, {event.ConflictGCS, consent.SignalConsentMode, &s.GCS},
			{event.ConflictGCD, consent.SignalConsentMode, &s.GCD}, {event.ConflictUSPrivacy, consent.SignalUSPrivacy, &s.USPrivacy},
			{event.ConflictGPP, consent.SignalGPP, &s.GPP}, {event.ConflictGPPSID, consent.SignalGPP, &s.GPPSID},
			{event.ConflictExplicit, consent.SignalExplicit, &s.Consent}} {
			if k&f.bit != 0 && (len(*f.dst) > 0 || !ignored.Has(f.sig)) {
				*f.dst = conflicting
			}
		}
	}
}

// conflicting replaces a signal that arrived twice with different values:
// no signal's parser accepts it, so it is malformed, a refusal.
var conflicting = []byte("!")

func appendConsent(dst []byte, res *Result) []byte {
	dst = appendKey(dst, "consent")
	dst = append(dst, `{"state":"`...)
	dst = append(dst, res.State.String()...)
	dst = append(dst, `","purposes":[`...)
	first := true
	for _, p := range ourPurposes {
		if !res.Purposes.Has(p) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, p.String()...)
		dst = append(dst, '"')
	}
	dst = append(dst, `],"signal":"`...)
	dst = append(dst, res.Decider.String()...)
	if res.AdPersonalization {
		// Only when granted: a record without it (or spooled before it
		// existed) is no consent to personalised ads.
		return append(dst, `","ad_personalization":true}`...)
	}
	return append(dst, `"}`...)
}

func (en *Engine) appendIP(dst []byte, addr netip.Addr, p *policy) []byte {
	if !addr.IsValid() {
		return dst
	}
	switch p.ip {
	case plan.IPKeep:
		dst = append(appendKey(dst, "ip"), '"')
		dst = addr.AppendTo(dst)
		return append(dst, '"')
	case plan.IPTruncate:
		dst = append(appendKey(dst, "ip"), '"')
		dst = ipmask.Truncate(addr, p.v4, p.v6).AppendTo(dst)
		return append(dst, '"')
	}
	return dst
}

func (en *Engine) appendGeo(dst []byte, addr netip.Addr, p *policy, m *geoMemo) []byte {
	if en.geo == nil || p.geoLevel == geo.None {
		return dst
	}
	lookup := en.ipForLookup(addr, p)
	if !lookup.IsValid() {
		return dst
	}
	// Read before the lookup: Reload stores a database before it counts
	// it, so an unchanged count later means this lookup's database is
	// still the current one.
	gen := en.geo.Reloads()
	key := addrKey(lookup)
	if m.engine == en.id && m.gen == gen && m.addr == key && m.level == p.geoLevel && m.grid == p.grid {
		return append(dst, m.json...)
	}
	mark := len(dst)
	dst = en.lookupGeo(dst, lookup, p)
	*m = geoMemo{engine: en.id, gen: gen, addr: key, level: p.geoLevel, grid: p.grid, json: append(m.json[:0], dst[mark:]...)}
	return dst
}

// geoMemoSeed keys the address hashes geoMemo keeps: random per process, so
// a hash kept in memory does not give the address back by a lookup table.
var geoMemoSeed = maphash.MakeSeed()

// lookupGeo appends the "geo" member for address lookup, or nothing when
// the database knows nothing of it at the policy's level.
func (en *Engine) lookupGeo(dst []byte, lookup netip.Addr, p *policy) []byte {
	loc, ok := en.geo.Lookup(lookup)
	if !ok {
		return dst
	}
	mark := len(dst)
	dst = loc.AppendJSON(appendKey(dst, "geo"), p.geoLevel, p.grid)
	if dst[len(dst)-2] == '{' && dst[len(dst)-1] == '}' {
		return dst[:mark] // nothing known at the allowed level
	}
	return dst
}

// geoMemo is a scratch's last geo lookup, as the "geo" member it appended:
// the sightings of a BLE request, and a visitor's page views, come from one
// address. It holds a copy of the output and the engine's number, never
// the database's memory or a pointer, so it keeps no replaced engine or
// database alive, and it is used only by the engine that made it while the
// database that answered is still current (its reload count). Scratches
// are shared by the engines of successive configs and outlive requests, so
// the address is kept as a keyed 64-bit hash, not as it came: two
// addresses alike in it (odds of 2^-64 between consecutive lookups) would
// share a location, no worse than a database's own error.
type geoMemo struct {
	engine uint64 // Engine.id; 0: empty
	gen    uint64
	addr   uint64 // maphash of the lookup address under geoMemoSeed
	level  geo.Level
	grid   float64
	json   []byte
}

// appendUA appends the reduced user agent and, where the policy keeps it,
// e's raw one with personal data (an e-mail, an advertising id) replaced by
// markers, and the event's own user and client ids as sent, each as a word
// of its own, by "{id}" (replaceOwnIDs): apps' web views append their ids
// to the header ("ShopApp/5.2 (user u-901297)"), and the record carries
// those ids as pseudonyms only.
func (en *Engine) appendUA(dst []byte, e *event.Event, ua useragent.Info, asSent bool, p *policy, found scrub.Found) ([]byte, scrub.Found) {
	raw := e.UserAgent
	if len(raw) == 0 {
		return dst, found
	}
	switch p.ua {
	case plan.UAReduce:
		return ua.AppendJSON(appendKey(dst, "ua")), found
	case plan.UAKeep:
		dst = ua.AppendJSON(appendKey(dst, "ua"))
		dst = appendKey(dst, "user_agent")
		valStart := len(dst)
		if asSent {
			// The scanner leaves it as it is (see reduceUA).
			dst = append(dst, raw...)
		} else {
			// Scanned as a User-Agent (scrub.Cleaner.AppendUserAgent),
			// so not through the caches of scanned text.
			var f scrub.Found
			dst, f = en.cleaner.AppendUserAgent(dst, raw)
			found |= f
		}
		dst = requote(dst, valStart)
		if len(e.UserID) < minHeldID && len(e.ClientID) < minHeldID {
			return dst, found
		}
		return replaceOwnIDs(dst, valStart, e, found)
	}
	return dst, found
}

func urlMode(a plan.URLAction) int {
	switch a {
	case plan.URLPath:
		return int(scrub.URLPath) + 1
	case plan.URLClean:
		return int(scrub.URLClean) + 1
	case plan.URLKeep:
		return keepURL
	}
	return dropURL
}

func referrerMode(a plan.ReferrerAction) int {
	switch a {
	case plan.ReferrerOrigin:
		return int(scrub.URLOrigin) + 1
	case plan.ReferrerPath:
		return int(scrub.URLPath) + 1
	case plan.ReferrerClean:
		return int(scrub.URLClean) + 1
	case plan.ReferrerKeep:
		return keepURL
	}
	return dropURL
}

// URL field modes: 0 drop, 1..3 a scrub.URLMode plus one, keepURL as sent.
const (
	dropURL = 0
	keepURL = 100
)

// appendURLField appends a cleaned URL; site is the event's site for its
// page URL (hosts and routes apply), nil for a referrer. The event's own
// user and client ids in it become {id} (replaceOwnIDs), except where the
// policy keeps the URL as sent.
func (en *Engine) appendURLField(dst []byte, key string, raw, site []byte, mode int, found scrub.Found, sc *scratch, e *event.Event) ([]byte, scrub.Found) {
	if len(raw) == 0 || mode == dropURL {
		return dst, found
	}
	if mode == keepURL {
		return appendStringField(dst, key, raw), found
	}
	mark := len(dst)
	dst = appendKey(dst, key)
	valStart := len(dst)
	dst, f := en.appendCleanURL(dst, raw, scrub.URLMode(mode-1), site, sc.key[:0])
	found |= f
	if len(dst) == valStart {
		return dst[:mark], found
	}
	return replaceOwnIDs(dst, valStart, e, found)
}

// replaceOwnIDs replaces in dst[from:] (a written URL) each occurrence of
// the event's own user or client id as sent, as a word of its own (see
// holdsWord; ASCII letter case ignored), by "{id}", and adds KindSegment
// to found when it did: the record carries those ids as pseudonyms only,
// or not at all, while a profile page's path or a query value
// ("/account/8812-jane/orders", "?ref=8812-jane") would put the raw id
// beside them. Ids shorter than minHeldID are left alone (a short number
// is in many paths). In place, without allocating: "{id}" is never longer
// than the id.
func replaceOwnIDs(dst []byte, from int, e *event.Event, found scrub.Found) ([]byte, scrub.Found) {
	for _, id := range [2][]byte{e.UserID, e.ClientID} {
		if len(id) < minHeldID {
			continue
		}
		for at := from; ; {
			i := foldWordIndex(dst[at:], id)
			if i < 0 {
				break
			}
			i += at
			n := copy(dst[i:], "{id}")
			dst = append(dst[:i+n], dst[i+len(id):]...)
			found |= 1 << scrub.KindSegment
			at = i + n
		}
	}
	return dst, found
}

// foldWordIndex is wordIndex with ASCII letter case ignored. It looks for
// candidates with bytes.IndexByte on one byte of id that has a single case
// (a digit first, else any byte not a letter), so a URL is scanned at
// memchr speed and only the few places holding that byte are compared;
// an id of letters only is compared at each place of its first letter in
// either case.
func foldWordIndex(text, id []byte) int {
	if len(id) == 0 || len(id) > len(text) {
		return -1
	}
	anchor := -1
	for k, c := range id {
		if c >= '0' && c <= '9' {
			anchor = k
			break
		}
		if l := lowerASCII(c); anchor < 0 && (l < 'a' || l > 'z') {
			anchor = k
		}
	}
	if anchor < 0 {
		for i := 0; i+len(id) <= len(text); i++ {
			if lowerASCII(text[i]) == lowerASCII(id[0]) && wordAt(text, i, id) {
				return i
			}
		}
		return -1
	}
	c := id[anchor]
	for at := anchor; at < len(text); {
		j := bytes.IndexByte(text[at:], c)
		if j < 0 {
			return -1
		}
		i := at + j - anchor
		if i+len(id) > len(text) {
			return -1
		}
		if wordAt(text, i, id) {
			return i
		}
		at += j + 1
	}
	return -1
}

// wordAt reports whether text holds id at i, ASCII letter case ignored,
// as a word of its own (see holdsWord).
func wordAt(text []byte, i int, id []byte) bool {
	for j, c := range id {
		if lowerASCII(text[i+j]) != lowerASCII(c) {
			return false
		}
	}
	end := i + len(id)
	return (i == 0 || !isWordByte(text[i-1])) && (end == len(text) || !continuesWord(text[end:]))
}

// uaHoldsOwnID reports whether e's user agent holds its own user or client
// id as sent, as a word of its own, which appendUA replaces where the
// policy keeps the header.
func uaHoldsOwnID(e *event.Event) bool {
	for _, id := range [2][]byte{e.UserID, e.ClientID} {
		if len(id) >= minHeldID && foldWordIndex(e.UserAgent, id) >= 0 {
			return true
		}
	}
	return false
}

// appendScannedText appends key with text after replacing personal data.
func (en *Engine) appendScannedText(dst []byte, key string, text []byte, found scrub.Found, sc *scratch) ([]byte, scrub.Found) {
	if len(text) == 0 {
		return dst, found
	}
	dst = appendKey(dst, key)
	memo := en.caches.text != nil
	if memo {
		if out, ok := sc.text.lookup(en.id, struct{}{}, text); ok {
			return append(dst, out...), found
		}
	}
	valStart := len(dst)
	dst, f := en.appendScanned(dst, text)
	dst = requote(dst, valStart)
	if memo && f == 0 {
		sc.text.remember(struct{}{}, text, dst[valStart:])
	}
	return dst, found | f
}

// appendEventName appends the event name, scanned as free text, with the
// event's own user and client ids as sent, each as a word of its own, made
// "{id}" as in the page URL and referrer (replaceOwnIDs): the record
// carries those ids as pseudonyms only, or not at all, and a name such as
// "signup_u-901297" would put the raw id beside them. The name is kept,
// not left out as a property or an event id holding the id is: it is
// text, like a URL, and the rest of it says what happened.
func (en *Engine) appendEventName(dst []byte, e *event.Event, found scrub.Found, sc *scratch) ([]byte, scrub.Found) {
	mark := len(dst)
	dst, found = en.appendScannedText(dst, "event", e.Name, found, sc)
	if len(dst) == mark || len(e.UserID) < minHeldID && len(e.ClientID) < minHeldID {
		return dst, found
	}
	from := mark + bytes.IndexByte(dst[mark:], ':') + 1 // the value, after the key
	return replaceOwnIDs(dst, from, e, found)
}

// appendEventIDField appends the page's event id ("eid"), on which ad
// platforms match the browser's and the server's copies of an event. The
// gateway lets only A-Z a-z 0-9 - _ through, so no e-mail, address or URL
// can be in it as it is, but base64url-encoded one can; an id that holds
// the event's own user or client id as sent (holdsID: tags build theirs
// from the user id and a time or a counter), that holds the base64 or
// base64url encoding of an e-mail address (scrub.EmailInID: a tag that
// makes its ids from the visitor's address), or in which the cleaner
// finds a number (IDFindings: a card or IBAN
// anywhere, a phone or national id as the text scanner finds them), is
// left out rather than rewritten (a rewritten id would match nothing), the
// number's kind counted as scrubbed. No such number has fewer than seven
// digits, so an id with fewer (bg.js's 22 random characters, mostly) is
// not scanned.
func (en *Engine) appendEventIDField(dst []byte, e *event.Event, found scrub.Found, sc *scratch) ([]byte, scrub.Found) {
	id := e.EventID
	if holdsID(id, e.UserID) || holdsID(id, e.ClientID) {
		return dst, found
	}
	if scrub.EmailInID(id) {
		return dst, found | 1<<scrub.KindEmail
	}
	digits := 0
	for _, c := range id {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	if digits >= 7 {
		var f scrub.Found
		if sc.buf, f = en.cleaner.IDFindings(sc.buf, id); f != 0 {
			return dst, found | f
		}
	}
	return appendStringField(dst, "eid", id), found
}

// minHeldID is the shortest user or client id holdsID looks for inside an
// event id: a shorter one is matched whole only, since one of three bytes
// or fewer is in many random ids (bg.js's 22 characters hold a given
// four-letter string about once in 50,000 ids, letter case ignored).
const minHeldID = 4

// holdsID reports whether the event id eid is id, or, for an id of at least
// minHeldID bytes, holds it anywhere, ASCII letter case ignored (the record
// must not carry the raw id its policy pseudonymizes or drops).
func holdsID(eid, id []byte) bool {
	if len(id) == 0 || len(id) > len(eid) {
		return false
	}
	if len(id) < minHeldID {
		return bytes.Equal(eid, id)
	}
	for i := 0; i+len(id) <= len(eid); i++ {
		j := 0
		for j < len(id) && lowerASCII(eid[i+j]) == lowerASCII(id[j]) {
			j++
		}
		if j == len(id) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// keyLater reports whether a property in props has the key key.
func keyLater(props []event.Prop, key []byte) bool {
	for i := range props {
		if bytes.Equal(props[i].Key, key) {
			return true
		}
	}
	return false
}

// appendScannedValue appends text as a JSON string after replacing personal
// data.
func (en *Engine) appendScannedValue(dst, text []byte, found scrub.Found) ([]byte, scrub.Found) {
	valStart := len(dst)
	dst, f := en.cleaner.AppendText(dst, text)
	return requote(dst, valStart), found | f
}

// appendScannedNumber appends a number literal (checked by the gateway) as
// it is, unless the scanner finds personal data in its digits (a phone or
// card number sent as a number): then the scanned text goes out as a string
// with its markers.
func (en *Engine) appendScannedNumber(dst, literal []byte, found scrub.Found) ([]byte, scrub.Found) {
	valStart := len(dst)
	dst, f := en.cleaner.AppendText(dst, literal)
	if f == 0 {
		return append(dst[:valStart], literal...), found
	}
	return requote(dst, valStart), found | f
}

// requote turns the raw bytes dst[from:] into a quoted JSON string in place.
// When nothing needs escaping the bytes shift by one. Otherwise a copy of
// the raw bytes is parked past the longest possible escaped form (6 bytes
// per input byte plus quotes) and encoded back from there: the writer never
// catches up with the reader, and a reused dst makes this allocation-free.
func requote(dst []byte, from int) []byte {
	n := len(dst) - from
	if !jsonstr.NeedsEscape(dst[from:]) {
		dst = append(dst, 0, 0)
		copy(dst[from+1:], dst[from:from+n])
		dst[from] = '"'
		dst[from+n+1] = '"'
		return dst
	}
	off := from + 6*n + 2
	dst = slices.Grow(dst, off+n-len(dst))
	dst = dst[:off+n]
	copy(dst[off:], dst[from:from+n])
	return appendString(dst[:from], dst[off:off+n])
}

func (en *Engine) appendID(dst []byte, m *idMemo, slot int, key string, site, id []byte, action plan.IDAction, now time.Time) []byte {
	if len(id) == 0 || action != plan.IDPseudonymize || en.keys == nil {
		return dst
	}
	return en.appendHash(dst, m, slot, key, func(d []byte) []byte { return en.keys.AppendPseudonym(d, site, id, now) })
}

// appendQuoted appends "key":"value" where value is what add appends, or
// nothing when add appends nothing (e.g. an ephemeral key already forgotten).
// add only appends URL-safe characters, so no escaping is needed.
func (en *Engine) appendQuoted(dst []byte, key string, add func([]byte) []byte) []byte {
	mark := len(dst)
	dst = append(appendKey(dst, key), '"')
	valStart := len(dst)
	dst = add(dst)
	if len(dst) == valStart {
		return dst[:mark]
	}
	return append(dst, '"')
}

// primaryLanguage returns the primary subtag of the first language range of
// an Accept-Language header, lower-cased in place is not possible (the event
// is read-only), so only a well-formed lower-case-able ASCII tag is returned.
// The whole first range must be one (RFC 9110 section 12.5.4, RFC 4647): two
// or three letters, subtags of 1-8 letters and digits after '-', then
// optional blanks and the end, a ',' or a ';' (its weight). Anything else is
// no language but what a client put in the header ("bob@example.org",
// "Ann Smith"), and gives nothing: its first letters would go out as "lang".
func primaryLanguage(h []byte) []byte {
	i := 0
	for i < len(h) && (h[i] == ' ' || h[i] == '\t') {
		i++
	}
	j := i
	for j < len(h) && isASCIILetter(h[j]) {
		j++
	}
	if j-i < 2 || j-i > 3 {
		return nil
	}
	k := j
	for k < len(h) && h[k] == '-' {
		n := 1
		for k+n < len(h) && n <= 8 && (isASCIILetter(h[k+n]) || h[k+n] >= '0' && h[k+n] <= '9') {
			n++
		}
		if n == 1 {
			return nil // "de-": an empty subtag (one longer than 8 is caught below)
		}
		k += n
	}
	for k < len(h) && (h[k] == ' ' || h[k] == '\t') {
		k++
	}
	if k < len(h) && h[k] != ',' && h[k] != ';' {
		return nil
	}
	return h[i:j]
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// appendProps appends the allowlisted properties. Strings are escaped; a
// number or boolean is copied as written only when it is a valid JSON literal
// (a number also finite as a float64), else the property is left out and
// counted in res.DroppedProps, so a record is always valid JSON whatever
// produced the event. A key sent twice (twice in a JSON object, p.x twice
// in a query, a BLE sighting's own property over the request's) is written
// once, with its last value: a record never has a member name twice.
func (en *Engine) appendProps(dst []byte, e *event.Event, p *policy, res *Result) []byte {
	props := e.Props
	if p.props != plan.PropertiesAllowlist || len(props) == 0 {
		return dst
	}
	mark := len(dst)
	dst = appendKey(dst, "props")
	dst = append(dst, '{')
	n := 0
	for i := range props {
		pr := &props[i]
		switch fate, f := en.propFate(e, i); fate {
		case propKept:
		case propSensitiveName:
			res.Scrubbed |= f
			continue
		case propInvalid:
			res.DroppedProps++
			continue
		default:
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = append(appendString(dst, pr.Key), ':')
		switch pr.Type {
		case event.PropString:
			dst, res.Scrubbed = en.appendScannedValue(dst, pr.Value, res.Scrubbed)
		case event.PropNumber:
			dst, res.Scrubbed = en.appendScannedNumber(dst, pr.Value, res.Scrubbed)
		default:
			dst = append(dst, pr.Value...) // true or false, checked above
		}
	}
	if n == 0 {
		return dst[:mark]
	}
	return append(dst, '}')
}

// propFate says what appendProps, under an allowlist policy, does with
// props[i], and for propSensitiveName what the name found.
type propFate uint8

// What appendProps does with a property.
const (
	propKept          propFate = iota // written, its value scanned
	propNotAllowed                    // not in properties.allow, or never a property (contact data, a click id)
	propSentAgain                     // the key comes again later: only the last value is written
	propSensitiveName                 // the name says secret or person: the value goes whatever it is
	propInvalid                       // a number or boolean that is not a valid JSON literal
	propHoldsID                       // the value holds the event's own user, client or device id as sent
)

// propFate returns what appendProps does with props[i] under an allowlist
// policy.
func (en *Engine) propFate(e *event.Event, i int) (propFate, scrub.Found) {
	props := e.Props
	pr := &props[i]
	if _, ok := en.allowedProps[string(pr.Key)]; !ok {
		return propNotAllowed, 0
	}
	if keyLater(props[i+1:], pr.Key) {
		return propSentAgain, 0
	}
	if f := en.cleaner.SensitiveName(pr.Key); f.Has(scrub.KindParam) {
		// An allow-listed key that names a secret or a person
		// ("password", "first_name"): the value goes whatever it is.
		// Click ids ("gclid") are the ads purpose's to keep.
		return propSensitiveName, f
	}
	switch pr.Type {
	case event.PropNumber:
		if !jsonnum.ValidNumber(pr.Value) {
			return propInvalid, 0
		}
	case event.PropBool:
		if v := string(pr.Value); v != "true" && v != "false" {
			return propInvalid, 0
		}
		return propKept, 0
	}
	if textHoldsID(pr.Value, e.UserID) || textHoldsID(pr.Value, e.ClientID) ||
		(e.Kind == event.KindBLE && textHoldsID(pr.Value, e.Sighting.DeviceID)) {
		// The record carries these ids only as pseudonyms, or not at
		// all: a value that repeats one ("user 8812-jane", an
		// allowlisted account_id) would put the raw id beside them.
		return propHoldsID, 0
	}
	return propKept, 0
}

// textHoldsID reports whether the property value text holds id as sent: is
// it, ASCII letter case ignored, or, for an id of at least minHeldID
// bytes, has it as a word of its own (not inside a longer run of letters
// and digits: uid 1001 is not in "10019" or "1001.5"), in the case sent, in
// lower case or in upper case. It does not allocate.
func textHoldsID(text, id []byte) bool {
	if len(id) == 0 || len(id) > len(text) {
		return false
	}
	if len(id) == len(text) || len(id) < minHeldID {
		return bytes.EqualFold(text, id)
	}
	if holdsWord(text, id) {
		return true
	}
	var buf [256]byte
	if len(id) > len(buf) {
		return false
	}
	folded := buf[:len(id)]
	for _, upper := range [2]bool{false, true} {
		changed := false
		for i, c := range id {
			f := lowerASCII(c)
			if upper && f >= 'a' && f <= 'z' {
				f -= 'a' - 'A'
			}
			folded[i] = f
			changed = changed || f != c
		}
		if changed && holdsWord(text, folded) {
			return true
		}
	}
	return false
}

// holdsWord reports whether id occurs in text with no letter or digit
// right before or after it (a '.' or ',' followed by a digit counts as one:
// a decimal fraction).
func holdsWord(text, id []byte) bool { return wordIndex(text, id) >= 0 }

// wordIndex returns the index of the first occurrence of id in text as a
// word of its own (see holdsWord), or -1.
func wordIndex(text, id []byte) int {
	for from := 0; from+len(id) <= len(text); {
		i := bytes.Index(text[from:], id)
		if i < 0 {
			return -1
		}
		i += from
		end := i + len(id)
		if (i == 0 || !isWordByte(text[i-1])) && (end == len(text) || !continuesWord(text[end:])) {
			return i
		}
		from = i + 1
	}
	return -1
}

func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// continuesWord reports whether rest, the text after a match, goes on with
// its word: a letter or digit, or a decimal point or comma and a digit.
func continuesWord(rest []byte) bool {
	if isWordByte(rest[0]) {
		return true
	}
	return (rest[0] == '.' || rest[0] == ',') && len(rest) > 1 && rest[1] >= '0' && rest[1] <= '9'
}

// ExplainProp says what the policy of state does with e.Props[i], for
// "beacongate explain": "keep (allowlisted), scan" when the record holds
// it, else "drop (...)" with the reason, as appendProps decides. Contact
// data is never a property; explain shows it apart.
func (en *Engine) ExplainProp(e *event.Event, i int, state State) string {
	if en.policies[state].props != plan.PropertiesAllowlist {
		return "drop (properties: drop)"
	}
	switch fate, f := en.propFate(e, i); fate {
	case propKept:
		return "keep (allowlisted), scan"
	case propSentAgain:
		return "drop (the key is sent again later: the record keeps the last value)"
	case propSensitiveName:
		return "drop (allowlisted, but the name says secret or person: " + f.String() + ")"
	case propInvalid:
		return "drop (not a valid JSON number or boolean)"
	case propHoldsID:
		return "drop (the value holds the event's own user, client or device id as sent)"
	}
	if neverProp(en.cleaner, e.Props[i].Key) {
		return "drop (a click id is never a property, allowlisted or not)"
	}
	return "drop (not in properties.allow)"
}

func (en *Engine) appendBLE(dst []byte, e *event.Event, p *policy, sc *scratch, now time.Time, found scrub.Found) ([]byte, scrub.Found) {
	m := &sc.memo
	s := &e.Sighting
	dst = appendKey(dst, "ble")
	dst = append(dst, '{')
	dst, found = en.appendScannedText(dst, "store", e.Store, found, sc)
	dst, found = en.appendScannedText(dst, "sensor", e.Sensor, found, sc)
	if z := bleZone(e); len(z) > 0 {
		// The store's layout, not the visitor's: written under every
		// policy (scanned as sensor is), so that the aggregation counts
		// one zone in one cell whatever each passer-by consented to.
		dst, found = en.appendScannedText(dst, "zone", z, found, sc)
	}
	switch {
	case !en.KnownBeacon(s):
		// Not one of the stores' beacons: what came in the beacon's place
		// may be a phone's advertising id; the identity is left out.
		found |= 1 << scrub.KindToken
	case len(s.UUID) > 0:
		dst = appendStringField(dst, "uuid", s.UUID)
		dst = appendIntField(dst, "major", int64(s.Major))
		dst = appendIntField(dst, "minor", int64(s.Minor))
	default:
		dst = appendStringField(dst, "namespace", s.Namespace)
		dst = appendStringField(dst, "instance", s.Instance)
	}
	dst = appendIntField(dst, "rssi", int64(s.RSSI))
	dst = appendTimeField(dst, "seen", time.UnixMilli(s.SeenAtMS))
	if len(s.DeviceID) > 0 && p.deviceID == plan.IDPseudonymize && en.keys != nil {
		dst = en.appendHash(dst, m, memoDevice, "device", func(d []byte) []byte { return en.keys.AppendPseudonym(d, e.Site, s.DeviceID, now) })
		dst = append(appendKey(dst, "device_kind"), '"')
		dst = append(dst, s.DeviceKind.String()...)
		dst = append(dst, '"')
	}
	if s.Randomized {
		dst = append(appendKey(dst, "randomized"), "true"...)
	}
	return append(dst, '}'), found
}

// bleZone returns the sighting's zone: the value of its last "zone"
// property (a sighting's own props come after the request's), or nil.
func bleZone(e *event.Event) []byte {
	for i := len(e.Props) - 1; i >= 0; i-- {
		if string(e.Props[i].Key) == "zone" {
			return e.Props[i].Value
		}
	}
	return nil
}

// bleVisitorLabel stands in the visitor hash where a browser's reduced user
// agent goes, so a device id can never hash like an address.
var bleVisitorLabel = []byte("ble-device")

// appendBLEVisitor appends the visitor hash of a sighting's device: keyed by
// the site and the normalised device id within the visitor period. The
// store box's address and agent are the same for every device in a store,
// so they never enter it. A randomized MAC, or no device id, gets none: it
// is no person to count.
func (en *Engine) appendBLEVisitor(dst []byte, e *event.Event, m *idMemo, now time.Time) []byte {
	s := &e.Sighting
	if len(s.DeviceID) == 0 || s.Randomized || en.keys == nil {
		return dst
	}
	return en.appendHash(dst, m, memoVisitor, "visitor", func(d []byte) []byte {
		return AppendBLEVisitorHash(d, en.keys, e.Site, s.DeviceID, now)
	})
}

// AppendBLEVisitorHash appends to dst the visitor hash a BLE sighting of
// the device deviceID (normalised as the BLE endpoint does: see package
// retail) gets on site in the visitor period (a UTC day) that contains
// now, as the engine writes it in the record's visitor field; nothing when
// the period's key cannot be had. Not for a randomized MAC, which gets no
// visitor hash. "beacongate subject" computes it from a device id with
// this same function.
func AppendBLEVisitorHash(dst []byte, keys *pseudonym.Keyring, site, deviceID []byte, now time.Time) []byte {
	return keys.AppendVisitorHash(dst, site, deviceID, bleVisitorLabel, now)
}

func appendScrubbed(dst []byte, f scrub.Found) []byte {
	dst = appendKey(dst, "scrubbed")
	dst = append(dst, '[')
	first := true
	for k := scrub.KindEmail; k <= scrub.KindLast; k++ {
		if !f.Has(k) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, k.String()...)
		dst = append(dst, '"')
	}
	return append(dst, ']')
}

// KnownBeacon reports whether a sighting's beacon is one the stores deploy
// (ble.beacons), or whether no list is configured: only then does its
// record carry the beacon's identity. The gateway hands over identities in
// lower case.
func (en *Engine) KnownBeacon(s *event.Sighting) bool {
	if en.beacons == nil {
		return true
	}
	id := s.UUID
	if len(id) == 0 {
		id = s.Namespace
	}
	_, ok := en.beacons[string(id)]
	return ok
}
