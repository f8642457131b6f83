package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"testing"
	"time"
)

var sinkBuf []byte

func BenchmarkAppendPseudonym(b *testing.B) {
	site, id := []byte("shop.example"), []byte("3f1c9b7e-5d2a-4f88-9a61-0c2b7d4e8a13")
	now := day0.Add(12 * time.Hour)
	for _, mode := range []Mode{Derived, Ephemeral} {
		opts := Options{Mode: mode}
		if mode == Derived {
			opts.Secret = testSecret(b)
		}
		k := newKeyring(b, opts)
		b.Run(mode.String(), func(b *testing.B) {
			buf := make([]byte, 0, 64)
			b.SetBytes(int64(len(site) + len(id)))
			b.ReportAllocs()
			for b.Loop() {
				buf = k.AppendPseudonym(buf[:0], site, id, now)
			}
			sinkBuf = buf
		})
		b.Run(mode.String()+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				buf := make([]byte, 0, 64)
				for pb.Next() {
					buf = k.AppendPseudonym(buf[:0], site, id, now)
				}
			})
		})
	}
	// The naive version: crypto/hmac.New per call.
	b.Run("naive crypto/hmac.New", func(b *testing.B) {
		key := make([]byte, 32)
		b.ReportAllocs()
		for b.Loop() {
			m := hmac.New(sha256.New, key)
			m.Write(site)
			m.Write(id)
			sinkBuf = b64.AppendEncode(sinkBuf[:0], m.Sum(nil)[:16])
		}
	})
}

func BenchmarkAppendVisitorHash(b *testing.B) {
	k := newKeyring(b, Options{Mode: Derived, Secret: testSecret(b)})
	site, ip, ua := []byte("shop.example"), []byte("203.0.113.0"), []byte("Firefox 128/Windows/desktop")
	now := day0.Add(12 * time.Hour)
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = k.AppendVisitorHash(buf[:0], site, ip, ua, now)
	}
	sinkBuf = buf
}

// BenchmarkRotate measures building one period's key state (HKDF and the two
// padded hash states), paid once per period.
func BenchmarkRotate(b *testing.B) {
	k := newKeyring(b, Options{Mode: Derived, Secret: testSecret(b)})
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		i++
		k.ids.build(i)
	}
}
