package config

import (
	"strings"
	"testing"
	"time"
)

func TestBLESection(t *testing.T) {
	c, err := Parse("t.yaml", []byte("ble: {output: aggregates, interval: 5m, k: 10}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.BLE.Output != BLEOutputAggregates || c.BLE.Interval.D() != 5*time.Minute || c.BLE.K != 10 || c.BLE.Absence.D() != 5*time.Minute || c.BLE.EnterRSSI != -75 {
		t.Fatalf("ble %+v", c.BLE)
	}
	if c := Default(); c.BLE.Output != BLEOutputSightings || c.BLE.K != 5 {
		t.Fatalf("default ble %+v", c.BLE)
	}
	for src, want := range map[string]string{
		"ble: {output: some}":               "ble.output",
		"ble: {interval: 7m}":               "ble.interval: 7m does not divide a day",
		"ble: {interval: 500ms}":            "ble.interval: 500ms is out of range",
		"ble: {absence: 2h}":                "ble.absence",
		"ble: {interval: 1m, lateness: 2m}": "ble.lateness: 2m must be at least 1s and less than twice ble.interval",
		"ble: {enter_rssi: -200}":           "ble.enter_rssi: -200 is out of range",
		"ble: {enter_after: 0}":             "ble.enter_after",
		"ble: {k: 0}":                       "ble.k: 0 is out of range 1..1000",
		"ble: {max_devices: 0}":             "ble.max_devices",
		"ble: {max_cells: 0}":               "ble.max_cells: 0 is out of range 1..16777216",
		"ble: {max_cells: 16777217}":        "ble.max_cells: 16777217 is out of range 1..16777216",
		"ble: {optout_file: /tmp/x}":        "ble.optout_key_file: set both optout_file and optout_key_file, or neither",
	} {
		if _, err := Parse("t.yaml", []byte(src+"\n")); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want %q", src, err, want)
		}
	}
}

// TestBeaconList: ble.beacons takes iBeacon UUIDs and Eddystone
// namespaces in any case, and names the item that is neither.
func TestBeaconList(t *testing.T) {
	c, err := Parse("t.yaml", []byte("ble: {beacons: [F7826DA6-4FA2-4E98-8024-BC5B71E0893E, edd1ebeac04e5defa017]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BLE.BeaconIDs(); len(got) != 2 || got[0] != "f7826da6-4fa2-4e98-8024-bc5b71e0893e" {
		t.Errorf("BeaconIDs = %q", got)
	}
	for _, bad := range []string{"f7826da64fa24e988024bc5b71e0893e", "hello", "edd1ebeac04e5defa01g"} {
		_, err := Parse("t.yaml", []byte("ble: {beacons: [edd1ebeac04e5defa017, "+bad+"]}\n"))
		if err == nil || !strings.Contains(err.Error(), "ble.beacons[1]: is neither an iBeacon UUID") || strings.Contains(err.Error(), bad) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// TestBLEAggregatesIntervalHoldsTheSightingWindow: the aggregation keeps
// at most 4 intervals open at once, and a sensor clock max_sighting_ahead
// ahead opens intervals that far ahead; beyond them an acknowledged
// sighting is dropped as late (1m intervals, 30s lateness and the default
// 5m ahead dropped 12 of 40 sightings). With ble.output: aggregates,
// lateness plus max_sighting_ahead may be at most twice the interval.
func TestBLEAggregatesIntervalHoldsTheSightingWindow(t *testing.T) {
	_, err := Parse("t.yaml", []byte("ble: {output: aggregates, interval: 1m, lateness: 30s}\n"))
	want := "ble.interval: 1m is too short for ble.lateness (30s) plus server.max_sighting_ahead (5m)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("interval 1m, default ahead: %v; want %q", err, want)
	}
	for _, ok := range []string{
		"ble: {output: aggregates, interval: 1m, lateness: 30s}\nserver: {max_sighting_ahead: 90s}\n",
		"ble: {output: aggregates, interval: 5m}\n",
		"ble: {output: sightings, interval: 1m, lateness: 30s}\n", // no aggregation
	} {
		if _, err := Parse("t.yaml", []byte(ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
