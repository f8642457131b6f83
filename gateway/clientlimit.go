package gateway

import (
	"net/netip"
	"sync"
)

// DefaultMaxRequestsPerClient is Settings.MaxRequestsPerClient when zero.
const DefaultMaxRequestsPerClient = 100

// limiterShards spreads clients over independently locked maps, so that
// requests from different clients rarely wait for each other's lock.
const limiterShards = 64

// limitIPv6Bits is how much of an IPv6 client address the limiter counts
// by: a /64 is what one subscriber's link gets (SLAAC needs one), and the
// temporary addresses of RFC 8981 rotate inside it, so a host can pick any
// number of addresses from its /64 at will.
const limitIPv6Bits = 64

// clientLimiter counts the requests in progress per client (the address
// resolved through trusted proxies: an IPv4 address, or the /64 network of
// an IPv6 one, see limitKey). A client's entry exists only while it
// has a request in progress, so the maps hold at most as many entries as
// there are requests in flight. It outlives config reloads.
type clientLimiter struct {
	shards [limiterShards]limiterShard
}

type limiterShard struct {
	mu sync.Mutex
	n  map[netip.Addr]int32
	_  [48]byte // keeps neighbouring shards' locks off one cache line
}

func newClientLimiter() *clientLimiter {
	l := &clientLimiter{}
	for i := range l.shards {
		l.shards[i].n = make(map[netip.Addr]int32)
	}
	return l
}

func (l *clientLimiter) shard(a netip.Addr) *limiterShard {
	b := a.As16()
	var h uint64 = 14695981039346656037 // FNV-1a: cheap, and spreads the low bytes that differ between clients
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return &l.shards[h%limiterShards]
}

// LimitKey returns the key a client's requests, and a peer's connections
// (server.max_conns_per_ip), are counted under: a itself for IPv4 (an
// IPv4-mapped IPv6 address as its IPv4 address), its /64 network (zone
// dropped) for IPv6, where one host holds a whole /64 and can rotate its
// address within it.
func LimitKey(a netip.Addr) netip.Addr { return limitKey(a) }

func limitKey(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(limitIPv6Bits) // fails only for an invalid a
		return p.Addr()
	}
	return a
}

// acquire counts a request from a and reports whether it is within max; a
// request refused is not counted. Every acquire that returns true must be
// paired with a release. An invalid address (no peer) is never limited.
func (l *clientLimiter) acquire(a netip.Addr, max int32) bool {
	if !a.IsValid() {
		return true
	}
	a = limitKey(a)
	s := l.shard(a)
	s.mu.Lock()
	n := s.n[a]
	if n >= max {
		s.mu.Unlock()
		return false
	}
	s.n[a] = n + 1
	s.mu.Unlock()
	return true
}

// release ends a request acquire let through.
func (l *clientLimiter) release(a netip.Addr) {
	if !a.IsValid() {
		return
	}
	a = limitKey(a)
	s := l.shard(a)
	s.mu.Lock()
	if n := s.n[a]; n > 1 {
		s.n[a] = n - 1
	} else {
		delete(s.n, a)
	}
	s.mu.Unlock()
}
