package retail

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/upstream/spool"
)

// reviewSent is what reached the destinations: per id, each content; per
// (store, start), the zones sent.
type reviewSent struct {
	t     *testing.T
	byID  map[string]map[string]bool
	zones map[string]map[string]bool
	what  map[string]string
}

func newReviewSent(t *testing.T) *reviewSent {
	return &reviewSent{t: t, byID: map[string]map[string]bool{}, zones: map[string]map[string]bool{}, what: map[string]string{}}
}

func (s *reviewSent) send(agg []byte) error {
	var a Aggregate
	if err := json.Unmarshal(agg, &a); err != nil {
		s.t.Fatalf("%s: %v", agg, err)
	}
	if s.byID[a.ID] == nil {
		s.byID[a.ID] = map[string]bool{}
	}
	s.byID[a.ID][string(agg)] = true
	s.what[a.ID] = a.Store + "/" + a.Zone + " " + a.Start
	k := a.Store + " " + a.Start
	if s.zones[k] == nil {
		s.zones[k] = map[string]bool{}
	}
	s.zones[k][a.Zone] = true
	return nil
}

// check fails for an id sent with two contents, or a store's interval
// with "*" and zones on their own that were merged into it (here: any
// zone on its own, as the tests make "*" only from zones sent alone).
func (s *reviewSent) check(label string, zonesAlone ...string) {
	s.t.Helper()
	for id, c := range s.byID {
		if len(c) > 1 {
			s.t.Errorf("%s: cell %s (id %s) sent with %d contents: %v", label, s.what[id], id, len(c), c)
		}
	}
	for k, zs := range s.zones {
		if !zs[OtherZones] {
			continue
		}
		for _, z := range zonesAlone {
			if zs[z] {
				s.t.Errorf("%s: %s: zone %s sent both on its own and in \"*\" (zones sent %v)", label, k, z, zs)
			}
		}
	}
}

// reviewRun is one run of a Follower (K 3, EnterAfter 1) and its Forward
// on a real spool in dir, both readers, as cmd/beacongate wires them.
type reviewRun struct {
	sp *spool.Spool
	f  *Follower
	s  *reviewSent
	// before, when set, runs before each write-back (a request's Append
	// landing between the Follower's last read and its write-back).
	before func()
}

func startReviewRun(t *testing.T, dir string, clk clock.Clock, s *reviewSent) *reviewRun {
	t.Helper()
	return startRefusingRun(t, dir, clk, s, nil)
}

// startRefusingRun is startReviewRun whose write-back number n (from 1)
// is refused when refuse(n) says so: its aggregates are sent directly and
// the append answers ErrNotWritten, as appendAggregate's fallback does
// when the headroom is full.
func startRefusingRun(t *testing.T, dir string, clk clock.Clock, s *reviewSent, refuse func(n int) bool) *reviewRun {
	t.Helper()
	sp, err := spool.Open(spool.Options{Dir: dir, Destinations: []string{"aggregation", "delivery"}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	r := &reviewRun{sp: sp, s: s}
	writes := 0
	r.f, err = NewFollower(Options{K: 3, EnterAfter: 1, Clock: clk}, sp.Reader(0), func(rec []byte) error {
		if writes++; refuse != nil && refuse(writes) {
			if err := Aggregates(rec, s.send); err != nil {
				return err
			}
			return ErrNotWritten
		}
		if r.before != nil {
			r.before()
		}
		return sp.Append(rec, spool.RouteTo(0)|spool.RouteTo(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *reviewRun) sighting(t *testing.T, store, zone, dev string, at time.Time) {
	t.Helper()
	rec := fmt.Appendf(nil, `{"v":1,"kind":"ble","site":"s","visitor":%q,"ble":{"store":%q,"sensor":%q,"rssi":-50,"seen":%q}}`,
		dev, store, zone, at.UTC().Format(time.RFC3339))
	if err := r.sp.Append(rec, spool.RouteTo(0)); err != nil {
		t.Fatal(err)
	}
}

func (r *reviewRun) step(t *testing.T) {
	t.Helper()
	if err := r.f.Poll(); err != nil {
		t.Fatal(err)
	}
	if err := Forward(r.sp.Reader(1), r.s.send); err != nil {
		t.Fatal(err)
	}
}

// TestRestartNextDayReplaysTheDayBeforeAfterItsFirstSighting (review of
// ad69345): once the day before is closed the cursor is committed to the
// new day's first sighting. Sightings of the day before spooled after it
// (the last interval's batches at midnight, before its lateness is over;
// a sensor's late batch of an earlier interval) are read again by a
// restart at any time of the new day, with none of that day's earlier
// markers read: the earlier interval opens again and its cell goes out
// again under its id with other counts, and the last interval closes at
// its marker with part of its sightings, so zones sent on their own come
// out in a "*" cell too.
func TestRestartNextDayReplaysTheDayBeforeAfterItsFirstSighting(t *testing.T) {
	dir := t.TempDir()
	day := t0.Truncate(24 * time.Hour)
	clk := clock.NewManual(day.Add(22*time.Hour + 21*time.Minute))
	sent := newReviewSent(t)
	run := startReviewRun(t, dir, clk, sent)
	// 22:15: zone z5 has 3 visitors (a cell of its own).
	for i := range 3 {
		run.sighting(t, "A", "z5", fmt.Sprint("p", i), day.Add(22*time.Hour+20*time.Minute))
	}
	run.step(t)
	clk.Set(day.Add(23*time.Hour + 51*time.Minute))
	// 23:45: z1 and z2 get a visitor each before midnight...
	run.sighting(t, "A", "z1", "a0", day.Add(23*time.Hour+50*time.Minute))
	run.sighting(t, "A", "z2", "b0", day.Add(23*time.Hour+50*time.Minute))
	run.step(t)
	clk.Set(day.Add(24*time.Hour + 30*time.Second))
	// ... the new day's first sighting; then the sensors' batches of the
	// last minute of the day (on time: 23:45 closes at 00:02), and a late
	// batch of 22:15 (late: 22:15 closed at 22:32).
	run.sighting(t, "A", "z9", "x", day.Add(24*time.Hour+10*time.Second))
	for i := 1; i < 3; i++ {
		run.sighting(t, "A", "z1", fmt.Sprint("a", i), day.Add(23*time.Hour+59*time.Minute))
		run.sighting(t, "A", "z2", fmt.Sprint("b", i), day.Add(23*time.Hour+59*time.Minute))
	}
	for i := range 4 {
		run.sighting(t, "A", "z5", fmt.Sprint("late", i), day.Add(22*time.Hour+20*time.Minute))
	}
	run.step(t)
	clk.Set(day.Add(24*time.Hour + 3*time.Minute))
	run.step(t)
	run.step(t)
	if late := run.f.Aggregator().Stats().Late; late != 4 {
		t.Fatalf("%d sightings late before the restart; want 4", late)
	}
	sent.check("before the restart", "z1", "z2")
	if err := run.sp.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart (SIGTERM or kill) later that day.
	clk.Set(day.Add(24*time.Hour + 3*time.Hour))
	run = startReviewRun(t, dir, clk, sent)
	defer run.sp.Close()
	run.step(t)
	run.step(t)
	sent.check("after the restart", "z1", "z2")
}

// TestSightingSpooledBeforeTheMarkerCountsAfterARestart (review of
// ad69345): the Follower closes an interval once it has read the stream's
// end, and then appends the marker. A request's sighting of that interval
// appended in between (late for the running Follower) lies before the
// marker in the stream: a restart counts it before the marker closes the
// interval. Its zone, merged into "*" before (sent), now reaches k and is
// sent on its own too.
func TestSightingSpooledBeforeTheMarkerCountsAfterARestart(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewManual(t0.Add(time.Minute))
	sent := newReviewSent(t)
	run := startReviewRun(t, dir, clk, sent)
	// z1 and z2: 2 visitors each, merged into "*" (4 visitors).
	for i := range 2 {
		run.sighting(t, "A", "z1", fmt.Sprint("a", i), t0.Add(time.Minute))
		run.sighting(t, "A", "z2", fmt.Sprint("b", i), t0.Add(time.Minute))
	}
	run.step(t)
	clk.Advance(20 * time.Minute)
	once := true
	run.before = func() {
		if once { // a request's Append lands while the Follower closes the interval
			once = false
			run.sighting(t, "A", "z1", "a-late", t0.Add(2*time.Minute))
		}
	}
	run.step(t)
	run.step(t)
	if late := run.f.Aggregator().Stats().Late; late != 1 {
		t.Fatalf("%d sightings late before the restart; want 1", late)
	}
	sent.check("before the restart", "z1", "z2")
	run.sp.Close()

	run = startReviewRun(t, dir, clk, sent)
	defer run.sp.Close()
	run.step(t)
	run.step(t)
	if late := run.f.Aggregator().Stats().Late; late != 1 {
		t.Errorf("%d sightings late after the restart; want 1 (as before it)", late)
	}
	sent.check("after the restart", "z1", "z2")
}

// TestUnwrittenRecordCommitsPastWrittenMarkers (review of fdb4a92): one
// record not written back (ErrNotWritten, the headroom full at that
// moment) makes the Follower commit past everything read once the day is
// closed, the markers that were written included. A late sighting of any
// of the day's intervals (up to server.max_sighting_age, 7 days) spooled
// then is counted by a restart, and its cell goes out again under its id
// with other counts: what fdb4a92 fixed, back for the whole day.
func TestUnwrittenRecordCommitsPastWrittenMarkers(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewManual(t0.Add(time.Minute))
	sent := newReviewSent(t)
	// The second interval's write-back is skipped.
	run := startRefusingRun(t, dir, clk, sent, func(n int) bool { return n == 2 })
	// Interval 0 (written back) and interval 1 (not): 3 visitors each.
	for i := range 3 {
		run.sighting(t, "A", "z1", fmt.Sprint("a", i), t0.Add(time.Minute))
	}
	run.step(t)
	clk.Advance(20 * time.Minute)
	run.step(t)
	for i := range 3 {
		run.sighting(t, "A", "z1", fmt.Sprint("b", i), t0.Add(16*time.Minute))
	}
	run.step(t)
	clk.Advance(20 * time.Minute)
	run.step(t)
	// The day ends and closes; the cursor moves.
	clk.Set(t0.Truncate(24 * time.Hour).Add(24*time.Hour + 30*time.Minute))
	run.step(t)
	run.step(t)
	// Late batches of intervals 0 and 1 are acknowledged; then a restart.
	for i := range 4 {
		run.sighting(t, "A", "z1", fmt.Sprint("late0-", i), t0.Add(2*time.Minute))
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
