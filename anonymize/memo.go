package anonymize

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/useragent"
)

// A scratch remembers the last consent decision and the last few clean
// short texts it produced, in front of the engine's caches: the sightings of
// a BLE request share their consent signals, site, event name, store and
// sensor, and successive page views of a site share its id and often its
// event name. A comparison of a few bytes costs less than a cache lookup
// (hashing the key, locking a shard). Each memo names the engine that
// filled it, since scratches are shared by the engines of successive
// configs, and is only used when the matching cache is on, so the uncached
// engine of the differential tests has neither.

// textMemoSlots is how many texts a scratch remembers: site, event name,
// store and sensor of a BLE request.
const textMemoSlots = 4

// textMemoMaxOut bounds a remembered quoted value: a text of up to
// textCacheMaxKey bytes, quoted, with room for a few escapes. Longer ones
// are not remembered, so a slot never grows.
const textMemoMaxOut = 2*textCacheMaxKey + 2

// memoRing holds the last few inputs (in) a scratch turned into output
// (out) under one engine, each with a key of what else the output depended
// on; the oldest is replaced first. What does not fit the preallocated room
// is not remembered, so a slot never grows, and when another engine takes
// the ring what it held is overwritten, not only cut off.
type memoRing[K comparable] struct {
	engine uint64
	next   int
	slots  []memoSlot[K]
}

type memoSlot[K comparable] struct {
	key     K
	in, out []byte // out empty: nothing remembered
}

func newMemoRing[K comparable](n, maxIn, maxOut int) memoRing[K] {
	m := memoRing[K]{slots: make([]memoSlot[K], n)}
	for i := range m.slots {
		m.slots[i] = memoSlot[K]{in: make([]byte, 0, maxIn), out: make([]byte, 0, maxOut)}
	}
	return m
}

// lookup returns the output engine made of in under key k, if remembered.
func (m *memoRing[K]) lookup(engine uint64, k K, in []byte) ([]byte, bool) {
	if m.engine != engine {
		m.forget(engine)
		return nil, false
	}
	for i := range m.slots {
		s := &m.slots[i]
		if len(s.out) > 0 && s.key == k && len(s.in) == len(in) && string(s.in) == string(in) {
			return s.out, true
		}
	}
	return nil, false
}

// remember keeps out, the output m's engine made of in under key k, in
// place of the oldest entry, when both fit the preallocated room.
func (m *memoRing[K]) remember(k K, in, out []byte) {
	if len(m.slots) == 0 || len(out) == 0 || len(in) > cap(m.slots[0].in) || len(out) > cap(m.slots[0].out) {
		return
	}
	s := &m.slots[m.next]
	m.next = (m.next + 1) % len(m.slots)
	s.key = k
	s.in = append(s.in[:0], in...)
	s.out = append(s.out[:0], out...)
}

// forget empties m, overwriting what it held, and gives it to engine.
func (m *memoRing[K]) forget(engine uint64) {
	m.engine, m.next = engine, 0
	var zero K
	for i := range m.slots {
		s := &m.slots[i]
		clear(s.in[:cap(s.in)])
		clear(s.out[:cap(s.out)])
		s.key, s.in, s.out = zero, s.in[:0], s.out[:0]
	}
}

// textMemo holds the last clean texts scanned with a scratch and the quoted
// JSON strings they became (no key: the text is all they depend on). Like
// the text cache it keeps only text in which the scanner found nothing: raw
// request bytes, held in memory until replaced, never written or logged.
type textMemo = memoRing[struct{}]

func newTextMemo() textMemo {
	return newMemoRing[struct{}](textMemoSlots, textCacheMaxKey, textMemoMaxOut)
}

// consentMemo is the last consent decision made or found with a scratch,
// keyed like the consent cache by every signal byte.
type consentMemo struct {
	engine uint64
	key    []byte // empty: nothing remembered
	d      decision
}

func newConsentMemo() consentMemo {
	return consentMemo{key: make([]byte, 0, consentCacheMaxKey)}
}

// lookup returns the decision engine made for key, if it is the one
// remembered and still holds at now.
func (m *consentMemo) lookup(engine uint64, key []byte, now time.Time, maxAge time.Duration) (*decision, bool) {
	if m.engine != engine {
		// Another engine's signals: overwritten, as the text memo's are.
		clear(m.key[:cap(m.key)])
		m.engine, m.key, m.d = engine, m.key[:0], decision{}
		return nil, false
	}
	if len(m.key) == 0 || len(m.key) != len(key) || string(m.key) != string(key) {
		return nil, false
	}
	return &m.d, m.d.holdsAt(now, maxAge)
}

// remember keeps d, the decision engine made for key.
func (m *consentMemo) remember(engine uint64, key []byte, d *decision) {
	if len(key) > cap(m.key) {
		return
	}
	m.engine, m.key, m.d = engine, append(m.key[:0], key...), *d
}

// holdsAt reports whether d answers for an event arriving at now: always,
// unless it read a TC string whose dates meet now differently (too old by
// then, or not yet created).
func (d *decision) holdsAt(now time.Time, maxAge time.Duration) bool {
	return !d.timed || consent.DatesProblems(d.created, d.updated, now, maxAge) == d.dateProblems
}

// hashKey is a keyed 128-bit hash of request bytes: what the engine's
// caches of cleaned URLs and of flagged user agents, and a scratch's memo
// of the last user agent, keep instead of the bytes. The seeds are random
// per process, so the hash cannot be compared with one computed elsewhere
// or after a restart; two inputs share one with a chance of 2^-128.
type hashKey [16]byte

var hashSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func hashOf(b []byte) hashKey {
	var k hashKey
	binary.LittleEndian.PutUint64(k[:8], maphash.Bytes(hashSeeds[0], b))
	binary.LittleEndian.PutUint64(k[8:], maphash.Bytes(hashSeeds[1], b))
	return k
}

// uaMemo is a scratch's last user agent and its reduction: the header as
// sent when the scanner left it as it is, else only its hashKey. Like the
// other memos it names the engine it serves and is overwritten for another.
type uaMemo struct {
	engine uint64
	raw    []byte  // a header left as sent; empty when the last one was changed, or none
	hash   hashKey // the last header's key, when hashed is set
	hashed bool
	info   useragent.Info
}

// serve gives m to engine, overwriting what it held for another.
func (m *uaMemo) serve(engine uint64) {
	if m.engine == engine {
		return
	}
	clear(m.raw[:cap(m.raw)])
	m.engine, m.raw, m.hashed = engine, m.raw[:0], false
}

func (m *uaMemo) matchesRaw(ua []byte) bool {
	return len(m.raw) > 0 && len(m.raw) == len(ua) && string(m.raw) == string(ua)
}

func (m *uaMemo) matchesHash(k hashKey) bool { return m.hashed && m.hash == k }

func (m *uaMemo) rememberRaw(ua []byte, info useragent.Info) {
	m.raw, m.hashed, m.info = append(m.raw[:0], ua...), false, info
}

func (m *uaMemo) rememberHash(k hashKey, info useragent.Info) {
	m.raw, m.hash, m.hashed, m.info = m.raw[:0], k, true, info
}

// contextMemoMaxUA and contextMemoMaxOut bound what a contextMemo keeps: a
// user agent as long as the cache keys one, and the members it produced
// (consent, policy, address, location, user agent reduced and, where kept,
// as sent). Longer ones are not remembered, so the buffers never grow.
const (
	contextMemoMaxUA  = uaCacheMaxKey
	contextMemoMaxOut = 2 * uaCacheMaxKey
)

// contextKey is what a record's context members depend on besides the user
// agent and the engine (which the ring names): the policy, the location
// database's generation, the consent decision, whether the site is a
// server's, and the client address, kept as a keyed hash like the geo
// memo's.
type contextKey struct {
	policy   uint8 // the index of the record's policy in Engine.policies
	geoGen   uint64
	state    State
	purposes consent.Purposes
	decider  consent.Signal
	adPers   bool // Result.AdPersonalization
	s2s      bool
	addr     uint64 // maphash of the client address under geoMemoSeed; 0 for none
}

// contextMemoSlots is how many record contexts a scratch remembers: one
// per policy of an event routed to destinations with different policies.
const contextMemoSlots = 4

// contextMemo holds the last record contexts a scratch wrote: the members
// from "consent" to the user agent's (see Engine.appendContext), keyed by
// contextKey, with the header as in. The sightings of a BLE ping and the
// events of a beacon batch share all of them, and a comparison of the key
// and the header costs less than writing them again (the consent object,
// the truncated address, the location and the reduced user agent, each
// from its own memo or cache). Like the user-agent memo it keeps a header
// only as it was sent, when the scanner leaves it as it is: a context with
// a changed header is not remembered.
type contextMemo = memoRing[contextKey]

func newContextMemo() contextMemo {
	return newMemoRing[contextKey](contextMemoSlots, contextMemoMaxUA, contextMemoMaxOut)
}

// addrKey is the keyed hash of an address that the geo and context memos
// keep instead of the address, 0 for none.
func addrKey(a netip.Addr) uint64 {
	if !a.IsValid() {
		return 0
	}
	var kb [17]byte // the address, and whether it is IPv4 (As16 maps it)
	a16 := a.As16()
	copy(kb[:], a16[:])
	if a.Is4() {
		kb[16] = 1
	}
	return maphash.Bytes(geoMemoSeed, kb[:]) | 1 // never 0
}
