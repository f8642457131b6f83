//go:build !race

package retail

import (
	"fmt"
	"testing"
	"time"
)

// TestAddDoesNotAllocate: once a cell has been seen, a sighting costs no
// allocation, whether it starts a visit, continues one, or is randomized.
func TestAddDoesNotAllocate(t *testing.T) {
	a, _, _ := newAgg(t, Options{MaxDevices: 1000})
	devs := make([][]byte, 2000) // more than the cap: evictions too
	for i := range devs {
		devs[i] = fmt.Appendf(nil, "device-%d", i)
	}
	s := Sighting{Site: []byte("shop"), Store: []byte("berlin"), Zone: []byte("entrance"), RSSI: -60}
	i := 0
	allocs := testing.AllocsPerRun(5000, func() {
		s.Device = devs[i%len(devs)]
		s.Randomized = i%5 == 0
		s.AtMS = t0.Add(time.Duration(i) * 100 * time.Millisecond).UnixMilli()
		i++
		a.Add(&s)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per sighting", allocs)
	}
}
