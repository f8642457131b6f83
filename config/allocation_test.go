//go:build !race

package config

import "testing"

// TestNoAllocs covers what the request path calls: reading the live config
// and picking the policy and destinations for an event.
func TestNoAllocs(t *testing.T) {
	h := NewHolder(Default(), Overrides{})
	granted := NewPurposeSet(PurposeAnalytics, PurposeAds)
	var sink int
	f := func(name string, fn func()) {
		t.Helper()
		if n := testing.AllocsPerRun(1000, fn); n != 0 {
			t.Fatalf("%s: %v allocs per run; want 0", name, n)
		}
	}
	f("Holder.Load", func() { sink += h.Load().Server.MaxEventsPerRequest })
	f("PolicyFor+Get", func() {
		c := h.Load()
		sink += int(c.Policies.Get(PolicyFor(granted)).IP.V4Prefix)
	})
	f("PurposeSet", func() {
		s := NewPurposeSet(PurposeAnalytics).With(PurposeAds)
		if s.Covers(granted) && s.Has(PurposeAds) {
			sink++
		}
	})
	_ = sink
}
