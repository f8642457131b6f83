//go:build !race

package geo

import (
	"net/netip"
	"testing"
)

func TestNoAllocs(t *testing.T) {
	db := openTestDB(t)
	var r Reloadable
	r.db.Store(db)
	var empty Reloadable
	hit4 := netip.MustParseAddr("81.2.69.142")
	hit6 := netip.MustParseAddr("2a02:1234::1")
	long := netip.MustParseAddr("198.51.100.7")
	miss := netip.MustParseAddr("8.8.8.8")
	mapped := netip.MustParseAddr("::ffff:1.1.1.1")
	buf := make([]byte, 0, 256)
	var sink int

	f := func(name string, fn func()) {
		t.Helper()
		if n := testing.AllocsPerRun(1000, fn); n != 0 {
			t.Fatalf("%s: %v allocs per run; want 0", name, n)
		}
	}
	f("DB.Lookup hit v4", func() { l, _ := db.Lookup(hit4); sink += len(l.City) })
	f("DB.Lookup hit v6", func() { l, _ := db.Lookup(hit6); sink += len(l.City) })
	f("DB.Lookup long name", func() { l, _ := db.Lookup(long); sink += len(l.City) })
	f("DB.Lookup miss", func() { _, ok := db.Lookup(miss); sink += b2i(ok) })
	f("DB.Lookup mapped", func() { l, _ := db.Lookup(mapped); sink += len(l.City) })
	f("DB.Lookup invalid", func() { _, ok := db.Lookup(netip.Addr{}); sink += b2i(ok) })
	off := uint(db.reader.Lookup(hit4).Offset())
	f("decodeRecord (record-cache miss)", func() {
		var l Location
		if err := db.decodeRecord(off, &l); err != nil {
			t.Fatal(err)
		}
		sink += len(l.City)
	})
	f("Reloadable.Lookup", func() { l, _ := r.Lookup(hit4); sink += len(l.City) })
	f("Reloadable.Lookup without DB", func() { _, ok := empty.Lookup(hit4); sink += b2i(ok) })
	loc, _ := db.Lookup(hit4)
	f("AppendJSON city+grid", func() { buf = loc.AppendJSON(buf[:0], City, 0.1) })
	f("AppendJSON country", func() { buf = loc.AppendJSON(buf[:0], Country, 0) })
	esc := Location{City: "Quote\"d\xff"}
	f("AppendJSON escaped", func() { buf = esc.AppendJSON(buf[:0], City, 0) })
	f("Lookup+AppendJSON", func() {
		l, _ := r.Lookup(hit6)
		buf = l.AppendJSON(buf[:0], City, 0.5)
	})
	_ = sink
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
