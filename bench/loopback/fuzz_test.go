package loopback

import "testing"

// FuzzParse: whatever Parse accepts dials a loopback address.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8080", "localhost:1", "http://[::1]:80/x?y", "http://10.0.0.1:80", "http://[::ffff:127.0.0.1]:1", "http://127.0.0.1:80@10.0.0.1:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tg, err := Parse(raw)
		if err != nil {
			return
		}
		if !tg.Addr.Addr().IsLoopback() || tg.Addr.Port() == 0 {
			t.Fatalf("%q accepted as %v", raw, tg.Addr)
		}
		if _, err := CheckAddr(tg.Addr.String()); err != nil {
			t.Fatalf("%q: dial address %v refused: %v", raw, tg.Addr, err)
		}
	})
}
