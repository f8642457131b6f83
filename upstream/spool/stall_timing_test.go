package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"
)

// BenchmarkAppendStall measures the longest waits of Append while segments
// roll and delivered ones are deleted: one writer appends ~400-byte records
// into 32 MiB segments while a reader (as a shipper) reads and commits
// everything. It reports the longest Append and the 99.9th percentile;
// before issue 21 the Append that rolled a segment also deleted the
// delivered one and wrote the next reserve.
func BenchmarkAppendStall(b *testing.B) {
	s, err := Open(Options{Dir: b.TempDir(), Destinations: []string{"a"}, SegmentBytes: 32 << 20, MaxBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // the shipper
		defer close(done)
		rd := s.Reader(0)
		for {
			select {
			case <-stop:
				return
			case <-rd.Notify():
			case <-time.After(time.Millisecond):
			}
			for {
				_, _, ok, err := rd.Next()
				if err != nil || !ok {
					break
				}
			}
			rd.Commit(rd.Pos())
		}
	}()
	r := rec(1)
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := s.Append(r, 1); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	close(stop)
	<-done
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
	b.ReportMetric(float64(lat[len(lat)*999/1000].Microseconds()), "p99.9-µs")
	segments := float64(len(lat)) * float64(len(r)+frameHeaderLen) / float64(32<<20)
	b.ReportMetric(segments, "segments")
	slow := len(lat) - sort.Search(len(lat), func(i int) bool { return lat[i] > 500*time.Microsecond })
	b.ReportMetric(float64(slow)/segments, "over-500µs/segment")
}

// BenchmarkRemoveSegment frees a 64 MiB segment whose pages are cached, in
// steps of several sizes, and reports the longest truncate call (each one
// holds the goroutine's P: with one P, no request runs meanwhile) and the
// time per segment. removeStep is chosen from it.
func BenchmarkRemoveSegment(b *testing.B) {
	const size = 64 << 20
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	for _, step := range []int64{4 << 20, removeStep, 256 << 10} {
		b.Run(fmt.Sprintf("step=%dKiB", step>>10), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "seg")
			var longest time.Duration
			for b.Loop() {
				b.StopTimer()
				f, err := os.Create(path)
				if err != nil {
					b.Fatal(err)
				}
				for range size / len(chunk) {
					if _, err := f.Write(chunk); err != nil {
						b.Fatal(err)
					}
				}
				f.Close()
				b.StartTimer()
				if err := freeInSteps(path, size, step, stepTimer(&longest)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(longest.Microseconds()), "max-step-µs")
		})
	}
}

// BenchmarkZeroSegment overwrites a 16 MiB segment whose pages are cached
// with zeros, as recycling does, in steps of several sizes, and reports the
// longest write call (each holds the goroutine's P: with one P, no request
// runs meanwhile) and the time per segment. zeroStep is chosen from it.
func BenchmarkZeroSegment(b *testing.B) {
	const size = 16 << 20
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	for _, step := range []int64{1 << 20, 256 << 10, zeroStep, 16 << 10} {
		b.Run(fmt.Sprintf("step=%dKiB", step>>10), func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "seg"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			var longest time.Duration
			for b.Loop() {
				b.StopTimer()
				for off := int64(0); off < size; off += int64(len(chunk)) {
					if _, err := f.WriteAt(chunk, off); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if err := zeroInSteps(f, size, step, stepTimer(&longest)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(longest.Microseconds()), "max-step-µs")
		})
	}
}

// stepTimer returns a between hook for freeInSteps and zeroInSteps that
// keeps in longest the longest time from its making or its last call.
func stepTimer(longest *time.Duration) func() {
	last := time.Now()
	return func() {
		now := time.Now()
		*longest = max(*longest, now.Sub(last))
		last = now
	}
}
