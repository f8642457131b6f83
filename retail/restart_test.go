package retail

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/upstream/spool"
)

// spoolRun is one run of a Follower on a real spool in dir: a restart is a
// new spoolRun on the same dir (the spool's cursor file is all that
// survives, as after kill -9 with the cursor on disk).
type spoolRun struct {
	sp *spool.Spool
	f  *Follower
}

func startSpoolRun(t *testing.T, dir string, clk clock.Clock, sent map[string]string) *spoolRun {
	t.Helper()
	sp, err := spool.Open(spool.Options{Dir: dir, Destinations: []string{"aggregation"}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	r := &spoolRun{sp: sp}
	r.f, err = NewFollower(Options{K: 1, EnterAfter: 1, Clock: clk}, sp.Reader(0), func(rec []byte) error {
		err := Aggregates(rec, func(agg []byte) error {
			var a Aggregate
			if err := json.Unmarshal(agg, &a); err != nil {
				t.Fatal(err)
			}
			if prev, ok := sent[a.ID]; ok && prev != string(agg) {
				t.Errorf("cell %s %s %s sent again under id %s with other counts:\nbefore %s\nnow    %s", a.Store, a.Zone, a.Start, a.ID, prev, agg)
			}
			sent[a.ID] = string(agg)
			return nil
		})
		if err != nil {
			return err
		}
		return sp.Append(rec, spool.RouteTo(0))
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRestartSendsNoCellAgainWithOtherCounts (found by a review): once a
// day's intervals were all closed, the Follower committed its cursor past
// everything it had read, markers included. A sighting of that day
// spooled afterwards (a sensor's late batch: up to
// server.max_sighting_age old) was late for a running Follower; but a
// restart read it first, with no interval known closed, counted it, and
// sent its interval's cell again under the id already sent, with other
// counts (visitors 1 where 6 were sent): a consumer that de-duplicates by
// id keeps one of the two, one that keeps both sees two versions of a
// cell. Now the cursor stops at the last interval marker read, so a
// restart knows which intervals are closed.
func TestRestartSendsNoCellAgainWithOtherCounts(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewManual(t0)
	sent := map[string]string{}
	run := startSpoolRun(t, dir, clk, sent)
	for i := range 6 {
		if err := run.sp.Append(bleRecord("A", fmt.Sprint("d", i), t0.Add(time.Duration(i)*time.Minute)), spool.RouteTo(0)); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Hour)
	if err := run.f.Poll(); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 {
		t.Fatalf("%d cells sent; want 1", len(sent))
	}
	// The day ends and its intervals close; the cursor moves on.
	clk.Advance(t0.Truncate(24 * time.Hour).Add(24*time.Hour + 30*time.Minute).Sub(clk.Now()))
	for range 2 {
		if err := run.f.Poll(); err != nil {
			t.Fatal(err)
		}
	}
	// A late sighting of the first interval is acknowledged (spooled);
	// the Follower is killed before it reads it.
	if err := run.sp.Append(bleRecord("A", "late", t0.Add(time.Minute)), spool.RouteTo(0)); err != nil {
		t.Fatal(err)
	}
	if err := run.sp.Close(); err != nil {
		t.Fatal(err)
	}
	// Restart.
	run = startSpoolRun(t, dir, clk, sent)
	defer run.sp.Close()
	for range 2 {
		if err := run.f.Poll(); err != nil {
			t.Fatal(err)
		}
	}
	if s := run.f.Aggregator().Stats(); s.Late != 1 {
		t.Errorf("after the restart %d sightings late; want 1 (its interval was closed)", s.Late)
	}
}
