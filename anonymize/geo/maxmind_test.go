package geo

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oschwald/geoip2-golang/v2"
)

// maxmindDir holds MaxMind's official test databases (MaxMind-DB repository,
// test-data/), shared by the project but not part of this repository.
const maxmindDir = "../../../shared/testdata/maxmind"

func maxmindPath(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(maxmindDir, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("MaxMind test database not available (%v); skipping", err)
	}
	return p
}

func TestMaxMindKnownAnswers(t *testing.T) {
	for _, name := range []string{"GeoIP2-City-Test.mmdb", "GeoLite2-City-Test.mmdb"} {
		t.Run(name, func(t *testing.T) {
			db, err := Open(maxmindPath(t, name))
			if err != nil {
				t.Fatal(err)
			}
			f := func(ip, country, region, city string) {
				t.Helper()
				loc, ok := db.Lookup(netip.MustParseAddr(ip))
				if !ok || loc.CountryCode() != country || loc.RegionCode() != region || loc.City != city {
					t.Fatalf("%s: %v %q %q %q; want %q %q %q", ip, ok, loc.CountryCode(), loc.RegionCode(), loc.City, country, region, city)
				}
				if !loc.HasCoordinates || loc.Continent[0] == 0 {
					t.Fatalf("%s: no continent or coordinates: %+v", ip, loc)
				}
			}
			f("81.2.69.142", "GB", "ENG", "London")
			f("2.125.160.216", "GB", "ENG", "Boxford")
			f("216.160.83.56", "US", "WA", "Milton")
			f("89.160.20.112", "SE", "E", "Linköping")
			f("175.16.199.1", "CN", "22", "Changchun")
			f("2001:480:10::1", "US", "CA", "San Diego")

			loc, _ := db.Lookup(netip.MustParseAddr("81.2.69.142"))
			got := string(loc.AppendJSON(nil, City, 0.1))
			want := `{"continent":"EU","country":"GB","region":"ENG","city":"London","lat":51.5,"lon":-0.1}`
			if got != want {
				t.Fatalf("JSON %s; want %s", got, want)
			}
		})
	}
}

func TestMaxMindBrokenFiles(t *testing.T) {
	f := func(name string) {
		t.Helper()
		path := maxmindPath(t, name)
		db, err := Open(path)
		if err == nil {
			t.Fatalf("Open(%s) = %v; want an error", name, db)
		}
		if !strings.Contains(err.Error(), name) {
			t.Fatalf("error %q does not name the file", err)
		}
		t.Logf("%s: %v", name, err)

		var r Reloadable
		if err := r.Reload(maxmindPath(t, "GeoIP2-City-Test.mmdb")); err != nil {
			t.Fatal(err)
		}
		if err := r.Reload(path); err == nil || !strings.Contains(err.Error(), "keeping previous database") {
			t.Fatalf("Reload(%s) = %v", name, err)
		}
		if loc, ok := r.Lookup(netip.MustParseAddr("81.2.69.142")); !ok || loc.City != "London" {
			t.Fatalf("previous database lost after failed reload: %+v %v", loc, ok)
		}
	}
	f("GeoIP2-City-Test-Broken-Double-Format.mmdb")
	f("GeoIP2-City-Test-Invalid-Node-Count.mmdb")
}

func TestMaxMindWrongKind(t *testing.T) {
	for _, name := range []string{"GeoLite2-ASN-Test.mmdb", "GeoIP2-Anonymous-IP-Test.mmdb"} {
		if _, err := Open(maxmindPath(t, name)); err == nil || !strings.Contains(err.Error(), "no location data") {
			t.Fatalf("Open(%s) = %v; want a wrong-kind error", name, err)
		}
	}
	for _, name := range []string{"GeoIP2-Country-Test.mmdb", "GeoLite2-Country-Test.mmdb"} {
		db, err := Open(maxmindPath(t, name))
		if err != nil {
			t.Fatal(err)
		}
		loc, ok := db.Lookup(netip.MustParseAddr("81.2.69.142"))
		if !ok || loc.CountryCode() != "GB" || loc.City != "" {
			t.Fatalf("%s: %+v %v", name, loc, ok)
		}
	}
}

// TestMatchesGeoIP2 compares Lookup with geoip2-golang's City, the reference
// decoder, on every network of every City test database (MaxMind's, when
// present, and the synthetic one).
func TestMatchesGeoIP2(t *testing.T) {
	// geoip2-golang accepts only known database types.
	files := map[string]string{"synthetic": writeDB(t, "GeoLite2-City", 6, testPlaces)}
	for _, name := range []string{"GeoIP2-City-Test.mmdb", "GeoLite2-City-Test.mmdb"} {
		if p := filepath.Join(maxmindDir, name); fileExists(p) {
			files[name] = p
		}
	}
	if len(files) == 1 {
		t.Log("MaxMind test databases absent; comparing on the synthetic database only")
	}
	for name, path := range files {
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := geoip2.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for res := range db.reader.Networks() {
			p := res.Prefix()
			for _, addr := range []netip.Addr{p.Addr(), lastAddr(p)} {
				n++
				got, ok := db.Lookup(addr)
				again, ok2 := db.Lookup(addr) // from the record cache now
				if again != got || ok2 != ok {
					t.Fatalf("%s %s: cached %+v %v differs from decoded %+v %v", name, addr, again, ok2, got, ok)
				}
				want, err := ref.City(addr)
				if err != nil {
					t.Fatalf("%s %s: reference: %v", name, addr, err)
				}
				exp := fromGeoIP2(want)
				if got != exp {
					t.Fatalf("%s %s:\n got %+v\nwant %+v", name, addr, got, exp)
				}
				if ok != (exp != Location{}) {
					t.Fatalf("%s %s: ok = %v for %+v", name, addr, ok, got)
				}
			}
		}
		if n < 10 {
			t.Fatalf("%s: only %d addresses compared", name, n)
		}
		ref.Close()
		t.Logf("%s: %d addresses match geoip2-golang", name, n)
	}
}

// fromGeoIP2 applies Location's rules (valid codes only, coordinates only
// when both are present and in range) to a geoip2 City.
func fromGeoIP2(c *geoip2.City) Location {
	var l Location
	setCode(l.Continent[:], []byte(c.Continent.Code))
	setCode(l.Country[:], []byte(c.Country.ISOCode))
	if len(c.Subdivisions) > 0 {
		setCode(l.Region[:], []byte(c.Subdivisions[0].ISOCode))
	}
	l.City = c.City.Names.English
	l.AccuracyRadius = c.Location.AccuracyRadius
	if c.Location.HasCoordinates() {
		lat, lon := *c.Location.Latitude, *c.Location.Longitude
		if lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
			l.Latitude, l.Longitude, l.HasCoordinates = lat, lon, true
		}
	}
	return l
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
