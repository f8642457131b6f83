package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCacheLookupsFollowReloads: beacongate_anonymize_cache_lookups_total
// counts the serving engine's cache hits and misses; a reload, which
// starts with empty caches, keeps the counts so far (the counters never go
// down) and counts the new engine's from then on; a refused reload changes
// nothing.
func TestCacheLookupsFollowReloads(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.yaml")
	write := func(more string) {
		t.Helper()
		yaml := "sites:\n  - {id: shop, origins: [\"https://shop.example\"]}\n" + more +
			"destinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n"
		if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	g := startStoryGateway(t, cfgPath, filepath.Join(dir, "data"))
	defer g.stop(t)
	a, reg := g.a, g.reg
	log := slog.New(slog.DiscardHandler)
	pixel := func() {
		t.Helper()
		getPixel(t, g.url+"/p.gif?site=shop&event=pageview&consent=analytics&url=https%3A%2F%2Fshop.example%2Fshoes%3Fcolor%3Dred",
			"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	}
	type counts map[string]float64 // "cache/result"
	read := func() counts {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		c := counts{}
		for _, mf := range mfs {
			if mf.GetName() != "beacongate_anonymize_cache_lookups_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				var cache, result string
				for _, l := range m.GetLabel() {
					switch l.GetName() {
					case "cache":
						cache = l.GetValue()
					case "result":
						result = l.GetValue()
					}
				}
				c[cache+"/"+result] = m.GetCounter().GetValue()
			}
		}
		if len(c) != 8 {
			t.Fatalf("cache lookup series: %v; want 4 caches × hit, miss", c)
		}
		return c
	}
	expect := func(when string, got, before counts, want map[string]float64) {
		t.Helper()
		for k, v := range got {
			if d := v - before[k]; d != want[k] {
				t.Errorf("%s: %s went up by %v, want %v (before %v, now %v)", when, k, d, want[k], before, got)
			}
		}
	}

	zero := read()
	pixel()
	pixel()
	first := read()
	// The first request misses every cache (two texts: the event and
	// the site); the second finds its URL in the URL cache (by the URL as
	// sent), and the rest in the memo of recent results, which answers
	// before the caches are asked.
	firstTwo := map[string]float64{"url/miss": 1, "url/hit": 1, "user_agent/miss": 1, "consent/miss": 1, "text/miss": 2}
	expect("two identical pixels", first, zero, firstTwo)

	// Refused after its engine was built: the opt-out list, read last,
	// does not parse.
	optOut, optOutKey := filepath.Join(dir, "optout.txt"), filepath.Join(dir, "optout.key")
	if err := os.WriteFile(optOutKey, []byte("0123456789abcdef0123456789abcdef0123456789abcdef"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(optOut, []byte("not an opt-out list\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	write("ble: {optout_file: " + optOut + ", optout_key_file: " + optOutKey + "}\n")
	if err := a.reload(log); err == nil || !strings.Contains(err.Error(), "opt") {
		t.Fatalf("a reload with a broken opt-out list: %v; want it refused", err)
	}
	pixel()
	refused := read()
	expect("after a refused reload", refused, first, map[string]float64{"url/hit": 1})

	write("")
	if err := a.reload(log); err != nil {
		t.Fatal(err)
	}
	reloaded := read()
	expect("right after a reload", reloaded, refused, nil)
	pixel()
	pixel()
	// The new engine's caches start empty, and the memo holds only the
	// old engine's results: as at the start.
	expect("two pixels after the reload", read(), reloaded, firstTwo)
}
