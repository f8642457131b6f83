package retail

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/beacongate/beacongate/internal/schematest"
)

// TestAggregatesMatchSchema: every aggregate the aggregator emits in a
// day of varied traffic (cells above k, zones merged into "*", stores
// below k, counts and dwell withheld, returning visitors, randomized,
// weak and anonymous sightings) validates against
// schema/ble_aggregate.schema.json, and every member the schema describes
// is emitted by some cell, so the schema and the emitted records cannot
// drift apart unnoticed. Until 2026-12-06 aggregates had no schema, only
// the README's prose.
func TestAggregatesMatchSchema(t *testing.T) {
	schema := schematest.Compile(t, "../schema/ble_aggregate.schema.json")

	var recs [][]byte
	for _, k := range []int{1, 3, 5} {
		a, _, mc := newAgg(t, Options{K: k})
		a.emit = func(rec []byte) { recs = append(recs, append([]byte(nil), rec...)) }
		for i := range 8 { // dwell 2..9 min in the entrance, some coming back
			dev := fmt.Sprintf("e%d", i)
			stay(a, "berlin", "entrance", dev, 0, time.Duration(2+i)*time.Minute+time.Second)
			if i%3 == 0 {
				stay(a, "berlin", "entrance", dev, 20*time.Minute, 22*time.Minute)
			}
		}
		for i := range 3 { // small zones: merged into "*"
			stay(a, "berlin", "shoes", fmt.Sprintf("s%d", i), time.Minute, 3*time.Minute)
			stay(a, "berlin", "toys", fmt.Sprintf("t%d", i), time.Minute, 40*time.Minute)
		}
		for i := range 2 { // a store below k
			stay(a, "hamburg", "entrance", fmt.Sprintf("h%d", i), 0, time.Minute)
		}
		for i := range 6 { // randomized, weak and anonymous sightings
			a.Add(&Sighting{Site: []byte("shop"), Store: []byte("berlin"), Zone: []byte("entrance"), Device: []byte("r"), Randomized: true, RSSI: -50, AtMS: t0.UnixMilli() + int64(i)})
			see(a, "berlin", "entrance", fmt.Sprintf("w%d", i), -90, time.Minute)
			a.Add(&Sighting{Site: []byte("shop"), Store: []byte("berlin"), Zone: []byte("entrance"), RSSI: -50, AtMS: t0.UnixMilli() + int64(i)})
		}
		for _, at := range []time.Duration{17 * time.Minute, 32 * time.Minute, 47 * time.Minute, 62 * time.Minute} {
			mc.Set(t0.Add(at))
			a.Tick()
		}
	}
	if len(recs) < 5 {
		t.Fatalf("%d aggregates emitted; want a varied day", len(recs))
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		if err := schematest.Validate(schema, rec); err != nil {
			t.Errorf("aggregate %s does not match the schema: %v", rec, err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(rec, &m); err != nil {
			t.Fatal(err)
		}
		for k, raw := range m {
			seen[k] = true
			if k == "dwell" {
				var bs []map[string]json.RawMessage
				if err := json.Unmarshal(raw, &bs); err != nil {
					t.Fatal(err)
				}
				for _, b := range bs {
					for bk := range b {
						seen["dwell."+bk] = true
					}
				}
			}
		}
	}
	var s struct {
		Properties map[string]struct {
			Items struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"items"`
		} `json:"properties"`
	}
	raw, err := os.ReadFile("../schema/ble_aggregate.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	for k, p := range s.Properties {
		if !seen[k] {
			t.Errorf("the schema describes %q, which no aggregate of the test day has", k)
		}
		if k == "dwell" {
			for bk := range p.Items.Properties {
				if !seen["dwell."+bk] {
					t.Errorf("the schema describes dwell[].%s, which no aggregate of the test day has", bk)
				}
			}
		}
	}
}
