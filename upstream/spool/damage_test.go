package spool

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
)

// Damage kinds applied by damageSegment.
const (
	damageFlip     = iota // flip 1-3 random bits in a range
	damageZero            // zero a range
	damageTruncate        // cut the file at an offset
	damageKinds
)

var damageNames = [...]string{"flip", "zero", "truncate"}

// frameAt is one frame of a pristine template segment.
type frameAt struct {
	seg        int // index in the template's sorted segment files
	start, end int64
	id         int
	route      Route
}

// damageTemplate is a spool written once and copied for each case: 300
// records over several segments, to "a", "b" or both.
type damageTemplate struct {
	files  []string // segment file names, oldest first
	data   [][]byte
	frames []frameAt
}

var (
	tmplOnce sync.Once
	tmpl     damageTemplate
	tmplErr  error
)

var damageOpts = Options{Destinations: []string{"a", "b"}, SegmentBytes: 16 << 10, MaxRecordBytes: 4 << 10}

func damageTmpl(t testing.TB) *damageTemplate {
	tmplOnce.Do(func() {
		dir, err := os.MkdirTemp("", "spool-damage-")
		if err != nil {
			tmplErr = err
			return
		}
		defer os.RemoveAll(dir)
		o := damageOpts
		o.Dir = dir
		s, err := Open(o)
		if err != nil {
			tmplErr = err
			return
		}
		for i := 0; i < 300; i++ {
			if err = s.Append(rec(i), Route(i%3+1)); err != nil {
				tmplErr = err
				return
			}
		}
		s.Close()
		files, _ := filepath.Glob(filepath.Join(dir, "*"+segmentSuffix))
		sort.Strings(files)
		for si, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				tmplErr = err
				return
			}
			tmpl.files = append(tmpl.files, filepath.Base(f))
			tmpl.data = append(tmpl.data, b)
			_, p, _ := parseSegmentHeader(b)
			for p < len(b) {
				fr, st := parseFrame(b[p:])
				if st != frameOK {
					break
				}
				id := recIDOK(fr.rec)
				tmpl.frames = append(tmpl.frames, frameAt{seg: si, start: int64(p), end: int64(p + fr.size), id: id, route: fr.route})
				p += fr.size
			}
		}
	})
	if tmplErr != nil {
		t.Fatal(tmplErr)
	}
	if len(tmpl.files) < 4 || len(tmpl.frames) != 300 {
		t.Fatalf("template: %d segments, %d frames", len(tmpl.files), len(tmpl.frames))
	}
	return &tmpl
}

// recIDOK is recID for records known to be well formed; -1 otherwise.
func recIDOK(r []byte) int {
	i := bytes.Index(r, []byte(`"id":"e`))
	if i < 0 || len(r) < i+15 {
		return -1
	}
	n, err := strconv.Atoi(string(r[i+7 : i+15]))
	if err != nil {
		return -1
	}
	return n
}

// damageCase copies the template, damages segment seg (kind, at off, n
// bytes; all taken modulo the segment's size), reopens the spool, reads
// everything and checks that every frame whose bytes are intact is
// delivered to each of its destinations, nothing else is, and the bytes
// skipped are counted exactly.
func damageCase(t *testing.T, seg, kind int, off, n uint32, seed uint64) {
	tp := damageTmpl(t)
	dir := t.TempDir()
	seg %= len(tp.files)
	kind %= damageKinds
	data := append([]byte(nil), tp.data[seg]...)
	size := uint32(len(data))
	off %= size
	n = 1 + n%min(size-off, 4096)
	lo, hi := int64(off), int64(off+n) // the damaged range
	rng := rand.New(rand.NewPCG(seed, 3))
	switch kind {
	case damageFlip:
		for range 1 + rng.IntN(3) {
			p := lo + rng.Int64N(hi-lo)
			data[p] ^= 1 << rng.IntN(8)
		}
	case damageZero:
		clear(data[lo:hi])
	case damageTruncate:
		data, hi = data[:lo], int64(size)
	}
	for i, f := range tp.files {
		b := tp.data[i]
		if i == seg {
			b = data
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	headerLen := int64(segHeaderFixed + int(binary.LittleEndian.Uint32(tp.data[seg][8:])))
	o := damageOpts
	o.Dir = dir
	s := openT(t, o)
	var lostBytes int64
	want := [2]map[int]bool{{}, {}}
	for _, f := range tp.frames {
		intact := f.seg != seg || f.end <= int64(len(data)) && bytes.Equal(data[f.start:f.end], tp.data[seg][f.start:f.end])
		if !intact {
			lostBytes += f.end - f.start
		}
		for d := range 2 {
			if intact && f.route.Has(d) {
				want[d][f.id] = true
			}
		}
	}
	for d := range 2 {
		got := drain(t, s, d)
		seen := map[int]bool{}
		for _, id := range got {
			if !want[d][id] || seen[id] {
				t.Fatalf("%s at %d+%d of segment %d: destination %d got record %d, damaged, not routed to it or twice",
					damageNames[kind], lo, hi-lo, seg, d, id)
			}
			seen[id] = true
		}
		if len(seen) != len(want[d]) {
			var missing []int
			for id := range want[d] {
				if !seen[id] {
					missing = append(missing, id)
				}
			}
			sort.Ints(missing)
			t.Fatalf("%s at %d+%d of segment %d (of %d, header %d bytes): destination %d lost intact records %v",
				damageNames[kind], lo, hi-lo, seg, len(tp.files), headerLen, d, missing)
		}
		// Exact counts when only frames were damaged (not the header,
		// not by truncation, which leaves nothing to count bytes of).
		if kind != damageTruncate && lo >= headerLen {
			if skipped := int64(s.CorruptBytes(d) + s.TornBytes()); skipped != lostBytes {
				t.Fatalf("%s at %d+%d of segment %d: %d bytes counted as skipped, %d bytes of frames damaged",
					damageNames[kind], lo, hi-lo, seg, skipped, lostBytes)
			}
		}
	}
}

// TestDamageProperty flips, zeroes and truncates random ranges of real
// segments (the newest one included, which Open repairs): every frame whose
// bytes are intact must be delivered.
func TestDamageProperty(t *testing.T) {
	const seed = 20261204
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range 150 {
		seg, kind := rng.IntN(64), rng.IntN(damageKinds)
		off, n := rng.Uint32(), rng.Uint32()
		if i%10 == 0 {
			off %= 64 // the segment header and the first frame
		}
		if i%7 == 0 {
			n %= 8 // a few bytes
		}
		damageCase(t, seg, kind, off, n, uint64(i))
	}
}

// FuzzSpoolDamage is TestDamageProperty's check driven by the fuzzer.
func FuzzSpoolDamage(f *testing.F) {
	f.Add(uint8(1), uint8(damageFlip), uint32(3), uint32(1), uint64(0))      // the magic
	f.Add(uint8(2), uint8(damageFlip), uint32(500), uint32(3), uint64(1))    // a frame length
	f.Add(uint8(2), uint8(damageZero), uint32(700), uint32(2000), uint64(2)) // several frames
	f.Add(uint8(3), uint8(damageTruncate), uint32(9000), uint32(0), uint64(3))
	f.Add(uint8(255), uint8(damageZero), uint32(0), uint32(40), uint64(4)) // the newest header
	f.Fuzz(func(t *testing.T, seg, kind uint8, off, n uint32, seed uint64) {
		damageCase(t, int(seg), int(kind), off, n, seed)
	})
}

// TestMisalignedEndInLiveSegment forges damage in the live segment that
// leads the reader to a few bytes before the durable end: the first
// frame's length is made to cover both frames but their last 4 bytes, its
// checksum recomputed. The durable end is a frame boundary, so those bytes
// cannot be a header still being written; the reader must not wait on
// them for ever: the record appended next is read, and the 4 bytes counted
// as damaged.
func TestMisalignedEndInLiveSegment(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir, Destinations: []string{"a"}, TailBytes: -1})
	for i := range 2 {
		if err := s.Append(rec(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	path := segmentPath(dir, s.segs[0].base)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, p, st := parseSegmentHeader(b)
	if st != frameOK {
		t.Fatal("segment header not readable")
	}
	f0, st0 := parseFrame(b[p:])
	f1, st1 := parseFrame(b[p+f0.size:])
	if st0 != frameOK || st1 != frameOK || p+f0.size+f1.size != len(b) {
		t.Fatalf("expected two frames filling the segment after its header")
	}
	forged := f0.size + f1.size - 4
	binary.LittleEndian.PutUint32(b[p:], uint32(forged-frameHeaderLen))
	binary.LittleEndian.PutUint32(b[p+4:], frameCRC(b[p:p+forged]))
	fd, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fd.WriteAt(b[p:p+8], int64(p)); err != nil {
		t.Fatal(err)
	}
	fd.Close()

	r := s.Reader(0)
	if _, _, ok, err := r.Next(); !ok || err != nil {
		t.Fatalf("the forged frame: ok %v, err %v", ok, err)
	}
	if _, _, ok, err := r.Next(); ok || err != nil {
		t.Fatalf("4 bytes before the durable end: ok %v, err %v; want nothing yet", ok, err)
	}
	if err := s.Append(rec(2), 1); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got, _, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			if id := recID(t, got); id != 2 {
				t.Fatalf("read record %d, want 2", id)
			}
			if n := s.CorruptBytes(0); n != 4 {
				t.Errorf("%d bytes counted as damaged, want 4", n)
			}
			return
		}
	}
	t.Fatal("the reader stopped at the misaligned end: the record appended after it is never read")
}
