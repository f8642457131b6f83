package clock

import (
	"testing"
	"time"
)

func TestClocks(t *testing.T) {
	at := time.Date(2028, 2, 29, 23, 59, 59, 0, time.UTC)
	if got := Fixed(at).Now(); !got.Equal(at) {
		t.Fatalf("Fixed: %v; want %v", got, at)
	}
	if Or(nil) != Real || Or(Fixed(at)).Now() != at {
		t.Fatal("Or: nil must give Real, anything else itself")
	}
	if d := time.Since(Real.Now()); d < 0 || d > time.Minute {
		t.Fatalf("Real is %v away from time.Now", d)
	}

	m := NewManual(at)
	if got := m.Now(); !got.Equal(at) || got.Location() != time.UTC {
		t.Fatalf("Manual: %v; want %v in UTC", got, at)
	}
	if got := m.Advance(time.Second); !got.Equal(at.Add(time.Second)) || !m.Now().Equal(got) {
		t.Fatalf("Advance: %v", got)
	}
	m.Set(at.Add(-time.Hour))
	if !m.Now().Equal(at.Add(-time.Hour)) {
		t.Fatal("Set backwards")
	}
	var zero Manual
	if !zero.Now().Equal(time.Unix(0, 0)) {
		t.Fatalf("zero Manual: %v; want the Unix epoch", zero.Now())
	}

	s := Starting(at)
	first := s.Now()
	if first.Before(at) || first.Sub(at) > time.Minute {
		t.Fatalf("Starting: %v; want just after %v", first, at)
	}
	time.Sleep(2 * time.Millisecond)
	if second := s.Now(); !second.After(first) {
		t.Fatalf("Starting does not move: %v then %v", first, second)
	}
}

func TestNowDoesNotAllocate(t *testing.T) {
	for name, c := range map[string]Clock{"Real": Real, "Fixed": Fixed(time.Unix(1, 0)), "Manual": NewManual(time.Unix(1, 0)), "Starting": Starting(time.Unix(1, 0))} {
		if n := testing.AllocsPerRun(100, func() { _ = c.Now() }); n != 0 {
			t.Errorf("%s.Now: %v allocs; want 0", name, n)
		}
	}
}
