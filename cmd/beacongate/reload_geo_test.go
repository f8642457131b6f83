package main

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/anonymize/geo"
	"github.com/beacongate/beacongate/anonymize/geo/geotest"
)

// TestReloadRefusedKeepsGeo: a reload that fails after the GeoIP database
// was read (here: a vendor list that cannot be loaded) leaves the running
// database in place; a valid reload then swaps it.
func TestReloadRefusedKeepsGeo(t *testing.T) {
	dir := t.TempDir()
	london, paris := filepath.Join(dir, "london.mmdb"), filepath.Join(dir, "paris.mmdb")
	for path, city := range map[string]string{london: "London", paris: "Paris"} {
		if err := geotest.WriteCityDB(path, []geotest.Network{{CIDR: "81.2.69.0/24", Continent: "EU", Country: "GB", City: city}}); err != nil {
			t.Fatal(err)
		}
	}
	cfgPath := filepath.Join(dir, "c.yaml")
	write := func(db, extra string) {
		t.Helper()
		yaml := "geoip: {database: " + db + "}\nconsent:\n  tcf: {" + extra + "}\ndestinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n"
		if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	city := func(a *app) string {
		loc, _ := a.geo.Lookup(netip.MustParseAddr("81.2.69.142"))
		var b []byte
		return string(loc.AppendJSON(b, geo.City, 0))
	}
	write(london, "")
	log := slog.New(slog.DiscardHandler)
	a, err := startApp(serveFlags{config: cfgPath, data: filepath.Join(dir, "data")}, map[string]bool{"data": true}, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close(context.Background())
	if !strings.Contains(city(a), "London") {
		t.Fatalf("at start: %s", city(a))
	}
	write(paris, "gvl_file: "+filepath.Join(dir, "missing-vendor-list.json"))
	if err := a.reload(log); err == nil || !strings.Contains(err.Error(), "gvl_file") {
		t.Fatalf("reload with a missing vendor list: %v; want it refused", err)
	}
	if got := city(a); !strings.Contains(got, "London") {
		t.Fatalf("after a refused reload the database is %s; want London still", got)
	}
	write(paris, "")
	if err := a.reload(log); err != nil {
		t.Fatal(err)
	}
	if got := city(a); !strings.Contains(got, "Paris") {
		t.Fatalf("after a valid reload: %s; want Paris", got)
	}
}
