package retail

import (
	"fmt"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestOneSecondIntervalsCountVisitorsPast2038: a device remembered the
// latest interval it was counted a visitor of as an int32 interval number.
// With ble.interval: 1s (the shortest the config allows) interval numbers
// are Unix seconds, past int32 from 2038-01-19T03:14:08Z: the number kept
// no longer matched the interval, so every strong sighting of a device
// counted it as a visitor again (5 people seen 3 times each made 15
// visitors). The device keeps the interval number's low 32 bits and
// compares them by their difference, which is exact for the few intervals
// open at once; the device stays small (48 bytes with the dwell marks).
func TestOneSecondIntervalsCountVisitorsPast2038(t *testing.T) {
	if deviceSize != 48 {
		t.Fatalf("device is %d bytes, want 48 (README: about 126 bytes per tracked device)", deviceSize)
	}
	for _, in := range clocktest.Instants {
		t.Run(in.Name, func(t *testing.T) {
			start := in.Time.Truncate(time.Second)
			clk := clock.NewManual(start)
			c := &collector{}
			a, err := New(Options{Interval: time.Second, Lateness: time.Second, EnterAfter: 1, K: 1, Clock: clk}, c.emit)
			if err != nil {
				t.Fatal(err)
			}
			// 5 devices, each seen 3 times in the first interval and
			// twice in the next, the second time out of order.
			for i := range 5 {
				dev := []byte(fmt.Sprint("dev-", i))
				for _, at := range []time.Duration{0, 300 * time.Millisecond, 600 * time.Millisecond, 1200 * time.Millisecond, 900 * time.Millisecond, 1500 * time.Millisecond} {
					a.Add(&Sighting{Site: []byte("shop"), Store: []byte("berlin"), Zone: []byte("entrance"), Device: dev, RSSI: -50, AtMS: start.Add(at).UnixMilli()})
				}
			}
			clk.Set(start.Add(4 * time.Second))
			a.Tick()
			want := map[string]uint32{start.Format(time.RFC3339): 5, start.Add(time.Second).Format(time.RFC3339): 5}
			got := map[string]uint32{}
			for _, r := range c.recs {
				got[r.Start] += r.Visitors
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("visitors per interval %v; want %v", got, want)
			}
		})
	}
}
