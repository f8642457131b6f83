//go:build !race

package pseudonym

import (
	"runtime"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// olderPeriodAllocs is what a derived-mode lookup for a period before the
// previous one costs: the key is derived (HKDF) and its two padded hash
// states are built on every call, as such events are rare (a clock stepped
// back, a replay) and keeping their keys would grow without bound.
const olderPeriodAllocs = 23

// TestNoAllocs runs at every clock-shift instant: lookups of the current and
// the previous period never allocate, whatever the day.
func TestNoAllocs(t *testing.T) {
	for _, in := range clocktest.Instants {
		t.Run(in.Name, func(t *testing.T) { testNoAllocs(t, in.Time) })
	}
}

func testNoAllocs(t *testing.T, now time.Time) {
	derived := newKeyring(t, Options{Mode: Derived, Secret: testSecret(t), Clock: clock.Fixed(now)})
	ephemeral := newKeyring(t, Options{Clock: clock.Fixed(now)})
	site, id := []byte("shop.example"), []byte("user-42")
	ip, ua := []byte("203.0.113.0"), []byte("Firefox 128/Windows/desktop")
	buf := make([]byte, 0, 64)
	allocs := func(fn func()) float64 {
		fn() // warm-up: builds what is built once per period
		return testing.AllocsPerRun(1000, fn)
	}
	f := func(name string, fn func()) {
		t.Helper()
		if n := allocs(fn); n != 0 {
			t.Fatalf("%s: %v allocs per run; want 0", name, n)
		}
	}
	f("derived AppendPseudonym", func() { buf = derived.AppendPseudonym(buf[:0], site, id, now) })
	f("ephemeral AppendPseudonym", func() { buf = ephemeral.AppendPseudonym(buf[:0], site, id, now) })
	f("derived AppendVisitorHash", func() { buf = derived.AppendVisitorHash(buf[:0], site, ip, ua, now) })
	f("ephemeral AppendVisitorHash", func() { buf = ephemeral.AppendVisitorHash(buf[:0], site, ip, ua, now) })
	long := make([]byte, 1000)
	f("1000-byte identifier", func() { buf = derived.AppendPseudonym(buf[:0], site, long, now) })
	f("empty identifier", func() { buf = derived.AppendPseudonym(buf[:0], site, nil, now) })

	day := 24 * time.Hour
	start := now.Truncate(day) // the current period's first instant
	f("derived previous period", func() { buf = derived.AppendPseudonym(buf[:0], site, id, start.Add(-time.Hour)) })
	f("derived previous period, visitor", func() {
		buf = derived.AppendVisitorHash(buf[:0], site, ip, ua, start.Add(-time.Hour))
	})
	// A late event just after a boundary uses the kept previous state.
	boundary := start.Add(day)
	derived.AppendPseudonym(nil, site, id, boundary)
	ephemeral.AppendPseudonym(nil, site, id, boundary)
	f("derived previous period within grace", func() {
		buf = derived.AppendPseudonym(buf[:0], site, id, boundary.Add(-time.Second))
	})
	f("ephemeral previous period within grace", func() {
		buf = ephemeral.AppendPseudonym(buf[:0], site, id, boundary.Add(-time.Second))
	})
	f("derived previous period after grace", func() {
		buf = derived.AppendPseudonym(buf[:0], site, id, boundary.Add(-2*time.Hour))
	})
	f("forgotten ephemeral period", func() {
		buf = ephemeral.AppendPseudonym(buf[:0], site, id, boundary.Add(-48*time.Hour))
	})
	if n := allocs(func() { buf = derived.AppendPseudonym(buf[:0], site, id, boundary.Add(-48*time.Hour)) }); n != olderPeriodAllocs {
		t.Fatalf("derived period before the previous one: %v allocs per run; the documented cost is %d", n, olderPeriodAllocs)
	}
}

// TestPreparedPeriodNoAllocs: the first request of a period whose keys
// Rotate made ahead of need (derived mode) installs them without
// allocating, and without touching the key source.
func TestPreparedPeriodNoAllocs(t *testing.T) {
	day := 24 * time.Hour
	end := upgradeAt.Truncate(day).Add(day)
	k := newKeyring(t, Options{Mode: Derived, Secret: testSecret(t), Clock: clock.Fixed(end.Add(-time.Minute))})
	k.Rotate(end.Add(-time.Minute))
	site, id := []byte("shop.example"), []byte("user-42")
	ip, ua := []byte("203.0.113.0"), []byte("Firefox 128/Windows/desktop")
	buf := make([]byte, 0, 64)
	// One P from here on, so the hasher the warm-up puts back lands where
	// the measured calls look first: put back on another P it sits in that
	// P's private slot, which sync.Pool does not steal from, and the first
	// measured call made a new one (seen in about one run of eight).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	buf = k.AppendPseudonym(buf[:0], site, id, end.Add(-time.Second)) // warm the hasher pool
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	buf = k.AppendPseudonym(buf[:0], site, id, end)
	buf = k.AppendVisitorHash(buf[:0], site, ip, ua, end)
	runtime.ReadMemStats(&after)
	if n := after.Mallocs - before.Mallocs; n != 0 {
		t.Errorf("the first request of a prepared period made %d allocations, want 0", n)
	}
	if len(buf) != EncodedLen {
		t.Errorf("visitor hash %q", buf)
	}
	if st := k.ids.cur.Load(); st.index != end.Unix()/86400 || st.prev == nil {
		t.Errorf("current state index %d prev %v: the prepared state was not installed with its predecessor", st.index, st.prev != nil)
	}
}
