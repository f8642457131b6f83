package main

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// TestReloadKeepsSightingWindowWithinOpenIntervals: with ble.output:
// aggregates, a reload that raises server.max_sighting_ahead together with
// ble.interval (valid together) applies neither: the interval needs a
// restart, and the wider window with the running interval would accept
// sightings of intervals the aggregation cannot open, acknowledged and
// then dropped as late.
func TestReloadKeepsSightingWindowWithinOpenIntervals(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 30, 0, time.UTC)
	clk := clock.NewManual(now)
	serveClock = clk
	t.Cleanup(func() { serveClock = clock.Real })
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.yaml")
	write := func(ahead, interval string) {
		t.Helper()
		yaml := "server: {max_sighting_ahead: " + ahead + "}\nble: {output: aggregates, interval: " + interval + ", lateness: 30s}\n" +
			"destinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n"
		if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("30s", "1m")
	g := startStoryGateway(t, cfgPath, filepath.Join(dir, "data"))
	defer g.stop(t)
	write("5m", "10m")
	needs, err := g.a.reloadReport(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(needs, "ble.interval") || !slices.Contains(needs, "server.max_sighting_ahead") {
		t.Errorf("needs_restart %v; want ble.interval and server.max_sighting_ahead", needs)
	}
	// A sighting 4 minutes ahead lies in no interval the running
	// aggregation (1m, lateness 30s) can open: it must not be acknowledged.
	ts := now.Add(4 * time.Minute).Format(time.RFC3339)
	body := `{"site":"shop","store":"berlin","sensor":"entrance","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"mac":"00:1A:2B:00:00:01","ts":"` + ts + `"}]}`
	resp, err := http.Post(g.url+"/ble", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		t.Errorf("POST /ble of a sighting 4m ahead after the reload: %d %s; want it refused (the running interval is 1m)", resp.StatusCode, b)
	}
}
