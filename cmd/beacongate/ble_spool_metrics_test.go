package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestBLESpoolExportsSpoolMetrics: the BLE spool of ble.output: aggregates
// (<data_dir>/ble-spool) exported its size alone, none of the metrics of
// the main spool: what it took, its writes, its refusals by reason, its
// cap, its segments, its damage. The real binary exports them now, named
// beacongate_ble_ where the main spool's are beacongate_upstream_, whose
// series stay as they were.
func TestBLESpoolExportsSpoolMetrics(t *testing.T) {
	dir := t.TempDir()
	cfg := writeE2EConfig(t, dir, "ble.yaml", "spool: {max_bytes: 16MiB, segment_bytes: 4MiB}\nble: {output: aggregates}\n")
	p := startGatewayAt(t, clocktest.Golden, filepath.Join(dir, "data"), cfg)
	defer p.stop()

	body := `{"site":"shop","store":"berlin","sensor":"entrance","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"mac":"00:1A:2B:00:00:01"}]}`
	resp, err := http.Post(p.url("/ble"), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /ble: %d", resp.StatusCode)
	}
	for _, m := range []struct {
		name string
		min  float64
	}{
		{"beacongate_ble_spooled_records_total", 1},
		{"beacongate_ble_spooled_bytes_total", 1},
		{"beacongate_ble_spool_writes_total", 1},
		{"beacongate_ble_spool_size_bytes", 1},
		{"beacongate_ble_spool_max_bytes", 16 << 20},
		{"beacongate_ble_spool_segments", 1},
		{`beacongate_ble_dropped_records_total{reason="full"}`, 0},
		{`beacongate_ble_dropped_records_total{reason="disk"}`, 0},
		{"beacongate_ble_spool_quarantined_files_total", 0},
		{"beacongate_ble_spool_torn_bytes_total", 0},
		// The main spool's series, unchanged.
		{"beacongate_upstream_spool_max_bytes", 16 << 20},
		{`beacongate_upstream_dropped_records_total{reason="full"}`, 0},
	} {
		if v := metricValue(t, p, m.name); v < m.min {
			t.Errorf("%s = %v after a BLE post, want at least %v", m.name, v, m.min)
		}
	}
}
