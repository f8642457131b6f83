package storesim

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/retail"
)

// aggregate feeds a simulation through what the gateway does to a
// sighting (MAC normalised and classified) into an aggregator, and returns
// the aggregates emitted once everything is flushed.
func aggregate(t testing.TB, res *Result, o retail.Options) ([]retail.Aggregate, retail.Stats) {
	t.Helper()
	var out []retail.Aggregate
	a, err := retail.New(o, func(rec []byte) {
		var ag retail.Aggregate
		if err := json.Unmarshal(rec, &ag); err != nil {
			t.Fatal(err)
		}
		out = append(out, ag)
	})
	if err != nil {
		t.Fatal(err)
	}
	s := retail.Sighting{Site: []byte("chain")}
	var mac []byte
	for i, x := range res.Sightings {
		var ok bool
		mac, ok = retail.AppendMAC(mac[:0], []byte(x.MAC))
		if !ok {
			t.Fatalf("simulated MAC %q refused", x.MAC)
		}
		s.Store, s.Zone, s.Device, s.Randomized, s.RSSI, s.AtMS = []byte(x.Store), []byte(x.Zone), mac, retail.Randomized(mac), x.RSSI, x.AtMS
		a.Add(&s)
		if i%500 == 0 {
			a.TickAt(time.UnixMilli(x.AtMS))
		}
	}
	a.Flush()
	return out, a.Stats()
}

// groupedMedian is the median of a dwell histogram, interpolated within
// its bucket.
func groupedMedian(buckets []retail.Bucket) time.Duration {
	var total float64
	for _, b := range buckets {
		total += float64(b.Visits)
	}
	half := total / 2
	for _, b := range buckets {
		if float64(b.Visits) < half {
			half -= float64(b.Visits)
			continue
		}
		hi := b.MinS * 2
		if b.MaxS != nil {
			hi = *b.MaxS
		}
		return time.Duration(float64(b.MinS)+float64(hi-b.MinS)*half/float64(b.Visits)) * time.Second
	}
	return 0
}

// TestSimulatedStores: the aggregates against the simulator's ground
// truth. Stated error: each zone's visitors within 5% (at least ±2) of the
// true count of shoppers with a globally unique MAC; randomized MACs (30% of shoppers, rotating every 15
// minutes) add no visitor; no emitted cell has fewer than k visitors.
func TestSimulatedStores(t *testing.T) {
	res := Run(Options{Seed: 7, Stores: 2, Zones: 4, Devices: 1500, RandomizedShare: 0.3, Start: clocktest.Golden, Duration: 2 * time.Hour})
	o := retail.Options{Interval: time.Hour, Lateness: time.Minute, K: 5,
		DwellBounds: []time.Duration{2 * time.Minute, 4 * time.Minute, 6 * time.Minute, 8 * time.Minute, 10 * time.Minute, 14 * time.Minute, 20 * time.Minute}}
	aggs, st := aggregate(t, res, o)
	truth := res.Visitors(time.Hour)
	if len(aggs) == 0 {
		t.Fatal("no aggregates")
	}
	zones, truthSum, gotSum := 0, 0, 0
	for _, ag := range aggs {
		if ag.Visitors < uint32(o.K) {
			t.Errorf("cell below k emitted: %+v", ag)
		}
		if ag.Zone == retail.OtherZones {
			continue
		}
		want := truth[[3]string{ag.Store, ag.Zone, ag.Start}]
		got := int(ag.Visitors)
		zones++
		truthSum += want
		gotSum += got
		if d := abs(got - want); d > max(2, want/20) {
			t.Errorf("%s %s %s: %d visitors; truth %d", ag.Store, ag.Zone, ag.Start, got, want)
		}
		if ag.Randomized == 0 {
			t.Errorf("%s %s %s: no randomized sightings counted", ag.Store, ag.Zone, ag.Start)
		}
	}
	if zones < 8 {
		t.Fatalf("only %d zone cells emitted", zones)
	}
	t.Logf("%d people (%d countable), %d sightings; visitors %d vs truth %d over %d zone cells; stats %+v",
		res.People, res.Unique, len(res.Sightings), gotSum, truthSum, zones, st)
}

// TestSimulatedDwell: the median dwell read from the emitted histograms is
// within 1 minute of the true median stay (a histogram of 2-minute buckets
// can say no more). Four-hour intervals keep nearly every bucket above k;
// the few histograms with a merged (wider) bucket are left out.
func TestSimulatedDwell(t *testing.T) {
	res := Run(Options{Seed: 11, Stores: 1, Zones: 3, Devices: 1500, RandomizedShare: 0.3, Start: clocktest.Golden, Duration: 2 * time.Hour})
	o := retail.Options{Interval: 4 * time.Hour, Lateness: time.Minute, K: 5,
		DwellBounds: []time.Duration{2 * time.Minute, 4 * time.Minute, 6 * time.Minute, 8 * time.Minute, 10 * time.Minute, 14 * time.Minute, 20 * time.Minute}}
	aggs, _ := aggregate(t, res, o)
	sum := make([]retail.Bucket, len(o.DwellBounds)+1)
	used, all := 0, 0
	for _, ag := range aggs {
		for _, b := range ag.Dwell {
			all += int(b.Visits)
		}
		if len(ag.Dwell) != len(sum) {
			continue // a bucket merged: coarser than the others
		}
		for i, b := range ag.Dwell {
			sum[i].MinS, sum[i].MaxS = b.MinS, b.MaxS
			sum[i].Visits += b.Visits
			used += int(b.Visits)
		}
	}
	if used < all*9/10 {
		t.Fatalf("only %d of %d visits in unmerged histograms", used, all)
	}
	med, want := groupedMedian(sum), res.MedianDwell()
	t.Logf("median dwell %v over %d of %d visits; truth %v", med, used, all, want.Round(time.Second))
	if d := med - want; d > time.Minute || d < -time.Minute {
		t.Errorf("median dwell %v; truth %v", med, want)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
