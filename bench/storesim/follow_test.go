package storesim

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/retail"
	"github.com/beacongate/beacongate/upstream/spool"
)

// bleRecord is the record the gateway spools for a sighting: the visitor
// hash stands in the device (here the normalised MAC, which the keyed hash
// maps one to one), none for a randomized MAC.
func bleRecord(x *Sighting) []byte {
	mac, _ := retail.AppendMAC(nil, []byte(x.MAC))
	rnd := retail.Randomized(mac)
	rec := `{"v":1,"kind":"ble","site":"chain"`
	if !rnd {
		rec += `,"visitor":"` + string(mac) + `"`
	}
	rec += fmt.Sprintf(`,"ble":{"store":%q,"sensor":%q,"rssi":%d,"seen":%q`, x.Store, x.Zone, x.RSSI,
		time.UnixMilli(x.AtMS).UTC().Format("2006-01-02T15:04:05.000Z"))
	if rnd {
		rec += `,"randomized":true`
	}
	return []byte(rec + "}}")
}

var errKilled = errors.New("killed")

// followRun spools the simulation's sightings as the gateway would and
// follows them with a Follower, the clock stepping with the sightings. At
// sighting killAt (if > 0) the process "dies": the Follower's memory is
// dropped, the spool closed and reopened from disk, and a new Follower
// started. killAfterAppends > 0 instead kills it right after that many of
// its own appends (each an interval's marker record, which holds the
// interval's aggregates), i.e. between the intervals it closes at once. It
// returns the aggregates the destination received.
func followRun(t *testing.T, res *Result, killAt, killAfterAppends int) []string {
	t.Helper()
	dir := t.TempDir()
	open := func() *spool.Spool {
		sp, err := spool.Open(spool.Options{Dir: dir, Destinations: []string{"retail", "out"}})
		if err != nil {
			t.Fatal(err)
		}
		return sp
	}
	sp := open()
	clk := clock.NewManual(clocktest.Golden)
	appends := 0
	follower := func(sp *spool.Spool, limit int) *retail.Follower {
		f, err := retail.NewFollower(retail.Options{Clock: clk}, sp.Reader(0), func(rec []byte) error {
			if limit > 0 && appends >= limit {
				return errKilled
			}
			appends++
			return sp.Append(rec, spool.RouteTo(0)|spool.RouteTo(1))
		})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := follower(sp, killAfterAppends)
	kills := 0
	restart := func() {
		kills++
		if err := sp.Close(); err != nil {
			t.Fatal(err)
		}
		sp = open()
		f = follower(sp, 0)
	}
	for i := range res.Sightings {
		x := &res.Sightings[i]
		if err := sp.Append(bleRecord(x), spool.RouteTo(0)); err != nil {
			t.Fatal(err)
		}
		if i == killAt && killAt > 0 {
			restart()
		}
		if i%200 == 199 {
			clk.Set(time.UnixMilli(x.AtMS))
			if err := f.Poll(); errors.Is(err, errKilled) {
				restart()
			} else if err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	if (killAt > 0 || killAfterAppends > 0) && kills != 1 {
		t.Fatalf("%d kills; want 1", kills)
	}
	var out []string
	seen := map[string]bool{}
	r := sp.Reader(1)
	for {
		rec, _, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		// The Follower writes an interval's aggregates in its marker
		// record (or in records of whole stores before it): the
		// destination gets each one as stored (see retail.Forward).
		_ = retail.Aggregates(rec, func(agg []byte) error {
			v := fastjson.MustParseBytes(agg)
			cell := string(v.GetStringBytes("store")) + " " + string(v.GetStringBytes("zone")) + " " + string(v.GetStringBytes("start"))
			if seen[cell] {
				t.Errorf("cell %s emitted twice", cell)
			}
			seen[cell] = true
			out = append(out, string(agg))
			return nil
		})
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestFollowerSurvivesKills: aggregates built from the spool are the same
// whether the process runs through, is killed in the middle of an
// interval (its memory lost, every sighting of the open intervals and the
// period read again from the spool), or is killed between the write-backs
// of intervals closed at once: no cell is lost, none is emitted twice,
// none counts a sighting twice.
func TestFollowerSurvivesKills(t *testing.T) {
	res := Run(Options{Seed: 5, Stores: 2, Zones: 3, Devices: 400, RandomizedShare: 0.3, Start: clocktest.Golden, Duration: time.Hour})
	want := followRun(t, res, 0, 0)
	if len(want) < 6 {
		t.Fatalf("only %d aggregates in the reference run", len(want))
	}
	for _, c := range []struct {
		name              string
		killAt, killAfter int
	}{
		{"mid-interval", len(res.Sightings) * 2 / 5, 0},
		{"late in the run", len(res.Sightings) * 4 / 5, 0},
		{"between intervals' write-backs", 0, 3},
	} {
		got := followRun(t, res, c.killAt, c.killAfter)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d aggregates differ from the run without a kill (%d)", c.name, len(got), len(want))
			for _, g := range got {
				if !slices.Contains(want, g) {
					t.Logf("  got  %s", g)
				}
			}
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Logf("  want %s", w)
				}
			}
		}
	}
}
