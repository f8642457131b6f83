package spool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// rec returns a test record with the given id, padded to about 400 bytes
// like a real anonymized event.
func rec(id int) []byte {
	return fmt.Appendf(nil, `{"id":"e%08d","site":"shop.example","kind":"pixel","url":"https://shop.example/p/%d","pad":%q}`,
		id, id%97, bytes.Repeat([]byte("x"), 300))
}

// recID extracts the id number from a record made by rec.
func recID(t testing.TB, r []byte) int {
	t.Helper()
	i := bytes.Index(r, []byte(`"id":"e`))
	if i < 0 || len(r) < i+15 {
		t.Fatalf("record without id: %q", r)
	}
	n, err := strconv.Atoi(string(r[i+7 : i+15]))
	if err != nil {
		t.Fatalf("bad id in %q", r)
	}
	return n
}

func openT(t testing.TB, o Options) *Spool {
	t.Helper()
	s, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// drain reads every available record of reader i and returns their ids.
func drain(t testing.TB, s *Spool, i int) []int {
	t.Helper()
	var ids []int
	r := s.Reader(i)
	for {
		b, _, ok, err := r.Next()
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if !ok {
			return ids
		}
		ids = append(ids, recID(t, b))
	}
}

func seq(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFrameRoundTrip(t *testing.T) {
	f := func(rec string, route Route, ms int64) {
		t.Helper()
		b := appendFrame([]byte("prefix"), []byte(rec), route, ms)
		fr, st := parseFrame(b[6:])
		if st != frameOK || string(fr.rec) != rec || fr.route != route || fr.unixMS != ms || fr.size != len(b)-6 {
			t.Fatalf("round trip of %q: %+v %v", rec, fr, st)
		}
		// Every shorter prefix is short, every single-bit flip is bad.
		for n := 0; n < len(b)-6; n++ {
			if _, st := parseFrame(b[6 : 6+n]); st == frameOK {
				t.Fatalf("prefix of %d bytes parsed", n)
			}
		}
		for i := 6; i < len(b); i++ {
			for bit := 0; bit < 8; bit++ {
				c := bytes.Clone(b[6:])
				c[i-6] ^= 1 << bit
				if _, st := parseFrame(c); st == frameOK {
					t.Fatalf("flip of byte %d bit %d not detected", i-6, bit)
				}
			}
		}
	}
	f(`{"id":"a"}`, 1, 1700000000000)
	f("x", 1<<63, 0)
	f(`{"id":"b","n":[1,2,3]}`, 0x5, -1)
}

func TestSegmentHeader(t *testing.T) {
	f := func(names []string, look string, want int) {
		t.Helper()
		h := appendSegmentHeader(nil, names)
		blob, size, st := parseSegmentHeader(append(h, "trailing"...))
		if st != frameOK || size != len(h) {
			t.Fatalf("%q: status %v size %d", names, st, size)
		}
		if got := nameIndex(blob, look); got != want {
			t.Fatalf("%q: index of %q = %d, want %d", names, look, got, want)
		}
	}
	f([]string{"file", "http", "kafka"}, "http", 1)
	f([]string{"file", "http", "kafka"}, "kafka", 2)
	f([]string{"file"}, "file", 0)
	f([]string{"file"}, "fil", -1)
	f(nil, "file", -1)
}

func TestAppendRead(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir, Destinations: []string{"a", "b"}, SegmentBytes: 8 << 10})
	var all, odd []int
	for i := 0; i < 500; i++ {
		route := RouteTo(0)
		if i%2 == 1 {
			route |= RouteTo(1)
			odd = append(odd, i)
		}
		all = append(all, i)
		if err := s.Append(append(rec(i), '\n'), route); err != nil {
			t.Fatal(err)
		}
	}
	if got := drain(t, s, 0); !equalInts(got, all) {
		t.Fatalf("reader a got %d records, want %d", len(got), len(all))
	}
	if got := drain(t, s, 1); !equalInts(got, odd) {
		t.Fatalf("reader b got %d records, want %d", len(got), len(odd))
	}
	segs := s.segmentCount()
	if segs < 10 {
		t.Fatalf("%d segments; want rotation every 8 KiB", segs)
	}
	// Only when both have committed are segments deleted.
	if err := s.Reader(0).Commit(s.Reader(0).Pos()); err != nil {
		t.Fatal(err)
	}
	if got := s.segmentCount(); got != segs {
		t.Fatalf("segments %d -> %d after one commit", segs, got)
	}
	if err := s.Reader(1).Commit(s.Reader(1).Pos()); err != nil {
		t.Fatal(err)
	}
	if got := s.segmentCount(); got != 1 {
		t.Fatalf("%d segments after both commits; want 1", got)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(files) != 1 {
		t.Fatalf("segment files on disk: %q", files)
	}
}

func TestInvalidRecords(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}, MaxRecordBytes: 1000})
	f := func(r string, want error) {
		t.Helper()
		if err := s.Append([]byte(r), 1); !errors.Is(err, want) {
			t.Fatalf("Append(%.20q) = %v, want %v", r, err, want)
		}
	}
	f("", ErrInvalidRecord)
	f("\n", ErrInvalidRecord)
	f("{}\n{}", ErrInvalidRecord)
	f(string(bytes.Repeat([]byte("x"), 1001)), ErrInvalidRecord)
	f(string(bytes.Repeat([]byte("x"), 1000)), nil)
	f("{}\n", nil)
	if got := s.Dropped(DropInvalid); got != 4 {
		t.Fatalf("dropped invalid = %d, want 4", got)
	}
}

func TestReopenResumes(t *testing.T) {
	dir := t.TempDir()
	o := Options{Dir: dir, Destinations: []string{"a", "b"}, SegmentBytes: 4 << 10}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if err := s.Append(rec(i), 3); err != nil {
			t.Fatal(err)
		}
	}
	// a acknowledges 60 records, b none.
	r := s.Reader(0)
	for i := 0; i < 60; i++ {
		if _, _, ok, _ := r.Next(); !ok {
			t.Fatal("record missing")
		}
	}
	if err := r.Commit(r.Pos()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, o)
	for i := 100; i < 150; i++ {
		if err := s.Append(rec(i), 3); err != nil {
			t.Fatal(err)
		}
	}
	if got := drain(t, s, 0); !equalInts(got, seq(60, 150)) {
		t.Fatalf("a after reopen: %v", got)
	}
	if got := drain(t, s, 1); !equalInts(got, seq(0, 150)) {
		t.Fatalf("b after reopen: got %d records", len(got))
	}
}

func TestLockedByAnotherOpen(t *testing.T) {
	dir := t.TempDir()
	openT(t, Options{Dir: dir})
	if _, err := Open(Options{Dir: dir}); err == nil {
		t.Fatal("second Open of the same directory succeeded")
	}
}

func TestDestinationsChange(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Destinations: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if err := s.Append(rec(i), RouteTo(1)); err != nil { // b only
			t.Fatal(err)
		}
	}
	s.Close()
	// b is now bit 0 and c is new at bit 1: old records still go to b only.
	s = openT(t, Options{Dir: dir, Destinations: []string{"b", "c"}})
	if err := s.Append(rec(10), RouteTo(1)); err != nil { // c only
		t.Fatal(err)
	}
	if got := drain(t, s, 0); !equalInts(got, seq(0, 10)) {
		t.Fatalf("b got %v", got)
	}
	if got := drain(t, s, 1); !equalInts(got, []int{10}) {
		t.Fatalf("c got %v", got)
	}
}

func TestTornTail(t *testing.T) {
	dir := t.TempDir()
	o := Options{Dir: dir, Destinations: []string{"a"}}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if err := s.Append(rec(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	last := files[len(files)-1]
	// A crash in the middle of writing a group: half a frame.
	half := appendFrame(nil, rec(20), 1, 0)
	half = half[:len(half)/2]
	fh, _ := os.OpenFile(last, os.O_APPEND|os.O_WRONLY, 0)
	fh.Write(half)
	fh.Close()

	s = openT(t, o)
	if got := s.TornBytes(); got != uint64(len(half)) {
		t.Fatalf("torn bytes %d, want %d", got, len(half))
	}
	if err := s.Append(rec(21), 1); err != nil {
		t.Fatal(err)
	}
	want := append(seq(0, 20), 21)
	if got := drain(t, s, 0); !equalInts(got, want) {
		t.Fatalf("got %v", got)
	}
	if c := s.Corrupt(0); c != 0 {
		t.Fatalf("corrupt %d after repair", c)
	}
}

func TestDamagedMiddle(t *testing.T) {
	dir := t.TempDir()
	o := Options{Dir: dir, Destinations: []string{"a"}}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64 // start of each frame in the file
	for i := 0; i < 30; i++ {
		offs = append(offs, s.curSize)
		if err := s.Append(rec(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	b, _ := os.ReadFile(files[0])
	b[offs[10]+30] ^= 0xff // record 10's body
	b[offs[20]+1] ^= 0x01  // record 20's length
	b[offs[29]+4] ^= 0x01  // record 29's checksum: the tail, repaired by Open
	os.WriteFile(files[0], b, 0o600)

	s = openT(t, o)
	want := append(append(seq(0, 10), seq(11, 20)...), seq(21, 29)...)
	if got := drain(t, s, 0); !equalInts(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if c := s.Corrupt(0); c != 2 {
		t.Fatalf("corrupt = %d, want 2", c)
	}
	if s.TornBytes() == 0 {
		t.Fatal("damaged last frame not truncated")
	}
}

// TestDamagedHeader reproduces issue 13 item 3's second loss: one flipped
// bit in a segment's magic cut the segment to nothing although every frame
// verified. The frames are delivered now, and the segment is kept aside.
func TestDamagedHeader(t *testing.T) {
	f := func(newest bool, damage func(b []byte)) {
		t.Helper()
		dir := t.TempDir()
		o := Options{Dir: dir, Destinations: []string{"a"}}
		s, _ := Open(o)
		for i := 0; i < 50; i++ {
			s.Append(rec(i), 1)
		}
		s.Close()
		if !newest {
			s, _ = Open(o) // seals the first segment
			s.Append(rec(50), 1)
			s.Close()
		}
		want := seq(0, 50)
		if !newest {
			want = append(want, 50)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
		b, _ := os.ReadFile(files[0])
		damage(b)
		os.WriteFile(files[0], b, 0o600)
		s = openT(t, o)
		got := drain(t, s, 0)
		t.Logf("newest %v: acknowledged %d, delivered %d, lost %d", newest, len(want), len(got), len(want)-len(got))
		if !equalInts(got, want) {
			t.Fatalf("got %v", got)
		}
		if err := s.Reader(0).Commit(s.Reader(0).Pos()); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "quarantine", filepath.Base(files[0]))); err != nil || s.Quarantined() != 1 {
			t.Fatalf("damaged segment not kept in quarantine (%d): %v", s.Quarantined(), err)
		}
	}
	for _, newest := range []bool{false, true} {
		f(newest, func(b []byte) { b[3] ^= 0x04 })                // the magic
		f(newest, func(b []byte) { b[13] ^= 0x80 })               // the header checksum
		f(newest, func(b []byte) { b[9] ^= 0x01 })                // the names length
		f(newest, func(b []byte) { b[segHeaderFixed] ^= 0x20 })   // the names
		f(newest, func(b []byte) { clear(b[:segHeaderFixed+1]) }) // all of it
	}
}

// TestDamagedLengthResyncs reproduces issue 13 item 3's first loss: one
// flipped high bit in a mid-segment frame's length made the frame run past
// the segment's end, and the reader skipped to the end, losing every later
// frame. Only the damaged frame is lost now, and it is counted exactly.
func TestDamagedLengthResyncs(t *testing.T) {
	dir := t.TempDir()
	quarantinedAt := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	o := Options{Dir: dir, Destinations: []string{"a"}, Clock: clock.NewManual(quarantinedAt)}
	s, _ := Open(o)
	var offs []int64
	for i := 0; i < 100; i++ {
		offs = append(offs, s.curSize)
		s.Append(rec(i), 1)
	}
	s.Close()
	s, _ = Open(o) // seals the first segment
	s.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	b, _ := os.ReadFile(files[0])
	b[offs[40]+2] ^= 0x10 // length + 1 MiB: past the segment's end
	os.WriteFile(files[0], b, 0o600)
	s = openT(t, o)
	got := drain(t, s, 0)
	t.Logf("acknowledged 100, delivered %d, lost %d; counted %d records, %d bytes", len(got), 100-len(got), s.Corrupt(0), s.CorruptBytes(0))
	if want := append(seq(0, 40), seq(41, 100)...); !equalInts(got, want) {
		t.Fatalf("got %v", got)
	}
	if s.Corrupt(0) != 1 || s.CorruptBytes(0) != uint64(offs[41]-offs[40]) {
		t.Fatalf("counted %d records and %d bytes, want 1 and %d", s.Corrupt(0), s.CorruptBytes(0), offs[41]-offs[40])
	}
	if err := s.Reader(0).Commit(s.Reader(0).Pos()); err != nil {
		t.Fatal(err)
	}
	checkQuarantined(t, filepath.Join(dir, "quarantine", filepath.Base(files[0])), quarantinedAt)
	if _, err := os.Stat(files[0]); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("delivered damaged segment still in the spool: %v", err)
	}
}

func TestConcurrentAppends(t *testing.T) {
	for _, d := range []Durability{DurabilityProcess, DurabilityFsync} {
		t.Run(d.String(), func(t *testing.T) {
			s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}, Durability: d,
				SegmentBytes: 64 << 10, BufferBytes: 16 << 10, MaxRecordBytes: 1 << 10})
			const workers, each = 8, 300
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < each; i++ {
						if err := s.Append(rec(w*each+i), 1); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			// Read while writing.
			var got []int
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			for finished := false; ; {
				got = append(got, drain(t, s, 0)...)
				if finished {
					break
				}
				select {
				case <-done:
					finished = true
				case <-s.Reader(0).Notify():
				}
			}
			if len(got) != workers*each {
				t.Fatalf("read %d records, want %d", len(got), workers*each)
			}
			last := make([]int, workers)
			for i := range last {
				last[i] = -1
			}
			for _, id := range got {
				w, i := id/each, id%each
				if i <= last[w] {
					t.Fatalf("worker %d: record %d after %d", w, i, last[w])
				}
				last[w] = i
			}
			writes := counterValue(s.m.writes)
			t.Logf("%d records in %v group writes, %v fsyncs", len(got), writes, counterValue(s.m.fsyncs))
		})
	}
}

func TestFullShed(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"},
		MaxBytes: 64 << 10, SegmentBytes: 8 << 10, MaxRecordBytes: 1 << 10})
	n, full := 0, 0
	for i := 0; i < 300; i++ {
		switch err := s.Append(rec(i), 1); {
		case err == nil:
			n++
		case errors.Is(err, ErrFull):
			full++
		default:
			t.Fatal(err)
		}
	}
	if full == 0 || n == 0 {
		t.Fatalf("accepted %d, full %d", n, full)
	}
	if got := s.Dropped(DropFull); got != uint64(full) {
		t.Fatalf("dropped(full) = %d, want %d", got, full)
	}
	if !s.Full() {
		t.Fatal("Full() = false")
	}
	if s.Size() > 64<<10 {
		t.Fatalf("size %d above the cap", s.Size())
	}
	// Reading and committing frees whole segments.
	ids := drain(t, s, 0)
	if !equalInts(ids, seq(0, n)) {
		t.Fatalf("accepted records not all readable: %d of %d", len(ids), n)
	}
	s.Reader(0).Commit(s.Reader(0).Pos())
	if err := s.Append(rec(1000), 1); err != nil {
		t.Fatalf("after commit: %v", err)
	}
}

func TestFullBlock(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}, WhenFull: FullBlock,
		BlockTimeout: 100 * time.Millisecond, MaxBytes: 32 << 10, SegmentBytes: 4 << 10, MaxRecordBytes: 1 << 10})
	n := 0
	for ; ; n++ {
		err := s.Append(rec(n), 1)
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if s.Dropped(DropFull) != 1 {
		t.Fatalf("dropped = %d", s.Dropped(DropFull))
	}
	// A blocked Append succeeds once a reader frees space. The 100 ms
	// above only times the Append that found the spool full; this one may
	// wait as long as a loaded machine takes to drain and commit (CI-like
	// stress failed it within 100 ms), and still fails if freeing the space
	// never unblocks it.
	s.mu.Lock()
	s.opts.BlockTimeout = 30 * time.Second
	s.mu.Unlock()
	res := make(chan error, 1)
	go func() { res <- s.Append(rec(n), 1) }()
	time.Sleep(20 * time.Millisecond) // most likely blocked by now; the test holds either way
	drain(t, s, 0)
	s.Reader(0).Commit(s.Reader(0).Pos())
	if err := <-res; err != nil {
		t.Fatalf("blocked Append: %v", err)
	}
	if got := drain(t, s, 0); !equalInts(got, []int{n}) {
		t.Fatalf("got %v", got)
	}
}

func TestClosedAppend(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}})
	if err := s.Append(rec(1), 1); err != nil {
		t.Fatal(err)
	}
	s.CloseAppends()
	if err := s.Append(rec(2), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after CloseAppends: %v", err)
	}
	if got := drain(t, s, 0); !equalInts(got, []int{1}) {
		t.Fatalf("got %v", got)
	}
}

func TestDiskErrorRecovers(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}, DiskRetryInterval: time.Millisecond})
	if err := s.Append(rec(0), 1); err != nil {
		t.Fatal(err)
	}
	s.cur.Close() // the next write fails with "file already closed"
	err := s.Append(rec(1), 1)
	var de *DiskError
	if !errors.Is(err, ErrDisk) || !errors.As(err, &de) || de.Op != "write" {
		t.Fatalf("Append with a broken file: %v", err)
	}
	if s.Err() == nil {
		t.Fatal("Err() = nil after a failed write")
	}
	time.Sleep(2 * time.Millisecond)
	// The next attempt starts a new segment and succeeds.
	if err := s.Append(rec(2), 1); err != nil {
		t.Fatalf("Append after retry interval: %v", err)
	}
	if s.Err() != nil {
		t.Fatalf("Err() = %v after a good write", s.Err())
	}
	if got := drain(t, s, 0); !equalInts(got, []int{0, 2}) {
		t.Fatalf("got %v", got)
	}
	if s.Dropped(DropDisk) != 1 {
		t.Fatalf("dropped(disk) = %d", s.Dropped(DropDisk))
	}
}

func TestCursorAheadOfData(t *testing.T) {
	// After a power loss in process mode, a cursor may point past the
	// data that survived. New records must still be read.
	dir := t.TempDir()
	o := Options{Dir: dir, Destinations: []string{"a"}}
	s, _ := Open(o)
	s.Close()
	os.WriteFile(filepath.Join(dir, "a.cursor"), appendCursor(nil, 1<<40), 0o600)
	s = openT(t, o)
	if err := s.Append(rec(7), 1); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, s, 0); !equalInts(got, []int{7}) {
		t.Fatalf("got %v", got)
	}
	if s.curBase < 1<<40 {
		t.Fatalf("new segment at %d, before the cursor", s.curBase)
	}
}

func TestDamagedCursor(t *testing.T) {
	dir := t.TempDir()
	o := Options{Dir: dir, Destinations: []string{"a"}}
	s, _ := Open(o)
	for i := 0; i < 3; i++ {
		s.Append(rec(i), 1)
	}
	drain(t, s, 0)
	s.Reader(0).Commit(s.Reader(0).Pos())
	s.Close()
	b, _ := os.ReadFile(filepath.Join(dir, "a.cursor"))
	b[0] ^= 1
	os.WriteFile(filepath.Join(dir, "a.cursor"), b, 0o600)
	s = openT(t, o)
	// Everything still on disk is read again: duplicates, never a loss.
	if got := drain(t, s, 0); !equalInts(got, seq(0, 3)) {
		t.Fatalf("got %v", got)
	}
}

func TestOptionErrors(t *testing.T) {
	f := func(o Options) {
		t.Helper()
		if s, err := Open(o); err == nil {
			s.Close()
			t.Fatalf("Open(%+v) succeeded", o)
		}
	}
	dir := t.TempDir()
	f(Options{})
	f(Options{Dir: dir, Destinations: []string{"a", "a"}})
	f(Options{Dir: dir, Destinations: []string{"a/b"}})
	f(Options{Dir: dir, Destinations: []string{""}})
	f(Options{Dir: dir, MaxRecordBytes: 1 << 30})
	f(Options{Dir: dir, Durability: 7})
}

func TestEnumStrings(t *testing.T) {
	f := func(got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	f(DurabilityProcess.String(), "process")
	f(DurabilityFsync.String(), "fsync")
	f(Durability(9).String(), "unknown")
	f(FullShed.String(), "shed")
	f(FullBlock.String(), "block")
}

func TestEmptyNewestSegment(t *testing.T) {
	// A crash right after a new segment file was created, before its
	// header: the empty file is removed and the segment before it is
	// repaired.
	dir := t.TempDir()
	o := Options{Dir: dir, Destinations: []string{"a"}}
	s, _ := Open(o)
	for i := 0; i < 5; i++ {
		s.Append(rec(i), 1)
	}
	end := s.curBase + uint64(s.curSize)
	s.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	fh, _ := os.OpenFile(files[0], os.O_APPEND|os.O_WRONLY, 0)
	fh.Write([]byte{1, 2, 3})
	fh.Close()
	os.WriteFile(filepath.Join(dir, segmentName(end+3)), nil, 0o600)
	s = openT(t, o)
	if s.TornBytes() != 3 {
		t.Fatalf("torn bytes %d, want 3", s.TornBytes())
	}
	if got := drain(t, s, 0); !equalInts(got, seq(0, 5)) {
		t.Fatalf("got %v", got)
	}
}

// checkQuarantined fails unless path is in quarantine, named as
// IsQuarantineFile recognises, and dated when it was quarantined (the
// spool's clock), whenever its bytes were written: a retention rule counts
// from then.
func checkQuarantined(t *testing.T, path string, when time.Time) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("not kept in quarantine: %v", err)
	}
	if !IsQuarantineFile(fi.Name()) {
		t.Errorf("IsQuarantineFile(%q) = false", fi.Name())
	}
	if !fi.ModTime().Equal(when) {
		t.Errorf("%s is dated %v, want %v (when it was quarantined)", fi.Name(), fi.ModTime().UTC(), when)
	}
}

func TestIsQuarantineFile(t *testing.T) {
	for name, want := range map[string]bool{
		segmentName(42):                   true,
		segmentName(42) + ".tail-4096":    true,
		segmentName(42) + ".tail-":        false,
		segmentName(42) + ".tail-x":       false,
		"42.seg.tail-1":                   false,
		"a.cursor":                        false,
		reserveName:                       false,
		segmentName(42) + deletedSuffix:   false,
		"events-1.ndjson.zst":             false,
		segmentName(42) + ".tail-1.extra": false,
	} {
		if got := IsQuarantineFile(name); got != want {
			t.Errorf("IsQuarantineFile(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestLagOfNewDestination: a destination new to a spool whose older
// segments were delivered and deleted (or one whose cursor is damaged)
// has no cursor before the oldest segment left. Its lag is the spool
// bytes after the point it reads from, at most the spool's size, before
// it commits anything (while its destination is down). Before the fix it
// was the stream's whole length since the spool was created.
func TestLagOfNewDestination(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Destinations: []string{"a"}, SegmentBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := s.Append(rec(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	drain(t, s, 0)
	if err := s.Reader(0).Commit(s.Reader(0).Pos()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, Options{Dir: dir, Destinations: []string{"a", "b"}, SegmentBytes: 4 << 10})
	for i := 200; i < 203; i++ {
		if err := s.Append(rec(i), RouteTo(1)); err != nil {
			t.Fatal(err)
		}
	}
	b := s.Reader(1)
	if lag, size := b.Lag(), uint64(s.Size()); lag == 0 || lag > size {
		t.Fatalf("b's lag %d bytes, the spool holds %d (stream end %d); want more than 0, at most the spool's size", lag, size, s.End())
	}
	if got := drain(t, s, 1); !equalInts(got, seq(200, 203)) {
		t.Fatalf("b got %v", got)
	}
}

// TestRemovedDestinationWarned: records spooled for a destination that
// the next start's config no longer has (removed or renamed) reach no
// destination and are deleted once the others pass them; the start says
// so, naming the destination, and says nothing for one that was caught
// up or for destinations still configured.
func TestRemovedDestinationWarned(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Destinations: []string{"done", "collector", "kept"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := s.Append(rec(i), RouteTo(0)|RouteTo(1)|RouteTo(2)); err != nil {
			t.Fatal(err)
		}
	}
	drain(t, s, 0) // "done" delivered everything; "collector" and "kept" nothing
	s.Reader(0).Commit(s.Reader(0).Pos())
	s.Close()

	var logs bytes.Buffer
	s = openT(t, Options{Dir: dir, Destinations: []string{"kept", "collector2"},
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	var warned []string
	for line := range strings.Lines(logs.String()) {
		var e struct {
			Level, Msg, Destination string
			Bytes                   uint64
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if e.Level == "WARN" && strings.Contains(e.Msg, "no longer has") {
			if e.Bytes == 0 {
				t.Errorf("warning for %q gives no bytes: %s", e.Destination, line)
			}
			warned = append(warned, e.Destination)
		}
	}
	if !slices.Equal(warned, []string{"collector"}) {
		t.Fatalf("warned for %q, want [collector]; log:\n%s", warned, logs.String())
	}
	if got := drain(t, s, 0); !equalInts(got, seq(0, 5)) {
		t.Fatalf("kept got %v", got)
	}
}

// TestFullLogged: records refused for a full spool are counted, and
// nothing in the log said so (pixels lost, beacons 503 while the
// destinations lag). The first refusal logs one warning, further ones
// none, and the first record taken again an all-clear with the number
// refused; a second filling warns again.
func TestFullLogged(t *testing.T) {
	var logs bytes.Buffer
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"},
		MaxBytes: 64 << 10, SegmentBytes: 8 << 10, MaxRecordBytes: 1 << 10,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	type entry struct {
		Level, Msg string
		Refused    uint64
	}
	entries := func() []entry {
		var es []entry
		for line := range strings.Lines(logs.String()) {
			var e entry
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatal(err)
			}
			es = append(es, e)
		}
		logs.Reset()
		return es
	}
	fill := func() (refused int) {
		for i := 0; refused < 5; i++ {
			switch err := s.Append(rec(i), 1); {
			case errors.Is(err, ErrFull):
				refused++
			case err != nil:
				t.Fatal(err)
			}
		}
		return refused
	}
	for round := 0; round < 2; round++ {
		fill()
		es := entries()
		if len(es) != 1 || es[0].Level != "WARN" || !strings.Contains(es[0].Msg, "spool: full") {
			t.Fatalf("round %d: after 5 refusals the log holds %+v, want one warning", round, es)
		}
		drain(t, s, 0)
		s.Reader(0).Commit(s.Reader(0).Pos())
		if err := s.Append(rec(1000), 1); err != nil {
			t.Fatalf("after commit: %v", err)
		}
		es = entries()
		if len(es) != 1 || es[0].Level != "INFO" || es[0].Refused != 5 {
			t.Fatalf("round %d: after room again the log holds %+v, want one all-clear with 5 refused", round, es)
		}
		if err := s.Append(rec(1001), 1); err != nil {
			t.Fatal(err)
		}
		if es := entries(); len(es) != 0 {
			t.Fatalf("round %d: a second record taken logged %+v", round, es)
		}
	}

	// Refused under a lower limit (the BLE spool's sightings), a record
	// taken under a higher one (its write-backs) is no all-clear.
	drain(t, s, 0)
	s.Reader(0).Commit(s.Reader(0).Pos())
	low := s.Size() + 8<<10
	for refused := 0; refused < 3; {
		switch err := s.AppendUpTo(rec(2000), 1, low); {
		case errors.Is(err, ErrFull):
			refused++
		case err != nil:
			t.Fatal(err)
		}
	}
	if es := entries(); len(es) != 1 || es[0].Level != "WARN" {
		t.Fatalf("refused under a lower limit: the log holds %+v, want one warning", es)
	}
	if err := s.Append(rec(2001), 1); err != nil {
		t.Fatal(err)
	}
	if es := entries(); len(es) != 0 {
		t.Fatalf("a record taken under a higher limit logged %+v", es)
	}
	drain(t, s, 0)
	s.Reader(0).Commit(s.Reader(0).Pos())
	if err := s.AppendUpTo(rec(2002), 1, low); err != nil {
		t.Fatal(err)
	}
	if es := entries(); len(es) != 1 || es[0].Level != "INFO" || es[0].Refused != 3 {
		t.Fatalf("taken again under the lower limit: the log holds %+v, want one all-clear with 3 refused", es)
	}
}
