package spool

import (
	"slices"
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
	b.ReportMetric(float64(len(lat))*float64(len(r)+frameHeaderLen)/float64(32<<20), "segments")
}
