package retail

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/internal/schematest"
)

// t0 is the start of an interval (clocktest.Golden is on a quarter hour).
var t0 = clocktest.Golden

type collector struct{ recs []Aggregate }

func (c *collector) emit(rec []byte) {
	var a Aggregate
	if err := json.Unmarshal(rec, &a); err != nil {
		panic(err)
	}
	c.recs = append(c.recs, a)
}

func (c *collector) zone(store, zone string) *Aggregate {
	for i := range c.recs {
		if c.recs[i].Store == store && c.recs[i].Zone == zone {
			return &c.recs[i]
		}
	}
	return nil
}

func newAgg(t *testing.T, o Options) (*Aggregator, *collector, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(t0)
	o.Clock = clk
	c := &collector{}
	a, err := New(o, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	return a, c, clk
}

// see adds one sighting of device dev at t0+at.
func see(a *Aggregator, store, zone, dev string, rssi int16, at time.Duration) {
	a.Add(&Sighting{Site: []byte("shop"), Store: []byte(store), Zone: []byte(zone), Device: []byte(dev), RSSI: rssi, AtMS: t0.Add(at).UnixMilli()})
}

// stay has dev seen every 30 s in [from, to).
func stay(a *Aggregator, store, zone, dev string, from, to time.Duration) {
	for at := from; at < to; at += 30 * time.Second {
		see(a, store, zone, dev, -60, at)
	}
}

func TestVisitsDwellAndMinimumCounts(t *testing.T) {
	a, c, clk := newAgg(t, Options{})
	for i := range 6 { // 6 visitors in the entrance, 2 to 10 minutes
		stay(a, "berlin", "entrance", fmt.Sprintf("e%d", i), 0, time.Duration(2+i)*time.Minute+time.Second)
	}
	for i := range 3 { // 3 + 3 in two small zones: merged
		stay(a, "berlin", "shoes", fmt.Sprintf("s%d", i), time.Minute, 3*time.Minute)
		stay(a, "berlin", "toys", fmt.Sprintf("t%d", i), time.Minute, 3*time.Minute)
	}
	for i := range 2 { // a store with 2 visitors: suppressed
		stay(a, "hamburg", "entrance", fmt.Sprintf("h%d", i), 0, time.Minute)
	}
	for i := range 7 { // randomized and weak sightings are no visitors
		a.Add(&Sighting{Site: []byte("shop"), Store: []byte("berlin"), Zone: []byte("entrance"), Device: []byte("r"), Randomized: true, RSSI: -50, AtMS: t0.UnixMilli() + int64(i)})
		see(a, "berlin", "entrance", fmt.Sprintf("w%d", i), -90, time.Minute)
	}
	clk.Set(t0.Add(16 * time.Minute)) // end + 1m: lateness not yet over
	a.Tick()
	if len(c.recs) != 0 {
		t.Fatalf("interval emitted before end + lateness: %+v", c.recs)
	}
	clk.Set(t0.Add(17 * time.Minute))
	a.Tick()
	e := c.zone("berlin", "entrance")
	if e == nil || e.Visitors != 6 || e.New != 6 || e.Visits != 6 || e.Randomized != 7 || e.Weak != 7 || e.Returning != 0 {
		t.Fatalf("entrance %+v", e)
	}
	// Dwell 2..7 min: buckets [1m,5m) holds 3, [5m,15m) 3; both below k:
	// merged into one coarser bucket [0, 15m).
	if len(e.Dwell) != 1 || e.Dwell[0].Visits != 6 || e.Dwell[0].MinS != 0 || e.Dwell[0].MaxS == nil || *e.Dwell[0].MaxS != 900 {
		t.Fatalf("entrance dwell %+v", e.Dwell)
	}
	o := c.zone("berlin", OtherZones)
	if o == nil || o.Visitors != 6 || o.Merged != 2 || c.zone("berlin", "shoes") != nil {
		t.Fatalf("other zones %+v (records %+v)", o, c.recs)
	}
	if h := c.zone("hamburg", "entrance"); h != nil || c.zone("hamburg", OtherZones) != nil {
		t.Fatalf("hamburg below k emitted: %+v", c.recs)
	}
	for _, r := range c.recs {
		if r.Visitors < 5 {
			t.Fatalf("cell below k: %+v", r)
		}
	}
	if st := a.Stats(); st.CellsSuppressed < 1 || st.CellsMerged != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestNewAndReturning(t *testing.T) {
	a, c, clk := newAgg(t, Options{K: 1})
	stay(a, "s", "z", "d1", 0, time.Minute)
	stay(a, "s", "z", "d1", 8*time.Minute, 9*time.Minute) // after 7 minutes away: a second visit
	stay(a, "s", "z", "d2", 0, 9*time.Minute)             // a 30 s gap is no absence
	clk.Set(t0.Add(30 * time.Minute))
	a.Tick()
	z := c.zone("s", "z")
	if z == nil || z.Visitors != 2 || z.Visits != 3 || z.New != 2 || z.Returning != 1 {
		t.Fatalf("%+v", z)
	}
	// The next day's visit is new again.
	stay(a, "s", "z", "d1", 24*time.Hour, 24*time.Hour+time.Minute)
	clk.Set(t0.Add(24*time.Hour + 30*time.Minute))
	a.Tick()
	if z := c.recs[len(c.recs)-1]; z.New != 1 || z.Returning != 0 {
		t.Fatalf("next day %+v", z)
	}
}

func TestLateSightingsAndEviction(t *testing.T) {
	a, _, clk := newAgg(t, Options{K: 1, MaxDevices: 10})
	for i := range 25 {
		see(a, "s", "z", fmt.Sprintf("d%d", i), -50, time.Duration(i)*time.Second)
	}
	st := a.Stats()
	if st.Evicted != 15 || st.Tracked != 10 {
		t.Fatalf("evicted %d, tracked %d; want 15, 10", st.Evicted, st.Tracked)
	}
	if st.BytesPerDevice > 128 {
		t.Fatalf("%d bytes per device", st.BytesPerDevice)
	}
	clk.Set(t0.Add(20 * time.Minute))
	a.Tick()
	see(a, "s", "z", "late", -50, time.Minute) // its interval is closed
	if st := a.Stats(); st.Late != 1 {
		t.Fatalf("late %d", st.Late)
	}
	// A period later every device is forgotten.
	clk.Set(t0.Add(25 * time.Hour))
	a.Tick()
	if st := a.Stats(); st.Tracked != 0 {
		t.Fatalf("%d devices still tracked after the period", st.Tracked)
	}
}

// TestTableAgainstMap drives the device table through inserts, evictions
// and sweeps, and checks every tracked device is still found.
func TestTableAgainstMap(t *testing.T) {
	a, _, _ := newAgg(t, Options{K: 1, MaxDevices: 300})
	for round := range 20 {
		for i := range 200 {
			see(a, "s", "z", fmt.Sprintf("d%d-%d", round%3, i*7+round), -50, time.Duration(round)*time.Minute)
		}
		a.TickAt(t0.Add(time.Duration(round)*time.Minute + 6*time.Minute))
		n := 0
		for i := range a.table {
			if d := &a.table[i]; d.key != 0 {
				n++
				if f := a.find(d.key); f != d {
					t.Fatalf("round %d: device at %d not found by its key", round, i)
				}
			}
		}
		if n != a.n || n > 300 {
			t.Fatalf("round %d: %d in table, n %d", round, n, a.n)
		}
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, o := range []Options{{K: -1}, {Interval: time.Millisecond}, {Lateness: time.Hour}, {Period: 20 * time.Minute}, {DwellBounds: []time.Duration{2, 1}}, {MaxDevices: -1}} {
		if _, err := New(o, nil); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// TestMergedZonesCountDistinctVisitors: the "*" cell of a store's zones
// below k is held to k distinct devices, not to the sum of its zones'
// visitors. On the code before, one shopper walking through five small
// zones (one visitor each) made a "*" cell of 5 visitors with k 5: an
// aggregate of one person, with its visits, new and dwell.
func TestMergedZonesCountDistinctVisitors(t *testing.T) {
	zones := []string{"shoes", "toys", "books", "garden", "tools"}
	a, c, _ := newAgg(t, Options{})
	for i, z := range zones { // one device, two minutes in each zone
		from := time.Duration(i) * 2 * time.Minute
		stay(a, "berlin", z, "lone-shopper", from, from+2*time.Minute)
	}
	a.Flush()
	if len(c.recs) != 0 {
		t.Fatalf("one device across %d zones below k was emitted: %+v", len(zones), c.recs)
	}

	// Four devices in those zones and the same one again: 5 distinct
	// visitors, emitted with visitors 5 (the zones' sum is 9).
	a, c, _ = newAgg(t, Options{})
	for i, z := range zones {
		from := time.Duration(i) * 2 * time.Minute
		stay(a, "berlin", z, "shopper", from, from+2*time.Minute)
		if i > 0 {
			stay(a, "berlin", z, fmt.Sprintf("d%d", i), 0, time.Minute)
		}
	}
	a.Flush()
	o := c.zone("berlin", OtherZones)
	if o == nil || o.Visitors != 5 || o.Merged != len(zones) {
		t.Fatalf("other zones %+v (records %+v)", o, c.recs)
	}
}

// TestVisitorMarksBoundedByK: the marks that let the merged zone "*" count
// distinct devices are needed only for cells that may end below k. Before
// the fix every visitor of every cell got one, so an interval's marks grew
// with its visitors (evicted devices counted again included), not bounded
// by ble.max_devices: a busy zone's thousands of visitors cost a mark each
// until the interval closed. Now a cell keeps at most k-1 marks, and "*"
// still counts the distinct devices of the small zones.
func TestVisitorMarksBoundedByK(t *testing.T) {
	a, c, _ := newAgg(t, Options{MaxDevices: 100})
	for i := range 1000 { // a busy entrance, devices evicted and seen again
		stay(a, "berlin", "entrance", fmt.Sprintf("e%d", i%400), 0, 2*time.Minute)
	}
	for i, z := range []string{"shoes", "toys", "books", "garden", "tools"} {
		from := time.Duration(i) * 2 * time.Minute
		stay(a, "berlin", z, "shopper", from, from+2*time.Minute)
		if i > 0 {
			stay(a, "berlin", z, fmt.Sprintf("d%d", i), 0, time.Minute)
		}
	}
	marks := 0
	for i := range a.counted {
		marks += len(a.counted[i])
	}
	if k := a.Options().K; marks > 6*(k-1) {
		t.Fatalf("%d visitor marks held for 6 cells; want at most k-1 = %d each", marks, k-1)
	}
	a.Flush()
	if o := c.zone("berlin", OtherZones); o == nil || o.Visitors != 5 || o.Merged != 5 {
		t.Fatalf("other zones %+v (records %+v)", o, c.recs)
	}
	if e := c.zone("berlin", "entrance"); e == nil || e.Visitors < 400 {
		t.Fatalf("entrance %+v", e)
	}
}

// TestZoneNamedStarIsCountedInOtherZones: a zone named "*" (a store's
// "zone" property, or a sensor so named) was a cell of its own, sent with
// the same id as the store's merged other-zones cell: two contents under
// one id in one interval (a consumer that de-duplicates by id keeps
// either), and a restart that read one back skipped the other. Such a zone
// is now always counted in the store's "*" cell.
func TestZoneNamedStarIsCountedInOtherZones(t *testing.T) {
	a, c, clk := newAgg(t, Options{})
	for i := range 6 {
		stay(a, "berlin", OtherZones, fmt.Sprintf("x%d", i), 0, 3*time.Minute)
	}
	for i := range 3 {
		stay(a, "berlin", "shoes", fmt.Sprintf("s%d", i), 0, 3*time.Minute)
		stay(a, "berlin", "toys", fmt.Sprintf("t%d", i), 0, 3*time.Minute)
	}
	clk.Set(t0.Add(17 * time.Minute))
	a.Tick()
	ids := map[string]int{}
	for _, r := range c.recs {
		if ids[r.ID]++; ids[r.ID] > 1 {
			t.Errorf("id %s (%s %s) sent twice in one interval: %+v", r.ID, r.Store, r.Zone, c.recs)
		}
	}
	if len(c.recs) != 1 {
		t.Fatalf("%d cells; want the one \"*\" cell: %+v", len(c.recs), c.recs)
	}
	if o := c.recs[0]; o.Zone != OtherZones || o.Visitors != 12 || o.Merged != 3 {
		t.Errorf("other zones %+v; want 12 visitors of 3 zones", o)
	}

	// Alone, it is the "*" cell of one zone, as the schema allows.
	schema := schematest.Compile(t, "../schema/ble_aggregate.schema.json")
	var recs [][]byte
	a, _, clk = newAgg(t, Options{})
	a.emit = func(rec []byte) { recs = append(recs, append([]byte(nil), rec...)) }
	for i := range 6 {
		stay(a, "berlin", OtherZones, fmt.Sprintf("x%d", i), 0, 3*time.Minute)
	}
	clk.Set(t0.Add(17 * time.Minute))
	a.Tick()
	if len(recs) != 1 {
		t.Fatalf("%d cells of a lone zone named \"*\"; want 1", len(recs))
	}
	if err := schematest.Validate(schema, recs[0]); err != nil {
		t.Errorf("%s does not match the schema: %v", recs[0], err)
	}
}
