package geo

import (
	"math"
	"sync/atomic"
)

// Decoding a City record walks about a dozen maps and costs ~0.5 µs, four
// times the search-tree walk. Many networks share one record (one per city
// and accuracy radius, not one per network), so decoded records are cached
// by their data-section offset, which identifies a record within one DB.
//
// The cache is a direct-mapped table of seqlock slots made only of atomic
// words: readers never block or allocate, a writer that finds a slot busy
// simply does not cache, and the race detector sees no data race. A
// Location's City is stored as its offset and length in the file buffer and
// rebuilt with b2s on a hit.

// cacheBits sets the table size: 4096 slots of 48 bytes (192 KiB per DB),
// enough for the cities a regional site sees; a miss only costs a decode.
const cacheBits = 12

type cacheSlot struct {
	seq   atomic.Uint64 // even: stable; odd: being written
	key   atomic.Uint64 // record offset + 1; 0 marks an empty slot
	codes atomic.Uint64 // continent, country, region bytes and the coordinates flag
	lat   atomic.Uint64 // math.Float64bits
	lon   atomic.Uint64
	city  atomic.Uint64 // city offset in DB.buf <<32 | length <<16 | accuracy radius
}

type recordCache struct {
	slots [1 << cacheBits]cacheSlot
}

func cacheIndex(off uint) uint {
	return uint((uint64(off) * 0x9E3779B97F4A7C15) >> (64 - cacheBits)) // Fibonacci hashing
}

// get returns the cached Location of the record at off, if present.
func (c *recordCache) get(off uint, buf []byte) (Location, bool) {
	s := &c.slots[cacheIndex(off)]
	seq := s.seq.Load()
	if seq&1 != 0 || s.key.Load() != uint64(off)+1 {
		return Location{}, false
	}
	codes, lat, lon, city := s.codes.Load(), s.lat.Load(), s.lon.Load(), s.city.Load()
	if s.seq.Load() != seq {
		return Location{}, false // overwritten while we read
	}
	var l Location
	l.Continent = [2]byte{byte(codes), byte(codes >> 8)}
	l.Country = [2]byte{byte(codes >> 16), byte(codes >> 24)}
	l.Region = [3]byte{byte(codes >> 32), byte(codes >> 40), byte(codes >> 48)}
	l.HasCoordinates = codes>>56 != 0
	l.Latitude, l.Longitude = math.Float64frombits(lat), math.Float64frombits(lon)
	l.AccuracyRadius = uint16(city)
	if n := uint64(uint16(city >> 16)); n > 0 {
		start := city >> 32
		if start+n > uint64(len(buf)) {
			return Location{}, false // cannot happen for entries written by put
		}
		l.City = b2s(buf[start : start+n])
	}
	return l, true
}

// put caches l as the record at off. cityOff is the offset of l.City in
// buf (see offsetIn), ignored when City is empty. A Location whose City
// cannot be encoded that way is not cached.
func (c *recordCache) put(off uint, l *Location, cityOff int) {
	if l.City == "" {
		cityOff = 0
	} else if len(l.City) > math.MaxUint16 || cityOff < 0 || cityOff > math.MaxUint32 {
		return
	}
	s := &c.slots[cacheIndex(off)]
	seq := s.seq.Load()
	if seq&1 != 0 || !s.seq.CompareAndSwap(seq, seq+1) {
		return // another writer has the slot
	}
	codes := uint64(l.Continent[0]) | uint64(l.Continent[1])<<8 |
		uint64(l.Country[0])<<16 | uint64(l.Country[1])<<24 |
		uint64(l.Region[0])<<32 | uint64(l.Region[1])<<40 | uint64(l.Region[2])<<48
	if l.HasCoordinates {
		codes |= 1 << 56
	}
	s.key.Store(uint64(off) + 1)
	s.codes.Store(codes)
	s.lat.Store(math.Float64bits(l.Latitude))
	s.lon.Store(math.Float64bits(l.Longitude))
	s.city.Store(uint64(cityOff)<<32 | uint64(len(l.City))<<16 | uint64(l.AccuracyRadius))
	s.seq.Store(seq + 2)
}
