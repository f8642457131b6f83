package retail

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// A gateway stopped with an interval open and started an hour later (four
// intervals of 15 minutes: the same slot) reads the day again before it
// closes anything by the clock, and meanwhile takes the sensors' new
// sightings, which it reads in that same first poll. Their interval's slot
// was still held by the one open at the stop: every sighting acknowledged
// during the replay was dropped as late, and the new interval's cell sent
// without them.
func TestSightingsTakenDuringTheReplayAfterAnHourDownAreCounted(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewManual(t0.Add(time.Minute))
	sent := newReviewSent(t)
	run := startReviewRun(t, dir, clk, sent)
	for i := range 3 {
		run.sighting(t, "A", "z", fmt.Sprint("before", i), t0.Add(30*time.Second))
	}
	run.step(t)
	if err := run.sp.Close(); err != nil { // stopped: 12:00 is open
		t.Fatal(err)
	}

	clk.Set(t0.Add(time.Hour + time.Minute)) // 13:01
	run = startReviewRun(t, dir, clk, sent)
	defer run.sp.Close()
	// Taken while the new Follower has not read the day yet.
	for i := range 4 {
		run.sighting(t, "A", "z", fmt.Sprint("after", i), t0.Add(time.Hour+40*time.Second))
	}
	run.step(t)
	clk.Set(t0.Add(time.Hour + 20*time.Minute))
	run.step(t)
	run.step(t)
	if late := run.f.Aggregator().Stats().Late; late != 0 {
		t.Errorf("%d sightings dropped as late; want 0", late)
	}
	visitors := map[string]uint32{}
	for id, contents := range sent.byID {
		for c := range contents {
			var a Aggregate
			if err := json.Unmarshal([]byte(c), &a); err != nil {
				t.Fatal(err)
			}
			visitors[a.Start] = a.Visitors
		}
		_ = id
	}
	if v := visitors["2026-11-24T13:00:00Z"]; v != 4 {
		t.Errorf("13:00 sent with %d visitors; want 4 (cells sent: %v)", v, visitors)
	}
	if v := visitors["2026-11-24T12:00:00Z"]; v != 3 {
		t.Errorf("12:00 sent with %d visitors; want 3 (cells sent: %v)", v, visitors)
	}
}
