//go:build !race

package suppress

import (
	"path/filepath"
	"testing"
)

// TestSuppressedDoesNotAllocate: the check runs on every event.
func TestSuppressedDoesNotAllocate(t *testing.T) {
	key := testKey(t)
	path := filepath.Join(t.TempDir(), "s.txt")
	Edit(path, key.Sum([]byte("shop"), []byte("4711")), true)
	l, err := Open(path, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	hit, miss := ev("shop", "4711", "", ""), ev("shop", "u1", "c1", "d1")
	if n := testing.AllocsPerRun(200, func() { l.Suppressed(hit); l.Suppressed(miss) }); n != 0 {
		t.Errorf("Suppressed allocates %v times per call pair", n)
	}
	// Store devices: the MAC is normalised on the stack.
	Edit(path, DeviceHash(key, []byte("A4:5E:60:C1:0D:2F")), true)
	if _, err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	mac, adid := ev("shop", "", "", "a4-5e-60-c1-0d-2f"), ev("shop", "", "", "6D92078A-8246-4BA4-AE5B-76104861E7DC")
	if !l.Suppressed(mac) {
		t.Fatal("device not suppressed")
	}
	if n := testing.AllocsPerRun(200, func() { l.Suppressed(mac); l.Suppressed(adid) }); n != 0 {
		t.Errorf("Suppressed allocates %v times per device pair", n)
	}
}
