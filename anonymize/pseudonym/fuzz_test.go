package pseudonym

import (
	"testing"
	"time"
)

// FuzzAppendPseudonym compares arbitrary (site, id, time) against
// crypto/hmac over the documented message.
func FuzzAppendPseudonym(f *testing.F) {
	f.Add([]byte("shop.example"), []byte("user-42"), int64(1774742400))
	f.Add([]byte(""), []byte("x"), int64(-1))
	f.Add([]byte("a"), []byte("\x00\xff"), int64(0))
	k := newKeyring(f, Options{Mode: Derived, Secret: testSecret(f)})
	f.Fuzz(func(t *testing.T, site, id []byte, sec int64) {
		now := time.Unix(sec%(1<<40), 0) // keep within years the time package formats
		got := string(k.AppendPseudonym(nil, site, id, now))
		if len(id) == 0 {
			if got != "" {
				t.Fatalf("empty id: %q", got)
			}
			return
		}
		if want := refPseudonym(refKey("pseudonym", 24*time.Hour, now), string(site), string(id)); got != want {
			t.Fatalf("%q %q %v: %s; want %s", site, id, now, got, want)
		}
	})
}
