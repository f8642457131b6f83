package retail

import (
	"fmt"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/upstream/spool"
)

// TestKeysChangedWithholdsTheIntervalsOpenAcrossIt: a KindKeysChanged
// record (a gateway start with ephemeral keys) lies between the sightings
// of two shoppers under old hashes (d1, d2) and under new ones (e1, e2) in
// one interval: counted as 4 visitors with k 3, the interval must send no
// cell; the next interval, under the new keys only, sends its own. A
// restart that reads the stream again sends nothing else.
func TestKeysChangedWithholdsTheIntervalsOpenAcrossIt(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewManual(t0) // 12:00
	var sent []Aggregate
	run := startRegridRun(t, dir, clk, 15*time.Minute, &sent)
	run.sighting(t, "d1", t0.Add(time.Minute))
	run.sighting(t, "d2", t0.Add(time.Minute))
	clk.Advance(2 * time.Minute)
	run.step(t)
	run = restartWithNewKeys(t, run, dir, clk, &sent)
	run.sighting(t, "e1", t0.Add(5*time.Minute))
	run.sighting(t, "e2", t0.Add(5*time.Minute))
	for i := range 3 {
		run.sighting(t, fmt.Sprint("e", i+1), t0.Add(20*time.Minute))
	}
	for clk.Now().Before(t0.Add(40 * time.Minute)) {
		clk.Advance(time.Minute)
		run.step(t)
	}
	check := func(label string) {
		t.Helper()
		if len(sent) != 1 || sent[0].Start != "2026-11-24T12:15:00Z" || sent[0].Visitors != 3 {
			t.Errorf("%s: sent %+v; want only 12:15 with 3 visitors", label, sent)
		}
		if s := run.f.Aggregator().Stats(); s.CellsSuppressed == 0 {
			t.Errorf("%s: no cell counted as suppressed: %+v", label, s)
		}
	}
	check("running")
	if err := run.sp.Close(); err != nil {
		t.Fatal(err)
	}
	run = startRegridRun(t, dir, clk, 15*time.Minute, &sent)
	defer run.sp.Close()
	// The replay closes both intervals at their markers; a late sighting
	// of 12:00 is late.
	run.sighting(t, "late", t0.Add(6*time.Minute))
	for range 3 {
		clk.Advance(time.Minute)
		run.step(t)
	}
	if len(sent) != 1 {
		t.Errorf("after a restart: sent %+v; want the 12:15 cell only", sent)
	}
}

// TestKeysChangedDwellIsNoSecondDevice: a visit under the old keys whose
// last sighting lies within the absence of the end of the intervals
// withheld for a ble_keys_changed marker ends in the next interval, which
// is sent, where the same shopper's visit under her new key ends too:
// shoppers A and B under their old hashes (a1, b1) and A under her new one
// (a2) made the bucket "60-300 s: 3 visits" of 3 devices with k 3, a
// bucket of two people. A visit of the old keys counts as no device of a
// bucket (as a visit of the old day does at midnight), live and after a
// kill (killed=true: the restart reads the marker again).
func TestKeysChangedDwellIsNoSecondDevice(t *testing.T) {
	for _, killed := range []bool{false, true} {
		t.Run(fmt.Sprint("killed=", killed), func(t *testing.T) {
			dir := t.TempDir()
			clk := clock.NewManual(t0) // 12:00
			var sent []Aggregate
			run := startRegridRun(t, dir, clk, 15*time.Minute, &sent)
			for _, dev := range []string{"a1", "b1"} {
				run.sighting(t, dev, t0.Add(11*time.Minute))
				run.sighting(t, dev, t0.Add(13*time.Minute))
			}
			clk.Advance(13*time.Minute + 20*time.Second)
			run.step(t)
			run = restartWithNewKeys(t, run, dir, clk, &sent)
			run.sighting(t, "a2", t0.Add(14*time.Minute))
			run.sighting(t, "a2", t0.Add(16*time.Minute))
			for _, dev := range []string{"c", "d", "e"} {
				run.sighting(t, dev, t0.Add(20*time.Minute))
			}
			for clk.Now().Before(t0.Add(25 * time.Minute)) {
				clk.Advance(time.Minute)
				run.step(t)
			}
			if killed {
				// Killed before 12:15 closes: the restart (same keys)
				// reads the day again, the marker among it.
				if err := run.sp.Close(); err != nil {
					t.Fatal(err)
				}
				run = startRegridRun(t, dir, clk, 15*time.Minute, &sent)
			}
			defer run.sp.Close()
			for clk.Now().Before(t0.Add(50 * time.Minute)) {
				clk.Advance(time.Minute)
				run.step(t)
			}
			if len(sent) != 1 || sent[0].Start != "2026-11-24T12:15:00Z" || sent[0].Visitors != 4 {
				t.Fatalf("sent %+v; want the 12:15 cell of 4 visitors", sent)
			}
			for _, b := range sent[0].Dwell {
				if b.MinS == 60 {
					t.Errorf("the bucket from 60 s holds %d visits of 2 shoppers (A twice, B), k 3: %+v", b.Visits, sent[0])
				}
			}
		})
	}
}

// TestReplayCountsNoWithheldCellAgain: the cells of an interval withheld
// for a ble_keys_changed marker are counted in
// beacongate_ble_cells_suppressed_total by the run that closed it; a
// restart that replays the interval (closed at its marker) counted them
// once more, as TestReplayCountsNoSuppressedCellAgain found for the cells
// below k until 2026-12-06: every restart of the day inflated the metric.
func TestReplayCountsNoWithheldCellAgain(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewManual(t0) // 12:00
	var sent []Aggregate
	run := startRegridRun(t, dir, clk, 15*time.Minute, &sent)
	run.sighting(t, "d1", t0.Add(time.Minute))
	clk.Advance(2 * time.Minute)
	run.step(t)
	run = restartWithNewKeys(t, run, dir, clk, &sent)
	run.sighting(t, "e1", t0.Add(5*time.Minute))
	for clk.Now().Before(t0.Add(20 * time.Minute)) {
		clk.Advance(time.Minute)
		run.step(t)
	}
	if s := run.f.Aggregator().Stats(); s.CellsSuppressed != 1 {
		t.Fatalf("running: %d cells suppressed; want the 12:00 cell, withheld", s.CellsSuppressed)
	}
	// A sighting of the open interval, then a restart: the replay closes
	// 12:00 at its marker.
	run.sighting(t, "e1", t0.Add(20*time.Minute))
	run.step(t)
	if err := run.sp.Close(); err != nil {
		t.Fatal(err)
	}
	run = startRegridRun(t, dir, clk, 15*time.Minute, &sent)
	defer run.sp.Close()
	run.step(t)
	if s := run.f.Aggregator().Stats(); s.CellsSuppressed != 0 || s.CellsEmitted != 0 {
		t.Errorf("after the restart, before any new interval closed: %+v; want no cell counted (the replayed interval's were counted by the run that closed it)", s)
	}
}

// restartWithNewKeys stops run and starts it again on dir, as a gateway
// with new visitor keys starts: the ble_keys_changed marker first in the
// stream after the sightings of run.
func restartWithNewKeys(t *testing.T, run *regridRun, dir string, clk clock.Clock, sent *[]Aggregate) *regridRun {
	t.Helper()
	if err := run.sp.Close(); err != nil {
		t.Fatal(err)
	}
	run = startRegridRun(t, dir, clk, 15*time.Minute, sent)
	if err := run.sp.Append([]byte(`{"v":1,"kind":"`+KindKeysChanged+`"}`), spool.RouteTo(0)); err != nil {
		t.Fatal(err)
	}
	return run
}
