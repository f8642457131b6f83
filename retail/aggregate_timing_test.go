package retail

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkAdd is the steady-state cost of one sighting: 10000 devices in
// 4 zones of a store, one in five randomized, time advancing 1 ms per
// sighting, ticks every simulated second. It reports the table's bytes per
// tracked device at the cap.
func BenchmarkAdd(b *testing.B) {
	a, err := New(Options{MaxDevices: 100000}, nil)
	if err != nil {
		b.Fatal(err)
	}
	devs := make([][]byte, 10000)
	for i := range devs {
		devs[i] = fmt.Appendf(nil, "visitor-hash-%016d", i)
	}
	zones := [][]byte{[]byte("entrance"), []byte("shoes"), []byte("toys"), []byte("tills")}
	s := Sighting{Site: []byte("shop"), Store: []byte("berlin-001")}
	at := t0.UnixMilli()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.Device = devs[i%len(devs)]
		s.Zone = zones[(i/len(devs))%len(zones)]
		s.Randomized = i%5 == 0
		s.RSSI = int16(-50 - i%40)
		s.AtMS = at + int64(i)
		a.Add(&s)
		if i%1000 == 999 {
			a.TickAt(time.UnixMilli(s.AtMS))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(a.Stats().BytesPerDevice), "bytes/device")
}

// BenchmarkSweep is the cost of one sweep (ending absent visits) of a
// full table at the default cap of 100000 devices; Tick runs one at most
// every Absence/10 (30 s by default).
func BenchmarkSweep(b *testing.B) {
	a, err := New(Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	s := Sighting{Site: []byte("shop"), Store: []byte("berlin-001"), Zone: []byte("entrance"), RSSI: -50}
	for i := range a.o.MaxDevices {
		s.Device = fmt.Appendf(s.Device[:0], "visitor-hash-%016d", i)
		s.AtMS = t0.UnixMilli()
		a.Add(&s)
		a.Add(&s)
	}
	b.ResetTimer()
	for range b.N {
		a.mu.Lock()
		a.sweep(t0.UnixMilli() + 1000) // nobody absent yet: a pure walk
		a.mu.Unlock()
	}
}
