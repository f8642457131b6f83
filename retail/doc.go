// Package retail turns BLE sightings from store sensors into footfall
// statistics at the edge: device identities normalised and classified
// (device.go), visits, dwell and per-interval aggregates with minimum counts
// (aggregate.go).
//
// It imports only the standard library and the clock package, so the
// gateway and the command can both use it and it can be benchmarked alone.
package retail
