package retail

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/upstream/spool"
)

// regridRun is one run of a Follower (K 3, EnterAfter 1, the given
// interval) and its Forward on a real spool in dir, both readers, as
// cmd/beacongate wires them: a restart with another ble.interval is a new
// regridRun on the same dir.
type regridRun struct {
	sp   *spool.Spool
	f    *Follower
	sent *[]Aggregate
}

func startRegridRun(t *testing.T, dir string, clk clock.Clock, interval time.Duration, sent *[]Aggregate) *regridRun {
	t.Helper()
	sp, err := spool.Open(spool.Options{Dir: dir, Destinations: []string{"aggregation", "delivery"}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	r := &regridRun{sp: sp, sent: sent}
	r.f, err = NewFollower(Options{K: 3, EnterAfter: 1, Interval: interval, Clock: clk}, sp.Reader(0), func(rec []byte) error {
		return sp.Append(rec, spool.RouteTo(0)|spool.RouteTo(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *regridRun) sighting(t *testing.T, dev string, at time.Time) {
	t.Helper()
	rec := fmt.Appendf(nil, `{"v":1,"kind":"ble","site":"s","visitor":%q,"ble":{"store":"A","sensor":"z","rssi":-50,"seen":%q}}`,
		dev, at.UTC().Format(time.RFC3339))
	if err := r.sp.Append(rec, spool.RouteTo(0)); err != nil {
		t.Fatal(err)
	}
}

func (r *regridRun) step(t *testing.T) {
	t.Helper()
	if err := r.f.Poll(); err != nil {
		t.Fatal(err)
	}
	err := Forward(r.sp.Reader(1), func(agg []byte) error {
		var a Aggregate
		if err := json.Unmarshal(agg, &a); err != nil {
			t.Fatalf("%s: %v", agg, err)
		}
		*r.sent = append(*r.sent, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// overlapping fails for two cells of one store sent for time windows that
// overlap but differ: the difference of their counts is the counts of the
// part of one window the other lacks, a group of any size, 1 included.
func overlapping(t *testing.T, sent []Aggregate) {
	t.Helper()
	for i, a := range sent {
		for _, b := range sent[:i] {
			if a.Site != b.Site || a.Store != b.Store || a.Start == b.Start && a.End == b.End {
				continue
			}
			if a.Start < b.End && b.Start < a.End {
				t.Errorf("store %s sent for overlapping windows [%s, %s) zone %s and [%s, %s) zone %s:\n%+v\n%+v",
					a.Store, b.Start, b.End, b.Zone, a.Start, a.End, a.Zone, b, a)
			}
		}
	}
}

// TestRestartWithAnotherIntervalSendsNoOverlappingWindow: ble.interval
// changed with a restart in the middle of a day (the README: changing ble
// needs a restart). The restart reads the day again; the markers of the
// intervals closed before it, on the old grid, closed only the new
// intervals that begin at or before their start, so a new interval inside
// an old one sent ([12:20, 12:30) inside [12:15, 12:30)) was computed
// again and sent: the old cell minus the new one is the one shopper seen
// between 12:15 and 12:20, a visit, a new visitor and a sighting, with k 3.
func TestRestartWithAnotherIntervalSendsNoOverlappingWindow(t *testing.T) {
	for _, c := range []struct {
		name     string
		old, new time.Duration
		restart  time.Duration // after t0
	}{
		{"15m to 10m", 15 * time.Minute, 10 * time.Minute, 33 * time.Minute},
		{"10m to 15m", 10 * time.Minute, 15 * time.Minute, 23 * time.Minute},
		{"15m to 5m", 15 * time.Minute, 5 * time.Minute, 33 * time.Minute},
		{"5m to 15m", 5 * time.Minute, 15 * time.Minute, 28 * time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			clk := clock.NewManual(t0) // 12:00
			var sent []Aggregate
			run := startRegridRun(t, dir, clk, c.old, &sent)
			// One shopper at 12:16 and 12:17 (x), three from 12:21 on,
			// and three more each 5 minutes from 12:00 but at 12:15.
			for m := 0; m < 30; m += 5 {
				if m == 15 {
					continue
				}
				for i := range 3 {
					run.sighting(t, fmt.Sprintf("m%d-%d", m, i), t0.Add(time.Duration(m)*time.Minute+time.Duration(i)*time.Second))
				}
			}
			run.sighting(t, "x", t0.Add(16*time.Minute))
			run.sighting(t, "x", t0.Add(17*time.Minute))
			for i := range 3 {
				run.sighting(t, fmt.Sprint("d", i), t0.Add(21*time.Minute+time.Duration(i)*time.Second))
			}
			for clk.Now().Before(t0.Add(c.restart)) {
				clk.Advance(time.Minute)
				run.step(t)
			}
			if err := run.sp.Close(); err != nil {
				t.Fatal(err)
			}
			run = startRegridRun(t, dir, clk, c.new, &sent)
			defer run.sp.Close()
			for clk.Now().Before(t0.Add(2 * time.Hour)) {
				clk.Advance(time.Minute)
				if clk.Now().Equal(t0.Add(time.Hour)) {
					for i := range 3 {
						run.sighting(t, fmt.Sprint("later", i), clk.Now())
					}
				}
				run.step(t)
			}
			if len(sent) == 0 {
				t.Fatal("nothing sent")
			}
			overlapping(t, sent)
			if last := sent[len(sent)-1]; last.Start != "2026-11-24T13:00:00Z" || last.Visitors != 3 {
				t.Errorf("after the restart the new grid sent %+v last; want 13:00 with 3 visitors", last)
			}
			if testing.Verbose() {
				for _, a := range sent {
					t.Logf("%s %s %s visitors %d visits %d sightings %d", a.Start, a.End, a.Zone, a.Visitors, a.Visits, a.Sightings)
				}
			}
		})
	}
}
