package spool

import (
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestRecordTimesAtEveryInstant checks that each record carries the
// injected clock's reading at Append, at every clock-shift instant, and
// that the time survives a reopen.
func TestRecordTimesAtEveryInstant(t *testing.T) {
	for _, in := range clocktest.Instants {
		t.Run(in.Name, func(t *testing.T) {
			dir := t.TempDir()
			clk := clock.NewManual(in.Time)
			s := openT(t, Options{Dir: dir, Destinations: []string{"a"}, Clock: clk})
			want := []int64{in.Time.UnixMilli()}
			if err := s.Append(rec(0), RouteTo(0)); err != nil {
				t.Fatal(err)
			}
			want = append(want, clk.Advance(1500*time.Millisecond).UnixMilli())
			if err := s.Append(rec(1), RouteTo(0)); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openT(t, Options{Dir: dir, Destinations: []string{"a"}, Clock: clk})
			r := s.Reader(0)
			for i, w := range want {
				_, ms, ok, err := r.Next()
				if err != nil || !ok {
					t.Fatalf("record %d: ok %v, err %v", i, ok, err)
				}
				if ms != w {
					t.Fatalf("record %d: time %v; want %v", i, time.UnixMilli(ms).UTC(), time.UnixMilli(w).UTC())
				}
			}
		})
	}
}

// TestPendingSharesOneTime: the records one caller enqueues before it waits
// carry the first one's spool time (the clock is read once per request);
// the next Pending reads the clock again.
func TestPendingSharesOneTime(t *testing.T) {
	clk := clock.NewManual(clocktest.Golden)
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}, Clock: clk})
	var p Pending
	first := clk.Now().UnixMilli()
	for i := range 3 {
		if err := s.Enqueue(&p, rec(i), RouteTo(0)); err != nil {
			t.Fatal(err)
		}
		clk.Advance(5 * time.Millisecond)
	}
	if err := s.Wait(&p); err != nil {
		t.Fatal(err)
	}
	next := clk.Now().UnixMilli()
	if err := s.Enqueue(&p, rec(3), RouteTo(0)); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(&p); err != nil {
		t.Fatal(err)
	}
	r := s.Reader(0)
	for i, w := range []int64{first, first, first, next} {
		_, ms, ok, err := r.Next()
		if err != nil || !ok {
			t.Fatalf("record %d: ok %v, err %v", i, ok, err)
		}
		if ms != w {
			t.Fatalf("record %d: time %v; want %v", i, time.UnixMilli(ms).UTC(), time.UnixMilli(w).UTC())
		}
	}
}
