package retail

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// checkNoneSummable fails when, in a cell's series of intervals (site,
// store, zone), exactly one of the visits and dwell totals is left out:
// every visit starts once (visits) and ends once (dwell), so once every
// visit of the series has ended the reader gets that one as the
// difference of the sums of the others over the series.
func checkNoneSummable(t *testing.T, recs []Aggregate) {
	t.Helper()
	type series struct{ site, store, zone string }
	type sums struct {
		out    []string
		visits int64 // shown visits minus shown dwell
	}
	by := map[series]*sums{}
	for _, r := range recs {
		s := series{r.Site, r.Store, r.Zone}
		if by[s] == nil {
			by[s] = &sums{}
		}
		if slices.Contains(r.Suppressed, "visits") {
			by[s].out = append(by[s].out, "visits of "+r.Start)
		} else {
			by[s].visits += int64(r.Visits)
		}
		if slices.Contains(r.Suppressed, "dwell") {
			by[s].out = append(by[s].out, "dwell of "+r.Start)
		} else {
			for _, b := range r.Dwell {
				by[s].visits -= int64(b.Visits)
			}
		}
	}
	for s, x := range by {
		if len(x.out) == 1 {
			d := x.visits
			if d < 0 {
				d = -d
			}
			t.Errorf("%s %s: %s is left out alone over the day: it is the day's visits minus its dwell totals shown, %d", s.store, s.zone, x.out[0], d)
		}
	}
}

// TestDwellNotDerivableFromTheDaysVisits (found by a review): zone shoes,
// k 5. In interval 1 five devices start visits and three of them end
// there: the dwell histogram (3 visits) was left out as below k. In
// interval 2 the other two end with five new devices' visits: dwell 7 and
// visits 5 shown. Every visit starts once and ends once, so over the day
// the dwell totals add up to the visits: 10 - 7 = 3, the one left out.
// Now visits (and new and returning) are left out with it; and a visits
// count left out takes the dwell histogram with it, the same the other
// way round.
func TestDwellNotDerivableFromTheDaysVisits(t *testing.T) {
	a, c, _ := newAgg(t, Options{}) // k 5, interval 15m, absence 5m
	for i := range 5 {
		to := 2 * time.Minute
		if i >= 3 {
			to = 14 * time.Minute
		}
		stay(a, "s1", "shoes", fmt.Sprint("d", i), 0, to)
	}
	for i := range 5 {
		stay(a, "s1", "shoes", fmt.Sprint("e", i), 16*time.Minute, 18*time.Minute)
	}
	a.Flush()
	if len(c.recs) != 2 {
		t.Fatalf("records %+v", c.recs)
	}
	checkNoneSummable(t, c.recs)
	checkNoneExposed(t, c.recs)
	if r := c.recs[0]; !slices.Contains(r.Suppressed, "dwell") || !slices.Contains(r.Suppressed, "visits") {
		t.Errorf("interval 1: %+v; want dwell and visits left out together", r)
	}
}

// TestVisitsAndDwellLeftOutTogether drives a seeded mix of short and long
// visits through one store's zones over a day (every visit ends by the
// Flush) and checks that no series leaves a visits or dwell total out
// alone, and no cell lets a reader narrow a count left out.
func TestVisitsAndDwellLeftOutTogether(t *testing.T) {
	for seed := range 30 {
		k := 2 + seed%5
		a, c, _ := newAgg(t, Options{K: k})
		n := 0
		for zone := range 3 {
			for iv := range 8 {
				for range (seed*7 + iv*3 + zone) % (2 * k) {
					from := time.Duration(iv)*15*time.Minute + time.Duration((n*37)%14)*time.Minute
					stay(a, "s1", fmt.Sprint("z", zone), fmt.Sprint("d", n), from, from+time.Duration(1+(n*13)%25)*time.Minute)
					n++
				}
			}
		}
		a.Flush()
		checkNoneSummable(t, c.recs)
		checkNoneExposed(t, c.recs)
	}
}
