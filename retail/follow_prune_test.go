package retail

import (
	"fmt"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// TestEmittedBoundedByADay: the cells a Follower notes as emitted (read
// back from its stream) are forgotten once their intervals are closed and
// a new period begins, so over days they stay about one period's cells,
// not every cell since the start (some 1M a day at 1,000 stores, 10 zones
// and 96 intervals).
func TestEmittedBoundedByADay(t *testing.T) {
	day := t0.Truncate(24 * time.Hour)
	clk := clock.NewManual(day)
	src := &memSource{}
	f, err := NewFollower(Options{K: 1, EnterAfter: 1, Clock: clk}, src, func(rec []byte) error {
		src.recs = append(src.recs, append([]byte(nil), rec...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const days, perDay, zones = 3, 96, 2
	most := 0
	for i := range days * perDay {
		at := day.Add(time.Duration(i)*15*time.Minute + time.Minute)
		for z := range zones {
			src.recs = append(src.recs, fmt.Appendf(nil, `{"v":1,"kind":"ble","site":"s","visitor":"d%d","ble":{"store":"A","sensor":"z%d","rssi":-50,"seen":%q}}`,
				i, z, at.UTC().Format(time.RFC3339)))
		}
		clk.Set(at.Add(15 * time.Minute))
		if err := f.Poll(); err != nil {
			t.Fatal(err)
		}
		if err := f.Poll(); err != nil { // reads its markers back
			t.Fatal(err)
		}
		most = max(most, len(f.emitted))
	}
	if emitted := f.a.Stats().CellsEmitted; emitted < days*perDay*zones-zones*2 {
		t.Fatalf("%d cells emitted; want about %d", emitted, days*perDay*zones)
	}
	if most > (perDay+slots)*zones {
		t.Fatalf("%d cells noted as emitted at most; want at most a day's, %d", most, (perDay+slots)*zones)
	}
}
