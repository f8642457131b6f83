package retail

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exposed names the counts left out of r that a reader can pin down more
// closely than to k-1 values, as many as "1 to k-1" leaves of a count left
// out alone. The reader sees the counts shown, zeros among them (a zero not
// named in suppressed is 0), visitors and k, and knows the rule: it keeps
// only the values of the counts left out for which withhold would leave
// out exactly what r leaves out (see narrowed).
func exposed(r Aggregate) []string {
	var shown [nCounts]uint32
	var hide [nCounts]bool
	for i, v := range [nCounts]uint32{r.Visits, r.New, r.Returning, r.Sightings, r.Randomized, r.Weak, r.Anonymous} {
		shown[i] = v
		hide[i] = slices.Contains(r.Suppressed, countNames[i])
	}
	return narrowed(shown, hide, uint32(r.K), r.Visitors)
}

// narrowed is the reader's side of withhold: given the counts shown (those
// not in hide), visitors and k, it tries every value of the counts left out
// that is consistent with what a reader knows of a cell and keeps those for
// which withhold leaves out exactly hide. What a reader knows:
//
//   - visits = new + returning; new <= visitors (a new visit is a device's
//     first of the day, and the device is counted);
//   - sightings = randomized + weak + anonymous + strong, with strong >=
//     max(visitors, visits) (each visitor counted and each visit started
//     in the interval was a strong sighting in it);
//   - a count shown as 0 (not in hide) is 0;
//   - withhold itself (so a total left out although it is at least
//     visitors >= k tells that the parts left out hold fewer than k).
//
// It returns, for each count left out with fewer than k-1 such values, its
// name and the values. A total left out is tried up to 4k beyond what the
// reader knows of it: a bound only makes the check stricter.
func narrowed(shown [nCounts]uint32, hide [nCounts]bool, k, visitors uint32) []string {
	need := int(max(k, 2)) - 1
	var vals [nCounts]map[uint32]bool
	for i := range vals {
		if hide[i] {
			vals[i] = map[uint32]bool{}
		}
	}
	enough := func(ids ...int) bool {
		for _, i := range ids {
			if hide[i] && len(vals[i]) < need {
				return false
			}
		}
		return true
	}
	span := 4 * k
	dom := func(i int, hi uint32) (uint32, uint32) {
		if !hide[i] {
			return shown[i], shown[i]
		}
		return 0, hi
	}
	same := func(x *[nCounts]uint32, from, to int) bool {
		h := withhold(x, k, visitors)
		for i := from; i < to; i++ {
			if h[i] != hide[i] {
				return false
			}
		}
		return true
	}
	// Visits, new, returning. withhold decides them from these three
	// alone; which sightings go with them cannot change what it leaves
	// out of them (it is checked below with each visits value kept).
	type visitCand struct{ visits, fresh, ret uint32 }
	var cands []visitCand
	vlo, vhi := dom(cVisits, span)
	for visits := vlo; visits <= vhi; visits++ {
		nlo, nhi := dom(cNew, visits)
		for fresh := nlo; fresh <= nhi && fresh <= visits; fresh++ {
			ret := visits - fresh
			if !hide[cReturning] && ret != shown[cReturning] || fresh > visitors {
				continue
			}
			x := shown
			x[cVisits], x[cNew], x[cReturning] = visits, fresh, ret
			x[cSightings] = max(visitors, visits) // strong only: none left out
			x[cRandomized], x[cWeak], x[cAnonymous] = 0, 0, 0
			if !same(&x, cVisits, cSightings) {
				continue
			}
			cands = append(cands, visitCand{visits, fresh, ret})
			for i, v := range [...]uint32{visits, fresh, ret} {
				if hide[i] {
					vals[i][v] = true
				}
			}
		}
	}
	// Sightings and their kinds, with every visits value found above.
	seenVisits := map[uint32]bool{}
sightings:
	for _, c := range cands {
		if seenVisits[c.visits] {
			continue
		}
		seenVisits[c.visits] = true
		known := max(visitors, c.visits)
		hi := span
		if !hide[cSightings] {
			hi = shown[cSightings]
		}
		rlo, rhi := dom(cRandomized, hi)
		wlo, whi := dom(cWeak, hi)
		alo, ahi := dom(cAnonymous, hi)
		for rn := rlo; rn <= rhi; rn++ {
			for wk := wlo; wk <= whi; wk++ {
				for an := alo; an <= ahi; an++ {
					kinds := uint64(rn) + uint64(wk) + uint64(an)
					slo, shi := uint64(known), uint64(known)+uint64(span)
					if !hide[cSightings] {
						if uint64(shown[cSightings]) < kinds+uint64(known) {
							continue
						}
						slo = uint64(shown[cSightings]) - kinds
						shi = slo
					}
					for strong := slo; strong <= shi; strong++ {
						x := shown
						x[cVisits], x[cNew], x[cReturning] = c.visits, c.fresh, c.ret
						x[cSightings] = uint32(kinds + strong)
						x[cRandomized], x[cWeak], x[cAnonymous] = rn, wk, an
						if !same(&x, cSightings, nCounts) {
							continue
						}
						for i := cSightings; i < nCounts; i++ {
							if hide[i] {
								vals[i][x[i]] = true
							}
						}
						if enough(cSightings, cRandomized, cWeak, cAnonymous) {
							break sightings
						}
					}
				}
			}
		}
	}
	var out []string
	for i := range vals {
		if hide[i] && len(vals[i]) < need {
			got := slices.Sorted(maps.Keys(vals[i]))
			out = append(out, fmt.Sprintf("%s in %v", countNames[i], got))
		}
	}
	return out
}

func checkNoneExposed(t *testing.T, recs []Aggregate) {
	t.Helper()
	for _, r := range recs {
		if e := exposed(r); len(e) > 0 {
			t.Errorf("cell %s %s %s (k=%d): counts left out can be worked out: %v\n%+v", r.Start, r.Store, r.Zone, r.K, e, r)
		}
	}
}

// TestReturningNotDerivableFromVisitsMinusNew (found by a review): device R
// visits zone shoes in interval 1 and comes back in interval 2 with 5
// first-time devices. Interval 2 showed visits=6 new=5 and left returning
// out as below k, but returning = visits - new = 1. Now new is left out
// too: the two hold 6 >= k together.
func TestReturningNotDerivableFromVisitsMinusNew(t *testing.T) {
	a, c, _ := newAgg(t, Options{}) // k = 5, interval 15m, absence 5m
	stay(a, "s1", "shoes", "R", 0, 2*time.Minute)
	stay(a, "s1", "shoes", "R", 16*time.Minute, 18*time.Minute)
	for _, d := range []string{"D1", "D2", "D3", "D4", "D5"} {
		stay(a, "s1", "shoes", d, 16*time.Minute, 18*time.Minute)
	}
	a.Flush()
	for _, r := range c.recs {
		if r.Visits >= 5 && r.New >= 5 && r.Returning == 0 && r.Visits-r.New > 0 && r.Visits-r.New < 5 {
			t.Errorf("cell %s %s: returning suppressed as below k=%d, but visits-new = %d reveals it", r.Start, r.Zone, r.K, r.Visits-r.New)
		}
	}
	checkNoneExposed(t, c.recs)
	z := c.recs[len(c.recs)-1]
	if z.Zone != "shoes" || z.Visitors != 6 || z.Visits != 6 || z.New != 0 || z.Returning != 0 || !slices.Equal(z.Suppressed, []string{"new", "returning"}) {
		t.Fatalf("interval 2: %+v; want visits 6 shown, new and returning left out", z)
	}
}

// TestNewNotDerivableFromVisitsMinusReturning: the reverse. Five devices
// come back in interval 2 with one first-time device: new (1) is below k,
// and returning (5) is left out with it.
func TestNewNotDerivableFromVisitsMinusReturning(t *testing.T) {
	a, c, _ := newAgg(t, Options{})
	devs := []string{"R1", "R2", "R3", "R4", "R5"}
	for _, d := range devs {
		stay(a, "s1", "shoes", d, 0, 2*time.Minute)
		stay(a, "s1", "shoes", d, 16*time.Minute, 18*time.Minute)
	}
	stay(a, "s1", "shoes", "D1", 16*time.Minute, 18*time.Minute)
	a.Flush()
	checkNoneExposed(t, c.recs)
	z := c.recs[len(c.recs)-1]
	if z.Visitors != 6 || z.Visits != 6 || z.New != 0 || z.Returning != 0 || !slices.Equal(z.Suppressed, []string{"new", "returning"}) {
		t.Fatalf("interval 2: %+v; want visits 6 shown, new and returning left out", z)
	}
}

// seeKind adds one sighting at t0+at: randomized, anonymous (no device
// id), weak or strong.
func seeKind(a *Aggregator, zone, kind string, i int, at time.Duration) {
	s := Sighting{Site: []byte("shop"), Store: []byte("s1"), Zone: []byte(zone), RSSI: -60, AtMS: t0.Add(at).UnixMilli()}
	switch kind {
	case "randomized":
		s.Device, s.Randomized = fmt.Appendf(nil, "r%d", i), true
	case "anonymous":
	case "weak":
		s.Device, s.RSSI = fmt.Appendf(nil, "w%d", i), -90
	default:
		s.Device = fmt.Appendf(nil, "d%d", i)
	}
	a.Add(&s)
}

// TestSightingKindsNotDerivableFromSightings: sightings are randomized,
// anonymous, weak or strong, and a reader knows at least max(visitors,
// visits) were strong. With 5 visitors seen once each (enter_after 1), one
// sighting of one kind and 5 or 7 of the others, sightings minus the kinds
// shown minus the visitors gave the one away. Now the smallest kind shown
// is left out with it; and with no other kind to leave out, the sightings.
func TestSightingKindsNotDerivableFromSightings(t *testing.T) {
	kinds := []string{"randomized", "weak", "anonymous"}
	for _, small := range kinds {
		for _, others := range []int{0, 5, 7} {
			t.Run(fmt.Sprintf("%s_others%d", small, others), func(t *testing.T) {
				a, c, _ := newAgg(t, Options{EnterAfter: 1})
				for i := range 5 {
					seeKind(a, "z", "strong", i, time.Minute)
				}
				n := 0
				for _, kind := range kinds {
					count := others
					if kind == small {
						count = 1
					}
					for range count {
						seeKind(a, "z", kind, n, time.Minute)
						n++
					}
				}
				a.Flush()
				if len(c.recs) != 1 || c.recs[0].Visitors != 5 {
					t.Fatalf("records %+v", c.recs)
				}
				checkNoneExposed(t, c.recs)
				r := c.recs[0]
				name := small + "_sightings"
				if !slices.Contains(r.Suppressed, name) {
					t.Errorf("%s not left out: %+v", name, r)
				}
				if others == 0 && (r.Sightings != 0 || !slices.Contains(r.Suppressed, "sightings")) {
					t.Errorf("no other kind to leave out, yet sightings shown: %+v", r)
				}
				if others > 0 && (r.Sightings != uint32(5+1+2*others) || len(r.Suppressed) != 2) {
					t.Errorf("want the sightings shown and one more kind left out: %+v", r)
				}
			})
		}
	}
}

// TestWithholdComplements checks the rule on counts alone.
func TestWithholdComplements(t *testing.T) {
	for _, tc := range []struct {
		v        [nCounts]uint32
		k        uint32
		visitors uint32
		want     []string
	}{
		// Nothing below k.
		{[nCounts]uint32{6, 6, 0, 60, 5, 0, 5}, 5, 6, nil},
		// returning 1: new (the only other part) goes too.
		{[nCounts]uint32{6, 5, 1, 60, 0, 0, 0}, 5, 6, []string{"new", "returning"}},
		// Two parts below k holding k together: enough.
		{[nCounts]uint32{6, 5, 1, 30, 2, 3, 9}, 5, 6, []string{"new", "returning", "randomized_sightings", "weak_sightings"}},
		// Two parts below k short of k: the smaller shown one goes, the
		// first of equals.
		{[nCounts]uint32{6, 6, 0, 18, 1, 2, 9}, 5, 6, []string{"randomized_sightings", "weak_sightings", "anonymous_sightings"}},
		{[nCounts]uint32{6, 6, 0, 25, 1, 7, 7}, 5, 10, []string{"randomized_sightings", "weak_sightings"}},
		// Strong sightings beyond what a reader knows (20 - 6 = 14) hide
		// the one randomized sighting; the kinds that are 0 go with it (a
		// reader who saw them 0 would know it is at least 1).
		{[nCounts]uint32{6, 6, 0, 21, 1, 0, 0}, 5, 6, []string{"randomized_sightings", "weak_sightings", "anonymous_sightings"}},
		// Only 2 beyond: the total goes.
		{[nCounts]uint32{6, 6, 0, 9, 1, 0, 0}, 5, 6, []string{"sightings", "randomized_sightings", "weak_sightings", "anonymous_sightings"}},
		// Visits count towards what a reader knows of the strong ones.
		{[nCounts]uint32{9, 9, 0, 10, 1, 0, 0}, 5, 5, []string{"sightings", "randomized_sightings", "weak_sightings", "anonymous_sightings"}},
		// A total below k is left out; its parts give nothing away.
		{[nCounts]uint32{4, 3, 1, 30, 0, 0, 0}, 5, 6, []string{"visits", "new", "returning"}},
		// Nothing left out of a partition: its zeros are shown.
		{[nCounts]uint32{6, 0, 6, 30, 0, 0, 0}, 5, 6, nil},
	} {
		v := tc.v
		hide := withhold(&v, tc.k, tc.visitors)
		var got []string
		for i := range hide {
			if hide[i] {
				got = append(got, countNames[i])
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("withhold(%v, k=%d, visitors=%d) = %v; want %v", tc.v, tc.k, tc.visitors, got, tc.want)
		}
	}
}

// TestWithholdReviewerCases (found by a review): a reader who saw the
// zeros, or who knew the rule, still pinned counts left out down.
//   - k=3, visitors 3, visits 3 (all new), sightings 6: 1 randomized, 1
//     weak, 1 anonymous. The three kinds were left out, the sightings
//     shown: they hold at most 6 - 3 = 3, each at least 1 (a zero was
//     shown), so each was 1.
//   - k=5, visitors 5, visits 5, sightings 8 with 1 of each kind: the
//     sightings were left out too, but sightings >= visitors >= k can only
//     be left out when the kinds and the strong ones beyond visitors hold
//     fewer than k: each kind was 1 or 2.
//   - k=3, visits 2 = new 1 + returning 1, all left out: the parts at least
//     1 each, both were 1.
//
// Now the zeros of a partition with a count left out are left out too, so
// a part left out may be 0.
func TestWithholdReviewerCases(t *testing.T) {
	for _, tc := range []struct {
		v           [nCounts]uint32
		k, visitors uint32
		want        []string
	}{
		// The same three left out: a reader now cannot tell a kind left
		// out from 0 (0, 1 and 2 would leave them out as well).
		{[nCounts]uint32{3, 3, 0, 6, 1, 1, 1}, 3, 3, []string{"randomized_sightings", "weak_sightings", "anonymous_sightings"}},
		{[nCounts]uint32{5, 5, 0, 8, 1, 1, 1}, 5, 5, []string{"sightings", "randomized_sightings", "weak_sightings", "anonymous_sightings"}},
		{[nCounts]uint32{2, 1, 1, 9, 0, 0, 0}, 3, 3, []string{"visits", "new", "returning"}},
	} {
		v := tc.v
		hide := withhold(&v, tc.k, tc.visitors)
		var got []string
		var shown [nCounts]uint32
		for i := range hide {
			if hide[i] {
				got = append(got, countNames[i])
			} else {
				shown[i] = v[i]
			}
		}
		if e := narrowed(shown, hide, tc.k, tc.visitors); len(e) > 0 {
			t.Errorf("withhold(%v, k=%d, visitors=%d) leaves out %v; a reader narrows %v", tc.v, tc.k, tc.visitors, got, e)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("withhold(%v, k=%d, visitors=%d) = %v; want %v", tc.v, tc.k, tc.visitors, got, tc.want)
		}
	}
}

// TestWithholdReaderCannotNarrow runs withhold on every cell of small
// counts (k 2 to 6; each part up to k+1, and up to k+1 strong sightings
// beyond max(visitors, visits)) and checks from the reader's side
// (narrowed) that no count left out can be told to fewer than k-1 values.
func TestWithholdReaderCannotNarrow(t *testing.T) {
	type out struct {
		shown [nCounts]uint32
		hide  [nCounts]bool
	}
	for k := uint32(2); k <= 6; k++ {
		for _, visitors := range []uint32{k, k + 2} {
			done := map[out]bool{}
			check := func(v [nCounts]uint32) {
				x := v
				hide := withhold(&x, k, visitors)
				o := out{hide: hide}
				for i := range v {
					if !hide[i] {
						o.shown[i] = v[i]
						if v[i] > 0 && v[i] < k {
							t.Fatalf("withhold(%v, k=%d, visitors=%d) shows %s below k", v, k, visitors, countNames[i])
						}
					}
				}
				if done[o] {
					return
				}
				done[o] = true
				if e := narrowed(o.shown, hide, k, visitors); len(e) > 0 {
					t.Errorf("withhold(%v, k=%d, visitors=%d) = %v: a reader narrows %v", v, k, visitors, hide, e)
				}
			}
			// Visits, new and returning, with no sighting left out.
			for visits := range 2*k + 2 {
				for fresh := range min(visits, visitors) + 1 {
					check([nCounts]uint32{visits, fresh, visits - fresh, max(visitors, visits), 0, 0, 0})
				}
			}
			// Sightings and their kinds, with visits shown (0 or more than
			// visitors) or left out.
			for _, visits := range []uint32{0, k - 1, visitors + 2} {
				known := max(visitors, visits)
				for rn := range k + 2 {
					for wk := range k + 2 {
						for an := range k + 2 {
							for extra := range k + 2 {
								check([nCounts]uint32{visits, min(visits, visitors), visits - min(visits, visitors), rn + wk + an + known + extra, rn, wk, an})
							}
						}
					}
				}
			}
		}
	}
}

// TestNoCountLeftOutIsDerivable drives a seeded random mix of devices,
// returns and sighting kinds through stores of several zones (some merged
// into "*") and checks that no cell shows a count below k or lets a reader
// who sees its zeros and knows the rule (exposed) narrow one left out to
// fewer than k-1 values, and every dwell bucket holds k visits. On the code
// before zeros were left out with their partition it failed: a cell with
// sightings left out although at least visitors >= k, and weak and
// anonymous left out, randomized shown as 0, gave weak and anonymous 1 to
// 3 and sightings 7 to 9 (k 5).
func TestNoCountLeftOutIsDerivable(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 7))
		k := 2 + rng.IntN(5)
		a, c, _ := newAgg(t, Options{K: k, EnterAfter: 1 + rng.IntN(2)})
		for store := range 3 {
			st := fmt.Sprint("s", store)
			for zone := range 4 {
				z := fmt.Sprint("z", zone)
				devs := rng.IntN(2 * k)
				for d := range devs {
					dev := fmt.Sprintf("%s-%s-%d", st, z, d)
					at := time.Duration(rng.IntN(60)) * time.Minute
					for range 1 + rng.IntN(3) { // visits, some returning
						for i := range 1 + rng.IntN(3) {
							see(a, st, z, dev, -60, at+time.Duration(i)*20*time.Second)
						}
						at += time.Duration(6+rng.IntN(20)) * time.Minute
					}
				}
				for i := range rng.IntN(2 * k) {
					a.Add(&Sighting{Site: []byte("shop"), Store: []byte(st), Zone: []byte(z),
						Device: fmt.Appendf(nil, "x%d", i), Randomized: true, RSSI: -60,
						AtMS: t0.Add(time.Duration(rng.IntN(60)) * time.Minute).UnixMilli()})
				}
				for _, weak := range []bool{true, false} { // weak, then anonymous
					for i := range rng.IntN(2 * k) {
						s := Sighting{Site: []byte("shop"), Store: []byte(st), Zone: []byte(z), RSSI: -90,
							AtMS: t0.Add(time.Duration(rng.IntN(60)) * time.Minute).UnixMilli()}
						if weak {
							s.Device = fmt.Appendf(nil, "w%d", i)
						}
						a.Add(&s)
					}
				}
			}
		}
		a.Flush()
		checkNoneExposed(t, c.recs)
		for _, r := range c.recs {
			for _, v := range []uint32{r.Visitors, r.Visits, r.New, r.Returning, r.Sightings, r.Randomized, r.Weak, r.Anonymous} {
				if v > 0 && v < uint32(k) || r.Visitors == 0 {
					t.Fatalf("seed %d: a count below k=%d shown: %+v", seed, k, r)
				}
			}
			for _, b := range r.Dwell {
				if b.Visits < uint32(k) {
					t.Fatalf("seed %d: dwell bucket below k=%d: %+v", seed, k, r)
				}
			}
		}
	}
}
