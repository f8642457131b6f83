package retail

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/upstream/spool"
)

var errKilled = errors.New("killed")

// TestSplitIntervalKilledBetweenRecords: an interval whose aggregates do
// not fit one record is written in several, whole stores each, the marker
// last, and sent only from what was stored (Forward on the stream's second
// reader). Killed after each of those writes (before anything is sent, or
// with everything written sent) and restarted on the same spool with a
// late sighting of every store spooled meanwhile, every cell is delivered,
// each id with one content, and each record stays within MaxRecordBytes.
func TestSplitIntervalKilledBetweenRecords(t *testing.T) {
	const stores, maxRec = 30, 4 << 10
	for kill := 1; ; kill++ {
		dir := t.TempDir()
		clk := clock.NewManual(t0)
		delivered := map[string]map[string]bool{}
		writes := 0
		open := func(killAt int) (*spool.Spool, *Follower) {
			sp, err := spool.Open(spool.Options{Dir: dir, Destinations: []string{"aggregation", "delivery"}, Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			f, err := NewFollower(Options{K: 1, EnterAfter: 1, Clock: clk, MaxRecordBytes: maxRec}, sp.Reader(0), func(rec []byte) error {
				if len(rec) > maxRec {
					t.Errorf("record of %d bytes; the limit is %d", len(rec), maxRec)
				}
				if err := sp.Append(rec, spool.RouteTo(0)|spool.RouteTo(1)); err != nil {
					return err
				}
				if writes++; writes == killAt {
					panic(errKilled)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return sp, f
		}
		forward := func(sp *spool.Spool) {
			err := Forward(sp.Reader(1), func(agg []byte) error {
				var a Aggregate
				if err := json.Unmarshal(agg, &a); err != nil {
					t.Fatalf("%s: %v", agg, err)
				}
				if delivered[a.ID] == nil {
					delivered[a.ID] = map[string]bool{}
				}
				delivered[a.ID][string(agg)] = true
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		sp, f := open(kill)
		for s := range stores {
			for d := range 3 {
				if err := sp.Append(bleRecord(fmt.Sprint("store-", s), fmt.Sprint("d", d), t0.Add(time.Minute)), spool.RouteTo(0)); err != nil {
					t.Fatal(err)
				}
			}
		}
		clk.Advance(time.Hour)
		killed := func() (k bool) {
			defer func() {
				if r := recover(); r != nil {
					if r != errKilled {
						panic(r)
					}
					k = true
				}
			}()
			if err := f.Poll(); err != nil {
				t.Fatal(err)
			}
			return false
		}()
		if !killed {
			sp.Close()
			if kill < 3 {
				t.Fatalf("the interval was written in %d records; want several", writes)
			}
			return
		}
		if kill%2 == 0 {
			forward(sp) // what was written is sent before the kill
		}
		sp.Close()
		sp, f = open(-1)
		for s := range stores {
			if err := sp.Append(bleRecord(fmt.Sprint("store-", s), "late", t0.Add(2*time.Minute)), spool.RouteTo(0)); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			if err := f.Poll(); err != nil {
				t.Fatal(err)
			}
			forward(sp)
		}
		sp.Close()
		if len(delivered) != stores {
			t.Errorf("killed after write %d: %d cells delivered; want %d", kill, len(delivered), stores)
		}
		for id, c := range delivered {
			if len(c) != 1 {
				t.Errorf("killed after write %d: id %s sent with %d contents: %v", kill, id, len(c), c)
			}
		}
	}
}

// TestSplitIntervalRestartSendsNoMergedZoneAlone: an interval written in
// several records and killed between them is computed again after the
// restart for the stores not written, counting the sightings spooled
// meanwhile; the stores written were skipped cell by cell. A zone of a
// written store that had been merged into its "*" cell (sent) was no cell
// of its own then, so a late sighting that lifted it to k had it sent on
// its own as well: "*" minus that zone gave the counts of the store's other
// small zones, below k. Once a store's "*" cell is written, none of its
// zones is sent on its own any more (nor counted in "*" again).
func TestSplitIntervalRestartSendsNoMergedZoneAlone(t *testing.T) {
	const maxRec = 4 << 10
	dir := t.TempDir()
	clk := clock.NewManual(t0)
	sent := newReviewSent(t)
	open := func(killAt int) (*spool.Spool, *Follower) {
		sp, err := spool.Open(spool.Options{Dir: dir, Destinations: []string{"aggregation", "delivery"}, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		writes := 0
		f, err := NewFollower(Options{K: 3, EnterAfter: 1, Clock: clk, MaxRecordBytes: maxRec}, sp.Reader(0), func(rec []byte) error {
			if err := sp.Append(rec, spool.RouteTo(0)|spool.RouteTo(1)); err != nil {
				return err
			}
			if writes++; writes == killAt {
				panic(errKilled)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return sp, f
	}
	sighting := func(sp *spool.Spool, store, zone, dev string) {
		rec := fmt.Appendf(nil, `{"v":1,"kind":"ble","site":"s","visitor":%q,"ble":{"store":%q,"sensor":%q,"rssi":-50,"seen":%q}}`,
			dev, store, zone, t0.Add(time.Minute).UTC().Format(time.RFC3339))
		if err := sp.Append(rec, spool.RouteTo(0)); err != nil {
			t.Fatal(err)
		}
	}
	sp, f := open(1)
	// "a": two small zones, merged into "*" (4 visitors, k 3); it sorts
	// first, so the first record holds it.
	for d := range 2 {
		sighting(sp, "a", "x", fmt.Sprint("x", d))
		sighting(sp, "a", "y", fmt.Sprint("y", d))
	}
	for s := range 30 { // enough stores for several records
		for d := range 3 {
			sighting(sp, fmt.Sprint("store-", s), "z", fmt.Sprint("d", d))
		}
	}
	clk.Advance(time.Hour)
	func() {
		defer func() {
			if r := recover(); r != errKilled {
				panic(r)
			}
		}()
		_ = f.Poll()
		t.Fatal("the interval fits one record; want several")
	}()
	if err := Forward(sp.Reader(1), sent.send); err != nil { // the first record is sent
		t.Fatal(err)
	}
	sp.Close()

	sp, f = open(-1)
	defer sp.Close()
	sighting(sp, "a", "x", "x-late") // acknowledged meanwhile: zone x has k visitors now
	for range 2 {
		if err := f.Poll(); err != nil {
			t.Fatal(err)
		}
		if err := Forward(sp.Reader(1), sent.send); err != nil {
			t.Fatal(err)
		}
	}
	if len(sent.byID) != 31 {
		t.Errorf("%d cells sent; want 31 (a's \"*\" and the 30 stores')", len(sent.byID))
	}
	sent.check("after the restart", "x", "y")
}
