package geo

import (
	"encoding/json"
	"net/netip"
	"testing"
)

// FuzzLookup looks up arbitrary addresses (any 4 or 16 bytes, with or
// without a zone) in the synthetic database: no panic, a consistent answer,
// and valid JSON out.
func FuzzLookup(f *testing.F) {
	for _, s := range []string{"81.2.69.142", "::ffff:81.2.69.142", "2a02:1234::1", "8.8.8.8", "::", "0.0.0.0",
		"255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::1"} {
		a := netip.MustParseAddr(s)
		f.Add(a.AsSlice(), "")
	}
	f.Add([]byte{1, 2, 3}, "")
	f.Add([]byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "eth0")
	db := openTestDB(f)
	f.Fuzz(func(t *testing.T, b []byte, zone string) {
		addr, ok := netip.AddrFromSlice(b)
		if ok && addr.Is6() {
			addr = addr.WithZone(zone)
		}
		loc, found := db.Lookup(addr)
		if !found && loc != (Location{}) {
			t.Fatalf("%v: not found but %+v", addr, loc)
		}
		loc2, found2 := db.Lookup(addr.Unmap())
		if loc2 != loc || found2 != found {
			t.Fatalf("%v: mapped and unmapped differ", addr)
		}
		out := loc.AppendJSON(nil, City, 0.1)
		if out[0] != '{' || out[len(out)-1] != '}' {
			t.Fatalf("bad JSON %s", out)
		}
		if db.LookupErrors() != 0 {
			t.Fatalf("lookup errors on a valid database")
		}
	})
}

// FuzzOpenBytes feeds corrupted databases to the opener and, when one opens,
// looks addresses up (three fixed ones and one the fuzzer picks): errors
// are fine, panics are not; and a database that opened has been checked
// whole (see check), so no lookup in it may fail on corrupt data
// (LookupErrors stays 0), and every answer is valid JSON.
func FuzzOpenBytes(f *testing.F) {
	good := buildDBBytes(f, "Test-City", 6, testPlaces)
	f.Add(uint32(0), byte(0), uint16(0), []byte{81, 2, 69, 142})
	f.Add(uint32(len(good)/2), byte(0xff), uint16(1), []byte{1, 1, 1, 1})
	f.Add(uint32(len(good)-40), byte(0x01), uint16(3), netip.MustParseAddr("2a02:1234::1").AsSlice())
	addrs := []netip.Addr{netip.MustParseAddr("81.2.69.142"), netip.MustParseAddr("2a02:1234::1"), netip.MustParseAddr("1.1.1.1")}
	f.Fuzz(func(t *testing.T, pos uint32, xor byte, span uint16, addr []byte) {
		buf := append([]byte(nil), good...)
		for i := range int(span % 64) {
			buf[(int(pos)+i)%len(buf)] ^= xor
		}
		db, err := openBytes(buf)
		if err != nil {
			return
		}
		as := addrs
		if a, ok := netip.AddrFromSlice(addr); ok {
			as = append(as[:len(as):len(as)], a, a.Unmap())
		}
		for _, a := range as {
			l, _ := db.Lookup(a)
			if out := l.AppendJSON(nil, City, 1); !json.Valid(out) {
				t.Fatalf("%v: invalid JSON %s", a, out)
			}
		}
		if n := db.LookupErrors(); n != 0 {
			t.Fatalf("a database that opened failed %d lookups on corrupt data (byte %d, span %d, ^%#x)", n, pos, span%64, xor)
		}
	})
}
