package ipmask

import (
	"net"
	"net/netip"
	"testing"
)

var sinkBuf []byte

func BenchmarkAppendTruncated(b *testing.B) {
	for _, s := range []string{"203.0.113.77", "2001:db8:0:8d3:0:8a2e:70:7344"} {
		addr := netip.MustParseAddr(s)
		b.Run(s, func(b *testing.B) {
			buf := make([]byte, 0, 64)
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = AppendTruncated(buf[:0], addr, 24, 48)
			}
			sinkBuf = buf
		})
	}
	// The naive version that STYLE.md warns about.
	b.Run("naive net.IP.Mask.String", func(b *testing.B) {
		ip := net.ParseIP("203.0.113.77")
		m := net.CIDRMask(24, 32)
		b.ReportAllocs()
		for b.Loop() {
			sinkBuf = []byte(ip.Mask(m).String())
		}
	})
}
