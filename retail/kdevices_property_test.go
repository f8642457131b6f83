package retail

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// TestNoCountShownOfFewerThanKDevices checks the per-device minimum counts
// from the outside, on random sightings of 3 to 5 devices in four zones
// (one named "*"), strong and weak, with the device table from 2 to 6
// entries (evictions) and k 3: the devices that can stand behind a count
// shown are bounded by the sightings alone, whatever the aggregator keeps.
// Visits, new and returning visits started with a strong sighting in the
// cell's interval, weak sightings are sightings in it, and a visit that
// ended in it had its last strong sighting in it or within the absence
// before; for "*" the zones not sent on their own. A count shown needs k
// such devices, a zone's dwell buckets k each (a device is in one bucket
// of a zone); "*"'s buckets are each of one zone's devices, k at least.
func TestNoCountShownOfFewerThanKDevices(t *testing.T) {
	const k = 3
	ivd, absence := 5*time.Minute, 2*time.Minute
	zones := []string{"z1", "z2", "z3", OtherZones}
	for seed := uint64(0); seed < 3000; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		clk := clock.NewManual(t0)
		c := &collector{}
		a, err := New(Options{Interval: ivd, Absence: absence, Lateness: time.Minute, EnterAfter: 1 + r.IntN(2), K: k, Clock: clk, MaxDevices: 2 + r.IntN(5)}, c.emit)
		if err != nil {
			t.Fatal(err)
		}
		type sighting struct {
			zone, dev string
			at        time.Time
			weak      bool
		}
		var all []sighting
		ndev := 3 + r.IntN(3)
		at := t0
		for range 150 {
			at = at.Add(time.Duration(r.IntN(50)) * time.Second)
			clk.Set(at)
			s := sighting{zones[r.IntN(len(zones))], fmt.Sprint("d", r.IntN(ndev)), at, r.IntN(4) == 0}
			rssi := int16(-50)
			if s.weak {
				rssi = -90
			}
			a.Add(&Sighting{Site: []byte("s"), Store: []byte("A"), Zone: []byte(s.zone), Device: []byte(s.dev), RSSI: rssi, AtMS: at.UnixMilli()})
			all = append(all, s)
			if r.IntN(5) == 0 {
				a.Tick()
			}
		}
		a.Flush()
		own := map[string]map[string]bool{} // zones sent on their own, by start
		for _, ag := range c.recs {
			if ag.Zone != OtherZones {
				if own[ag.Start] == nil {
					own[ag.Start] = map[string]bool{}
				}
				own[ag.Start][ag.Zone] = true
			}
		}
		for _, ag := range c.recs {
			start, err := time.Parse(cellTime, ag.Start)
			if err != nil {
				t.Fatal(err)
			}
			// devices counts the devices of the cell's zones with a
			// sighting (weak or strong) in [from, start+interval).
			devices := func(weak bool, from time.Time) int {
				u := map[string]bool{}
				for _, s := range all {
					in := s.zone == ag.Zone
					if ag.Zone == OtherZones {
						in = !own[ag.Start][s.zone]
					}
					if in && s.weak == weak && !s.at.Before(from) && s.at.Before(start.Add(ivd)) {
						u[s.dev] = true
					}
				}
				return len(u)
			}
			if n := devices(false, start); (ag.Visits > 0 || ag.New > 0 || ag.Returning > 0) && n < k {
				t.Errorf("seed %d: %+v: visits shown, of %d devices", seed, ag, n)
			}
			if n := devices(true, start); ag.Weak > 0 && n < k {
				t.Errorf("seed %d: %+v: weak_sightings shown, of %d devices", seed, ag, n)
			}
			if n := devices(false, start.Add(-absence)); len(ag.Dwell) > 0 && (n < k || ag.Zone != OtherZones && len(ag.Dwell) > n/k) {
				t.Errorf("seed %d: %+v: %d dwell buckets, of %d devices", seed, ag, len(ag.Dwell), n)
			}
		}
		if t.Failed() {
			return
		}
	}
}
