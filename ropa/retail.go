package ropa

import (
	"strconv"

	"github.com/beacongate/beacongate/config"
)

// retail describes what happens to in-store BLE sightings: per-sighting
// records, or aggregates with their thresholds, and the opt-out list.
func (r *Report) retail(d *doc) {
	b := &r.cfg.BLE
	d.heading(2, "retail", "8. Retail stores (BLE sightings)")
	if b.Output == config.BLEOutputSightings {
		d.para("Each BLE sighting posted to ", code("POST /ble"), " becomes one record, shaped by the consent state's policy like any other event (",
			code("ble.output: sightings"), "). Use this only for sightings that come with the visitor's consent from an app; for footfall counting set ",
			code("ble.output: aggregates"), ".")
	} else {
		d.para("No record per sighting reaches any destination (", code("ble.output: aggregates"), "). Sightings are held in the gateway's own BLE spool only as long as the aggregation needs them (the current day), and each closed interval sends one aggregate record per store and zone to every destination but the ad platforms.")
		d.list(
			line("What is counted, per store, zone and ", code(b.Interval.String()), " interval: visitors, visitors new or returning within the day, visits, and a dwell-time histogram. Sightings of randomized (private) MAC addresses, sightings too weak to be presence and sightings without a device id are counted apart, never as visitors."),
			line("A visit starts on ", code(strconv.Itoa(b.EnterAfter)), " sightings at or above ", code(strconv.Itoa(b.EnterRSSI)+" dBm"),
				" and ends after ", code(b.Absence.String()), " without one; an interval waits ", code(b.Lateness.String()), " for late sightings before it is closed."),
			line("Minimum count ", code("k = "+strconv.Itoa(b.K)), ": a zone with fewer visitors (distinct devices) is merged into the store's other small zones or left out; dwell buckets are merged until each holds the visits of at least k distinct devices; the counts of visits, new and returning visits and weak sightings are sent only when they stand for at least k distinct devices; any other count below k is left out and listed as suppressed, with what would let it be worked out. No aggregate cell of fewer than k devices is ever sent. Randomized and anonymous sightings carry no device to count: their counts are held to k by their number and may be one phone's radio traffic."),
			line("At most ", code(strconv.Itoa(b.MaxDevices)), " devices are tracked at once; beyond that the least recently seen are forgotten (counted). A device's entry is dropped once the day it was seen in has ended."),
			line("Devices are told apart by the daily visitor hash (a keyed hash of the site and the normalised device id, with the visitor key of the day), never by the device id itself; the aggregates carry neither."),
		)
	}
	if n := len(b.Beacons); n > 0 {
		d.para("Beacon identities: only the ", code(strconv.Itoa(n)), " beacons listed in ", code("ble.beacons"),
			" are recorded; a sighting of any other loses the identity it came with (an advertising id sent in a beacon's uuid field would otherwise pass).")
	} else {
		d.para("Beacon identities are recorded as sent (no ", code("ble.beacons"), " list): an advertising id sent in a beacon's uuid field would pass. List the stores' beacons to close this.")
	}
	d.para("Shoppers who ask not to be counted: ", code("beacongate subject suppress -kind mac|adid"),
		" puts a keyed hash of their device on the suppression list, with the data subjects'. Their sightings are dropped on arrival on every site, within seconds, counted, and never stored.")
	if b.OptOutFile != "" {
		d.para("Older opt-out list: ", code(b.OptOutFile), " still holds keyed hashes of devices whose owners asked not to be counted before (re-read on reload); their sightings are dropped likewise.")
	}
}
