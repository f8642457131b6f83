package geo

import (
	"net/netip"
	"sync"
	"testing"
)

func TestRecordCache(t *testing.T) {
	buf := []byte("xxLondonyyLinköping")
	var c recordCache
	a := Location{Continent: [2]byte{'E', 'U'}, Country: [2]byte{'G', 'B'}, Region: [3]byte{'E', 'N', 'G'},
		City: b2s(buf[2:8]), Latitude: -51.5, Longitude: 0.25, AccuracyRadius: 65535, HasCoordinates: true}
	b := Location{Country: [2]byte{'S', 'E'}, City: b2s(buf[10:])}

	if _, ok := c.get(7, buf); ok {
		t.Fatal("empty cache: hit")
	}
	c.put(7, &a, offsetIn(buf, a.City))
	if got, ok := c.get(7, buf); !ok || got != a {
		t.Fatalf("get(7) = %+v, %v; want %+v", got, ok, a)
	}
	// Find another offset that maps to the same slot: it must evict, never
	// return the other record.
	other := uint(8)
	for cacheIndex(other) != cacheIndex(7) {
		other++
	}
	if _, ok := c.get(other, buf); ok {
		t.Fatal("colliding offset: hit before put")
	}
	c.put(other, &b, offsetIn(buf, b.City))
	if got, ok := c.get(other, buf); !ok || got != b {
		t.Fatalf("get(other) = %+v, %v; want %+v", got, ok, b)
	}
	if _, ok := c.get(7, buf); ok {
		t.Fatal("evicted record still returned")
	}
	// A location without city round-trips too.
	n := Location{Continent: [2]byte{'A', 'S'}}
	c.put(9, &n, -1)
	if got, ok := c.get(9, buf); !ok || got != n {
		t.Fatalf("get(9) = %+v, %v", got, ok)
	}
	// A city that is not in buf is not cached.
	ext := Location{City: "elsewhere"}
	c.put(10, &ext, offsetIn(buf, ext.City))
	if _, ok := c.get(10, buf); ok {
		t.Fatal("cached a city outside the buffer")
	}
}

func TestOffsetIn(t *testing.T) {
	buf := []byte("abcdef")
	f := func(s string, want int) {
		t.Helper()
		if got := offsetIn(buf, s); got != want {
			t.Fatalf("offsetIn(%q) = %d; want %d", s, got, want)
		}
	}
	f(b2s(buf[0:2]), 0)
	f(b2s(buf[3:6]), 3)
	f(b2s(buf[5:6]), 5)
	f("", -1)
	f("abc", -1) // equal bytes elsewhere
	f(b2s(buf[4:6])+"", 4)
}

// TestConcurrentLookups runs lookups of different records from several
// goroutines, so that cache slots are written while read; run with -race.
func TestConcurrentLookups(t *testing.T) {
	db := openTestDB(t)
	addrs := []string{"81.2.69.142", "1.1.1.1", "5.5.5.5", "203.0.113.9", "198.51.100.7", "2a02:1234::1", "2001:db8::1", "8.8.8.8"}
	want := make([]Location, len(addrs))
	for i, a := range addrs {
		want[i], _ = db.Lookup(netip.MustParseAddr(a))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				k := (i + g) % len(addrs)
				got, _ := db.Lookup(netip.MustParseAddr(addrs[k]))
				if got != want[k] {
					t.Errorf("%s: %+v; want %+v", addrs[k], got, want[k])
					return
				}
			}
		})
	}
	wg.Wait()
}
