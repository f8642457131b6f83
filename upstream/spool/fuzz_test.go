package spool

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzSegmentReader feeds arbitrary bytes to the spool as a segment file:
// once as an older segment (read frame by frame, with resynchronization
// after damage) and once as the newest one (repaired by Open). Nothing may
// panic, every record returned must be a whole valid frame's, and reading
// must end.
func FuzzSegmentReader(f *testing.F) {
	names := []string{"a"}
	valid := appendSegmentHeader(nil, names)
	for i := 0; i < 3; i++ {
		valid = appendFrame(valid, rec(i), 1, int64(i))
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-7])
	damaged := append([]byte(nil), valid...)
	damaged[len(valid)/2] ^= 0x40
	f.Add(damaged)
	f.Add(appendSegmentHeader(nil, names))
	f.Add([]byte{})
	f.Add([]byte("BGSPOOL1\x00\x00\x00\x00"))
	f.Add(append(appendSegmentHeader(nil, []string{"b", "a"}), appendFrame(nil, []byte("{}"), 2, 0)...))
	f.Add(append(appendSegmentHeader(nil, names), make([]byte, 100)...))
	// A recycled segment: frames, then zeros; and a torn frame over them.
	recycled := appendFrame(appendRecycledHeader(nil, names), rec(0), 1, 0)
	f.Add(append(recycled, make([]byte, 200)...))
	torn := appendFrame(nil, rec(1), 1, 1)
	f.Add(append(append(recycled, torn[:len(torn)/2]...), make([]byte, 200)...))

	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := scanSegment(fakeFile(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		for _, newest := range []bool{false, true} {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, segmentName(0)), data, 0o600); err != nil {
				t.Fatal(err)
			}
			if !newest {
				next := appendSegmentHeader(nil, names)
				if err := os.WriteFile(filepath.Join(dir, segmentName(uint64(len(data)))), next, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Open(Options{Dir: dir, Destinations: names, MaxRecordBytes: 1 << 10, BufferBytes: 4 << 10})
			if err != nil {
				t.Fatal(err)
			}
			r := s.Reader(0)
			total := 0
			for n := 0; ; n++ {
				b, _, ok, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				total += frameHeaderLen + len(b)
				if len(b) == 0 || total > len(data) {
					t.Fatalf("record %d: %d bytes, %d in all from a %d-byte segment", n, len(b), total, len(data))
				}
			}
			if r.Pos() < s.End() {
				t.Fatalf("reader stopped at %d before the end %d", r.Pos(), s.End())
			}
			s.Close()
		}
	})
}

// fakeFile is an io.ReaderAt over a byte slice.
type fakeFile []byte

func (f fakeFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(f)) {
		return 0, nil
	}
	return copy(p, f[off:]), nil
}
