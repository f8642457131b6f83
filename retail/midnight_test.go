package retail

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// A sighting's visitor hash is keyed by the UTC day it was received on
// (the engine's visitor key of the receive time), its interval by the time
// it was seen. A sensor's batch sent across midnight gives a device's
// sightings of the day's last interval two hashes: two visitors, so three
// people made a cell of 6 visitors, sent with k 5. Such a sighting names
// no device the aggregation can count as a visitor of the day it was seen.
func TestSightingReceivedAnotherDayIsNoSecondVisitor(t *testing.T) {
	day2 := t0.Truncate(24 * time.Hour).Add(24 * time.Hour)
	clk := clock.NewManual(day2.Add(-10 * time.Minute))
	src := &memSource{}
	rec := func(dev string, seen, received time.Time) {
		src.recs = append(src.recs, fmt.Appendf(nil,
			`{"v":1,"id":"x","received":%q,"kind":"ble","site":"s","visitor":%q,"ble":{"store":"A","sensor":"z","rssi":-50,"seen":%q}}`,
			received.UTC().Format("2006-01-02T15:04:05.000Z"), dev, seen.UTC().Format(time.RFC3339)))
	}
	for i := range 3 {
		// Received before midnight, with the day's key.
		rec(fmt.Sprint("day1-", i), day2.Add(-2*time.Minute), day2.Add(-110*time.Second))
		rec(fmt.Sprint("day1-", i), day2.Add(-90*time.Second), day2.Add(-80*time.Second))
	}
	for i := range 3 {
		// The same devices' next sightings, in a batch received just
		// after midnight: the new day's key, another hash.
		rec(fmt.Sprint("day2-", i), day2.Add(-20*time.Second), day2.Add(20*time.Second))
		rec(fmt.Sprint("day2-", i), day2.Add(-10*time.Second), day2.Add(20*time.Second))
	}
	var sent []Aggregate
	f, err := NewFollower(Options{K: 5, Clock: clk}, src, func(r []byte) error {
		return Aggregates(r, func(agg []byte) error {
			var a Aggregate
			if err := json.Unmarshal(agg, &a); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, a)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(day2.Add(30 * time.Second))
	if err := f.Poll(); err != nil {
		t.Fatal(err)
	}
	clk.Set(day2.Add(5 * time.Minute))
	if err := f.Poll(); err != nil {
		t.Fatal(err)
	}
	for _, a := range sent {
		t.Errorf("cell of 3 people sent with k 5: %s %s visitors %d", a.Zone, a.Start, a.Visitors)
	}
	if st := f.Aggregator().Stats(); st.Sightings != 12 || st.IntervalsEmitted == 0 {
		t.Fatalf("stats %+v: want 12 sightings and the interval closed", st)
	}
}
