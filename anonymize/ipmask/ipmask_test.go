package ipmask

import (
	"encoding/json"
	"net/netip"
	"os"
	"testing"
)

// Vectors from /work/shared/testdata/consent/other-signals.json, "ip_masking"
// (prebid-server privacy/scrubber_test.go; matomo-org/component-network),
// copied here so the test runs without the shared folder.
var sharedVectors = []struct {
	in       string
	keepBits int
	out      string
}{
	{"1111:2222:3333:4444:5555:6666:7777:8888", 56, "1111:2222:3333:4400::"},
	{"1111:2222:3333:4444:5555:6666:7777:8888", 34, "1111:2222::"},
	{"2001:1db8:0000:0000:0000:ff00:0042:8329", 96, "2001:1db8::ff00:0:0"},
	{"2001:db8:0:8d3:0:8a2e:70:7344", 64, "2001:db8:0:8d3::"},
	{"2001:db8:0:8d3:0:8a2e:70:7344", 48, "2001:db8::"},
	{"2001:db8:0:8d3:0:8a2e:70:7344", 24, "2001:d00::"},
	{"203.0.113.77", 24, "203.0.113.0"},
}

func TestSharedVectors(t *testing.T) {
	for _, v := range sharedVectors {
		addr := netip.MustParseAddr(v.in)
		// The vector's keep_bits applies to the address's own family; the
		// other family's count is set to something that would show if used.
		v4, v6 := v.keepBits, 1
		if addr.Is6() {
			v4, v6 = 1, v.keepBits
		}
		got, err := AppendTruncated(nil, addr, v4, v6)
		if err != nil || string(got) != v.out {
			t.Fatalf("%s /%d: got %q, %v; want %q", v.in, v.keepBits, got, err, v.out)
		}
		if tr := Truncate(addr, v4, v6); tr != netip.MustParseAddr(v.out) {
			t.Fatalf("Truncate(%s, /%d) = %v; want %s", v.in, v.keepBits, tr, v.out)
		}
	}
}

func TestTruncate(t *testing.T) {
	f := func(in string, v4, v6 int, want string) {
		t.Helper()
		var addr netip.Addr
		if in != "" {
			addr = netip.MustParseAddr(in)
		}
		got := Truncate(addr, v4, v6)
		if want == "invalid" {
			if got.IsValid() {
				t.Fatalf("Truncate(%q, %d, %d) = %v; want invalid", in, v4, v6, got)
			}
			return
		}
		if got != netip.MustParseAddr(want) {
			t.Fatalf("Truncate(%q, %d, %d) = %v; want %s", in, v4, v6, got, want)
		}
	}
	f("203.0.113.77", 24, 48, "203.0.113.0")
	f("::ffff:203.0.113.77", 24, 48, "203.0.113.0") // IPv4-mapped: Unmap before masking, v4Bits applies
	f("::ffff:203.0.113.77", 16, 128, "203.0.0.0")
	f("2001:db8:1234:5678::1", 24, 48, "2001:db8:1234::")
	f("fe80::1:2:3:4%eth0", 24, 64, "fe80::") // zone dropped
	f("203.0.113.77", 0, 0, "0.0.0.0")
	f("203.0.113.77", 32, 0, "203.0.113.77")
	f("2001:db8::1", 0, 128, "2001:db8::1")
	f("10.1.2.3", 23, 48, "10.1.2.0")
	f("10.1.3.3", 23, 48, "10.1.2.0")
	f("", 24, 48, "invalid")
	f("203.0.113.77", 33, 48, "invalid")
	f("203.0.113.77", -1, 48, "invalid")
	f("2001:db8::1", 24, 129, "invalid")
	f("2001:db8::1", 24, -8, "invalid")
	f("203.0.113.77", 24, 129, "203.0.113.0") // only the address's own family's count matters
	// 6to4 (2002:IPv4::/48) holds the client's IPv4 address in bits 16-47:
	// its IPv4 part is cut to v4Bits, as the address itself would be.
	f("2002:5102:458e:1:2:3:4:5", 24, 48, "2002:5102:4500::") // 81.2.69.142 -> 81.2.69.0
	f("2002:5102:458e:1:2:3:4:5", 16, 48, "2002:5102::")
	f("2002:5102:458e:1:2:3:4:5", 24, 32, "2002:5102::") // the IPv6 count, when shorter, still applies
	f("2002:5102:458e:1:2:3:4:5", 32, 128, "2002:5102:458e:1:2:3:4:5")
	f("2002:5102:458e::1", -1, 48, "invalid")
	f("2003:5102:458e:1::5", 24, 48, "2003:5102:458e::") // not 6to4
}

// TestTruncateTeredoNAT64: a Teredo address (2001::/32) holds the client's
// public IPv4 address, bits flipped, in its last 32 bits, and one under
// NAT64's well-known prefix (64:ff9b::/96) holds it as is. Only 6to4 was
// cut by v4Bits, so a policy keeping more than 96 bits of IPv6 addresses
// (v6_prefix up to 128 is allowed) wrote the whole IPv4 address that its
// v4_prefix cuts to a /24.
func TestTruncateTeredoNAT64(t *testing.T) {
	f := func(in string, v4, v6 int, want string) {
		t.Helper()
		got := Truncate(netip.MustParseAddr(in), v4, v6)
		w, _ := netip.ParseAddr(want) // "invalid": the zero Addr
		if got != w {
			t.Fatalf("Truncate(%q, %d, %d) = %v; want %s", in, v4, v6, got, want)
		}
	}
	// RFC 4380's example: server 65.54.227.120, client 192.0.2.45 (3fff:fdd2 flipped).
	f("2001:0:4136:e378:8000:63bf:3fff:fdd2", 24, 128, "2001:0:4136:e378:8000:63bf:3fff:fd00")
	f("2001:0:4136:e378:8000:63bf:3fff:fdd2", 24, 112, "2001:0:4136:e378:8000:63bf:3fff:0")
	f("2001:0:4136:e378:8000:63bf:3fff:fdd2", 24, 48, "2001:0:4136::") // the IPv6 count, when shorter, still applies
	f("2001:0:4136:e378:8000:63bf:3fff:fdd2", 32, 128, "2001:0:4136:e378:8000:63bf:3fff:fdd2")
	f("2001:0:4136:e378:8000:63bf:3fff:fdd2", -1, 128, "invalid")
	f("2001:1:4136:e378:8000:63bf:3fff:fdd2", 24, 128, "2001:1:4136:e378:8000:63bf:3fff:fdd2") // not Teredo
	f("64:ff9b::c000:22d", 24, 128, "64:ff9b::c000:200")                                       // 192.0.2.45 -> 192.0.2.0
	f("64:ff9b::c000:22d", 16, 120, "64:ff9b::c000:0")
	f("64:ff9b:2::c000:22d", 24, 128, "64:ff9b:2::c000:22d") // neither the well-known /96 nor the local-use /48
}

// TestTruncateOtherIPv4Embeddings: besides 6to4, Teredo and the NAT64
// well-known prefix, IPv6 addresses carry a whole IPv4 address under
// RFC 8215's local-use translation prefix 64:ff9b:1::/48 (an operator's
// NAT64 or SIIT-DC prefix: an IPv6-only server sees IPv4 clients so), as
// IPv4-compatible (::a.b.c.d) and IPv4-translated (::ffff:0:a.b.c.d)
// addresses, and in an ISATAP interface id (...:0:5efe:a.b.c.d). A policy
// keeping more than 96 bits of IPv6 (v6_prefix up to 127 passes config
// check) wrote their whole IPv4 address, which its v4_prefix cuts to a /24.
func TestTruncateOtherIPv4Embeddings(t *testing.T) {
	f := func(in string, v4, v6 int, want string) {
		t.Helper()
		got := Truncate(netip.MustParseAddr(in), v4, v6)
		w, _ := netip.ParseAddr(want) // "invalid": the zero Addr
		if got != w {
			t.Fatalf("Truncate(%q, %d, %d) = %v; want %s", in, v4, v6, got, want)
		}
		if again := Truncate(got, v4, v6); got.IsValid() && again != got {
			t.Fatalf("Truncate(%v, %d, %d) = %v: truncating twice changes the result", got, v4, v6, again)
		}
	}
	// 64:ff9b:1::/48, RFC 6052 formats /96 and /64 (u octet in bits 64-71)
	// and /48: at most 48+v4 bits, so no format keeps more than v4 bits of
	// its IPv4 address (192.0.2.45).
	f("64:ff9b:1::c000:22d", 24, 120, "64:ff9b:1::")
	f("64:ff9b:1:0:c0:2:2d00:0", 24, 120, "64:ff9b:1::")
	f("64:ff9b:1:c000:2:2d00::", 24, 120, "64:ff9b:1:c000::")
	f("64:ff9b:1:c000:2:2d00::", 24, 80, "64:ff9b:1:c000::")
	f("64:ff9b:1:c000:2:2d00::", 24, 48, "64:ff9b:1::") // the IPv6 count, when shorter, still applies
	f("64:ff9b:1::c000:22d", 32, 127, "64:ff9b:1::c000:22c")
	f("64:ff9b:1::c000:22d", -1, 127, "invalid")
	// IPv4-compatible and IPv4-translated.
	f("::c000:22d", 24, 127, "::c000:200")
	f("::ffff:0:c000:22d", 24, 127, "::ffff:0:c000:200")
	f("::ffff:0:c000:22d", 16, 112, "::ffff:0:c000:0")
	f("::1", 24, 127, "::") // the loopback address is ::0.0.0.1
	// ISATAP, private and global interface ids.
	f("2001:db8:1:2:0:5efe:c000:22d", 24, 127, "2001:db8:1:2:0:5efe:c000:200")
	f("2001:db8:1:2:200:5efe:c000:22d", 24, 120, "2001:db8:1:2:200:5efe:c000:200")
	f("2001:db8:1:2:200:5efe:c000:22d", 24, 48, "2001:db8:1::")
	f("2001:db8:1:2:400:5efe:c000:22d", 24, 127, "2001:db8:1:2:400:5efe:c000:22c") // not ISATAP
}

func TestAppendTruncatedErrors(t *testing.T) {
	dst := []byte("prefix:")
	got, err := AppendTruncated(dst, netip.Addr{}, 24, 48)
	if err != ErrInvalidAddr || string(got) != "prefix:" {
		t.Fatalf("invalid addr: %q, %v", got, err)
	}
	got, err = AppendTruncated(dst, netip.MustParseAddr("1.2.3.4"), 40, 48)
	if err != ErrBadBits || string(got) != "prefix:" {
		t.Fatalf("bad bits: %q, %v", got, err)
	}
	got, err = AppendTruncated(dst, netip.MustParseAddr("1.2.3.4"), DefaultIPv4Bits, DefaultIPv6Bits)
	if err != nil || string(got) != "prefix:1.2.3.0" {
		t.Fatalf("append: %q, %v", got, err)
	}
}

func FuzzTruncate(f *testing.F) {
	f.Add([]byte{203, 0, 113, 77}, 24, 48)
	f.Add(netip.MustParseAddr("::ffff:1.2.3.4").AsSlice(), 24, 48)
	f.Add(netip.MustParseAddr("2001:db8::1").AsSlice(), 0, 129)
	f.Add(netip.MustParseAddr("2002:5102:458e:1::5").AsSlice(), 24, 48)
	f.Add(netip.MustParseAddr("2001:0:4136:e378:8000:63bf:3fff:fdd2").AsSlice(), 24, 128)
	f.Add(netip.MustParseAddr("64:ff9b::c000:22d").AsSlice(), 24, 128)
	f.Add(netip.MustParseAddr("64:ff9b:1:c000:2:2d00::").AsSlice(), 24, 120)
	f.Add(netip.MustParseAddr("::ffff:0:c000:22d").AsSlice(), 24, 127)
	f.Add(netip.MustParseAddr("2001:db8:1:2:200:5efe:c000:22d").AsSlice(), 24, 127)
	f.Fuzz(func(t *testing.T, b []byte, v4, v6 int) {
		addr, _ := netip.AddrFromSlice(b)
		got := Truncate(addr, v4, v6)
		if !got.IsValid() {
			return
		}
		u := addr.Unmap()
		bits := v6
		if u.Is4() {
			bits = v4
		}
		if b := u.As16(); u.Is6() && b[0] == 0x20 && b[1] == 0x02 && v4 < 32 && bits > 16 {
			bits = min(bits, 16+v4) // 6to4: its IPv4 part is cut as IPv4
		} else if u.Is6() && v4 < 32 && bits > 48 && netip.MustParsePrefix("64:ff9b:1::/48").Contains(u) {
			bits = min(bits, 48+v4) // NAT64 local-use
		} else if u.Is6() && v4 < 32 && bits > 96 && (netip.MustParsePrefix("2001::/32").Contains(u) || netip.MustParsePrefix("64:ff9b::/96").Contains(u) ||
			netip.MustParsePrefix("::/96").Contains(u) || netip.MustParsePrefix("::ffff:0:0:0/96").Contains(u) ||
			(b[8] == 0 || b[8] == 2) && b[9] == 0 && b[10] == 0x5e && b[11] == 0xfe) {
			bits = min(bits, 96+v4) // Teredo, NAT64, IPv4-compatible, IPv4-translated, ISATAP
		}
		// The result is the network address of addr's /bits prefix: it
		// lies in that prefix and truncating it again changes nothing.
		if !netip.PrefixFrom(got, bits).Contains(u) || Truncate(got, v4, v6) != got || got.Zone() != "" {
			t.Fatalf("Truncate(%v, %d, %d) = %v", addr, v4, v6, got)
		}
	})
}

// TestSharedVectorsFile checks that the table above still matches the shared
// file; it skips when the shared folder is absent.
func TestSharedVectorsFile(t *testing.T) {
	b, err := os.ReadFile("../../../shared/testdata/consent/other-signals.json")
	if err != nil {
		t.Skipf("shared test vectors not available (%v); the copied table still runs", err)
	}
	var doc struct {
		IPMasking struct {
			Vectors []struct {
				In       string `json:"in"`
				KeepBits int    `json:"keep_bits"`
				Out      string `json:"out"`
			} `json:"vectors"`
		} `json:"ip_masking"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	vs := doc.IPMasking.Vectors
	if len(vs) != len(sharedVectors) {
		t.Fatalf("shared file has %d vectors; table has %d", len(vs), len(sharedVectors))
	}
	for i, v := range vs {
		if w := sharedVectors[i]; v.In != w.in || v.KeepBits != w.keepBits || v.Out != w.out {
			t.Fatalf("vector %d: file %+v; table %+v", i, v, w)
		}
	}
}
