package retail

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// appendingSource is a memSource to which the Follower's appends go, as
// the spool's do.
func (m *memSource) append(rec []byte) error {
	m.recs = append(m.recs, bytes.Clone(rec))
	return nil
}

func bleRecord(store, dev string, at time.Time) []byte {
	return fmt.Appendf(nil, `{"v":1,"kind":"ble","site":"s","visitor":%q,"ble":{"store":%q,"sensor":"z","rssi":-50,"seen":%q}}`,
		dev, store, at.UTC().Format(time.RFC3339))
}

// TestFollowerCommitsPastAClosedDay: once every interval of the last day
// read is closed and none is open, the cursor moves past everything read,
// though no sighting of the new day was read (a BLE spool full of the day
// before refuses them: before, the cursor stayed at that day's first
// sighting and the spool was never freed). A restart from there sends
// nothing again.
func TestFollowerCommitsPastAClosedDay(t *testing.T) {
	clk := clock.NewManual(t0)
	src := &memSource{}
	for i := range 6 {
		src.recs = append(src.recs, bleRecord("A", fmt.Sprint("d", i), t0.Add(time.Duration(i)*time.Minute)))
	}
	sent := 0
	f, err := NewFollower(Options{K: 1, EnterAfter: 1, Clock: clk}, src, func(rec []byte) error {
		_ = Aggregates(rec, func([]byte) error { sent++; return nil })
		return src.append(rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if err := f.Poll(); err != nil {
		t.Fatal(err)
	}
	if sent == 0 || src.committed != 0 {
		t.Fatalf("within the day: %d aggregates sent, cursor at %d (want some, and 0: the day's first sighting)", sent, src.committed)
	}
	// The day ends; its last intervals close. No sighting of the new day.
	end := t0.Truncate(24 * time.Hour).Add(24*time.Hour + 30*time.Minute)
	clk.Advance(end.Sub(clk.Now()))
	if err := f.Poll(); err != nil {
		t.Fatal(err)
	}
	if err := f.Poll(); err != nil { // reads back what the last poll appended
		t.Fatal(err)
	}
	if src.committed < 6 {
		t.Fatalf("cursor at %d of %d records after the day closed: the spool is never freed", src.committed, len(src.recs))
	}
	// A restart reads from the cursor: nothing is sent again.
	rest := &memSource{recs: src.recs[src.committed:]}
	again := 0
	g, err := NewFollower(Options{K: 1, EnterAfter: 1, Clock: clk}, rest, func(rec []byte) error {
		_ = Aggregates(rec, func([]byte) error { again++; return nil })
		return rest.append(rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Poll(); err != nil {
		t.Fatal(err)
	}
	if again != 0 {
		t.Fatalf("a restart from the cursor sent %d aggregates again", again)
	}
}

// TestStatsWhileEmitWaits: Stats (a /metrics scrape) answers while emit
// waits (the Follower's append retrying on a full pipeline), though the
// aggregator's lock is held; before, it waited as long as emit did.
func TestStatsWhileEmitWaits(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	clk := clock.NewManual(t0)
	a, err := New(Options{K: 1, EnterAfter: 1, Clock: clk}, func([]byte) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
	})
	if err != nil {
		t.Fatal(err)
	}
	defer close(release)
	see(a, "A", "z", "d1", -50, time.Minute)
	go a.TickAt(t0.Add(30 * time.Minute))
	<-entered
	got := make(chan Stats, 1)
	go func() { got <- a.Stats() }()
	select {
	case s := <-got:
		if s.Sightings != 1 || s.CellsEmitted != 1 || s.Tracked != 1 {
			t.Fatalf("Stats = %+v", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stats waited 5 s for a blocked emit")
	}
}

// TestFollowerCountsByBLEZone: the zone of a sighting is its record's
// ble.zone (written under every policy), else props.zone (records of
// earlier versions), else ble.sensor: sightings of one zone under the none
// policy (no props) and under analytics (props kept) land in one cell.
func TestFollowerCountsByBLEZone(t *testing.T) {
	clk := clock.NewManual(t0)
	src := &memSource{}
	for i := range 4 {
		at := t0.Add(time.Duration(i) * time.Second).UTC().Format(time.RFC3339)
		var rec string
		switch i % 3 {
		case 0: // none: no props, the zone in ble
			rec = fmt.Sprintf(`{"v":1,"kind":"ble","site":"s","visitor":"d%d","ble":{"store":"A","sensor":"gate-3","zone":"shoes","rssi":-50,"seen":%q}}`, i, at)
		case 1: // analytics: props kept too
			rec = fmt.Sprintf(`{"v":1,"kind":"ble","site":"s","visitor":"d%d","props":{"zone":"shoes"},"ble":{"store":"A","sensor":"gate-3","zone":"shoes","rssi":-50,"seen":%q}}`, i, at)
		case 2: // a record of an earlier version: props only
			rec = fmt.Sprintf(`{"v":1,"kind":"ble","site":"s","visitor":"d%d","props":{"zone":"shoes"},"ble":{"store":"A","sensor":"gate-3","rssi":-50,"seen":%q}}`, i, at)
		}
		src.recs = append(src.recs, []byte(rec))
	}
	zones := map[string]float64{}
	f, err := NewFollower(Options{K: 1, EnterAfter: 1, Clock: clk}, src, func(rec []byte) error {
		_ = Aggregates(rec, func(agg []byte) error {
			var a Aggregate
			if err := json.Unmarshal(agg, &a); err != nil {
				t.Fatal(err)
			}
			zones[a.Zone] += float64(a.Visitors)
			return nil
		})
		return src.append(rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if err := f.Poll(); err != nil {
		t.Fatal(err)
	}
	if len(zones) != 1 || zones["shoes"] != 4 {
		t.Fatalf("visitors by zone %v; want all 4 in shoes", zones)
	}
}
