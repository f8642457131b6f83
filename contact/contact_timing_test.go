package contact

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

var benchSink []byte

// BenchmarkAppendHashed measures one identifier: normalise, SHA-256, hex.
func BenchmarkAppendHashed(b *testing.B) {
	buf := make([]byte, 0, 64)
	for _, c := range []struct {
		name string
		p    Platform
		f    Field
		v    string
	}{
		{"meta/em", Meta, Email, " Jane.Doe@Example.COM "},
		{"meta/ph", Meta, Phone, "+1 (650) 555-1212"},
		{"google/em", Google, Email, " Jane.Doe@GMail.com"},
		{"google/ph", Google, Phone, "+1 (650) 555-1212"},
		{"tiktok/fn", TikTok, FirstName, "Mary Ann"},
		{"hashed", Meta, Email, "254AA248ACB47DD654CA3EA53F48C2C26D641D23D7E2E93A1EC56258DF7674C4"},
	} {
		v := []byte(c.v)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(v)))
			for b.Loop() {
				buf, _ = AppendHashed(buf[:0], c.p, c.f, v)
			}
			benchSink = buf
		})
	}
}

// BenchmarkNaive is the obvious version: strings.ToLower/TrimSpace and
// hex.EncodeToString, for comparison.
func BenchmarkNaive(b *testing.B) {
	v := " Jane.Doe@Example.COM "
	b.ReportAllocs()
	for b.Loop() {
		sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(v))))
		benchSink = []byte(hex.EncodeToString(sum[:]))
	}
}
