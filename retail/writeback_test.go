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
