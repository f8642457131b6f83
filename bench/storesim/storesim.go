// Package storesim simulates retail stores for the BLE footfall aggregation:
// shoppers, some with randomized (rotating, locally administered) MACs,
// walking through a store's zones with noisy signal strength, seen by one
// sensor per zone whose box posts in several MAC notations. It records the
// ground truth the aggregates are judged against.
package storesim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Options configures a simulation. Zero fields take the defaults beside them.
type Options struct {
	Seed            uint64
	Stores          int           // 2
	Zones           int           // zones per store, one sensor each; 4
	Devices         int           // shoppers over the whole run; 400
	RandomizedShare float64       // share of shoppers whose phone randomizes its MAC
	Start           time.Time     // first arrival window start
	Duration        time.Duration // arrivals spread over this; 2h
	MedianDwell     time.Duration // median time in one zone (log-normal); 8m
	ScanEvery       time.Duration // a sensor scans every ...; 10s
	Rotate          time.Duration // a randomized MAC changes every ...; 15m
	InZoneRSSI      float64       // mean RSSI at the zone's own sensor; -60
	NeighbourRSSI   float64       // mean RSSI at a neighbouring zone's sensor; -95
	NoiseDB         float64       // standard deviation of RSSI noise; 6
	DropRate        float64       // share of scans that miss a present device; 0.1
}

func (o *Options) fill() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Stores, 2)
	def(&o.Zones, 4)
	def(&o.Devices, 400)
	defd := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defd(&o.Duration, 2*time.Hour)
	defd(&o.MedianDwell, 8*time.Minute)
	defd(&o.ScanEvery, 10*time.Second)
	defd(&o.Rotate, 15*time.Minute)
	deff := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	deff(&o.InZoneRSSI, -60)
	deff(&o.NeighbourRSSI, -95)
	deff(&o.NoiseDB, 6)
	deff(&o.DropRate, 0.1)
}

// Sighting is one simulated sensor observation.
type Sighting struct {
	Store, Zone string // zone = the sensor's zone
	Box         int    // which store box posts it (one per zone)
	MAC         string // in the box's notation
	RSSI        int16
	AtMS        int64
}

// Stay is the ground truth of one shopper's time in one zone.
type Stay struct {
	Store, Zone string
	Person      int
	Randomized  bool
	From, To    time.Time
}

// Result is a simulation's sightings, in time order, and its ground truth.
type Result struct {
	Sightings []Sighting
	Stays     []Stay
	People    int // shoppers simulated
	Unique    int // shoppers with a globally unique MAC: the countable ones
}

// Run simulates o.
func Run(o Options) *Result {
	o.fill()
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	res := &Result{People: o.Devices}
	type person struct {
		id         int
		randomized bool
		mac        [6]byte
		stays      []Stay
	}
	people := make([]person, o.Devices)
	sigma := 0.6
	for i := range people {
		p := &people[i]
		p.id = i
		p.randomized = rng.Float64() < o.RandomizedShare
		if !p.randomized {
			res.Unique++
			// A vendor prefix with the locally administered bit clear.
			p.mac = [6]byte{0x00, 0x1a, 0x2b, byte(i >> 16), byte(i >> 8), byte(i)}
		}
		store := fmt.Sprintf("store-%d", rng.IntN(o.Stores))
		t := o.Start.Add(time.Duration(rng.Int64N(int64(o.Duration))))
		zone := rng.IntN(o.Zones)
		for range 1 + rng.IntN(3) {
			d := time.Duration(float64(o.MedianDwell) * math.Exp(sigma*rng.NormFloat64()))
			d = min(max(d, time.Minute), time.Hour)
			p.stays = append(p.stays, Stay{Store: store, Zone: fmt.Sprintf("zone-%d", zone), Person: i, Randomized: p.randomized, From: t, To: t.Add(d)})
			t = t.Add(d)
			zone = (zone + 1) % o.Zones // the next zone is a neighbour
		}
		res.Stays = append(res.Stays, p.stays...)
	}
	for _, p := range people {
		for _, st := range p.stays {
			zi := 0
			fmt.Sscanf(st.Zone, "zone-%d", &zi)
			for at := st.From.Truncate(o.ScanEvery); at.Before(st.To); at = at.Add(o.ScanEvery) {
				if at.Before(st.From) {
					continue
				}
				mac := p.mac
				if p.randomized {
					// The MAC of this rotation: random, locally administered.
					r := rand.New(rand.NewPCG(uint64(p.id), uint64(at.UnixMilli()/o.Rotate.Milliseconds())))
					for j := range mac {
						mac[j] = byte(r.Uint32())
					}
					mac[0] = mac[0]&^1 | 2
				}
				for _, sz := range []int{zi, (zi + 1) % o.Zones, (zi + o.Zones - 1) % o.Zones} {
					if rng.Float64() < o.DropRate {
						continue
					}
					mean := o.NeighbourRSSI
					if sz == zi {
						mean = o.InZoneRSSI
					}
					rssi := math.Round(mean + o.NoiseDB*rng.NormFloat64())
					rssi = min(max(rssi, -127), 20)
					res.Sightings = append(res.Sightings, Sighting{
						Store: st.Store, Zone: fmt.Sprintf("zone-%d", sz), Box: sz, MAC: notation(mac, sz),
						RSSI: int16(rssi), AtMS: at.UnixMilli(),
					})
				}
			}
		}
	}
	sort.SliceStable(res.Sightings, func(i, j int) bool { return res.Sightings[i].AtMS < res.Sightings[j].AtMS })
	return res
}

// notation writes mac the way box b's firmware does: colon, Cisco dotted,
// bare hex upper case, dash.
func notation(m [6]byte, b int) string {
	switch b % 4 {
	case 0:
		return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
	case 1:
		return fmt.Sprintf("%02x%02x.%02x%02x.%02x%02x", m[0], m[1], m[2], m[3], m[4], m[5])
	case 2:
		return fmt.Sprintf("%02X%02X%02X%02X%02X%02X", m[0], m[1], m[2], m[3], m[4], m[5])
	}
	return fmt.Sprintf("%02x-%02x-%02x-%02x-%02x-%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// Visitors is the ground truth of countable visitors (globally unique MACs)
// per store, zone and interval starting at each multiple of interval.
func (r *Result) Visitors(interval time.Duration) map[[3]string]int {
	seen := map[[3]string]map[int]bool{}
	for _, s := range r.Stays {
		if s.Randomized {
			continue
		}
		for iv := s.From.Truncate(interval); iv.Before(s.To); iv = iv.Add(interval) {
			k := [3]string{s.Store, s.Zone, iv.UTC().Format(time.RFC3339)}
			if seen[k] == nil {
				seen[k] = map[int]bool{}
			}
			seen[k][s.Person] = true
		}
	}
	out := map[[3]string]int{}
	for k, v := range seen {
		out[k] = len(v)
	}
	return out
}

// MedianDwell is the median of the countable stays' lengths.
func (r *Result) MedianDwell() time.Duration {
	var d []time.Duration
	for _, s := range r.Stays {
		if !s.Randomized {
			d = append(d, s.To.Sub(s.From))
		}
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	if len(d) == 0 {
		return 0
	}
	return d[len(d)/2]
}
