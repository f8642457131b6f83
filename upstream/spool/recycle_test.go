package spool

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// recycleOpts are small segments in process durability, where delivered
// segments are recycled.
func recycleOpts(dir string) Options {
	return Options{Dir: dir, Destinations: []string{"a"}, SegmentBytes: 8 << 10, MaxRecordBytes: 4 << 10}
}

// deliverAll reads every record destination 0 can read and commits them.
func deliverAll(t *testing.T, s *Spool) []int {
	t.Helper()
	got := drain(t, s, 0)
	r := s.Reader(0)
	if err := r.Commit(r.Pos()); err != nil {
		t.Fatal(err)
	}
	return got
}

// recycleFirstSegment fills and delivers the first segment, starts the
// second with one record, delivers that too and waits until the
// background goroutine made the first segment the reserve. It returns the
// number of records appended.
func recycleFirstSegment(t *testing.T, s *Spool) int {
	t.Helper()
	n := fillAndDrainFirstSegment(t, s)
	if err := s.Append(rec(n), 1); err != nil {
		t.Fatal(err)
	}
	if got := deliverAll(t, s); !equalInts(got, seq(n, n+1)) {
		t.Fatalf("read %v", got)
	}
	waitRecycled(t, s, 1)
	return n + 1
}

// waitRecycled waits until s has recycled want segments in all.
func waitRecycled(t *testing.T, s *Spool, want float64) {
	t.Helper()
	if err := waitUntil(10*time.Second, func() error {
		if counterValue(s.m.recycled) < want {
			return errors.New("not recycled")
		}
		return nil
	}); err != nil {
		t.Fatalf("%v of %v delivered segments recycled", counterValue(s.m.recycled), want)
	}
}

// crash ends s the way kill -9 would: files closed as they are, nothing
// cut, nothing freed; Close does nothing afterwards.
func crash(s *Spool) {
	s.closeOnce.Do(func() {})
	s.stopBackground()
	if s.cur != nil {
		s.cur.Close()
		s.cur = nil
	}
	if s.reserveFile != nil {
		s.reserveFile.Close()
	}
	s.dirFile.Close()
	for _, r := range s.readers {
		r.close()
	}
	s.lock.Close()
	s.lock = nil
	s.m.unregister()
}

// appendUntilNewSegment appends records made by mk from id on until one
// starts a new segment, and returns the next id.
func appendUntilNewSegment(t *testing.T, s *Spool, id int, mk func(int) []byte) int {
	t.Helper()
	base := s.curBase
	for ; s.curBase == base; id++ {
		if err := s.Append(mk(id), 1); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// bigRec is rec padded to about 3 KiB.
func bigRec(id int) []byte {
	return append(rec(id)[:len(rec(id))-2], append(bytes.Repeat([]byte("y"), 2700), '"', '}')...)
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestRecycledSegment: in process durability a delivered segment becomes
// the next segment's file, overwritten with zeros first: no byte of what
// it held stays, the records written into it read back, the zeros past
// them are cut when the segment is left and, after a crash, by Open, which
// counts nothing torn and keeps nothing in quarantine.
func TestRecycledSegment(t *testing.T) {
	dir := t.TempDir()
	o := recycleOpts(dir)
	s := openT(t, o)
	first := rec(0)
	n := recycleFirstSegment(t, s)

	reserve, err := os.ReadFile(filepath.Join(dir, reserveName))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(reserve)) <= int64(len(s.header)) || !bytes.Equal(reserve[:len(s.header)], s.recycledHeader) {
		t.Fatalf("reserve of %d bytes is not a recycled segment with this run's header", len(reserve))
	}
	if i := bytes.IndexFunc(reserve[len(s.header):], func(r rune) bool { return r != 0 }); i >= 0 {
		t.Fatalf("recycled reserve holds a non-zero byte at %d", len(s.header)+i)
	}
	recycledSize := int64(len(reserve))

	// The second segment fills up; the third is the recycled file.
	second := s.curBase
	n = appendUntilNewSegment(t, s, n, rec)
	third := s.curBase
	if got := fileSize(t, segmentPath(dir, third)); got != recycledSize {
		t.Fatalf("third segment file %d bytes, want the recycled %d", got, recycledSize)
	}
	if got := fileSize(t, segmentPath(dir, second)); got != int64(third-second) {
		t.Fatalf("second segment file %d bytes, want %d (its frames)", got, third-second)
	}
	if got := deliverAll(t, s); len(got) == 0 || got[len(got)-1] != n-1 {
		t.Fatalf("read %v, want up to %d", got, n-1)
	}
	waitRecycled(t, s, 2) // the second

	// Leaving a recycled segment cuts its zeros: fill the third with
	// records of 3 KiB, so that its frames end short of the recycled
	// file's end; the fourth is the recycled second.
	n = appendUntilNewSegment(t, s, n, bigRec)
	if fourth := s.curBase; int64(fourth-third) >= recycledSize {
		t.Fatalf("the third segment's frames fill the recycled file (%d of %d bytes): no zeros to cut", fourth-third, recycledSize)
	}
	fourth := s.curBase
	if got := fileSize(t, segmentPath(dir, third)); got != int64(fourth-third) {
		t.Fatalf("left recycled segment is %d bytes, want %d (its frames)", got, fourth-third)
	}
	deliverAll(t, s)

	// Records in a recycled segment, then a crash.
	newest := fourth
	for i := n; i < n+3; i++ {
		if err := s.Append(rec(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	dataEnd := s.curSize
	recycled := fileSize(t, segmentPath(dir, newest)) > dataEnd
	crash(s)

	s = openT(t, o)
	if !recycled {
		t.Fatal("the newest segment was not a recycled one: the test checks nothing")
	}
	if got := s.TornBytes(); got != 0 {
		t.Fatalf("torn bytes %d after a crash in a recycled segment, want 0", got)
	}
	if _, err := os.Stat(filepath.Join(dir, quarantineDir)); err == nil {
		t.Fatal("Open quarantined the zeros of a recycled segment")
	}
	if got := fileSize(t, segmentPath(dir, newest)); got != dataEnd {
		t.Fatalf("recycled segment after Open: %d bytes, want %d", got, dataEnd)
	}
	if got := drain(t, s, 0); !equalInts(got, seq(n, n+3)) {
		t.Fatalf("read %v after the crash, want %v", got, seq(n, n+3))
	}
	// Nothing delivered stays: the first record was in the recycled first
	// segment.
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, first) {
			t.Errorf("%s still holds the first, delivered record", filepath.Base(f))
		}
	}
}

// TestRecycledSegmentTornTail: a write torn by a crash in a recycled
// segment is cut and kept in quarantine, its bytes counted exactly; the
// zeros after it are neither counted nor kept.
func TestRecycledSegmentTornTail(t *testing.T) {
	dir := t.TempDir()
	o := recycleOpts(dir)
	quarantinedAt := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	o.Clock = clock.NewManual(quarantinedAt)
	s := openT(t, o)
	n := recycleFirstSegment(t, s)
	n = appendUntilNewSegment(t, s, n, rec) // into the recycled file
	deliverAll(t, s)
	newest := s.curBase
	if err := s.Append(rec(n), 1); err != nil {
		t.Fatal(err)
	}
	dataEnd := s.curSize
	if fileSize(t, segmentPath(dir, newest)) <= dataEnd {
		t.Fatal("the newest segment is not a recycled one")
	}
	crash(s)
	// Half a frame written over the zeros, as a torn group write leaves.
	torn := appendFrame(nil, rec(n+1), 1, 1700000000000)
	torn = torn[:len(torn)/2]
	f, err := os.OpenFile(segmentPath(dir, newest), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(torn, dataEnd); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s = openT(t, o)
	if got := s.TornBytes(); got != uint64(len(torn)) {
		t.Fatalf("torn bytes %d, want %d", got, len(torn))
	}
	kept, _ := filepath.Glob(filepath.Join(dir, quarantineDir, "*"))
	if len(kept) != 1 {
		t.Fatalf("quarantine holds %v, want the torn tail", kept)
	}
	if b, _ := os.ReadFile(kept[0]); !bytes.Equal(b, torn) {
		t.Fatalf("quarantined %d bytes, want the %d torn ones", len(b), len(torn))
	}
	checkQuarantined(t, kept[0], quarantinedAt)
	if got := drain(t, s, 0); !equalInts(got, seq(n, n+1)) {
		t.Fatalf("read %v, want %v", got, seq(n, n+1))
	}
}

// TestNoRecycling: delivered segments are deleted, not recycled, in fsync
// durability (a power loss could bring back what the zeros had not yet
// overwritten on disk), when the spool is within three segments of
// MaxBytes and while the disk fails (the space goes back to the disk).
func TestNoRecycling(t *testing.T) {
	var full atomic.Bool
	for name, o := range map[string]Options{
		"fsync": {SegmentBytes: 8 << 10, MaxRecordBytes: 4 << 10, Durability: DurabilityFsync},
		// Within three segments, not within two.
		"maxbytes": {SegmentBytes: 8 << 10, MaxRecordBytes: 4 << 10, MaxBytes: 20 << 10},
		"diskfull": {SegmentBytes: 8 << 10, MaxRecordBytes: 4 << 10, writeCheck: func(int64) error {
			if full.Load() {
				return syscall.ENOSPC
			}
			return nil
		}},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			o.Dir, o.Destinations = dir, []string{"a"}
			s := openT(t, o)
			n := fillAndDrainFirstSegment(t, s)
			if err := s.Append(rec(n), 1); err != nil {
				t.Fatal(err)
			}
			if name == "diskfull" {
				full.Store(true)
				if err := s.Append(rec(n+1), 1); err == nil {
					t.Fatal("Append on a full disk worked")
				}
			}
			deliverAll(t, s)
			first := segmentPath(dir, 0)
			reserve := filepath.Join(dir, reserveName)
			if err := waitUntil(10*time.Second, func() error {
				if _, err := os.Stat(first + deletedSuffix); err == nil {
					return os.ErrExist
				}
				if name == "diskfull" {
					return nil // no reserve can be written
				}
				_, err := os.Stat(reserve) // rewritten after the freeing
				return err
			}); err != nil {
				t.Fatal("the delivered segment was never freed")
			}
			if got := counterValue(s.m.recycled); got != 0 {
				t.Fatalf("%v segments recycled", got)
			}
			if fi, err := os.Stat(reserve); err == nil && fi.Size() != int64(len(s.header)) {
				t.Fatalf("reserve %d bytes, want the header's %d", fi.Size(), len(s.header))
			}
		})
	}
}

// TestOlderRecycledReserveRemoved: a recycled reserve left by an earlier
// run is removed by Open, not used or read.
func TestOlderRecycledReserveRemoved(t *testing.T) {
	dir := t.TempDir()
	o := recycleOpts(dir)
	s := openT(t, o)
	n := recycleFirstSegment(t, s)
	crash(s)
	rpath := filepath.Join(dir, reserveName)
	if fileSize(t, rpath) <= int64(len(s.header)) {
		t.Fatal("no recycled reserve left behind")
	}
	// The second segment, delivered, is this run's to recycle: held until
	// the reserve Open wrote is checked.
	hook, _, release := blockSlow("recycle")
	o.slowOp = hook
	s = openT(t, o)
	t.Cleanup(release) // before the Close openT registered
	// Open's first segment came from a new file, and the reserve written
	// after it holds the header alone.
	if got := fileSize(t, segmentPath(dir, s.curBase)); got != int64(len(s.header)) {
		t.Fatalf("this run's first segment %d bytes, want a new file", got)
	}
	if got := fileSize(t, rpath); got != int64(len(s.header)) {
		t.Fatalf("reserve %d bytes after Open, want the header's %d", got, len(s.header))
	}
	release()
	if err := s.Append(rec(n), 1); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, s, 0); !equalInts(got, seq(n, n+1)) {
		t.Fatalf("read %v", got)
	}
}

// TestScanZeroEnd: zeros that end a recycled segment are its unused end,
// however many; in any other segment zeros are bytes like others (the end
// of a torn frame can be zeros), so they count as its tail.
func TestScanZeroEnd(t *testing.T) {
	names := []string{"a"}
	for _, c := range []struct {
		header   []byte
		recycled bool
	}{{appendSegmentHeader(nil, names), false}, {appendRecycledHeader(nil, names), true}} {
		seg := appendFrame(bytes.Clone(c.header), rec(1), 1, 1700000000000)
		for _, zeros := range []int{0, 1, frameHeaderLen, 4096} {
			b := append(bytes.Clone(seg), make([]byte, zeros)...)
			res, err := scanSegment(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			wantDataEnd := len(b)
			if c.recycled {
				wantDataEnd = len(seg)
			}
			if res.recycled != c.recycled || res.validEnd != int64(len(seg)) || res.records != 1 || res.dataEnd != int64(wantDataEnd) {
				t.Errorf("recycled %v, %d zeros: scanned recycled %v, valid end %d, records %d, data end %d; want %v, %d, 1, %d",
					c.recycled, zeros, res.recycled, res.validEnd, res.records, res.dataEnd, c.recycled, len(seg), wantDataEnd)
			}
		}
	}
}

// TestReaderOpensSegmentsOnlyForDisk: a reader that keeps up reads every
// segment from memory and opens no segment file (an open allocates, once
// per segment); a reader that is behind opens them, and a segment file
// someone removed is skipped and counted once, the next one read.
func TestReaderOpensSegmentsOnlyForDisk(t *testing.T) {
	t.Run("keeps up", func(t *testing.T) {
		s := openT(t, recycleOpts(t.TempDir()))
		n := 0
		for range 3 {
			n = appendUntilNewSegment(t, s, n, rec)
			drain(t, s, 0)
			if r := s.Reader(0); r.f != nil {
				t.Fatal("a reader that keeps up opened a segment file")
			}
		}
		if got := counterValue(s.m.readsDisk); got != 0 {
			t.Fatalf("%v reads from disk", got)
		}
	})
	t.Run("behind", func(t *testing.T) {
		dir := t.TempDir()
		o := recycleOpts(dir)
		o.TailBytes = -1 // every read goes to disk
		s := openT(t, o)
		first := appendUntilNewSegment(t, s, 0, rec) // the first segment holds 0..first-2
		second := s.curBase
		n := appendUntilNewSegment(t, s, first, rec)
		if err := os.Remove(segmentPath(dir, second)); err != nil {
			t.Fatal(err)
		}
		got := drain(t, s, 0)
		want := append(seq(0, first-1), seq(n-1, n)...) // the second segment (first-1 .. n-2) is gone
		if !equalInts(got, want) {
			t.Fatalf("read %v, want %v", got, want)
		}
		if c := s.Corrupt(0); c != 1 {
			t.Fatalf("corrupt %d for a removed segment, want 1", c)
		}
	})
}

// TestReserveReplacedWhileRecycledHeld: when the readiness probe finds the
// recycled reserve gone (removed by someone) and writes a new one, the
// handle held on the recycled file is dropped: the segment that takes the
// reserve writes into the file that bears its name, and its records
// survive a crash.
func TestReserveReplacedWhileRecycledHeld(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	o := recycleOpts(dir)
	o.Clock = clk
	s := openT(t, o)
	n := recycleFirstSegment(t, s)
	if err := os.Remove(s.reservePath); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.diskFailed(syscall.EIO) // as a failed write would
	s.mu.Unlock()
	clk.Advance(2 * DefaultDiskRetryInterval)
	if err := s.Err(); err != nil {
		t.Fatalf("Err after the probe: %v", err)
	}
	if s.reserveFile != nil {
		t.Fatal("the recycled file's handle outlived the reserve it was opened on")
	}
	n = appendUntilNewSegment(t, s, n, rec)
	newest := s.curBase
	for i := n; i < n+3; i++ {
		if err := s.Append(rec(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	if got := fileSize(t, segmentPath(dir, newest)); got != s.curSize {
		t.Fatalf("the new segment's file holds %d bytes, the spool wrote %d", got, s.curSize)
	}
	deliverUpTo := drain(t, s, 0)
	crash(s)
	s = openT(t, o)
	got := drain(t, s, 0)
	if want := deliverUpTo; !equalInts(got, want) {
		t.Fatalf("read %v after the crash, want %v", got, want)
	}
}
