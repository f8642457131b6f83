package anonymize

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/scrub"
	"github.com/beacongate/beacongate/anonymize/useragent"
	"github.com/beacongate/beacongate/event"
)

// Cache sizes. Real traffic repeats a small set of consent strings (a
// site's CMP writes a handful of TC strings), user agents (a few hundred
// browser builds) and page URLs without per-visitor parameters; a one-off
// value costs a lookup and a copy. Keys and values are preallocated:
// about 0.5 MiB for user agents, 1 MiB for consent and 1.25 MiB for URLs
// per Engine.
const (
	uaCacheEntries = 1024
	uaCacheMaxKey  = 512 // user agents are 100-250 bytes; longer ones are rare and parsed
	// User agents the scanner flags: a crawler's contact address, an id an
	// app put there; few.
	uaFlaggedCacheEntries = 256
	consentCacheEntries   = 1024
	consentCacheMaxKey    = 1024 // a TC string with vendor consents, GPP, Consent Mode
	// Cleaned URLs, keyed by a keyed hash (hashKey) of the part of the URL
	// the cleaning reads (4,096 entries measured no better on the
	// loadgen mix than 1,024).
	urlCacheEntries = 1024
	urlCacheMaxKey  = 1024 // mode, site and a URL of up to ~1 KB; longer ones are cleaned every time
	// A cleaned URL as its quoted JSON string: each of a query's '&' takes
	// six bytes (\u0026), so a URL near the key's limit with more than
	// about 50 of them is cleaned every time.
	urlCacheMaxVal = 1280
	// Short free text that repeats on every request of a site: the site
	// id, the event name, a BLE batch's store and sensor (the same for
	// each of its sightings).
	textCacheEntries = 1024
	textCacheMaxKey  = 128
	textCacheMaxVal  = 256 // markers can be longer than what they replace
)

// caches are an Engine's memos, nil when caching is off (tests that compare
// against the uncached path).
type caches struct {
	ua *cache[useragent.Info]
	// uaFlagged holds the reductions of user agents in which the scanner
	// found personal data, keyed by hashOf rather than the header.
	uaFlagged *cache[useragent.Info]
	consent   *cache[decision]
	url       *cache[scrub.Found]
	text      *cache[scrub.Found]
}

func newCaches() caches {
	return caches{
		ua: newCache[useragent.Info](uaCacheEntries, uaCacheMaxKey, 0),
		// Keyed by hashOf: a handful of app builds, few entries.
		uaFlagged: newCache[useragent.Info](uaFlaggedCacheEntries, len(hashKey{}), 0),
		consent:   newCache[decision](consentCacheEntries, consentCacheMaxKey, 0),
		url:       newCache[scrub.Found](urlCacheEntries, len(hashKey{}), urlCacheMaxVal),
		text:      newCache[scrub.Found](textCacheEntries, textCacheMaxKey, textCacheMaxVal),
	}
}

// CacheStats counts one cache's lookups.
type CacheStats struct{ Hits, Misses uint64 }

// CachesStats returns the hits and misses of the engine's caches of consent
// decisions, user-agent reductions (headers as sent and, for those the
// scanner changes, by keyed hash: one lookup of either counts once),
// cleaned URLs and scanned short texts (zero when off). A result a
// scratch's memo answered is not a lookup.
func (en *Engine) CachesStats() (consentStats, ua, url, text CacheStats) {
	if en.caches.ua == nil {
		return
	}
	consentStats.Hits, consentStats.Misses = en.caches.consent.stats()
	ua.Hits, ua.Misses = en.caches.ua.stats()
	flaggedHits, flaggedMisses := en.caches.uaFlagged.stats()
	ua.Hits, ua.Misses = ua.Hits+flaggedHits, ua.Misses+flaggedMisses
	url.Hits, url.Misses = en.caches.url.stats()
	text.Hits, text.Misses = en.caches.text.stats()
	return
}

// decision is the part of Result that consent decides: the same for every
// event with the same signal bytes, except where a TC string's dates meet
// the arrival time (checked again on each hit).
type decision struct {
	purposes            consent.Purposes // limited to the enabled ones
	decider             consent.Signal
	adPersonal          bool // Result.AdPersonalization
	malformed, rejected consent.SignalSet
	dests, refused      Dests
	reasons             [consent.NumVendorReasons]uint8
	// The TC string the decision read, if any: its dates, and the date
	// problems they had at the arrival of the event that filled the entry.
	timed            bool
	created, updated time.Time
	dateProblems     consent.Problems
}

// decideRouted decides consent for e, the destinations it routes to and the
// vendor check, into res (Purposes, Decider, AdPersonalization, Malformed, Rejected, State,
// Dests, VendorRefused, VendorReasons), from the cache when the same signal
// bytes were decided before and the arrival time does not change the
// answer.
func (en *Engine) decideRouted(e *event.Event, sc *scratch, res *Result) {
	if en.caches.consent == nil || consentKeyLen(&e.Consent) > consentCacheMaxKey {
		en.decideInto(e, sc, res, nil)
		return
	}
	now := e.ReceivedAt
	if now.IsZero() {
		now = en.clock.Now()
	}
	// The key is built in the scratch's room (the cache and the memo copy
	// it) and cleared after, so that the pooled scratch holds no signal
	// bytes the memo no longer does.
	key := appendConsentKey(sc.key[:0], &e.Consent)
	if d, ok := sc.consent.lookup(en.id, key, now, en.tcMaxAge); ok {
		d.apply(res)
	} else if _, d, ok := en.caches.consent.get(nil, key); ok && d.holdsAt(now, en.tcMaxAge) {
		d.apply(res)
		sc.consent.remember(en.id, key, &d)
	} else {
		en.decideInto(e, sc, res, key)
	}
	clear(key)
}

// decideInto decides consent for e without the caches, into res, and
// keeps the decision under key in the cache and the scratch's memo unless
// key is nil.
func (en *Engine) decideInto(e *event.Event, sc *scratch, res *Result, key []byte) {
	ans := en.decide(e, sc)
	res.Purposes = ans.Purposes & en.enabled
	res.Decider = ans.Decider
	res.AdPersonalization = ans.AdPersonalization && res.Purposes.Has(consent.Ads)
	res.Malformed, res.Rejected = malformedOf(e, &ans), ans.Rejected
	res.State = StateOf(res.Purposes)
	res.Dests = en.routes[uint8(res.Purposes)]
	en.enforceVendors(res, &ans, sc)
	if key == nil {
		return
	}
	d := decision{purposes: res.Purposes, decider: res.Decider, adPersonal: res.AdPersonalization, malformed: res.Malformed, rejected: res.Rejected,
		dests: res.Dests, refused: res.VendorRefused, reasons: res.VendorReasons}
	if ans.TCSource != consent.SignalNone {
		// Whether or not the string decoded, its dates are checked again:
		// a spurious miss costs a decode, a wrong hit would cost a decision.
		d.timed, d.created, d.updated = true, sc.tc.Created, sc.tc.LastUpdated
		// At the time the evaluation used (the clock's, for an event
		// without one, read again by decide).
		d.dateProblems = consent.DatesProblems(d.created, d.updated, sc.sig.ReceivedAt, en.tcMaxAge)
	}
	en.caches.consent.put(key, nil, d)
	sc.consent.remember(en.id, key, &d)
}

func (d *decision) apply(res *Result) {
	res.Purposes, res.Decider, res.AdPersonalization = d.purposes, d.decider, d.adPersonal
	res.Malformed, res.Rejected = d.malformed, d.rejected
	res.State = StateOf(d.purposes)
	res.Dests, res.VendorRefused, res.VendorReasons = d.dests, d.refused, d.reasons
}

// consentKeyLen is an upper bound of appendConsentKey's length.
func consentKeyLen(c *event.Consent) int {
	return 3 + 7*binary.MaxVarintLen32 + len(c.TCString) + len(c.GCS) + len(c.GCD) + len(c.USPrivacy) +
		len(c.GPP) + len(c.GPPSID) + len(c.Explicit)
}

// appendConsentKey appends every consent input of an event, each byte
// string behind its length so no two inputs share a key. A consent field
// added to event.Consent must be added here.
func appendConsentKey(dst []byte, c *event.Consent) []byte {
	var flags byte
	if c.GPC {
		flags |= 1
	}
	if c.DNT {
		flags |= 2
	}
	dst = append(dst, byte(c.GDPR), byte(c.Conflicts), flags)
	for _, f := range [...][]byte{c.TCString, c.GCS, c.GCD, c.USPrivacy, c.GPP, c.GPPSID, c.Explicit} {
		dst = binary.AppendUvarint(dst, uint64(len(f)))
		dst = append(dst, f...)
	}
	return dst
}

// reduceUA returns the reduction of user agent ua: the scratch's last one
// when it is the same header (the sightings of a BLE batch), else from the
// engine's cache, else parsed; and asSent, true when the scanner leaves the
// header as it is (scrub.Cleaner.AppendUserAgent returns it unchanged), so
// that a policy keeping it may write it without scanning it again. Like
// URLs and texts, a header the scanner changes (a crawler's contact
// e-mail, an id an app put there) is never kept as it was sent: the
// engine's flagged-header cache and the scratch's memo know it by a keyed
// hash only, so it is reduced once, not on every request.
func (en *Engine) reduceUA(sc *scratch, ua []byte) (_ useragent.Info, asSent bool) {
	m := &sc.ua
	m.serve(en.id)
	if m.matchesRaw(ua) {
		return m.info, true
	}
	// One lookup counts once: a hit in either cache, or one miss once
	// the memo (not counted) and both caches missed.
	c, fc := en.caches.ua, en.caches.uaFlagged
	var slot, flaggedSlot uint64
	if c != nil {
		_, info, ok, h := c.find(nil, ua, false)
		if ok {
			m.rememberRaw(ua, info) // only headers left as sent are stored as sent
			return info, true
		}
		slot = h
	}
	h := hashOf(ua)
	if m.matchesHash(h) {
		return m.info, false
	}
	if fc != nil {
		_, info, ok, fh := fc.find(nil, h[:], false)
		if ok {
			m.rememberHash(h, info)
			return info, false
		}
		flaggedSlot = fh
	}
	if slot != 0 {
		c.countMiss(slot)
	} else if fc != nil {
		fc.countMiss(flaggedSlot) // too long for the first cache
	}
	info := useragent.Parse(ua)
	var f scrub.Found
	sc.buf, f = en.cleaner.AppendUserAgent(sc.buf[:0], ua)
	asSent = f == 0 && bytes.Equal(sc.buf, ua)
	sc.buf = sc.buf[:0]
	if !asSent {
		if fc != nil {
			fc.put(h[:], nil, info)
		}
		m.rememberHash(h, info)
		return info, false
	}
	if c != nil {
		c.put(ua, nil, info)
	}
	m.rememberRaw(ua, info)
	return info, true
}

// appendCleanURL appends raw cleaned in mode for site (nil for a
// referrer) as a quoted JSON string, or nothing when cleaning leaves
// nothing, from the cache when a URL with the same key was cleaned the same
// way for the same site before. The cache holds the quoted form: a query's
// '&' is escaped (\u0026), so quoting a cleaned URL is a second pass over
// it that a hit skips. kb is room for the key: an empty slice with a
// capacity of at least 2*urlCacheMaxKey (the scratch's key), whose spare
// capacity is AppendURLKey's scratch for decoding parameter names.
//
// The key is the part of the URL the cleaning reads
// (scrub.Cleaner.AppendURLKey): the origin in the origin mode and for
// schemes other than http(s), the path in the path mode, so the rest,
// where personal data the cleaner never scans may be, is never kept, and
// query strings that change on every visit do not make a URL miss. In the
// clean mode the cleaner reads the whole URL: the key is the URL as sent
// and, when that missed, the URL without the query parameters removed for
// their name (a click id that differs on every visit, a sensitive name),
// whose kinds a hit adds. A result in which the cleaner found personal
// data (or anything else to remove from the text) is not kept, so no key
// holds what the cleaner removes; one whose findings are only structural
// (a path segment shaped to {id}, a host reduced to the site's: the same
// for every visitor of the page, Found.Structural) is. The cache keeps a
// keyed hash of the key, and kb is cleared before returning.
func (en *Engine) appendCleanURL(dst, raw []byte, mode scrub.URLMode, site, kb []byte) ([]byte, scrub.Found) {
	need := 1 + binary.MaxVarintLen32 + len(site) + len(raw)
	if en.caches.url == nil || need > urlCacheMaxKey || cap(kb) < 2*need {
		return en.appendQuotedURL(dst, raw, mode, site)
	}
	dst, f := en.appendCleanURLIn(kb[:0], dst, raw, mode, site)
	// The key and the decoding scratch hold the raw URL (an e-mail
	// address in its query, say), which the cache keeps only as a keyed
	// hash: cleared, the pooled scratch does not keep it either. Its
	// lines were just written, so this costs far less than zeroing a cold
	// stack array before the use.
	clear(kb[:2*need])
	return dst, f
}

// appendCleanURLIn is appendCleanURL building the key in kb, an empty
// slice with room for twice the key.
func (en *Engine) appendCleanURLIn(kb, dst, raw []byte, mode scrub.URLMode, site []byte) ([]byte, scrub.Found) {
	c := en.caches.url
	key := append(kb, byte(mode))
	key = binary.AppendUvarint(key, uint64(len(site)))
	key = append(key, site...)
	head := len(key)
	start := len(dst)
	if mode != scrub.URLClean {
		// These modes do not look at the query, where personal data may
		// be: the key leaves it out, and a URL without such a key is
		// not cached.
		key, _, ok := en.cleaner.AppendURLKey(key, raw, mode)
		if !ok {
			return en.appendQuotedURL(dst, raw, mode, site)
		}
		k := hashOf(key)
		dst, f, ok := c.get(dst, k[:])
		if ok {
			return dst, f
		}
		dst, f = en.appendQuotedURL(dst, raw, mode, site)
		if f.Structural() { // a path shaped to {id} repeats; personal data found does not
			c.put(k[:], dst[start:], f)
		}
		return dst, f
	}
	asSent := hashOf(append(key, raw...))
	// A miss is counted once per URL: here, or by the lookup without the
	// named parameters.
	dst, f, ok, slot := c.find(dst, asSent[:], false)
	if ok {
		return dst, f
	}
	key, removed, ok := en.cleaner.AppendURLKey(key[:head], raw, mode)
	if !ok {
		c.countMiss(slot)
		dst, f = en.appendQuotedURL(dst, raw, mode, site)
		if f.Structural() { // a path shaped to {id} repeats; personal data found does not
			c.put(asSent[:], dst[start:], f)
		}
		return dst, f
	}
	reduced := hashOf(key)
	if dst, f, ok = c.get(dst, reduced[:]); ok {
		return dst, f | removed
	}
	dst, f = en.cleaner.AppendPageURL(dst, key[head:], mode, site)
	if f&scrub.StopsBeforeQuery != 0 {
		// The cleaner may have stopped before the query, where the
		// removed names would not have counted: clean raw itself.
		return en.appendQuotedURL(dst[:start], raw, mode, site)
	}
	dst = quoteCleaned(dst, start)
	if f.Structural() { // a path shaped to {id} repeats; personal data found does not
		c.put(reduced[:], dst[start:], f)
	}
	return dst, f | removed
}

// appendQuotedURL appends raw cleaned in mode for site as a quoted JSON
// string, or nothing when cleaning leaves nothing (the cleaner's
// AppendPageURL, uncached).
func (en *Engine) appendQuotedURL(dst, raw []byte, mode scrub.URLMode, site []byte) ([]byte, scrub.Found) {
	start := len(dst)
	dst, f := en.cleaner.AppendPageURL(dst, raw, mode, site)
	return quoteCleaned(dst, start), f
}

// quoteCleaned quotes the cleaned URL dst[start:] in place; an empty one
// (cleaning left nothing) stays empty.
func quoteCleaned(dst []byte, start int) []byte {
	if len(dst) == start {
		return dst
	}
	return requote(dst, start)
}

// appendScanned appends text with personal data replaced (the cleaner's
// AppendText), from the cache when the same short text was scanned before.
// Text with personal data in it is not kept, as for URLs.
func (en *Engine) appendScanned(dst, text []byte) ([]byte, scrub.Found) {
	c := en.caches.text
	if c == nil || len(text) > textCacheMaxKey {
		return en.cleaner.AppendText(dst, text)
	}
	start := len(dst)
	dst, f, ok := c.get(dst, text)
	if ok {
		return dst, f
	}
	dst, f = en.cleaner.AppendText(dst, text)
	if f == 0 {
		c.put(text, dst[start:], f)
	}
	return dst, f
}
