package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEphemeralRestartCountsNoShopperTwiceInACell: with pseudonym.mode:
// ephemeral (the default) a restart starts new keys, so a device's
// visitor hash differs on the two sides of it. The interval open at the
// restart (SIGTERM does not close it; the next start does) counted a
// shopper seen before and after the restart as two visitors: two shoppers
// in a zone made a cell of 4 visitors, sent on its own with k 3, a cell of
// fewer than k people. An interval that holds sightings under the keys of
// an earlier start and of this one now sends no cell.
func TestEphemeralRestartCountsNoShopperTwiceInACell(t *testing.T) {
	start := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	clk := pinClocks(t, start)
	sink := newBLESink(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	const k = 3
	cfg := writeE2EConfig(t, dir, "ble.yaml", "pseudonym: {mode: ephemeral}\n"+bleRestartConfig(sink.addr, k))

	// Two shoppers in the shoes zone, before and after a restart within
	// the interval 12:00-12:15; then, in the next interval, three shoppers
	// (a cell of k, which must still be sent).
	clk.Advance(time.Minute)
	g := startStoryGateway(t, cfg, data)
	postShoppers(t, g, 1, 2)
	clk.Advance(3 * time.Minute)
	g.stop(t)
	g = startStoryGateway(t, cfg, data)
	defer g.stop(t)
	clk.Advance(time.Minute)
	postShoppers(t, g, 1, 2)
	clk.Advance(15 * time.Minute) // 12:20
	postShoppers(t, g, 1, 2, 3)
	clk.Advance(15 * time.Minute) // 12:35: 12:15-12:30 is closed too

	aggs := aggregatesUntil(t, sink, "2026-03-10T12:15:00Z")
	var later bool
	for _, a := range aggs {
		switch a["start"] {
		case "2026-03-10T12:00:00Z":
			t.Errorf("the interval open at the restart, two shoppers, was sent as %v visitors with k %d: %v", a["visitors"], k, a)
		case "2026-03-10T12:15:00Z":
			later = true
			if a["visitors"] != float64(3) {
				t.Errorf("12:15 sent with %v visitors; want 3: %v", a["visitors"], a)
			}
		}
	}
	if !later {
		t.Errorf("the interval after the restart was not sent (sent %v)", aggs)
	}
}

// bleRestartConfig is the config of the restart tests but its pseudonym
// section: aggregates with k, one strong sighting a visit, sent to sink
// (an http destination at addr) at once.
func bleRestartConfig(addr string, k int) string {
	return `ble: {output: aggregates, k: ` + fmt.Sprint(k) + `, enter_after: 1}
destinations:
  - name: stats
    type: http
    compression: none
    batch: {max_events: 100, max_age: 100ms}
    http:
      url: http://` + addr + `/ingest
      timeout: 2s
      retry: {initial_backoff: 20ms, max_backoff: 300ms}
`
}

// postShoppers posts one BLE ping of store berlin's shoes sensor, sighting
// the shoppers numbered, each a MAC of its own.
func postShoppers(t *testing.T, g *storyGateway, shoppers ...int) {
	t.Helper()
	var sb strings.Builder
	sb.WriteString(`{"site":"shop","store":"berlin","sensor":"shoes","sightings":[`)
	for i, s := range shoppers {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"mac":"00:1A:2B:00:00:%02X"}`, s)
	}
	sb.WriteString(`]}`)
	resp, err := http.Post(g.url+"/ble", "application/json", strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /ble: %d", resp.StatusCode)
	}
}

// aggregatesUntil returns the aggregates sink took, once the last is of
// the interval starting at last (or after 10 s: a timeout only; what was
// sent is checked by the caller).
func aggregatesUntil(t *testing.T, sink *bleSink, last string) []map[string]any {
	t.Helper()
	var aggs []map[string]any
	for deadline := time.Now().Add(10 * time.Second); ; {
		aggs = aggs[:0]
		for _, l := range sink.records() {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("bad line %q: %v", l, err)
			}
			aggs = append(aggs, m)
		}
		if len(aggs) > 0 && aggs[len(aggs)-1]["start"] == last || time.Now().After(deadline) {
			return aggs
		}
		time.Sleep(50 * time.Millisecond)
	}
}
