// Package ipmask truncates client addresses to a network prefix before they
// are stored or sent anywhere: the last bits of an address are what single
// out a household or a device.
package ipmask

import (
	"errors"
	"net/netip"
)

// Defaults used by the strict policies (issue 5): a /24 keeps an IPv4
// address's network but not its host; 48 bits ≈ site/ISP granularity, while a
// /64 can still single out one household.
const (
	DefaultIPv4Bits = 24
	DefaultIPv6Bits = 48
)

// Errors returned by AppendTruncated. They are package-level values so the
// error path does not allocate.
var (
	ErrInvalidAddr = errors.New("ipmask: invalid address")
	ErrBadBits     = errors.New("ipmask: prefix length out of range (IPv4 0-32, IPv6 0-128)")
)

// Truncate keeps the first v4Bits (IPv4) or v6Bits (IPv6) bits of addr and
// zeroes the rest. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is unmapped
// first and truncated as IPv4 with v4Bits; otherwise Prefix(24) on it would
// keep only a part of "::ffff". A 6to4 address (2002:aabb:ccdd::/48, RFC
// 3056) carries the client's whole IPv4 address in bits 16-47: when v4Bits
// cuts IPv4 addresses, it keeps at most 16+v4Bits bits, so that its IPv4
// part is cut as an IPv4 address would be (a /48 would keep all of it).
// Any zone is dropped.
//
// It returns the invalid zero Addr when addr is invalid or the bit count for
// its family is out of range; callers must then write no address at all.
func Truncate(addr netip.Addr, v4Bits, v6Bits int) netip.Addr {
	if !addr.IsValid() {
		return netip.Addr{}
	}
	addr = addr.Unmap()
	bits := v6Bits
	if addr.Is4() {
		bits = v4Bits
	}
	if bits < 0 || bits > addr.BitLen() {
		return netip.Addr{}
	}
	if addr.Is6() && is6to4(addr) {
		if v4Bits < 0 || v4Bits > 32 {
			return netip.Addr{}
		}
		if v4Bits < 32 {
			bits = min(bits, 16+v4Bits)
		}
	}
	// Prefix also strips the zone. Its error is only possible for an
	// invalid addr or a bits value already checked above.
	p, err := addr.Prefix(bits)
	if err != nil {
		return netip.Addr{}
	}
	return p.Addr()
}

// is6to4 reports whether addr is in 2002::/16, the 6to4 prefix.
func is6to4(addr netip.Addr) bool {
	b := addr.As16()
	return b[0] == 0x20 && b[1] == 0x02
}

// AppendTruncated appends the text form of Truncate(addr, v4Bits, v6Bits)
// to dst, e.g. "203.0.113.0" or "2001:db8::". On an invalid addr or an
// out-of-range bit count it returns dst unchanged and ErrInvalidAddr or
// ErrBadBits. It does not allocate when dst has room (at most 39 bytes).
func AppendTruncated(dst []byte, addr netip.Addr, v4Bits, v6Bits int) ([]byte, error) {
	if !addr.IsValid() {
		return dst, ErrInvalidAddr
	}
	t := Truncate(addr, v4Bits, v6Bits)
	if !t.IsValid() {
		return dst, ErrBadBits
	}
	return t.AppendTo(dst), nil
}
