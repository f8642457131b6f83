package spool

import (
	"sync"
	"testing"
	"time"
)

// TestGatherWindow: with a gather window, a leader whose appends come in
// less than a window apart waits for company (counted), and every record is
// still written once, in each writer's order; without one, no leader waits.
func TestGatherWindow(t *testing.T) {
	for _, window := range []time.Duration{0, 200 * time.Microsecond} {
		s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}, GatherWindow: window})
		const writers, each = 16, 50
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					if err := s.Append(rec(w*each+i), 1); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		got := drain(t, s, 0)
		last := make([]int, writers)
		for i := range last {
			last[i] = -1
		}
		for _, id := range got {
			w := id / each
			if id <= last[w] {
				t.Fatalf("window %v: record %d after %d of the same writer", window, id, last[w])
			}
			last[w] = id
		}
		gathers := counterValue(s.m.gathers)
		writes := counterValue(s.m.writes)
		t.Logf("window %v: %d records in %.0f writes, %.0f gathered", window, len(got), writes, gathers)
		if len(got) != writers*each {
			t.Fatalf("window %v: read %d records, want %d", window, len(got), writers*each)
		}
		if (window > 0) != (gathers > 0) {
			t.Fatalf("window %v: %.0f leaders waited", window, gathers)
		}
	}
}

// TestGatherWindowBounds: a window outside [0, 1s] is refused.
func TestGatherWindowBounds(t *testing.T) {
	for _, w := range []time.Duration{-time.Microsecond, 2 * time.Second} {
		if _, err := Open(Options{Dir: t.TempDir(), GatherWindow: w}); err == nil {
			t.Fatalf("GatherWindow %v accepted", w)
		}
	}
}
