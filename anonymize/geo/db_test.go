package geo

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestLookupKnownAnswers(t *testing.T) {
	db := openTestDB(t)
	f := func(ip string, wantOK bool, continent, country, region, city string, lat, lon float64, radius uint16, coords bool) {
		t.Helper()
		loc, ok := db.Lookup(netip.MustParseAddr(ip))
		if ok != wantOK {
			t.Fatalf("%s: ok = %v; want %v (%+v)", ip, ok, wantOK, loc)
		}
		if got := loc.ContinentCode(); got != continent {
			t.Fatalf("%s: continent %q; want %q", ip, got, continent)
		}
		if got := loc.CountryCode(); got != country {
			t.Fatalf("%s: country %q; want %q", ip, got, country)
		}
		if got := loc.RegionCode(); got != region {
			t.Fatalf("%s: region %q; want %q", ip, got, region)
		}
		if loc.City != city {
			t.Fatalf("%s: city %q; want %q", ip, loc.City, city)
		}
		if loc.HasCoordinates != coords || loc.Latitude != lat || loc.Longitude != lon || loc.AccuracyRadius != radius {
			t.Fatalf("%s: coordinates %v %v,%v r=%d; want %v %v,%v r=%d", ip,
				loc.HasCoordinates, loc.Latitude, loc.Longitude, loc.AccuracyRadius, coords, lat, lon, radius)
		}
	}
	f("81.2.69.142", true, "EU", "GB", "ENG", "London", 51.5142, -0.0931, 10, true)
	f("::ffff:81.2.69.1", true, "EU", "GB", "ENG", "London", 51.5142, -0.0931, 10, true) // IPv4-mapped: unmapped first
	f("1.1.1.1", true, "OC", "AU", "NSW", "Sydney", -33.8688, 151.2093, 1000, true)
	f("5.5.5.5", true, "EU", "DE", "", "", 0, 0, 0, false)
	f("203.0.113.9", true, "NA", "US", "CA", "Quote\"d\\City\x01", -1.26, -0.04, 5, true)
	// Invalid codes ("GBR", "TOOLONG") are dropped, not truncated; a long
	// name (extended string size) is read whole.
	f("198.51.100.7", true, "EU", "", "", "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch", 53.22, -4.2, 0, true)
	f("2a02:1234:5678::1", true, "EU", "SE", "E", "Linköping", 58.4167, 15.6167, 76, true)
	f("2001:db8::1", true, "NA", "US", "WA", "Milton", 47.2513, -122.3149, 22, true)
	f("fe80::1%eth0", false, "", "", "", "", 0, 0, 0, false) // zone ignored; not in the database
	f("2001:db8::1%eth0", true, "NA", "US", "WA", "Milton", 47.2513, -122.3149, 22, true)
	f("100.64.1.1", true, "AS", "JP", "", "", 0, 0, 0, false) // latitude 200 is out of range: no coordinates
	f("192.0.2.1", false, "", "", "", "", 0, 0, 0, false)     // record without any kept field
	f("8.8.8.8", false, "", "", "", "", 0, 0, 0, false)       // not in the database
	f("2a03::1", false, "", "", "", "", 0, 0, 0, false)

	if _, ok := db.Lookup(netip.Addr{}); ok {
		t.Fatal("invalid address: ok")
	}
	if n := db.LookupErrors(); n != 0 {
		t.Fatalf("LookupErrors = %d", n)
	}
	if db.DatabaseType() != "Test-City" || db.BuildTime().IsZero() || db.Path() == "" {
		t.Fatalf("metadata: %q %v %q", db.DatabaseType(), db.BuildTime(), db.Path())
	}
}

func TestLookupIPv4OnlyDatabase(t *testing.T) {
	db, err := Open(writeDB(t, "Test-Country", 4, testPlaces))
	if err != nil {
		t.Fatal(err)
	}
	if loc, ok := db.Lookup(netip.MustParseAddr("81.2.69.142")); !ok || loc.CountryCode() != "GB" {
		t.Fatalf("IPv4: %+v %v", loc, ok)
	}
	if loc, ok := db.Lookup(netip.MustParseAddr("::ffff:81.2.69.142")); !ok || loc.CountryCode() != "GB" {
		t.Fatalf("IPv4-mapped: %+v %v", loc, ok)
	}
	if _, ok := db.Lookup(netip.MustParseAddr("2001:db8::1")); ok {
		t.Fatal("IPv6 in an IPv4-only database: ok")
	}
	if n := db.LookupErrors(); n != 0 {
		t.Fatalf("LookupErrors = %d; IPv6 in an IPv4 database is not an error", n)
	}
}

func TestNilDB(t *testing.T) {
	var db *DB
	if _, ok := db.Lookup(netip.MustParseAddr("81.2.69.142")); ok {
		t.Fatal("nil DB: ok")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := buildDBBytes(t, "Test-City", 6, testPlaces)
	f := func(path string, wantIn ...string) {
		t.Helper()
		db, err := Open(path)
		if err == nil || db != nil {
			t.Fatalf("Open(%q) = %v, %v; want an error", path, db, err)
		}
		for _, w := range wantIn {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("Open(%q) error %q does not mention %q", path, err, w)
			}
		}
	}
	f("", "no database path")
	f(filepath.Join(dir, "missing.mmdb"), "missing.mmdb", "no such file")
	f(dir, "not a regular file")
	f(write("empty.mmdb", nil), "empty.mmdb", "not a usable MaxMind DB")
	f(write("text.mmdb", []byte("hello, world\n")), "not a usable MaxMind DB")
	f(write("truncated.mmdb", good[:len(good)/2]), "not a usable MaxMind DB")
	// Corrupt the data section: flip bytes in the middle of the file.
	bad := append([]byte(nil), good...)
	for i := len(bad) / 3; i < len(bad)/3+64 && i < len(bad); i++ {
		bad[i] ^= 0xA5
	}
	f(write("corrupt.mmdb", bad), "not a usable MaxMind DB")
	f(write("asn.mmdb", buildDBBytes(t, "GeoLite2-ASN", 6, testPlaces[:1])), `"GeoLite2-ASN" has no location data`)

	if _, err := Open(filepath.Join(dir, "missing.mmdb")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v does not wrap fs.ErrNotExist", err)
	}
}

// TestTruncatedAtEveryLength opens every prefix of a valid file: each must
// fail cleanly or, if it opens, look up without panicking.
func TestTruncatedAtEveryLength(t *testing.T) {
	good := buildDBBytes(t, "Test-City", 6, testPlaces)
	step := max(1, len(good)/512)
	for n := 0; n < len(good); n += step {
		db, err := openBytes(append([]byte(nil), good[:n]...))
		if err != nil {
			continue
		}
		db.Lookup(netip.MustParseAddr("81.2.69.142"))
	}
}

func TestReloadable(t *testing.T) {
	var r Reloadable
	addr := netip.MustParseAddr("81.2.69.142")
	if _, ok := r.Lookup(addr); ok {
		t.Fatal("no database: ok")
	}
	if r.DB() != nil {
		t.Fatal("zero Reloadable has a DB")
	}
	err := r.Reload(filepath.Join(t.TempDir(), "missing.mmdb"))
	if err == nil || !strings.Contains(err.Error(), "geolocation stays off") {
		t.Fatalf("first reload of a missing file: %v", err)
	}

	good := writeDB(t, "Test-City", 6, testPlaces)
	if err := r.Reload(good); err != nil {
		t.Fatal(err)
	}
	if loc, ok := r.Lookup(addr); !ok || loc.City != "London" {
		t.Fatalf("after reload: %+v %v", loc, ok)
	}
	before := r.DB()

	broken := filepath.Join(t.TempDir(), "broken.mmdb")
	if err := os.WriteFile(broken, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = r.Reload(broken)
	if err == nil || !strings.Contains(err.Error(), "keeping previous database") || !strings.Contains(err.Error(), "broken.mmdb") {
		t.Fatalf("reload of a broken file: %v", err)
	}
	if r.DB() != before {
		t.Fatal("failed reload replaced the database")
	}
	if loc, ok := r.Lookup(addr); !ok || loc.City != "London" {
		t.Fatalf("after failed reload: %+v %v", loc, ok)
	}

	// A new file with other data takes effect.
	moved := []testPlace{{cidr: "81.2.69.0/24", continent: "EU", country: "FR", city: "Paris"}}
	if err := r.Reload(writeDB(t, "Test-City", 6, moved)); err != nil {
		t.Fatal(err)
	}
	if loc, ok := r.Lookup(addr); !ok || loc.City != "Paris" {
		t.Fatalf("after second reload: %+v %v", loc, ok)
	}
	if r.Reloads() != 2 || r.ReloadFailures() != 2 {
		t.Fatalf("reloads %d failures %d; want 2 and 2", r.Reloads(), r.ReloadFailures())
	}

	// An empty path turns geolocation off.
	if err := r.Reload(""); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Lookup(addr); ok {
		t.Fatal("after Reload(\"\"): ok")
	}
	if r2, err := NewReloadable(""); err != nil || r2.DB() != nil {
		t.Fatalf("NewReloadable(\"\") = %v, %v", r2, err)
	}
	if _, err := NewReloadable(broken); err == nil {
		t.Fatal("NewReloadable(broken): no error")
	}
}

// TestLocationOutlivesReload checks that a City string taken before a reload
// stays intact afterwards (it points into the old file's buffer).
func TestLocationOutlivesReload(t *testing.T) {
	var r Reloadable
	if err := r.Reload(writeDB(t, "Test-City", 6, testPlaces)); err != nil {
		t.Fatal(err)
	}
	loc, _ := r.Lookup(netip.MustParseAddr("2a02:1234::1"))
	if err := r.Reload(writeDB(t, "Test-City", 6, testPlaces[:1])); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	if loc.City != "Linköping" {
		t.Fatalf("city after reload = %q", loc.City)
	}
}
