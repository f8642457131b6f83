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
// keep only a part of "::ffff". Some IPv6 addresses carry the client's
// whole IPv4 address (see embeddedIPv4): when v4Bits cuts IPv4 addresses,
// such an address keeps at most the bits before its IPv4 part plus v4Bits,
// so that its IPv4 part is cut as an IPv4 address would be (a /48 would
// keep all of a 6to4 address's, a /128 all of a Teredo, NAT64, ISATAP,
// IPv4-compatible or IPv4-translated one's).
// Any zone is dropped.
//
// It returns the invalid zero Addr when addr is invalid or the bit count for
// its family is out of range (for an IPv6 address whose kept bits reach into
// an IPv4 part, also v4Bits); callers must then write no address at all.
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
	if at := embeddedIPv4(addr); at > 0 && bits > at {
		if v4Bits < 0 || v4Bits > 32 {
			return netip.Addr{}
		}
		if v4Bits < 32 {
			bits = min(bits, at+v4Bits)
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

// embeddedIPv4 returns the bit offset of the client's IPv4 address inside
// IPv6 address addr, or 0 when it carries none:
//
//   - 6to4, 2002::/16 (RFC 3056): bits 16-47;
//   - Teredo, 2001::/32 (RFC 4380): bits 96-127, the client's public
//     address with every bit flipped (bits 32-63 are the Teredo server's);
//   - NAT64's well-known prefix, 64:ff9b::/96 (RFC 6052): bits 96-127;
//   - the local-use translation prefix, 64:ff9b:1::/48 (RFC 8215): an
//     operator's RFC 6052 prefix of /48 to /96 inside it, so the IPv4
//     address starts at bit 48 at the earliest (bits 64-71, RFC 6052's
//     "u" octet, are zero): 48 is returned, which cuts every format at
//     least as much as its IPv4 address itself would be;
//   - IPv4-compatible ::a.b.c.d (::/96, RFC 4291 section 2.5.5.1) and
//     IPv4-translated ::ffff:0:a.b.c.d (::ffff:0:0:0/96, RFC 2765 section
//     2.1, stateless translation): bits 96-127;
//   - ISATAP (RFC 5214 section 6.1), any prefix with the interface id
//     0000:5efe or 0200:5efe and then the IPv4 address: bits 96-127.
func embeddedIPv4(addr netip.Addr) int {
	if !addr.Is6() {
		return 0
	}
	b := addr.As16()
	switch {
	case b[0] == 0x20 && b[1] == 0x02:
		return 16
	case b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0:
		return 96
	case b == [16]byte{0, 0x64, 0xff, 0x9b, 12: b[12], b[13], b[14], b[15]}:
		return 96
	case b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0 && b[5] == 1:
		return 48
	case b == [16]byte{12: b[12], b[13], b[14], b[15]},
		b == [16]byte{8: 0xff, 9: 0xff, 12: b[12], b[13], b[14], b[15]}:
		return 96
	case (b[8] == 0 || b[8] == 2) && b[9] == 0 && b[10] == 0x5e && b[11] == 0xfe:
		return 96
	}
	return 0
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
