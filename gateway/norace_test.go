//go:build !race

package gateway

// raceEnabled skips allocation checks in fuzz targets: the race detector
// allocates on its own.
const raceEnabled = false
