//go:build !race

package retail

import (
	"fmt"
	"testing"
	"time"
)

// TestAddDoesNotAllocate: once a cell has been seen, a sighting costs no
// allocation, whether it starts a visit, continues one, is randomized or
// weak.
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
		s.RSSI = -60
		if i%7 == 0 {
			s.RSSI = -90 // weak: its device counted among the weak ones
		}
		s.AtMS = t0.Add(time.Duration(i) * 100 * time.Millisecond).UnixMilli()
		i++
		a.Add(&s)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per sighting", allocs)
	}
}

// TestOptOutContainsDoesNotAllocate: the gateway asks the opt-out list
// about every sighting with a device id.
func TestOptOutContainsDoesNotAllocate(t *testing.T) {
	o, err := NewOptOut(testKey)
	if err != nil {
		t.Fatal(err)
	}
	o.Add([]byte("a4:5e:60:c1:0d:2f"))
	id := []byte("00:1a:2b:3c:4d:5e")
	o.Contains(id) // fills the pool
	if allocs := testing.AllocsPerRun(1000, func() { o.Contains(id) }); allocs != 0 {
		t.Fatalf("%v allocations per lookup", allocs)
	}
}
