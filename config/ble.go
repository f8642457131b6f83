package config

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// BLE says what becomes of BLE sightings: records per sighting, or
// per-interval footfall aggregates computed at the edge.
type BLE struct {
	// sightings: one record per sighting, as the policies allow (for sites
	// whose visitors consented in an app). aggregates: no record per
	// sighting reaches a destination; sightings are spooled for the
	// aggregation only, and each closed interval sends one record per store
	// and zone (visitors, new vs returning, visits, dwell histogram,
	// randomized-MAC sightings counted apart), never a count below k.
	Output BLEOutput `yaml:"output"`
	// Length of an aggregation interval (1s..24h; 24h must be a whole
	// number of them).
	Interval Duration `yaml:"interval"`
	// A visit ends after this long without a strong sighting (1s..1h).
	Absence Duration `yaml:"absence"`
	// How long after its end an interval waits for late sightings before it
	// is closed (at least 1s, less than twice interval). With output
	// aggregates, lateness plus server.max_sighting_ahead must be at most
	// twice interval: the aggregation keeps at most 4 intervals open.
	Lateness Duration `yaml:"lateness"`
	// A sighting at or above this RSSI, in dBm, is presence (-127..20).
	EnterRSSI int `yaml:"enter_rssi"`
	// Strong sightings within absence that start a visit (1..255); 2 keeps
	// one noisy sighting from a neighbouring zone's sensor from counting.
	EnterAfter int `yaml:"enter_after"`
	// Minimum count (1..1000): a zone's cell with fewer visitors is merged
	// into the store's other-zones cell, dropped if that is still below k;
	// any other count below k, or of fewer than k distinct devices (dwell
	// buckets, visits, new, returning, weak sightings), is left out and
	// named in "suppressed".
	K int `yaml:"k"`
	// Cap on the devices tracked at once (1..67108864); beyond it the least
	// recently seen are evicted (counted). About 126 bytes each.
	MaxDevices int `yaml:"max_devices"`
	// Cap on the stores and zones (site, store, zone) the aggregation
	// holds at once (1..16777216): those of the open intervals and those
	// the day's tracked devices are in. A sighting that would add one
	// beyond it is refused (counted), and so is every later sighting of
	// its interval of a store or zone not counted in it yet: no store or
	// zone is sent with part of an interval's sightings. Set it above a
	// day's stores times zones. About 700 bytes each, 1.2 KB with long names.
	MaxCells int `yaml:"max_cells"`
	// File of the older opt-out list: devices whose sightings are dropped
	// on arrival (counted, never stored), held as keyed hashes only; re-read
	// on reload. New devices go to the suppression list (beacongate subject
	// suppress -kind mac|adid); subject unsuppress also removes them here.
	// Empty: no list.
	OptOutFile string `yaml:"optout_file"`
	// File holding the older opt-out list's key (at least 32 bytes).
	// Required with optout_file.
	OptOutKeyFile string `yaml:"optout_key_file"`
	// The beacons the stores deploy: iBeacon proximity UUIDs
	// (8-4-4-4-12 hex) and Eddystone namespaces (20 hex), any case. When
	// set, a sighting of any other beacon keeps its event but loses the
	// beacon's identity, counted as a scrubbed token: a phone's
	// advertising id sent as an iBeacon UUID has exactly a beacon UUID's
	// shape, and only the list tells them apart. Empty: beacon identities
	// are recorded as sent (config check notes it when BLE is used).
	Beacons []string `yaml:"beacons"`
}

// BeaconIDs returns the configured beacon identities in the gateway's
// canonical form (lower case).
func (b *BLE) BeaconIDs() []string {
	out := make([]string, 0, len(b.Beacons))
	for _, id := range b.Beacons {
		out = append(out, strings.ToLower(id))
	}
	return out
}

// validBeaconID reports whether id is an iBeacon UUID (8-4-4-4-12 hex) or
// an Eddystone namespace (20 hex).
func validBeaconID(id string) bool {
	switch len(id) {
	case 36:
		for i := 0; i < len(id); i++ {
			c := id[i]
			if i == 8 || i == 13 || i == 18 || i == 23 {
				if c != '-' {
					return false
				}
			} else if !isHexDigit(c) {
				return false
			}
		}
		return true
	case 20:
		for i := 0; i < len(id); i++ {
			if !isHexDigit(id[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// BLEOutput is what is sent for BLE sightings.
type BLEOutput uint8

// BLEOutput values.
const (
	BLEOutputSightings  BLEOutput = iota // sightings: one record per sighting
	BLEOutputAggregates                  // aggregates: per-interval aggregates only
)

var bleOutputNames = []string{"sightings", "aggregates"}

// String returns the name of x as written in the file.
func (x BLEOutput) String() string { return enumString(bleOutputNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x BLEOutput) MarshalText() ([]byte, error) { return enumText(bleOutputNames, uint8(x)) }

// UnmarshalYAML accepts one of the names of BLEOutput.
func (x *BLEOutput) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, bleOutputNames, (*uint8)(x))
}

// enumNames lists the names of BLEOutput as written in the file.
func (BLEOutput) enumNames() []string { return bleOutputNames }

func defaultBLE() BLE {
	return BLE{
		Output:     BLEOutputSightings,
		Interval:   Duration(15 * time.Minute),
		Absence:    Duration(5 * time.Minute),
		Lateness:   Duration(2 * time.Minute),
		EnterRSSI:  -75,
		EnterAfter: 2,
		K:          5,
		MaxDevices: 100000,
		MaxCells:   50000,
		Beacons:    []string{},
	}
}

func (v *validator) ble(b *BLE) {
	for i, id := range b.Beacons {
		if !validBeaconID(id) {
			v.errf(itemPath("ble.beacons", i), "is neither an iBeacon UUID (8-4-4-4-12 hex digits) nor an Eddystone namespace (20 hex digits)")
		}
	}
	okInterval := v.duration("ble.interval", b.Interval, time.Second, 24*time.Hour)
	if okInterval && (24*time.Hour)%b.Interval.D() != 0 {
		v.errf("ble.interval", "%s does not divide a day; use e.g. 5m, 15m, 1h", b.Interval)
	}
	v.duration("ble.absence", b.Absence, time.Second, time.Hour)
	// lateness is held to interval only when interval is within its
	// range: else interval is the problem, and lateness may be a default
	// the file never wrote.
	switch {
	case v.tooBigf("ble.lateness", "it must be less than twice ble.interval (%s)", b.Interval):
	case !okInterval:
	case b.Lateness.D() < time.Second || b.Lateness.D() >= 2*b.Interval.D():
		v.errf("ble.lateness", "%s must be at least 1s and less than twice ble.interval (%s)", b.Lateness, b.Interval)
	}
	if b.EnterRSSI < -127 || b.EnterRSSI > 20 {
		v.errf("ble.enter_rssi", "%d is out of range -127..20", b.EnterRSSI)
	}
	if b.EnterAfter < 1 || b.EnterAfter > 255 {
		v.errf("ble.enter_after", "%d is out of range 1..255", b.EnterAfter)
	}
	if b.K < 1 || b.K > 1000 {
		v.errf("ble.k", "%d is out of range 1..1000", b.K)
	}
	if b.MaxDevices < 1 || b.MaxDevices > 1<<26 {
		v.errf("ble.max_devices", "%d is out of range 1..67108864", b.MaxDevices)
	}
	if b.MaxCells < 1 || b.MaxCells > 1<<24 {
		v.errf("ble.max_cells", "%d is out of range 1..16777216", b.MaxCells)
	}
	if (b.OptOutFile == "") != (b.OptOutKeyFile == "") {
		v.errf("ble.optout_key_file", "set both optout_file and optout_key_file, or neither")
	}
	v.secretFile("ble.optout_key_file", b.OptOutKeyFile, MinSecretLen)
}
