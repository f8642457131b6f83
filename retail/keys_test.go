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
	if err := run.sp.Close(); err != nil {
		t.Fatal(err)
	}
	run = startRegridRun(t, dir, clk, 15*time.Minute, &sent)
	if err := run.sp.Append([]byte(`{"v":1,"kind":"`+KindKeysChanged+`"}`), spool.RouteTo(0)); err != nil {
		t.Fatal(err)
	}
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
