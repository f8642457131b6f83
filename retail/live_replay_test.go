package retail

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// TestKilledRunSendsWhatALiveRunSends is a differential test of the
// per-device counts (dwell devices, visits, new, returning and weak
// devices, "*"): random sightings of 14 devices in four zones (one named
// "*"), weak, randomized and anonymous ones among them, are read by a
// Follower that runs through, and by one killed at a random poll and
// started again on the same stream (it rebuilds its state from the
// sightings and the markers spooled). Both must send the same cells with
// the same bytes. With a ble_keys_changed marker at the kill (the devices
// hashed anew after it), a second kill must again send nothing the first
// restart did not. Devices are never evicted here: eviction is
// approximate and order-dependent (see the README).
func TestKilledRunSendsWhatALiveRunSends(t *testing.T) {
	for seed := uint64(0); seed < 60; seed++ {
		for _, enterAfter := range []int{1, 2} {
			liveReplay(t, seed, enterAfter, false)
			liveReplay(t, seed, enterAfter, true)
			if t.Failed() {
				t.Fatalf("seed %d, enter_after %d", seed, enterAfter)
			}
		}
	}
}

func liveReplay(t *testing.T, seed uint64, enterAfter int, keysChange bool) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	type sighting struct {
		at  time.Time
		rec []byte
	}
	var orig []sighting
	at := t0
	zones := []string{"z1", "z2", "z3", OtherZones}
	for range 400 {
		at = at.Add(time.Duration(r.IntN(40)) * time.Second)
		visitor := fmt.Sprintf(`"visitor":"d%d",`, r.IntN(14))
		rssi, randomized := -50, false
		if r.IntN(5) == 0 {
			rssi = -90
		}
		switch r.IntN(12) {
		case 0:
			visitor = ""
		case 1:
			visitor, randomized = "", true
		}
		orig = append(orig, sighting{at, fmt.Appendf(nil, `{"v":1,"kind":"ble","site":"s",%s"ble":{"store":"A","zone":%q,"rssi":%d,"randomized":%v,"seen":%q}}`,
			visitor, zones[r.IntN(len(zones))], rssi, randomized, at.UTC().Format(time.RFC3339))})
	}
	end := at.Add(time.Hour)
	polls := int(end.Sub(t0) / (10 * time.Second))
	kill1 := 1 + r.IntN(polls)
	kill2 := kill1 + 1 + r.IntN(60)
	o := Options{K: 3, EnterAfter: enterAfter, MaxDevices: 1000, Interval: 5 * time.Minute, Absence: 3 * time.Minute, Lateness: time.Minute}
	// run polls every 10 s, spooling the sightings due, and starts a new
	// Follower on the stream (from its committed cursor) at the kills.
	run := func(kills ...int) map[string]string {
		evs := append([]sighting(nil), orig...)
		out := map[string]string{}
		clk := clock.NewManual(t0)
		o.Clock = clk
		src := &memSource{}
		start := func() *Follower {
			f, err := NewFollower(o, src, func(rec []byte) error {
				_ = Aggregates(rec, func(agg []byte) error {
					var a Aggregate
					if err := json.Unmarshal(agg, &a); err != nil {
						t.Fatal(err)
					}
					if prev, ok := out[a.ID]; ok && prev != string(agg) {
						t.Errorf("cell %s %s sent again with other bytes:\n%s\n%s", a.Zone, a.Start, prev, agg)
					}
					out[a.ID] = string(agg)
					return nil
				})
				src.recs = append(src.recs, append([]byte(nil), rec...))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		f := start()
		i := 0
		for step := 1; clk.Now().Before(end); step++ {
			clk.Advance(10 * time.Second)
			for i < len(evs) && !evs[i].at.After(clk.Now()) {
				src.recs = append(src.recs, evs[i].rec)
				i++
			}
			for k, kill := range kills {
				if step != kill {
					continue
				}
				src = &memSource{recs: src.recs, pos: int(src.committed)}
				if keysChange && k == 0 {
					src.recs = append(src.recs, []byte(`{"v":1,"kind":"`+KindKeysChanged+`"}`))
					for j := i; j < len(evs); j++ {
						evs[j].rec = bytes.ReplaceAll(evs[j].rec, []byte(`"visitor":"d`), []byte(`"visitor":"e`))
					}
				}
				f = start()
			}
			if err := f.Poll(); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	var a, b map[string]string
	if keysChange {
		a, b = run(kill1), run(kill1, kill2)
	} else {
		a, b = run(), run(kill1)
	}
	for id, agg := range a {
		if b[id] != agg {
			t.Errorf("seed %d: cell sent\nthrough %s\nkilled  %s", seed, agg, b[id])
		}
	}
	for id, agg := range b {
		if _, ok := a[id]; !ok {
			t.Errorf("seed %d: cell sent only when killed: %s", seed, agg)
		}
	}
}
