package geo

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/oschwald/geoip2-golang/v2"
)

var (
	sinkLoc Location
	sinkOK  bool
	sinkBuf []byte
)

func BenchmarkLookup(b *testing.B) {
	db := openTestDB(b)
	for _, c := range []struct{ name, ip string }{
		{"hitV4", "81.2.69.142"},
		{"hitV6", "2a02:1234::1"},
		{"hitCountryOnly", "5.5.5.5"},
		{"missV4", "8.8.8.8"},
		{"missV6", "2a03::1"},
	} {
		addr := netip.MustParseAddr(c.ip)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkLoc, sinkOK = db.Lookup(addr)
			}
		})
	}
	b.Run("hitV4Parallel", func(b *testing.B) {
		b.ReportAllocs()
		addr := netip.MustParseAddr("81.2.69.142")
		b.RunParallel(func(pb *testing.PB) {
			var l Location
			for pb.Next() {
				l, _ = db.Lookup(addr)
			}
			_ = l
		})
	})
}

// BenchmarkLookupMaxMind runs on MaxMind's test database, whose records
// carry the full set of names and fields of the real files.
func BenchmarkLookupMaxMind(b *testing.B) {
	path := filepath.Join(maxmindDir, "GeoIP2-City-Test.mmdb")
	if _, err := os.Stat(path); err != nil {
		b.Skip("MaxMind test database not available")
	}
	db, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	ref, err := geoip2.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer ref.Close()
	hit := netip.MustParseAddr("81.2.69.142")
	miss := netip.MustParseAddr("8.8.8.8")
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkLoc, sinkOK = db.Lookup(hit)
		}
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkLoc, sinkOK = db.Lookup(miss)
		}
	})
	// The naive version: geoip2-golang's City, which decodes everything.
	b.Run("geoip2City/hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, _ := ref.City(hit)
			sinkOK = c.HasData()
		}
	})
}

// BenchmarkDecodeRecord measures a record-cache miss: the decode alone,
// without the tree walk.
func BenchmarkDecodeRecord(b *testing.B) {
	for _, c := range []struct{ name, path string }{
		{"synthetic", ""},
		{"maxmind", filepath.Join(maxmindDir, "GeoIP2-City-Test.mmdb")},
	} {
		b.Run(c.name, func(b *testing.B) {
			var db *DB
			var err error
			if c.path == "" {
				db = openTestDB(b)
			} else if db, err = Open(c.path); err != nil {
				b.Skip("MaxMind test database not available")
			}
			off := uint(db.reader.Lookup(netip.MustParseAddr("81.2.69.142")).Offset())
			b.ReportAllocs()
			for b.Loop() {
				sinkLoc = Location{}
				if err := db.decodeRecord(off, &sinkLoc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	l := london()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = l.AppendJSON(buf[:0], City, 0.1)
	}
	sinkBuf = buf
}

// BenchmarkOpen measures Open, including the walk over every record, on a
// database of 65,536 networks with 4,096 distinct records.
func BenchmarkOpen(b *testing.B) {
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "Test-City", RecordSize: 28, IncludeReservedNetworks: true})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 1 << 16 {
		p := testPlaces[0]
		p.city = fmt.Sprintf("City %d", i%4096)
		_, n, _ := net.ParseCIDR(fmt.Sprintf("%d.%d.%d.0/24", 11+i>>8%200, i%256, 0))
		if err := w.Insert(n, p.record()); err != nil {
			b.Fatal(err)
		}
	}
	path := filepath.Join(b.TempDir(), "big.mmdb")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(path); err != nil {
			b.Fatal(err)
		}
	}
}
