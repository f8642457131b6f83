package spool

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestTailRing: the ring returns exactly the bytes put at each offset it
// still holds, and nothing for offsets it no longer (or never) held.
func TestTailRing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tl := newTail(1000)
	var stream []byte // the whole stream from offset base
	base := uint64(12345)
	off := base
	for range 2000 {
		b := make([]byte, rng.IntN(700)+1)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if rng.IntN(20) == 0 { // a jump (a new segment after a failure): the ring restarts
			off += uint64(rng.IntN(50) + 1)
			stream = stream[:0]
			base = off
		}
		tl.put(off, b)
		stream = append(stream, b...)
		off += uint64(len(b))
		for range 5 {
			at := base + uint64(rng.IntN(len(stream)+20))
			dst := make([]byte, rng.IntN(1200)+1)
			n := tl.read(at, dst)
			held := min(uint64(1000), uint64(len(stream)))
			if at < off-held || at >= off {
				if n != 0 {
					t.Fatalf("read at %d (held [%d, %d)) returned %d bytes", at, off-held, off, n)
				}
				continue
			}
			want := stream[at-base:][:min(len(dst), int(off-at))]
			if !bytes.Equal(dst[:n], want) {
				t.Fatalf("read at %d: %d bytes differ from the stream (%d)", at, n, len(want))
			}
		}
	}
}

// readAll reads every available record of reader i, with the positions
// after each.
func readAll(t *testing.T, s *Spool, i int) (recs [][]byte, pos []uint64) {
	t.Helper()
	r := s.Reader(i)
	for {
		b, _, ok, err := r.Next()
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if !ok {
			return recs, pos
		}
		recs = append(recs, bytes.Clone(b))
		pos = append(pos, r.Pos())
	}
}

// TestTailMatchesDisk is a differential test of the in-memory hand-off: the
// same appends and reads run on a spool with a small tail (readers keep up
// and copy from memory, a slow reader falls behind the ring and reads the
// disk) and on one with no tail (every read from disk). Both return the
// same records at the same positions, equal to what was appended for
// each destination, in order, across segment rolls and a restart.
func TestTailMatchesDisk(t *testing.T) {
	type run struct {
		s    *Spool
		dir  string
		opts Options
		got  [2][][]byte
		pos  [2][]uint64
	}
	mk := func(tailBytes int) *run {
		dir := t.TempDir()
		o := Options{Dir: dir, Destinations: []string{"fast", "slow"}, SegmentBytes: 32 << 10,
			MaxRecordBytes: 4 << 10, TailBytes: tailBytes}
		s, err := Open(o)
		if err != nil {
			t.Fatal(err)
		}
		return &run{s: s, dir: dir, opts: o}
	}
	mem, disk := mk(8<<10), mk(-1)
	var want [2][][]byte
	rng := rand.New(rand.NewPCG(3, 4))
	id := 0
	step := func(restart bool) {
		for range 50 {
			// A group of appends, then the fast reader catches up; the
			// slow one reads now and then only.
			for range rng.IntN(8) + 1 {
				route := Route(rng.IntN(3) + 1)
				r := rec(id)
				id++
				for _, x := range []*run{mem, disk} {
					if err := x.s.Append(r, route); err != nil {
						t.Fatal(err)
					}
				}
				for i := range 2 {
					if route.Has(i) {
						want[i] = append(want[i], r)
					}
				}
			}
			for i := range 2 {
				if i == 1 && rng.IntN(10) != 0 {
					continue
				}
				for _, x := range []*run{mem, disk} {
					recs, pos := readAll(t, x.s, i)
					x.got[i] = append(x.got[i], recs...)
					x.pos[i] = append(x.pos[i], pos...)
					if rng.IntN(2) == 0 {
						x.s.Reader(i).Commit(x.s.Reader(i).Pos())
					}
				}
			}
		}
		if restart {
			for _, x := range []*run{mem, disk} {
				// Commit what was read: after the restart, reading
				// resumes from the cursor, from disk.
				for i := range 2 {
					x.s.Reader(i).Commit(x.s.Reader(i).Pos())
				}
				x.s.Close()
				s, err := Open(x.opts)
				if err != nil {
					t.Fatal(err)
				}
				x.s = s
			}
		}
	}
	step(true)
	step(false)
	for _, x := range []*run{mem, disk} {
		for i := range 2 {
			recs, pos := readAll(t, x.s, i)
			x.got[i] = append(x.got[i], recs...)
			x.pos[i] = append(x.pos[i], pos...)
		}
		defer x.s.Close()
	}
	memReads, memDiskReads := mem.s.Reads()
	diskMemReads, _ := disk.s.Reads()
	t.Logf("%d records; with a tail: %d reads from memory, %d from disk; without: %d from memory", id, memReads, memDiskReads, diskMemReads)
	if memReads == 0 || memDiskReads == 0 || diskMemReads != 0 {
		t.Fatalf("reads from memory %d and disk %d with a tail, %d from memory without: the test misses a path", memReads, memDiskReads, diskMemReads)
	}
	for i := range 2 {
		if len(mem.got[i]) != len(want[i]) || len(disk.got[i]) != len(want[i]) {
			t.Fatalf("destination %d: read %d with a tail, %d without, appended %d", i, len(mem.got[i]), len(disk.got[i]), len(want[i]))
		}
		for j := range want[i] {
			if !bytes.Equal(mem.got[i][j], want[i][j]) || !bytes.Equal(disk.got[i][j], want[i][j]) {
				t.Fatalf("destination %d record %d differs", i, j)
			}
			if mem.pos[i][j] != disk.pos[i][j] {
				t.Fatalf("destination %d record %d: position %d with a tail, %d without", i, j, mem.pos[i][j], disk.pos[i][j])
			}
		}
	}
}

// notified reports whether the reader's channel holds a notification, and
// takes it.
func notified(r *Reader) bool {
	select {
	case <-r.Notify():
		return true
	default:
		return false
	}
}

// TestNotifyAfter: with NotifyAfter(n) a reader is woken only by the write
// that takes the stream n bytes past its position, and told at once when
// that much is already there; with 0, by every write.
func TestNotifyAfter(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}})
	r := s.Reader(0)
	drain(t, s, 0) // past the segment header
	if r.NotifyAfter(0) {
		t.Fatal("ready on an empty spool")
	}
	s.Append(rec(0), 1)
	if !notified(r) {
		t.Fatal("no notification after a write, with NotifyAfter(0)")
	}
	drain(t, s, 0)
	const n = 16 << 10
	if r.NotifyAfter(n) {
		t.Fatal("ready with nothing written since")
	}
	id := 1
	for s.End() < r.Pos()+n {
		if notified(r) {
			t.Fatalf("woken at %d bytes past the reader, asked for %d", s.End()-r.Pos(), n)
		}
		s.Append(rec(id), 1)
		id++
	}
	if !notified(r) {
		t.Fatal("not woken once the stream passed the reader by n bytes")
	}
	if !r.NotifyAfter(n) {
		t.Fatal("NotifyAfter does not report that n bytes are already written")
	}
	if got := drain(t, s, 0); !equalInts(got, seq(1, id)) {
		t.Fatalf("read %d records, want %d", len(got), id-1)
	}
}

// TestNotifyAfterRecords: with NotifyAfterRecords(n, k) a reader is also
// woken by the write that brings k records past its position, however few
// bytes they are, and told ready at once when anything is written past it.
func TestNotifyAfterRecords(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}})
	r := s.Reader(0)
	drain(t, s, 0) // past the segment header
	const n, k = 1 << 20, 3
	if r.NotifyAfterRecords(n, k) {
		t.Fatal("ready with nothing written since")
	}
	for id := range k {
		if notified(r) {
			t.Fatalf("woken after %d records, asked for %d", id, k)
		}
		if err := s.Append(rec(id), 1); err != nil {
			t.Fatal(err)
		}
	}
	if !notified(r) {
		t.Fatalf("not woken after %d records (%d bytes, asked for %d)", k, s.End()-r.Pos(), n)
	}
	if !r.NotifyAfterRecords(n, k) {
		t.Fatal("NotifyAfterRecords does not report the records written past the reader")
	}
	if got := drain(t, s, 0); !equalInts(got, seq(0, k)) {
		t.Fatalf("read %v, want %v", got, seq(0, k))
	}
	// NotifyAfter drops the bound on records.
	if r.NotifyAfterRecords(n, 1) || r.NotifyAfter(n) {
		t.Fatal("ready with nothing written since")
	}
	if err := s.Append(rec(k), 1); err != nil {
		t.Fatal(err)
	}
	if notified(r) {
		t.Fatal("woken by one record after NotifyAfter replaced NotifyAfterRecords")
	}
}

// TestWakeUpUnderConcurrentWriters: four writers append records of
// 10 to 1,500 bytes while a reader waits between reads as a shipper does,
// each time for a random number of bytes (up to 64 KiB, or none) or of
// records (up to 50, never more than are still to come), whichever comes
// first. A
// lost wake-up leaves the reader waiting while records it asked for are
// written: it must be woken within 10 s every time, and read every record
// once, each writer's in order.
func TestWakeUpUnderConcurrentWriters(t *testing.T) {
	const writers, each = 4, 2500
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}})
	r := s.Reader(0)
	failed := make(chan error, writers) // a writer's Append error
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range each {
				id := w*each + i
				b := fmt.Appendf(nil, `{"id":"e%08d","pad":%q}`, id, bytes.Repeat([]byte("x"), 10+rng.IntN(1490)))
				if err := s.Append(b, 1); err != nil {
					failed <- err
					return
				}
				if rng.IntN(8) == 0 {
					time.Sleep(time.Duration(rng.IntN(200)) * time.Microsecond)
				}
			}
		}()
	}
	rng := rand.New(rand.NewPCG(99, 7))
	next := make([]int, writers) // each writer's next record
	waits := 0
	for got := 0; got < writers*each; {
		b, _, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			id := recID(t, b)
			if w := id / each; id%each != next[w] {
				t.Fatalf("read record %d of writer %d, want its record %d", id%each, w, next[w])
			} else {
				next[w]++
			}
			got++
			continue
		}
		// Nothing written past the reader (else ready below): every
		// record still to read is still to come, so asking for k of them,
		// or for fewer bytes than they take, is asking for what will be
		// written. A record and its frame take at least minFrame bytes.
		const minFrame = frameHeaderLen + 30
		remaining := writers*each - got
		var n, k uint64
		var ready bool
		switch rng.IntN(4) {
		case 0: // bytes only, fewer than the records to come take
			n = uint64(rng.IntN(min(minFrame*remaining, 64<<10)))
			ready = r.NotifyAfter(n)
		default: // records, with or without a bound on bytes
			n = uint64(rng.IntN(64 << 10))
			if rng.IntN(2) == 0 {
				n = 1 << 40 // only the records wake it
			}
			k = uint64(1 + rng.IntN(min(remaining, 50)))
			if remaining <= 50 && rng.IntN(2) == 0 {
				n, k = 1<<40, uint64(remaining) // exactly what is to come
			}
			ready = r.NotifyAfterRecords(n, k)
		}
		if ready {
			continue
		}
		waits++
		select {
		case <-r.Notify():
		case err := <-failed:
			t.Fatal(err)
		case <-time.After(60 * time.Second):
			t.Fatalf("not woken in 60 s after asking for %d bytes or %d records (%d of %d read, %d bytes written past the reader)",
				n, k, got, writers*each, s.End()-r.Pos())
		}
	}
	wg.Wait()
	t.Logf("%d waits", waits)
}

// TestReaderChecksWhatItReadsFromDisk: a Reader skips the checksums of
// frames it copies from the in-memory tail (bytes this process just
// framed), never of frames it reads back from a segment file. Here the
// reader takes its first record from memory, falls behind further than
// the tail holds, and meets a frame damaged on disk: that frame is counted
// and skipped, and every other record arrives intact.
func TestReaderChecksWhatItReadsFromDisk(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Destinations: []string{"a"}, TailBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rd := s.Reader(0)
	if err := s.Append(rec(0), 1); err != nil {
		t.Fatal(err)
	}
	if r, _, ok, err := rd.Next(); err != nil || !ok || recID(t, r) != 0 {
		t.Fatalf("first record: ok %v, err %v", ok, err)
	}
	if got := testutil.ToFloat64(s.m.readsMemory); got != 1 {
		t.Fatalf("the first record was not read from memory (%v memory reads)", got)
	}
	const n = 20 // ~400 bytes each: far more than the tail's 1 KiB
	for i := 1; i <= n; i++ {
		if err := s.Append(rec(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+segmentSuffix))
	if len(segs) != 1 {
		t.Fatalf("segments: %v", segs)
	}
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(b, rec(5))
	if at < 0 {
		t.Fatal("record 5 not found in the segment")
	}
	f, err := os.OpenFile(segs[0], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{b[at+100] ^ 0x20}, int64(at+100)); err != nil {
		t.Fatal(err)
	}
	f.Close()

	var got []int
	for {
		r, _, ok, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if !bytes.Equal(r, rec(recID(t, r))) {
			t.Fatalf("record %d came back altered", recID(t, r))
		}
		got = append(got, recID(t, r))
	}
	if len(got) != n-1 || slices.Contains(got, 5) {
		t.Fatalf("read %v, want 1..%d without 5", got, n)
	}
	if c := testutil.ToFloat64(rd.corrupt); c < 1 {
		t.Fatalf("damaged frames counted: %v, want at least 1", c)
	}
	if d := testutil.ToFloat64(s.m.readsDisk); d < 1 {
		t.Fatalf("the reader never read the disk (%v disk reads)", d)
	}
}
