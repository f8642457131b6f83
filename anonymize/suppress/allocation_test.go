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
}
