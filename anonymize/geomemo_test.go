package anonymize

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize/geo/geotest"
)

// geoOf returns the record's "geo" member as written, or "".
func geoOf(t *testing.T, en *Engine, analytics bool) string {
	t.Helper()
	e := plantedEvent("analytics")
	if !analytics {
		e = plantedEvent("")
	}
	recs, _ := recordsOf(t, en, e, make([]byte, 0, 8<<10))
	i := strings.Index(recs, `"geo":{`)
	if i < 0 {
		return ""
	}
	return recs[i : i+strings.Index(recs[i:], "}")+1]
}

// TestGeoMemo: the geo member is remembered per scratch for the next record
// from the same address (the sightings of a BLE request, a visitor's page
// views), and only while the engine and its database are the ones that
// answered: a reloaded database and another engine sharing the scratch
// look up afresh.
func TestGeoMemo(t *testing.T) {
	en := newTestEngine(t, testConfig)
	first := geoOf(t, en, true)
	if !strings.Contains(first, `"country":"GB"`) {
		t.Fatalf("geo = %q; want the test database's GB", first)
	}

	// The next record from the address is served from the memo: a forged
	// memo shows through (this is the only way to see the memo at work
	// from outside; nothing else changes between the two records).
	sc := getScratch()
	if sc.geo.engine != en.id || !strings.Contains(string(sc.geo.json), `"GB"`) {
		putScratch(sc)
		t.Fatalf("memo after a record: engine %d, %q; want engine %d and the GB member", sc.geo.engine, sc.geo.json, en.id)
	}
	if strings.Contains(fmt.Sprintf("%+v %s", sc.geo, sc.geo.json), "81.2.69") {
		putScratch(sc)
		t.Fatalf("the memo keeps the client address: %+v", sc.geo)
	}
	sc.geo.json = []byte(`,"geo":{"country":"ZZ"}`)
	sc.context.forget(0) // else the record's whole context comes from there
	putScratch(sc)
	if got := geoOf(t, en, true); got != `"geo":{"country":"ZZ"}` {
		t.Fatalf("second record from the address: geo %q; want the memo's", got)
	}

	// A reload of the database makes the memo stale.
	path := filepath.Join(t.TempDir(), "fr.mmdb")
	if err := geotest.WriteCityDB(path, []geotest.Network{{CIDR: "81.2.69.0/24", Continent: "EU", Country: "FR", Region: "IDF", City: "Paris"}}); err != nil {
		t.Fatal(err)
	}
	if err := en.geo.Reload(path); err != nil {
		t.Fatal(err)
	}
	if got := geoOf(t, en, true); !strings.Contains(got, `"country":"FR"`) {
		t.Fatalf("after a database reload: geo %q; want the new database's FR", got)
	}

	// Another engine (another config or database) sharing the scratch
	// looks up in its own database, even at the same reload count.
	other := newTestEngine(t, testConfig)
	dePath := filepath.Join(t.TempDir(), "de.mmdb")
	if err := geotest.WriteCityDB(dePath, []geotest.Network{{CIDR: "81.2.69.0/24", Continent: "EU", Country: "DE", Region: "BE", City: "Berlin"}}); err != nil {
		t.Fatal(err)
	}
	if err := other.geo.Reload(dePath); err != nil {
		t.Fatal(err)
	}
	if other.geo.Reloads() != en.geo.Reloads() {
		t.Fatalf("reload counts %d and %d; the test needs them equal", other.geo.Reloads(), en.geo.Reloads())
	}
	if got := geoOf(t, other, true); !strings.Contains(got, `"country":"DE"`) {
		t.Fatalf("another engine after the first: geo %q; want its own database's DE", got)
	}
	if got := geoOf(t, en, true); !strings.Contains(got, `"country":"FR"`) {
		t.Fatalf("first engine again: geo %q; want FR", got)
	}

	// Records of policies with other geo levels, one after the other,
	// equal records made with an empty memo.
	fresh := func(analytics bool) string {
		sc := getScratch()
		sc.geo = geoMemo{}
		sc.context.forget(0)
		putScratch(sc)
		return geoOf(t, en, analytics)
	}
	want := map[bool]string{true: fresh(true), false: fresh(false)}
	if want[true] == want[false] {
		t.Fatalf("analytics and no-consent records carry the same geo member %q; the test needs two levels", want[true])
	}
	for i, analytics := range []bool{true, false, false, true, false, true, true} {
		if got := geoOf(t, en, analytics); got != want[analytics] {
			t.Fatalf("record %d (analytics %v): geo %q; want %q", i, analytics, got, want[analytics])
		}
	}
}
