//go:build !race

package contact

import "testing"

func TestNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 128)
	f := func(name string, fn func()) {
		t.Helper()
		if n := testing.AllocsPerRun(1000, fn); n != 0 {
			t.Fatalf("%s: %v allocs per run; want 0", name, n)
		}
	}
	em, ph, fn := []byte(" Jane.Doe@GMail.com "), []byte("+1 (650) 555-1212"), []byte("Mary Ann")
	hashed := []byte("254AA248ACB47DD654CA3EA53F48C2C26D641D23D7E2E93A1EC56258DF7674C4")
	for p := range numPlatforms {
		f(p.String()+" email", func() { buf, _ = AppendHashed(buf[:0], p, Email, em) })
		f(p.String()+" phone", func() { buf, _ = AppendHashed(buf[:0], p, Phone, ph) })
		f(p.String()+" name", func() { buf, _ = AppendHashed(buf[:0], p, FirstName, fn) })
		f(p.String()+" hashed", func() { buf, _ = AppendHashed(buf[:0], p, Email, hashed) })
		f(p.String()+" empty", func() { buf, _ = AppendHashed(buf[:0], p, Email, nil) })
		f(p.String()+" bad", func() { buf, _ = AppendHashed(buf[:0], p, Phone, em) })
		f(p.String()+" normalized", func() { buf, _ = AppendNormalized(buf[:0], p, City, fn) })
	}
}
