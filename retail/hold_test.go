package retail

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// TestHeldSightingsCountedInStreamOrder: a restart holds back a sighting
// spooled after its interval's end until a marker shows whether it was
// late (see holdSighting), and with it every sighting after it: counted
// out of order, a device seen in the next interval before and after the
// held sighting would count twice among that interval's visitors.
func TestHeldSightingsCountedInStreamOrder(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewManual(t0.Add(time.Minute))
	sent := newReviewSent(t)
	run := startReviewRun(t, dir, clk, sent)
	for i := range 3 {
		run.sighting(t, "A", "z1", fmt.Sprint("a", i), t0.Add(time.Minute))
	}
	run.step(t)
	clk.Set(t0.Add(16 * time.Minute)) // interval 0 ended, not closed yet
	for i := range 3 {
		run.sighting(t, "A", "z1", fmt.Sprint("a", i), t0.Add(14*time.Minute)) // spooled after its end
		run.sighting(t, "A", "z1", fmt.Sprint("a", i), t0.Add(15*time.Minute+30*time.Second))
	}
	run.step(t)
	clk.Set(t0.Add(18 * time.Minute)) // interval 0 closes
	run.step(t)
	for i := range 3 {
		run.sighting(t, "A", "z1", fmt.Sprint("a", i), t0.Add(17*time.Minute))
	}
	run.step(t)
	run.sp.Close() // a kill with interval 1 open

	run = startReviewRun(t, dir, clk, sent)
	defer run.sp.Close()
	clk.Set(t0.Add(33 * time.Minute)) // interval 1 closes
	run.step(t)
	run.step(t)
	n := 0
	for _, contents := range sent.byID {
		for c := range contents {
			var a Aggregate
			if err := json.Unmarshal([]byte(c), &a); err != nil {
				t.Fatal(err)
			}
			n++
			if a.Visitors != 3 {
				t.Errorf("%s %s: %d visitors; want 3 (three devices)", a.Zone, a.Start, a.Visitors)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d cells sent; want 2", n)
	}
	sent.check("after the restart")
}
