package anonymize

import (
	"hash/maphash"
	"sync"
)

// cache is a bounded map from byte keys to a value of type V and, when
// maxVal > 0, a byte string: the engine's memo of results that depend only
// on their key and the engine's plan (consent decisions, user-agent
// reductions, cleaned URLs). An Engine owns its caches, so a config reload,
// which builds a new Engine, starts with empty ones.
//
// It is a 2-way set-associative table split into shards, each behind its
// own mutex: a lookup holds one uncontended lock for a few tens of
// nanoseconds (the machine has few cores, and a shard is picked by the
// key's hash, so two requests rarely meet). Key and value buffers are
// allocated once, in newCache, so neither a hit nor a miss allocates. Keys
// longer than maxKey, and values longer than maxVal, are never stored.
type cache[V any] struct {
	seed           maphash.Seed
	shards         [cacheShards]cacheShard[V]
	maxKey, maxVal int
}

// cacheShards is a power of two, several times the cores a gateway node
// usually has, so that concurrent requests rarely wait for a shard.
const cacheShards = 16

type cacheShard[V any] struct {
	mu    sync.Mutex
	slots []cacheSlot[V] // set i is slots[2i], slots[2i+1]
	// older[i] is the way of set i to replace next: the one used less
	// recently.
	older  []uint8
	hits   uint64
	misses uint64
	_      [64]byte // keeps neighbouring shards' locks off one cache line
}

type cacheSlot[V any] struct {
	hash uint64 // 0: empty
	key  []byte // len: the stored key; capacity maxKey
	val  []byte // capacity maxVal
	v    V
}

// newCache returns a cache of about entries entries (rounded up to a
// multiple of 2 × cacheShards) with keys of at most maxKey bytes and values
// of at most maxVal bytes.
func newCache[V any](entries, maxKey, maxVal int) *cache[V] {
	c := &cache[V]{seed: maphash.MakeSeed(), maxKey: maxKey, maxVal: maxVal}
	sets := max(1, (entries+2*cacheShards-1)/(2*cacheShards))
	sets = 1 << bitsFor(sets) // a power of two: the set is hash & (sets-1)
	for s := range c.shards {
		sh := &c.shards[s]
		sh.slots = make([]cacheSlot[V], 2*sets)
		sh.older = make([]uint8, sets)
		keys := make([]byte, 2*sets*maxKey)
		vals := make([]byte, 2*sets*maxVal)
		for i := range sh.slots {
			sh.slots[i].key = keys[i*maxKey : i*maxKey : (i+1)*maxKey]
			sh.slots[i].val = vals[i*maxVal : i*maxVal : (i+1)*maxVal]
		}
	}
	return c
}

// bitsFor returns the smallest b with 1<<b >= n.
func bitsFor(n int) int {
	b := 0
	for 1<<b < n {
		b++
	}
	return b
}

// hash returns key's hash, never 0 (0 marks an empty slot).
func (c *cache[V]) hash(key []byte) uint64 {
	return maphash.Bytes(c.seed, key) | 1
}

// locate returns the shard and set of hash h.
func (c *cache[V]) locate(h uint64) (*cacheShard[V], int) {
	sh := &c.shards[h>>60&(cacheShards-1)]
	return sh, int(h>>1) & (len(sh.older) - 1)
}

// get looks key up. On a hit it appends the stored bytes to dst and returns
// the stored value; on a miss it returns dst unchanged and ok false.
func (c *cache[V]) get(dst, key []byte) (_ []byte, v V, ok bool) {
	dst, v, ok, _ = c.find(dst, key, true)
	return dst, v, ok
}

// find is get, counting a miss only when countMiss is set; h is key's hash
// (0 when the key is too long to be stored), for a later countMiss.
func (c *cache[V]) find(dst, key []byte, countMiss bool) (_ []byte, v V, ok bool, h uint64) {
	if len(key) > c.maxKey {
		return dst, v, false, 0
	}
	h = c.hash(key)
	sh, set := c.locate(h)
	sh.mu.Lock()
	for w := range 2 {
		s := &sh.slots[2*set+w]
		if s.hash == h && string(s.key) == string(key) {
			dst = append(dst, s.val...)
			v = s.v
			sh.older[set] = uint8(1 - w)
			sh.hits++
			sh.mu.Unlock()
			return dst, v, true, h
		}
	}
	if countMiss {
		sh.misses++
	}
	sh.mu.Unlock()
	return dst, v, false, h
}

// countMiss counts a miss of the key whose hash find returned.
func (c *cache[V]) countMiss(h uint64) {
	if h == 0 {
		return
	}
	sh, _ := c.locate(h)
	sh.mu.Lock()
	sh.misses++
	sh.mu.Unlock()
}

// put stores key with val and v, replacing the less recently used entry of
// its set. A key or value too long for the cache is not stored.
func (c *cache[V]) put(key, val []byte, v V) {
	if len(key) > c.maxKey || len(val) > c.maxVal {
		return
	}
	h := c.hash(key)
	sh, set := c.locate(h)
	sh.mu.Lock()
	w := int(sh.older[set])
	for i := range 2 {
		if s := &sh.slots[2*set+i]; s.hash == h && string(s.key) == string(key) {
			w = i // a concurrent miss stored it meanwhile: overwrite in place
			break
		}
	}
	s := &sh.slots[2*set+w]
	s.hash = h
	s.key = append(s.key[:0], key...)
	s.val = append(s.val[:0], val...)
	s.v = v
	sh.older[set] = uint8(1 - w)
	sh.mu.Unlock()
}

// stats returns the hits and misses counted so far.
func (c *cache[V]) stats() (hits, misses uint64) {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		hits += sh.hits
		misses += sh.misses
		sh.mu.Unlock()
	}
	return hits, misses
}
