package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVisitorKeyChangeCountsNoShopperTwiceInACell: a restart in the middle
// of a day that changes the visitor key (another pseudonym secret, or
// ephemeral keys before and derived ones after) makes a shopper sighted on
// both sides of it two visitor hashes, as an ephemeral restart does, but
// only ephemeral starts wrote the ble_keys_changed marker: three shoppers
// seen before and after made a cell of 6 visitors. A start now writes the
// marker unless the data dir says this day's sightings were hashed with the
// key it uses (a fingerprint of the key, never the key); a restart with the
// same key still sends the interval open across it.
func TestVisitorKeyChangeCountsNoShopperTwiceInACell(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before, after string // pseudonym sections
		withheld      bool
	}{
		{"same secret", "derived-a", "derived-a", false},
		{"another secret", "derived-a", "derived-b", true},
		{"ephemeral to derived", "ephemeral", "derived-a", true},
		{"derived to key store (today's key derived as before)", "derived-a", "store-a", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
			clk := pinClocks(t, start)
			sink := newBLESink(t)
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			const k = 3
			config := func(name, mode string) string {
				pseudonym := "pseudonym: {mode: ephemeral}\n"
				if mode != "ephemeral" {
					secret := filepath.Join(dir, mode+".secret")
					key := strings.Repeat(mode[len(mode)-1:], 32)
					if err := os.WriteFile(secret, []byte(key), 0o600); err != nil {
						t.Fatal(err)
					}
					pseudonym = "pseudonym: {mode: derived, secret_file: " + secret + "}\n"
					if strings.HasPrefix(mode, "store") {
						pseudonym += "privacy: {key_store: true}\n"
					}
				}
				return writeE2EConfig(t, dir, name, pseudonym+bleRestartConfig(sink.addr, k))
			}

			// Three shoppers in the shoes zone, before and after a restart
			// within 12:00-12:15; then, in the next interval, the same three.
			clk.Advance(time.Minute)
			g := startStoryGateway(t, config("before.yaml", tc.before), data)
			postShoppers(t, g, 1, 2, 3)
			clk.Advance(3 * time.Minute)
			g.stop(t)
			g = startStoryGateway(t, config("after.yaml", tc.after), data)
			defer g.stop(t)
			clk.Advance(time.Minute)
			postShoppers(t, g, 1, 2, 3)
			clk.Advance(15 * time.Minute) // 12:20
			postShoppers(t, g, 1, 2, 3)
			clk.Advance(15 * time.Minute) // 12:35: 12:15-12:30 is closed too

			aggs := aggregatesUntil(t, sink, "2026-03-10T12:15:00Z")
			var open, later bool
			for _, a := range aggs {
				switch a["start"] {
				case "2026-03-10T12:00:00Z":
					open = true
					if tc.withheld || a["visitors"] != float64(3) {
						t.Errorf("the interval open at the restart, three shoppers, was sent as %v visitors with k %d: %v", a["visitors"], k, a)
					}
				case "2026-03-10T12:15:00Z":
					later = true
					if a["visitors"] != float64(3) {
						t.Errorf("12:15 sent with %v visitors; want 3: %v", a["visitors"], a)
					}
				}
			}
			if !open && !tc.withheld {
				t.Errorf("the interval open at a restart with the same key was not sent (sent %v)", aggs)
			}
			if !later {
				t.Errorf("the interval after the restart was not sent (sent %v)", aggs)
			}
		})
	}
}
