package retail

import (
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// memSource is a Source over records in memory.
type memSource struct {
	recs      [][]byte
	pos       int
	committed uint64
}

func (m *memSource) Next() ([]byte, int64, bool, error) {
	if m.pos >= len(m.recs) {
		return nil, 0, false, nil
	}
	m.pos++
	return m.recs[m.pos-1], 0, true, nil
}
func (m *memSource) Pos() uint64             { return uint64(m.pos) }
func (m *memSource) Commit(off uint64) error { m.committed = off; return nil }

// FuzzFollowerRecord: whatever a spooled record holds, the Follower
// neither panics nor fails, and Aggregates does not panic; a record they
// cannot read is skipped.
func FuzzFollowerRecord(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"kind":"ble","site":"s","visitor":"v","ble":{"store":"a","sensor":"z","rssi":-50,"seen":"2026-11-24T10:00:00.000Z"}}`,
		`{"v":1,"kind":"ble","site":"s","ble":{"store":"a","sensor":"z","rssi":-50,"seen":"2026-11-24T10:00:00.000Z","randomized":true}}`,
		`{"v":1,"kind":"ble_aggregate","site":"s","store":"a","zone":"z","start":"2026-11-24T10:00:00Z"}`,
		`{"v":1,"kind":"ble_interval_closed","start":"2026-11-24T10:00:00Z"}`,
		`{"v":1,"kind":"ble_interval_closed","start":"2026-11-24T10:00:00Z","end":"2026-11-24T10:30:00Z","read":0}`,
		`{"v":1,"kind":"ble_interval_closed","start":"2026-11-24T10:00:00Z","end":"2026-11-24T09:00:00Z"}`,
		`{"v":1,"kind":"ble_keys_changed"}`,
		`{"v":1,"kind":"ble_interval_closed","start":"2026-11-24T10:00:00Z","aggregates":[{"v":1,"kind":"ble_aggregate","site":"s","store":"a","zone":"z","start":"2026-11-24T10:00:00Z"}]}`,
		`{"v":1,"kind":"ble_aggregates","aggregates":[{"site":"s","store":"a","zone":"*","start":"2026-11-24T10:00:00Z"},7]}`,
		`{"kind":"ble_interval_closed","start":"9999-99-99"}`, `{"kind":"ble","ble":7}`, `[`, ``,
		// Escaped names, a UTC offset, a time outside the day, extreme numbers.
		`{"v":1,"kind":"\u0062le","s\u0069te":"s\u00e9","visitor":"","ble":{"store":"","sensor":"z","rssi":-1e999,"seen":"2026-11-24T12:00:00.000+02:00"}}`,
		`{"v":1,"kind":"ble","site":"s","visitor":"v","ble":{"store":"a","sensor":"z","rssi":-128,"seen":"2026-11-25T00:00:00.000Z"}}`,
		`{"v":2,"kind":"ble_interval_closed","start":"2026-11-24T10:00:00+01:00","aggregates":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		src := &memSource{recs: [][]byte{rec, rec}}
		fl, err := NewFollower(Options{K: 1, MaxDevices: 64, Clock: clock.Fixed(time.Date(2026, 11, 24, 11, 0, 0, 0, time.UTC))}, src, func([]byte) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if err := fl.Flush(); err != nil {
			t.Fatalf("%q: %v", rec, err)
		}
		if err := Aggregates(rec, func([]byte) error { return nil }); err != nil {
			t.Fatalf("%q: Aggregates: %v", rec, err)
		}
	})
}
