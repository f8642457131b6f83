package storesim

import (
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/retail"
)

// BenchmarkSimulatedSightings is the aggregation's throughput on the
// simulator's stream: each sighting's MAC normalised and classified, then
// added, with a tick every 500 sightings. It reports sightings/s on one
// core (the benchmark is single-threaded).
func BenchmarkSimulatedSightings(b *testing.B) {
	res := Run(Options{Seed: 3, Stores: 4, Zones: 4, Devices: 400, RandomizedShare: 0.3, Start: clocktest.Golden, Duration: time.Hour})
	type pre struct {
		store, zone, mac []byte
		rssi             int16
		at               int64
	}
	in := make([]pre, len(res.Sightings))
	for i, x := range res.Sightings {
		in[i] = pre{[]byte(x.Store), []byte(x.Zone), []byte(x.MAC), x.RSSI, x.AtMS}
	}
	span := in[len(in)-1].at - in[0].at + 3_600_000 // replays shift by more than the run
	// A table sized for the simulated population: the default (100000
	// devices) is swept every 30 simulated seconds, and simulated time
	// runs far faster than real time here (see BenchmarkSweep).
	a, err := retail.New(retail.Options{MaxDevices: 4096}, nil)
	if err != nil {
		b.Fatal(err)
	}
	s := retail.Sighting{Site: []byte("chain")}
	var mac []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		x := &in[i%len(in)]
		mac, _ = retail.AppendMAC(mac[:0], x.mac)
		s.Store, s.Zone, s.Device, s.Randomized, s.RSSI = x.store, x.zone, mac, retail.Randomized(mac), x.rssi
		s.AtMS = x.at + int64(i/len(in))*span
		a.Add(&s)
		if i%500 == 499 {
			a.TickAt(time.UnixMilli(s.AtMS))
		}
	}
	b.StopTimer()
	if el := b.Elapsed(); el > 0 {
		b.ReportMetric(float64(b.N)/el.Seconds(), "sightings/s")
	}
}
