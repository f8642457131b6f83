package anonymize

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// TestEventIDs: ids are 22 base64url characters, never repeat in a process,
// and two consecutive ids (the records of one event for two destination
// policies) share no prefix that would let recipients line them up.
func TestEventIDs(t *testing.T) {
	const n = 100_000
	seen := make(map[string]bool, n)
	var prev []byte
	samePrefix := 0
	for range n {
		id := appendEventID(nil)
		if len(id) != 22 {
			t.Fatalf("id %q: %d characters; want 22", id, len(id))
		}
		raw, err := base64.RawURLEncoding.DecodeString(string(id))
		if err != nil {
			t.Fatalf("id %q: %v", id, err)
		}
		if seen[string(id)] {
			t.Fatalf("id %q repeated", id)
		}
		seen[string(id)] = true
		if prev != nil && bytes.Equal(prev[:4], raw[:4]) {
			samePrefix++
		}
		prev = raw
	}
	// 32 random bits are equal by chance about once in 4 billion pairs.
	if samePrefix > 1 {
		t.Errorf("%d of %d consecutive ids share their first 4 bytes; want them unrelated", samePrefix, n-1)
	}
	if got := testing.AllocsPerRun(100, func() { _ = appendEventID(nil) }); got > 1 {
		t.Errorf("appendEventID into an empty slice: %v allocations; want 1, the room for the id", got)
	}
	buf := make([]byte, 0, 64)
	if got := testing.AllocsPerRun(100, func() { buf = appendEventID(buf[:0]) }); got != 0 {
		t.Errorf("appendEventID with room: %v allocations; want 0", got)
	}
}
