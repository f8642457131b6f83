package pseudonym

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
)

// memoSlots is how many keyed hashes one period's memo holds: about 80 KiB
// per period state (a schedule keeps at most three: the previous, current
// and next period's).
const memoSlots = 2048

// memoShards splits a memo's slots behind as many locks, so that requests
// on several cores rarely wait for one another.
const memoShards = 16

// memo remembers the keyed hashes one period's key made, so that an input
// seen again in the period (a visitor's next page view, the same device in
// the next BLE ping) costs a lookup (~40 ns) instead of an HMAC (~190-250
// ns). It keeps a 128-bit tag of each input, made with random seeds of its
// own (maphash), never the input: what it holds is what the period's key
// already gives anyone who can read the process's memory, and it goes
// with the period's state (see periodState). It is direct-mapped: an input
// replaces the one in its slot.
type memo struct {
	seeds  [2]maphash.Seed
	shards [memoShards]memoShard
}

type memoShard struct {
	mu           sync.Mutex
	slots        [memoSlots / memoShards]memoSlot
	hits, misses uint64
	_            [64]byte // keeps neighbouring shards' locks off one cache line
}

type memoSlot struct {
	tag [2]uint64 // zero: empty
	out [EncodedLen]byte
}

func newMemo() *memo {
	return &memo{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
}

// memoMaxInput bounds the inputs remembered: the tag is computed over a
// copy on the stack. Longer inputs (a long user id with a long site) are
// hashed every time.
const memoMaxInput = 384

// tag returns the tag of an HMAC input given as its parts (the label, then
// each part with its length, so that no two inputs share a tag but by
// chance), and false when the input is too long to be remembered or m is
// nil (a state without a memo).
func (m *memo) tag(kind byte, site, a, b []byte) (t [2]uint64, ok bool) {
	n := 1 + 4 + len(site) + 4 + len(a) + 4 + len(b)
	if m == nil || n > memoMaxInput {
		return t, false
	}
	var buf [memoMaxInput]byte
	in := append(buf[:0], kind)
	in = binary.BigEndian.AppendUint32(in, uint32(len(site)))
	in = append(in, site...)
	in = binary.BigEndian.AppendUint32(in, uint32(len(a)))
	in = append(in, a...)
	in = binary.BigEndian.AppendUint32(in, uint32(len(b)))
	in = append(in, b...)
	t = [2]uint64{maphash.Bytes(m.seeds[0], in), maphash.Bytes(m.seeds[1], in)}
	if t == [2]uint64{} {
		return t, false // the empty mark: not remembered
	}
	return t, true
}

// locate returns the shard and slot of tag t.
func (m *memo) locate(t [2]uint64) (*memoShard, *memoSlot) {
	sh := &m.shards[t[0]%memoShards]
	return sh, &sh.slots[(t[0]/memoShards)%uint64(len(sh.slots))]
}

// get appends the hash remembered for tag t to dst, if there is one.
func (m *memo) get(dst []byte, t [2]uint64) ([]byte, bool) {
	sh, s := m.locate(t)
	sh.mu.Lock()
	if s.tag == t {
		dst = append(dst, s.out[:]...)
		sh.hits++
		sh.mu.Unlock()
		return dst, true
	}
	sh.misses++
	sh.mu.Unlock()
	return dst, false
}

// put remembers out, the EncodedLen-byte hash of the input tagged t.
func (m *memo) put(t [2]uint64, out []byte) {
	if len(out) != EncodedLen {
		return
	}
	sh, s := m.locate(t)
	sh.mu.Lock()
	s.tag = t
	copy(s.out[:], out)
	sh.mu.Unlock()
}

// stats returns the lookups that found a hash and those that did not.
func (m *memo) stats() (hits, misses uint64) {
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		hits += sh.hits
		misses += sh.misses
		sh.mu.Unlock()
	}
	return hits, misses
}
