package anonymize

import (
	"testing"
	"time"
)

// TestTextMemo: a remembered text answers for its engine only, the oldest
// of textMemoSlots+1 texts is forgotten first, and what does not fit the
// preallocated room is not remembered (so a slot never grows).
func TestTextMemo(t *testing.T) {
	m := newTextMemo()
	if _, ok := m.lookup(1, struct{}{}, []byte("shop")); ok {
		t.Fatal("an empty memo answered")
	}
	m.remember(struct{}{}, []byte("shop"), []byte(`"shop"`))
	if out, ok := m.lookup(1, struct{}{}, []byte("shop")); !ok || string(out) != `"shop"` {
		t.Fatalf("lookup = %q, %v", out, ok)
	}
	if _, ok := m.lookup(2, struct{}{}, []byte("shop")); ok {
		t.Fatal("another engine got the first engine's text")
	}
	if _, ok := m.lookup(1, struct{}{}, []byte("shop")); ok {
		t.Fatal("the memo still answered after another engine took it")
	}
	for _, s := range []string{"a", "b", "c", "d", "e"} {
		if _, ok := m.lookup(1, struct{}{}, []byte(s)); ok {
			t.Fatalf("%q answered before it was remembered", s)
		}
		m.remember(struct{}{}, []byte(s), []byte(`"`+s+`"`))
	}
	if _, ok := m.lookup(1, struct{}{}, []byte("a")); ok {
		t.Fatal("the oldest of five texts was not forgotten")
	}
	for _, s := range []string{"b", "c", "d", "e"} {
		if _, ok := m.lookup(1, struct{}{}, []byte(s)); !ok {
			t.Fatalf("%q was forgotten", s)
		}
	}
	long := make([]byte, textCacheMaxKey+1)
	m.remember(struct{}{}, long, []byte(`"x"`))
	if _, ok := m.lookup(1, struct{}{}, long); ok {
		t.Fatal("a text longer than the room was remembered")
	}
	for _, s := range m.slots {
		if cap(s.in) != textCacheMaxKey || cap(s.out) != textMemoMaxOut {
			t.Fatalf("a slot grew: %d/%d", cap(s.in), cap(s.out))
		}
	}
}

// TestConsentMemoChecksDates: a remembered decision that read a TC string
// answers only while the string's dates meet the arrival time as they did.
func TestConsentMemoChecksDates(t *testing.T) {
	m := newConsentMemo()
	created := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	d := decision{timed: true, created: created, updated: created}
	maxAge := 390 * 24 * time.Hour
	at := created.Add(time.Hour)
	d.dateProblems = 0
	m.remember(7, []byte("key"), &d)
	if _, ok := m.lookup(7, []byte("key"), at, maxAge); !ok {
		t.Fatal("the remembered decision did not answer at the same time")
	}
	if _, ok := m.lookup(8, []byte("key"), at, maxAge); ok {
		t.Fatal("another engine got the decision")
	}
	if _, ok := m.lookup(7, []byte("kex"), at, maxAge); ok {
		t.Fatal("another key got the decision")
	}
	if _, ok := m.lookup(7, []byte("key"), created.Add(maxAge+time.Hour), maxAge); ok {
		t.Fatal("the decision answered after the TC string had grown too old")
	}
	if _, ok := m.lookup(7, []byte("key"), created.Add(-time.Hour), maxAge); ok {
		t.Fatal("the decision answered before the TC string was created")
	}
}

// TestMemosOverwrittenForAnotherEngine: when a scratch serves another
// engine, what its memos held for the previous one is overwritten, not only
// cut off: text that was clean under one config's scanner, or one
// visitor's consent signals, does not linger in memory for the next.
func TestMemosOverwrittenForAnotherEngine(t *testing.T) {
	m := newTextMemo()
	m.forget(1)
	m.remember(struct{}{}, []byte("call-015112345678"), []byte(`"call-015112345678"`))
	m.lookup(2, struct{}{}, []byte("other"))
	for _, s := range m.slots {
		for _, b := range s.in[:cap(s.in)] {
			if b != 0 {
				t.Fatalf("the text memo still holds %q", s.in[:cap(s.in)])
			}
		}
		for _, b := range s.out[:cap(s.out)] {
			if b != 0 {
				t.Fatalf("the text memo still holds %q", s.out[:cap(s.out)])
			}
		}
	}
	c := newConsentMemo()
	c.remember(1, []byte("CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"), &decision{})
	c.lookup(2, []byte("x"), time.Time{}, 0)
	for _, b := range c.key[:cap(c.key)] {
		if b != 0 {
			t.Fatalf("the consent memo still holds %q", c.key[:cap(c.key)])
		}
	}
}
