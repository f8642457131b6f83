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
