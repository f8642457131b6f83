//go:build !race

package ipmask

import (
	"net/netip"
	"testing"
)

func TestNoAllocs(t *testing.T) {
	v4 := netip.MustParseAddr("203.0.113.77")
	v6 := netip.MustParseAddr("2001:db8:0:8d3:0:8a2e:70:7344")
	mapped := netip.MustParseAddr("::ffff:203.0.113.77")
	buf := make([]byte, 0, 64)
	var sink netip.Addr
	f := func(name string, fn func()) {
		t.Helper()
		if n := testing.AllocsPerRun(1000, fn); n != 0 {
			t.Fatalf("%s: %v allocs per run; want 0", name, n)
		}
	}
	f("Truncate v4", func() { sink = Truncate(v4, 24, 48) })
	f("Truncate v6", func() { sink = Truncate(v6, 24, 48) })
	f("AppendTruncated v4", func() { buf, _ = AppendTruncated(buf[:0], v4, 24, 48) })
	f("AppendTruncated v6", func() { buf, _ = AppendTruncated(buf[:0], v6, 24, 48) })
	f("AppendTruncated mapped", func() { buf, _ = AppendTruncated(buf[:0], mapped, 24, 48) })
	f("AppendTruncated invalid", func() { buf, _ = AppendTruncated(buf[:0], netip.Addr{}, 24, 48) })
	f("AppendTruncated bad bits", func() { buf, _ = AppendTruncated(buf[:0], v4, 99, 48) })
	_ = sink
}
