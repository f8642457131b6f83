package freelist

import "testing"

// TestStackOrderAndCapacity: Get hands out the most recently kept object,
// and Put drops objects beyond the capacity.
func TestStackOrderAndCapacity(t *testing.T) {
	made := 0
	l := New(2, func() *int { made++; v := -made; return &v })
	a, b, c := 1, 2, 3
	l.Put(&a)
	l.Put(&b)
	l.Put(&c) // beyond capacity: dropped
	if got := *l.Get(); got != 2 {
		t.Errorf("first Get %d; want 2 (the last kept)", got)
	}
	if got := *l.Get(); got != 1 {
		t.Errorf("second Get %d; want 1", got)
	}
	if got := *l.Get(); got != -1 || made != 1 {
		t.Errorf("Get on an empty list %d (made %d); want a fresh object", got, made)
	}
}
