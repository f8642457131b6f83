package anonymize

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize/geo/geotest"
)

// TestGeoFromTruncatedUnderIPDrop: with geoip.lookup_from: truncated, a
// policy that drops the address (the default none policy) still gets the
// location its geo.level allows (country), looked up from the address cut
// to /24 (/48), the prefixes the visitor hash already uses, never the full
// address. It wrote no geo at all, while the README's policy table and
// beacongate report promise the country.
func TestGeoFromTruncatedUnderIPDrop(t *testing.T) {
	en := newTestEngine(t, testConfig+"geoip:\n  lookup_from: truncated\n")
	if got := geoOf(t, en, false); got != `"geo":{"continent":"EU","country":"GB"}` {
		t.Fatalf("none policy, ip dropped: geo %q; want the country of 81.2.69.0", got)
	}
	if got := geoOf(t, en, true); !strings.Contains(got, `"city":"London"`) {
		t.Fatalf("analytics policy: geo %q; want the city of 81.2.69.0", got)
	}

	// Looked up from the /24, not the full address: a database that knows
	// only the client's own /32 has nothing for it.
	path := filepath.Join(t.TempDir(), "one.mmdb")
	if err := geotest.WriteCityDB(path, []geotest.Network{{CIDR: "81.2.69.142/32", Continent: "EU", Country: "GB"}}); err != nil {
		t.Fatal(err)
	}
	if err := en.geo.Reload(path); err != nil {
		t.Fatal(err)
	}
	if got := geoOf(t, en, false); got != "" {
		t.Fatalf("none policy: geo %q from the full address; want none", got)
	}
}
