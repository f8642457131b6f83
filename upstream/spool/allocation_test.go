//go:build !race

package spool

import (
	"errors"
	"testing"
	"time"
)

func TestAllocations(t *testing.T) {
	f := func(name string, want float64, fn func()) {
		t.Helper()
		fn() // warm up: first use of a buffer or counter may allocate
		if n := testing.AllocsPerRun(1000, fn); n != want {
			t.Fatalf("%s: %v allocs per run, want %v", name, n, want)
		}
	}
	r := rec(1)
	for _, d := range []Durability{DurabilityProcess, DurabilityFsync} {
		s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}, Durability: d})
		f("Append "+d.String(), 0, func() {
			if err := s.Append(r, 1); err != nil {
				t.Fatal(err)
			}
		})
		rd := s.Reader(0)
		f("Reader.Next "+d.String(), 0, func() {
			if _, _, ok, err := rd.Next(); !ok || err != nil {
				t.Fatal("Next found no record", err)
			}
		})
	}

	// With a gather window (the leader sleeps), and with no tail (the
	// reader reads the segment file).
	g := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}, GatherWindow: 20 * time.Microsecond, TailBytes: -1})
	f("Append with a gather window", 0, func() {
		if err := g.Append(r, 1); err != nil {
			t.Fatal(err)
		}
	})
	f("Reader.Next from disk", 0, func() {
		if _, _, ok, err := g.Reader(0).Next(); !ok || err != nil {
			t.Fatal("Next found no record", err)
		}
	})

	full := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}, MaxBytes: 4 << 10, MaxRecordBytes: 1 << 10})
	for full.Append(r, 1) == nil {
	}
	f("Append when full", 0, func() {
		if err := full.Append(r, 1); !errors.Is(err, ErrFull) {
			t.Fatal(err)
		}
	})
	f("Append invalid", 0, func() {
		if err := full.Append(nil, 1); !errors.Is(err, ErrInvalidRecord) {
			t.Fatal(err)
		}
	})

	broken := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}, DiskRetryInterval: time.Hour})
	broken.cur.Close()
	broken.Append(r, 1)
	f("Append after disk error", 0, func() {
		if err := broken.Append(r, 1); !errors.Is(err, ErrDisk) {
			t.Fatal(err)
		}
	})
}
