package anonymize

import (
	"encoding/base64"
	"testing"
)

// TestEventIDs: ids are 22 base64url characters and never repeat in a
// process; they are made without allocating when dst has room.
func TestEventIDs(t *testing.T) {
	const n = 100_000
	seen := make(map[string]bool, n)
	for range n {
		id := appendEventID(nil)
		if len(id) != 22 {
			t.Fatalf("id %q: %d characters; want 22", id, len(id))
		}
		if _, err := base64.RawURLEncoding.DecodeString(string(id)); err != nil {
			t.Fatalf("id %q: %v", id, err)
		}
		if seen[string(id)] {
			t.Fatalf("id %q repeated", id)
		}
		seen[string(id)] = true
	}
	if got := testing.AllocsPerRun(100, func() { _ = appendEventID(nil) }); got != 1 {
		t.Errorf("appendEventID(nil): %v allocations; want 1, the room for the id", got)
	}
	buf := make([]byte, 0, 64)
	if got := testing.AllocsPerRun(100, func() { buf = appendEventID(buf[:0]) }); got != 0 {
		t.Errorf("appendEventID with room: %v allocations; want 0", got)
	}
}
