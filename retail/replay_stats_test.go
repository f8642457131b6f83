package retail

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/upstream/spool"
)

// TestReplayCountsNoSuppressedCellAgain: after a restart, the Follower
// replays the day's closed intervals to rebuild its state; their cells
// were counted (emitted, merged, suppressed) by the run that closed them
// and are not sent again. Until 2026-12-06 beacongate_ble_cells_suppressed_total
// (and cells_merged) counted each replayed cell once more, so every
// restart inflated them while cells_emitted stayed right.
func TestReplayCountsNoSuppressedCellAgain(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewManual(t0)
	start := func() (*spool.Spool, *Follower) {
		sp, err := spool.Open(spool.Options{Dir: dir, Destinations: []string{"aggregation"}, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		f, err := NewFollower(Options{K: 3, EnterAfter: 1, Clock: clk}, sp.Reader(0), func(rec []byte) error {
			return sp.Append(rec, spool.RouteTo(0))
		})
		if err != nil {
			t.Fatal(err)
		}
		return sp, f
	}
	sp, f := start()
	// Two devices in the first interval, below k: the cell is withheld.
	for i := range 2 {
		if err := sp.Append(bleRecord("A", fmt.Sprint("d", i), t0.Add(time.Duration(i)*time.Second)), spool.RouteTo(0)); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(30 * time.Minute)
	for range 2 {
		if err := f.Poll(); err != nil {
			t.Fatal(err)
		}
	}
	before := f.Aggregator().Stats()
	if before.CellsEmitted != 0 || before.CellsSuppressed != 1 {
		t.Fatalf("first run: %+v; want its one cell withheld", before)
	}
	// A sighting of a later, still open interval, then a restart.
	if err := sp.Append(bleRecord("A", "d9", clk.Now()), spool.RouteTo(0)); err != nil {
		t.Fatal(err)
	}
	if err := f.Poll(); err != nil {
		t.Fatal(err)
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	sp, f = start()
	defer sp.Close()
	for range 2 {
		if err := f.Poll(); err != nil {
			t.Fatal(err)
		}
	}
	after := f.Aggregator().Stats()
	if after.CellsEmitted != 0 || after.CellsSuppressed != 0 || after.CellsMerged != 0 {
		b, _ := json.Marshal(after)
		t.Errorf("after the restart, before any new interval closed: %s; want no cell emitted, merged or suppressed (the replayed interval's were counted by the first run)", b)
	}
}
