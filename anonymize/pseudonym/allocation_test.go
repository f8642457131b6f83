//go:build !race

package pseudonym

import (
	"testing"
	"time"
)

func TestNoAllocs(t *testing.T) {
	derived := newKeyring(t, Options{Mode: Derived, Secret: testSecret(t)})
	ephemeral := newKeyring(t, Options{})
	site, id := []byte("shop.example"), []byte("user-42")
	ip, ua := []byte("203.0.113.0"), []byte("Firefox 128/Windows/desktop")
	now := time.Now()
	buf := make([]byte, 0, 64)
	f := func(name string, fn func()) {
		t.Helper()
		fn() // warm-up: builds the period's key state
		if n := testing.AllocsPerRun(1000, fn); n != 0 {
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
	// A late event just after a boundary uses the kept previous state.
	boundary := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
	derived.AppendPseudonym(nil, site, id, boundary)
	f("previous period within grace", func() { buf = derived.AppendPseudonym(buf[:0], site, id, boundary.Add(-time.Second)) })
	f("forgotten ephemeral period", func() {
		buf = ephemeral.AppendPseudonym(buf[:0], site, id, now.Add(-48*time.Hour))
	})
}
