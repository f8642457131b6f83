package geo

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// testPlace is one network of a database built by buildDB.
type testPlace struct {
	cidr      string
	continent string
	country   string
	regions   []string // subdivisions, largest first
	city      string   // English name
	otherLang string   // a German name, stored before "en" to exercise skipping
	lat, lon  *float64
	radius    uint16
	extra     bool // add unrelated keys (traits, postal, registered_country)
}

func fp(v float64) *float64 { return &v }

// testPlaces is the synthetic world every test database is built from.
var testPlaces = []testPlace{
	{cidr: "81.2.69.0/24", continent: "EU", country: "GB", regions: []string{"ENG", "LND"}, city: "London", otherLang: "London",
		lat: fp(51.5142), lon: fp(-0.0931), radius: 10, extra: true},
	{cidr: "1.1.1.0/24", continent: "OC", country: "AU", regions: []string{"NSW"}, city: "Sydney",
		lat: fp(-33.8688), lon: fp(151.2093), radius: 1000},
	{cidr: "5.5.0.0/16", continent: "EU", country: "DE"}, // country only: no city, no location
	{cidr: "203.0.113.0/24", continent: "NA", country: "US", regions: []string{"CA"}, city: `Quote"d\City` + "\x01",
		lat: fp(-1.26), lon: fp(-0.04), radius: 5},
	{cidr: "198.51.100.0/24", continent: "EU", country: "GBR", regions: []string{"TOOLONG"}, // invalid codes are dropped
		city: "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch", lat: fp(53.22), lon: fp(-4.2)},
	{cidr: "2a02:1234::/32", continent: "EU", country: "SE", regions: []string{"E"}, city: "Linköping", otherLang: "Linköping",
		lat: fp(58.4167), lon: fp(15.6167), radius: 76},
	{cidr: "2001:db8::/32", continent: "NA", country: "US", regions: []string{"WA"}, city: "Milton",
		lat: fp(47.2513), lon: fp(-122.3149), radius: 22, extra: true},
	{cidr: "100.64.0.0/10", continent: "AS", country: "JP", lat: fp(200), lon: fp(10)}, // latitude out of range: no coordinates
	{cidr: "192.0.2.0/24"}, // an empty record: found, but nothing to report
}

func (p testPlace) record() mmdbtype.Map {
	m := mmdbtype.Map{}
	if p.continent != "" {
		m["continent"] = mmdbtype.Map{"code": mmdbtype.String(p.continent), "geoname_id": mmdbtype.Uint32(6255148),
			"names": mmdbtype.Map{"en": mmdbtype.String("Continent " + p.continent)}}
	}
	if p.country != "" {
		m["country"] = mmdbtype.Map{"geoname_id": mmdbtype.Uint32(2635167), "iso_code": mmdbtype.String(p.country)}
	}
	if len(p.regions) > 0 {
		var s mmdbtype.Slice
		for _, r := range p.regions {
			s = append(s, mmdbtype.Map{"iso_code": mmdbtype.String(r), "names": mmdbtype.Map{"en": mmdbtype.String("Region " + r)}})
		}
		m["subdivisions"] = s
	}
	if p.city != "" {
		names := mmdbtype.Map{"en": mmdbtype.String(p.city), "fr": mmdbtype.String(p.city + " (fr)")}
		if p.otherLang != "" {
			names["de"] = mmdbtype.String(p.otherLang)
		}
		m["city"] = mmdbtype.Map{"geoname_id": mmdbtype.Uint32(42), "names": names}
	}
	if p.lat != nil {
		m["location"] = mmdbtype.Map{"latitude": mmdbtype.Float64(*p.lat), "longitude": mmdbtype.Float64(*p.lon),
			"accuracy_radius": mmdbtype.Uint16(p.radius), "time_zone": mmdbtype.String("Etc/UTC")}
	}
	if p.extra {
		m["registered_country"] = mmdbtype.Map{"iso_code": mmdbtype.String("US")}
		m["postal"] = mmdbtype.Map{"code": mmdbtype.String("SW1A")}
		m["traits"] = mmdbtype.Map{"is_anycast": mmdbtype.Bool(true)}
	}
	return m
}

// buildDBBytes writes the places into a MaxMind DB of the given type and IP
// version (4 or 6) and returns the file's bytes. IPv6 places are skipped in
// an IPv4 database.
func buildDBBytes(t testing.TB, dbType string, ipVersion int, places []testPlace) []byte {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            dbType,
		IPVersion:               ipVersion,
		RecordSize:              28,
		IncludeReservedNetworks: true, // documentation ranges (192.0.2.0/24, 2001:db8::/32) are used on purpose
		Languages:               []string{"en", "de", "fr"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range places {
		_, n, err := net.ParseCIDR(p.cidr)
		if err != nil {
			t.Fatal(err)
		}
		if ipVersion == 4 && n.IP.To4() == nil {
			continue
		}
		if err := w.Insert(n, p.record()); err != nil {
			t.Fatalf("insert %s: %v", p.cidr, err)
		}
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeDB builds a database and writes it into a temporary file, returning
// the path.
func writeDB(t testing.TB, dbType string, ipVersion int, places []testPlace) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), dbType+".mmdb")
	if err := os.WriteFile(path, buildDBBytes(t, dbType, ipVersion, places), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// openTestDB opens the standard synthetic City database.
func openTestDB(t testing.TB) *DB {
	t.Helper()
	db, err := Open(writeDB(t, "Test-City", 6, testPlaces))
	if err != nil {
		t.Fatal(err)
	}
	return db
}
