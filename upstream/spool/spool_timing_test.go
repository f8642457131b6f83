package spool

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkSpoolAppend measures the hot path: one ~400-byte record per op,
// from one goroutine and from many (group commit). Nobody reads, so sealed
// segments are deleted as soon as they are full and the disk use stays flat.
func BenchmarkSpoolAppend(b *testing.B) {
	r := rec(1)
	for _, bc := range []struct {
		name     string
		d        Durability
		parallel int
	}{
		{"process/serial", DurabilityProcess, 0},
		{"process/parallel", DurabilityProcess, 1},
		{"process/parallel64", DurabilityProcess, 32},
		{"fsync/serial", DurabilityFsync, 0},
		{"fsync/parallel64", DurabilityFsync, 32},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := Open(Options{Dir: b.TempDir(), Durability: bc.d, SegmentBytes: 16 << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetBytes(int64(len(r)))
			b.ReportAllocs()
			b.ResetTimer()
			if bc.parallel == 0 {
				for i := 0; i < b.N; i++ {
					if err := s.Append(r, 1); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(bc.parallel)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := s.Append(r, 1); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/counterValue(s.m.writes), "records/write")
		})
	}
}

// BenchmarkNaiveWritePerRecord is what the group commit replaces: one write
// (and, for fsync, one fsync) per record.
func BenchmarkNaiveWritePerRecord(b *testing.B) {
	r := append(rec(1), '\n')
	for _, sync := range []bool{false, true} {
		name := "write"
		if sync {
			name = "write+fsync"
		}
		b.Run(name, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "naive"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(int64(len(r)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := f.Write(r); err != nil {
					b.Fatal(err)
				}
				if sync {
					f.Sync()
				}
				if i%100000 == 99999 {
					f.Truncate(0)
					f.Seek(0, 0)
				}
			}
		})
	}
}

// BenchmarkReaderNext measures reading back (the shipper's side).
func BenchmarkReaderNext(b *testing.B) {
	r := rec(1)
	s, err := Open(Options{Dir: b.TempDir(), Destinations: []string{"a"}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 20000
	for i := 0; i < n; i++ {
		s.Append(r, 1)
	}
	rd := s.Reader(0)
	b.SetBytes(int64(len(r)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, ok, _ := rd.Next(); !ok {
			rd.pos, rd.limit, rd.bit = 0, 0, bitUnknown // rewind
			rd.haveSeg = false
		}
	}
}

// BenchmarkReaderKeepsUp measures what a shipper that keeps up pays per
// record: a group of 8 appends, then the reader reads them, with the tail
// in memory (the default) and without (every read a pread of the segment
// just written). One run compares both: go test ./upstream/spool -bench ReaderKeepsUp.
func BenchmarkReaderKeepsUp(b *testing.B) {
	r := rec(1)
	for _, bc := range []struct {
		name string
		tail int
	}{{"memory", 0}, {"disk", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := Open(Options{Dir: b.TempDir(), Destinations: []string{"a"}, SegmentBytes: 16 << 20, TailBytes: bc.tail})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			rd := s.Reader(0)
			var reading time.Duration
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := s.Append(r, 1); err != nil {
					b.Fatal(err)
				}
				if i%8 != 7 {
					continue
				}
				t0 := time.Now()
				for {
					_, _, ok, err := rd.Next()
					if err != nil {
						b.Fatal(err)
					}
					if !ok {
						break
					}
				}
				reading += time.Since(t0)
				if i%1024 == 1023 {
					rd.Commit(rd.Pos())
				}
			}
			b.ReportMetric(float64(reading.Nanoseconds())/float64(b.N), "read-ns/record")
		})
	}
}
