package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/retail"
	"github.com/beacongate/beacongate/upstream"
)

// errKilled stands for kill -9: the send that raises it has handed its
// aggregate to the pipeline, and nothing after it in the process runs.
var errKilled = errors.New("killed")

// TestBLEAggregateIDsOneContentAcrossKills (found by a review of
// fdb4a92): an aggregate was handed to the pipeline, then written back to
// the BLE spool. A kill between the two (or between an interval's
// aggregates and its marker) left a restart to compute the missing cells
// again, further on in the spool: a sighting of the interval spooled
// meanwhile (a sensor's late batch), which was late before the kill, now
// counted, and the cell went out again under the same id with other
// counts (a consumer that keeps both versions subtracts them; one that
// de-duplicates keeps either), and a zone sent in "*" could come out on
// its own too. Now an interval's aggregates are written back first, in
// its marker record, and what is sent is read back from those stored
// bytes by the spool's delivery reader, whose cursor moves only once the
// pipeline took them.
//
// The test kills the aggregation (on a real spool in a temp dir; a kill is
// a panic out of the send, the state abandoned and the spool reopened) at
// every point from the interval's write-back to the delivery reader's
// commit: after the write-back before any send (0), and right after each
// aggregate's hand-off (1 to 3). Late sightings of the interval are
// spooled before the restart. Every id that reached the destination must
// have one content, every cell of the interval must reach it, and no zone
// may be both in "*" and on its own.
func TestBLEAggregateIDsOneContentAcrossKills(t *testing.T) {
	for kill := 0; kill <= 3; kill++ {
		t.Run(fmt.Sprint("kill_after_send_", kill), func(t *testing.T) { testBLEKillAt(t, kill) })
	}
}

func testBLEKillAt(t *testing.T, kill int) {
	dir := t.TempDir()
	cfg, err := config.Parse("ble.yaml", []byte("server:\n  data_dir: "+dir+
		"\nspool:\n  max_bytes: 16MiB\n  segment_bytes: 2MiB\nble:\n  output: aggregates\n  k: 3\n  enter_after: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	start := clocktest.Golden // on a quarter hour: interval 0 starts here
	clk := clock.NewManual(start)
	delivered := map[string]map[string]bool{} // id -> contents
	type cell struct{ store, zone string }
	cellOf := map[string]cell{}
	sends := 0
	open := func(killAt int) *bleAggregation {
		b, err := newBLEAggregation(cfg, nil, clk, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		b.send = func(agg []byte) error {
			var a retail.Aggregate
			if err := json.Unmarshal(agg, &a); err != nil {
				t.Fatalf("%s: %v", agg, err)
			}
			if delivered[a.ID] == nil {
				delivered[a.ID] = map[string]bool{}
			}
			delivered[a.ID][string(agg)] = true
			cellOf[a.ID] = cell{a.Store, a.Zone}
			sends++
			if sends == killAt {
				panic(errKilled)
			}
			return nil
		}
		return b
	}
	sighting := func(b *bleAggregation, store, zone, dev string, at time.Duration) {
		t.Helper()
		rec := fmt.Appendf(nil, `{"v":1,"id":"%022d","kind":"ble","site":"chain","visitor":%q,"ble":{"store":%q,"sensor":%q,"rssi":-50,"seen":%q}}`,
			len(dev), dev, store, zone, start.Add(at).UTC().Format(time.RFC3339))
		if err := b.Append(rec, upstream.RouteTo(0)); err != nil {
			t.Fatal(err)
		}
	}
	// killed runs f and reports whether it was killed.
	killed := func(f func()) (k bool) {
		defer func() {
			if r := recover(); r != nil {
				if r != errKilled {
					panic(r)
				}
				k = true
			}
		}()
		f()
		return false
	}

	b := open(kill)
	// Interval 0: store A's zone z1 has k visitors (a cell of its own),
	// z2 and z3 two each (merged into "*", 4 visitors); store B's z1 has k.
	for i, z := range []string{"z1", "z1", "z1", "z2", "z2", "z3", "z3"} {
		sighting(b, "A", z, fmt.Sprint("a", i), time.Minute)
	}
	for i := range 3 {
		sighting(b, "B", "z1", fmt.Sprint("b", i), time.Minute)
	}
	clk.Advance(20 * time.Minute) // interval 0 and its lateness are over
	wasKilled := killed(func() {
		if err := b.f.Poll(); err != nil {
			t.Fatal(err)
		}
		if kill == 0 {
			panic(errKilled) // written back, nothing sent
		}
		for range 3 {
			if err := b.step(); err != nil {
				t.Fatal(err)
			}
		}
	})
	if !wasKilled {
		t.Fatalf("not killed at send %d: %d sends", kill, sends)
	}
	sentBefore := len(delivered)
	if err := b.sp.Close(); err != nil { // what survives a kill: the spool's files
		t.Fatal(err)
	}

	// Restart on the same spool. A late batch of interval 0 is spooled
	// (acknowledged): one more device in each zone.
	b = open(-1)
	defer b.sp.Close()
	for _, c := range []cell{{"A", "z1"}, {"A", "z2"}, {"A", "z3"}, {"B", "z1"}} {
		sighting(b, c.store, c.zone, "late-"+c.store+c.zone, 2*time.Minute)
	}
	clk.Advance(time.Minute)
	for range 3 {
		if err := b.step(); err != nil {
			t.Fatal(err)
		}
	}

	var ids []string
	for id := range delivered {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	zones := map[cell]bool{}
	for _, id := range ids {
		zones[cellOf[id]] = true
		if len(delivered[id]) != 1 {
			var versions []string
			for c := range delivered[id] {
				versions = append(versions, c)
			}
			sort.Strings(versions)
			t.Errorf("killed after send %d (%d cells sent before): cell %v sent under id %s with %d contents:\n%s",
				kill, sentBefore, cellOf[id], id, len(versions), versions)
		}
	}
	for _, c := range []cell{{"A", "z1"}, {"A", "*"}, {"B", "z1"}} {
		if !zones[c] {
			t.Errorf("killed after send %d: cell %v never delivered (delivered %v)", kill, c, zones)
		}
	}
	if zones[cell{"A", "*"}] && (zones[cell{"A", "z2"}] || zones[cell{"A", "z3"}]) {
		t.Errorf("killed after send %d: a zone of store A delivered both in \"*\" and on its own: %v", kill, zones)
	}
}
