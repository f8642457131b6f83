package pseudonym

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

// schedule holds the key of the current period of one kind (pseudonyms or
// visitor hashes). Readers load cur with one atomic load and use it if its
// period matches; the first request of a new period builds the new state
// and installs it with CompareAndSwap. A goroutine that loses that race uses
// the winner's state, so in ephemeral mode all requests of a period share
// one random key.
type schedule struct {
	k       *Keyring
	purpose string // HKDF info label: "pseudonym" or "visitor"
	period  int64  // seconds
	grace   int64  // seconds
	cur     atomic.Pointer[periodState]
	// next is the next period's state, made ahead of need by Rotate in
	// derived mode (prepare), so that the first request of a period finds
	// its key ready instead of reading, or writing, the key store.
	next atomic.Pointer[periodState]
	// failed is the last key that could not be made (KeyErr).
	failed atomic.Pointer[keyFailure]
}

// keyFailure is a period whose key could not be made, and why.
type keyFailure struct {
	index int64
	err   error
}

// keyErr returns why the period containing unix second sec has no key, or
// nil when it has one (or none was asked for yet).
func (s *schedule) keyErr(sec int64) error {
	idx := floorDiv(sec, s.period)
	st := s.cur.Load()
	if st != nil && st.index == idx {
		return nil
	}
	if s.k.mode == Ephemeral && st != nil && idx < st.index && (st.prev == nil || st.prev.index != idx) {
		return ErrClockBehind // lookups of idx give nothing (slow)
	}
	if f := s.failed.Load(); f != nil {
		return f.err
	}
	return nil
}

// prepareLeadMax caps how long before a period ends Rotate makes the next
// period's key; a quarter of the period is used when shorter (a 1-minute
// period: 15 s). Either is many times the 2 s tick of the gateway's key
// store watcher, which calls Rotate, so the key is ready before it is
// needed; and the key of a period that has not begun is of no use to
// anyone, so making it minutes early reveals nothing.
const prepareLeadMax = 5 * 60 // seconds

// prepare makes the next period's state when sec is within the lead of
// the end of its period and that state is not made yet. It is for derived
// mode: an ephemeral key is random, made in memory, and must not exist
// before its period for longer than necessary.
func (s *schedule) prepare(sec int64) {
	idx := floorDiv(sec, s.period)
	if sec < (idx+1)*s.period-min(s.period/4, prepareLeadMax) {
		return
	}
	if n := s.next.Load(); n != nil && n.index == idx+1 {
		return
	}
	n := s.build(idx + 1)
	if n == nil {
		return
	}
	if st := s.cur.Load(); st != nil && st.index == idx {
		// Built here, off the request path, so that installing n at the
		// boundary allocates nothing.
		p := *st
		p.prev = nil
		n.prev = &p
	}
	s.next.Store(n)
}

// periodState is one period's HMAC key in precomputed form. It is immutable
// once installed; replacing it means installing a new one.
//
// crypto/hmac.New allocates two hash states per call, so HMAC is computed
// here by hand (RFC 2104: H(K^opad || H(K^ipad || m))), starting from the
// SHA-256 states saved after absorbing the padded key block. The raw key
// is not kept: the two states are all that is needed.
type periodState struct {
	index int64  // period number: floor(unix seconds / period)
	start int64  // unix seconds at which the period begins
	inner []byte // sha256 state after K^ipad (encoding.BinaryMarshaler form)
	outer []byte // sha256 state after K^opad
	// prev is the previous period's state, kept for events stamped before
	// the boundary and hashed after it, until start+grace.
	prev *periodState
}

// floorDiv divides rounding toward minus infinity, so that times before
// 1970 do not share period 0 with the first period after it.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// state returns the state for the period containing unix second sec, or nil
// when that period's key no longer exists (ephemeral mode, ended more than
// grace ago) or cannot be made.
func (s *schedule) state(sec int64) *periodState {
	idx := floorDiv(sec, s.period)
	st := s.cur.Load()
	if st != nil && st.index == idx {
		if st.prev != nil && s.k.mode == Ephemeral && sec >= st.start+s.grace {
			s.dropPrev(st)
		}
		return st
	}
	return s.slow(idx, sec)
}

// slow handles a period other than the current one: a new period (build and
// install), or an earlier one (the kept previous state, a rebuilt derived
// state, or nothing in ephemeral mode).
//
// In derived mode the previous period's state is kept for the whole current
// period (any node holding the secret can rebuild it, so keeping it forgets
// nothing that could otherwise be forgotten), and built once if it was
// missing, so that events of the current and the previous period never pay
// for key derivation. Older periods are rebuilt on every call.
func (s *schedule) slow(idx, sec int64) *periodState {
	for {
		st := s.cur.Load()
		switch {
		case st != nil && st.index == idx:
			return st
		case st != nil && idx < st.index:
			if st.prev != nil && st.prev.index == idx {
				return st.prev
			}
			if s.k.mode != Derived {
				return nil // ephemeral: that key is gone for good
			}
			prev := s.build(idx)
			if prev == nil || idx != st.index-1 {
				return prev // older than the previous period: not kept
			}
			with := *st
			with.prev = prev
			if s.cur.CompareAndSwap(st, &with) {
				return prev
			}
			continue // the current state changed meanwhile: look again
		}
		if n := s.next.Load(); n != nil && n.index == idx {
			if n.prev != nil && (st == nil || st.index != idx-1) {
				c := *n // the period before was never current: keep no prev
				c.prev = nil
				n = &c
			}
			if s.cur.CompareAndSwap(st, n) {
				s.next.CompareAndSwap(n, nil)
				return n
			}
			continue
		}
		next := s.build(idx)
		if next == nil {
			return nil
		}
		if st != nil && st.index == idx-1 && (s.k.mode == Derived || sec < next.start+s.grace) {
			p := *st
			p.prev = nil // keep one period back, never a chain
			next.prev = &p
		}
		if s.cur.CompareAndSwap(st, next) {
			return next
		}
		// Another goroutine installed a state first; use it.
	}
}

// dropPrev forgets the previous period's state once its grace has passed.
func (s *schedule) dropPrev(st *periodState) {
	p := *st
	p.prev = nil
	s.cur.CompareAndSwap(st, &p) // losing means someone else did it
}

// build makes the state of period idx: a key from HKDF or crypto/rand, then
// the two precomputed hash states. It returns nil only if the random source
// fails.
func (s *schedule) build(idx int64) *periodState {
	key, err := s.key(idx)
	if err != nil {
		s.failed.Store(&keyFailure{index: idx, err: err})
		return nil
	}
	if f := s.failed.Load(); f != nil && f.index <= idx {
		s.failed.CompareAndSwap(f, nil)
	}
	st := &periodState{index: idx, start: idx * s.period}
	st.inner, st.outer = padStates(key)
	clear(key)
	return st
}

// key returns the 32-byte key of period idx.
func (s *schedule) key(idx int64) ([]byte, error) {
	if s.k.mode == Derived {
		if s.k.keys != nil {
			return s.k.keys.PeriodKey(s.purpose, s.period, idx)
		}
		return deriveKey(s.k.secret, s.purpose, s.period, idx)
	}
	key := make([]byte, sha256.Size)
	if _, err := io.ReadFull(s.k.rand, key); err != nil {
		return nil, err
	}
	return key, nil
}

// padStates returns the SHA-256 states after absorbing key^ipad and
// key^opad (RFC 2104), for keys of at most one block as here.
func padStates(key []byte) (inner, outer []byte) {
	var pad [sha256.BlockSize]byte
	state := func(x byte) []byte {
		for i := range pad {
			pad[i] = x
		}
		for i, b := range key {
			pad[i] ^= b
		}
		h := sha256.New()
		h.Write(pad[:])
		b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			panic("pseudonym: sha256 state cannot be saved: " + err.Error()) // stdlib guarantee
		}
		return b
	}
	inner, outer = state(0x36), state(0x5c)
	clear(pad[:])
	return inner, outer
}

// hasher is a pooled SHA-256 state with scratch space, so that neither the
// hash nor the buffers passed to it escape per call. It holds key-derived
// state only between getHasher and finish, which resets it.
type hasher struct {
	h   hash.Hash
	u   encoding.BinaryUnmarshaler
	sum [sha256.Size]byte
	hdr [5]byte
}

var hasherPool = sync.Pool{New: func() any {
	h := sha256.New()
	return &hasher{h: h, u: h.(encoding.BinaryUnmarshaler)}
}}

// getHasher returns a pooled hasher loaded with st's inner state.
func getHasher(st *periodState) *hasher {
	h := hasherPool.Get().(*hasher)
	if err := h.u.UnmarshalBinary(st.inner); err != nil {
		panic("pseudonym: sha256 state cannot be restored: " + err.Error()) // states come from MarshalBinary above
	}
	return h
}

// header writes the kind label and the length of the next field.
func (h *hasher) header(kind byte, n int) {
	h.hdr[0] = kind
	binary.BigEndian.PutUint32(h.hdr[1:], uint32(n))
	h.h.Write(h.hdr[:])
}

// length writes the length of the next field.
func (h *hasher) length(n int) {
	binary.BigEndian.PutUint32(h.hdr[1:], uint32(n))
	h.h.Write(h.hdr[1:])
}

func (h *hasher) write(b []byte) { h.h.Write(b) }

// finish completes the HMAC with st's outer state, appends the encoded
// result to dst, wipes the hasher and returns it to the pool.
func (h *hasher) finish(st *periodState, dst []byte) []byte {
	inner := h.h.Sum(h.sum[:0])
	if err := h.u.UnmarshalBinary(st.outer); err != nil {
		panic("pseudonym: sha256 state cannot be restored: " + err.Error())
	}
	h.h.Write(inner)
	mac := h.h.Sum(h.sum[:0])
	dst = b64.AppendEncode(dst, mac[:sumBytes])
	h.h.Reset() // drop the key-derived state before pooling
	clear(h.sum[:])
	hasherPool.Put(h)
	return dst
}
