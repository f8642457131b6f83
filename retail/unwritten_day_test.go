package retail

import (
	"fmt"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// TestUnwrittenFlagOutlivesItsDay: Follower.unwritten,
// set when even the bare marker of an interval of the day before is
// refused (just after midnight, the new day's first sighting read), is
// cleared only by the commit past a closed day. The cursor moves to the
// new day's first sighting instead (past the interval concerned), and the
// flag stays: at the new day's end the cursor goes past everything read,
// its markers included, although all of them were written. A late
// sighting of that day then reopens its interval after a restart, and its
// cell goes out again under its id with other counts.
func TestUnwrittenFlagOutlivesItsDay(t *testing.T) {
	dir := t.TempDir()
	day := t0.Truncate(24 * time.Hour)
	clk := clock.NewManual(day.Add(23*time.Hour + 46*time.Minute))
	sent := newReviewSent(t)
	// The 23:45 marker and its bare marker are refused: the headroom and
	// its reserve full.
	run := startRefusingRun(t, dir, clk, sent, func(n int) bool { return n <= 2 })
	for i := range 3 {
		run.sighting(t, "A", "z1", fmt.Sprint("a", i), day.Add(23*time.Hour+46*time.Minute))
	}
	run.step(t)
	clk.Set(day.Add(24*time.Hour + 30*time.Second))
	for i := range 3 {
		run.sighting(t, "A", "z1", fmt.Sprint("b", i), day.Add(24*time.Hour+10*time.Second))
	}
	run.step(t)
	clk.Set(day.Add(24*time.Hour + 3*time.Minute)) // 23:45 closes; both its records refused
	run.step(t)
	run.step(t)
	clk.Set(day.Add(24*time.Hour + 18*time.Minute)) // 00:00 closes, its marker written
	run.step(t)
	run.step(t)
	clk.Set(day.Add(48*time.Hour + 30*time.Minute)) // the new day is closed too
	run.step(t)
	run.step(t)
	for i := range 4 {
		run.sighting(t, "A", "z1", fmt.Sprint("late", i), day.Add(24*time.Hour+time.Minute))
	}
	run.step(t)
	if late := run.f.Aggregator().Stats().Late; late != 4 {
		t.Fatalf("%d sightings late before the restart; want 4", late)
	}
	sent.check("before the restart")
	run.sp.Close()

	run = startReviewRun(t, dir, clk, sent)
	defer run.sp.Close()
	run.step(t)
	run.step(t)
	sent.check("after the restart")
}
