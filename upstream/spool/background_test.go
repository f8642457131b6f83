package spool

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// blockSlow returns a slowOp hook that blocks op until release is called,
// and a channel that receives op each time it starts blocking.
func blockSlow(op string) (hook func(string), started chan string, release func()) {
	gate := make(chan struct{})
	started = make(chan string, 16)
	var once sync.Once
	hook = func(o string) {
		if o != op {
			return
		}
		started <- o
		<-gate
	}
	return hook, started, func() { once.Do(func() { close(gate) }) }
}

// appendReturns runs Append in a goroutine and reports whether it returned
// within bound.
func appendReturns(t *testing.T, s *Spool, id int, bound time.Duration) bool {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Append(rec(id), 1) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		return true
	case <-time.After(bound):
		return false
	}
}

// fillAndDrainFirstSegment appends records to s until its first segment
// holds the last frame that fits, reads them all back as destination 0,
// and returns how many it appended.
func fillAndDrainFirstSegment(t *testing.T, s *Spool) int {
	t.Helper()
	n := 0
	for s.curSize+int64(frameHeaderLen+len(rec(n))) <= s.opts.SegmentBytes {
		if err := s.Append(rec(n), 1); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if got := drain(t, s, 0); !equalInts(got, seq(0, n)) {
		t.Fatalf("read %v", got)
	}
	return n
}

// slowSegmentWork is what the background goroutine does with a delivered
// segment: fsync durability deletes it; process durability recycles it
// (zeros), or deletes it within three segments of MaxBytes.
var slowSegmentWork = []struct {
	name, op   string
	durability Durability
	maxBytes   int64
}{
	{"fsync", "remove", DurabilityFsync, 0},
	{"process", "recycle", DurabilityProcess, 0},
	// Within three segments of MaxBytes (24 KiB), with room for the
	// appends of the tests (MaxBytes 16 KiB filled up with them).
	{"process-near-max", "remove", DurabilityProcess, 23 << 10},
}

// TestAppendDoesNotDeleteSegments: the Append that starts a new segment
// never deletes (or recycles) the delivered one itself (17-21 ms for 64
// MiB, while every other append waited): the background goroutine does,
// while appends go on.
func TestAppendDoesNotDeleteSegments(t *testing.T) {
	for _, c := range slowSegmentWork {
		t.Run(c.name, func(t *testing.T) { testAppendDoesNotDeleteSegments(t, c.op, c.durability, c.maxBytes) })
	}
}

func testAppendDoesNotDeleteSegments(t *testing.T, op string, d Durability, maxBytes int64) {
	hook, started, release := blockSlow(op)
	defer release()
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir, Destinations: []string{"a"}, SegmentBytes: 8 << 10, MaxRecordBytes: 4 << 10, MaxBytes: maxBytes,
		Durability: d, slowOp: hook})
	// Fill the first segment to the last frame that fits, deliver it all,
	// then append: that Append starts the second segment, and the first
	// is due for deletion.
	n := fillAndDrainFirstSegment(t, s)
	r := s.Reader(0)
	if err := r.Commit(r.Pos()); err != nil { // the segment is still being written: kept
		t.Fatal(err)
	}
	for i := n; i < n+30; i++ {
		if !appendReturns(t, s, i, 10*time.Second) {
			t.Fatalf("Append %d waited for the deletion of a delivered segment", i)
		}
	}
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the delivered segment was never deleted")
	}
	release()
	first := segmentPath(dir, 0)
	if err := waitUntil(10*time.Second, func() error {
		if _, err := os.Stat(first); err == nil {
			return os.ErrExist
		}
		return nil
	}); err != nil {
		t.Fatalf("first segment still there after the deletion was released: %v", err)
	}
	if got := drain(t, s, 0); !equalInts(got, seq(n, n+30)) {
		t.Fatalf("read %v", got)
	}
}

// TestCommitDoesNotFreeSegments: the Commit that passes a delivered
// segment retires it (its segment name is gone when Commit returns) and
// leaves freeing (or recycling) it, in steps with pauses for the requests,
// to the background goroutine: a shipper never waits for that.
func TestCommitDoesNotFreeSegments(t *testing.T) {
	for _, c := range slowSegmentWork {
		t.Run(c.name, func(t *testing.T) { testCommitDoesNotFreeSegments(t, c.op, c.durability, c.maxBytes) })
	}
}

func testCommitDoesNotFreeSegments(t *testing.T, op string, d Durability, maxBytes int64) {
	hook, started, release := blockSlow(op)
	defer release()
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir, Destinations: []string{"a"}, SegmentBytes: 8 << 10, MaxRecordBytes: 4 << 10, MaxBytes: maxBytes,
		Durability: d, slowOp: hook})
	n := fillAndDrainFirstSegment(t, s)
	if err := s.Append(rec(n), 1); err != nil { // starts the second segment
		t.Fatal(err)
	}
	if got := drain(t, s, 0); !equalInts(got, seq(n, n+1)) {
		t.Fatalf("read %v", got)
	}
	r := s.Reader(0)
	done := make(chan error, 1)
	go func() { done <- r.Commit(r.Pos()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Commit waited for the delivered segment to be freed")
	}
	first := segmentPath(dir, 0)
	if _, err := os.Stat(first); err == nil {
		t.Fatal("the delivered segment keeps its name after Commit")
	}
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the retired segment was never freed")
	}
	release()
	if err := waitUntil(10*time.Second, func() error {
		if _, err := os.Stat(first + deletedSuffix); err == nil {
			return os.ErrExist
		}
		return nil
	}); err != nil {
		t.Fatalf("retired segment still there after the freeing was released: %v", err)
	}
}

// TestAppendDoesNotWriteReserve: the Append that starts a new segment takes
// the reserve written ahead of need and leaves writing the next reserve to
// the background goroutine; when the reserve is not ready it creates the
// segment itself, and never waits for the background goroutine.
func TestAppendDoesNotWriteReserve(t *testing.T) {
	var mu sync.Mutex
	var hook func(string)
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir, Destinations: []string{"a"}, SegmentBytes: 8 << 10, MaxRecordBytes: 4 << 10,
		slowOp: func(op string) {
			mu.Lock()
			h := hook
			mu.Unlock()
			if h != nil {
				h(op)
			}
		}})
	h, started, release := blockSlow("reserve")
	defer release()
	mu.Lock()
	hook = h // after Open, which writes the first reserve itself
	mu.Unlock()
	for i := range 60 { // several segments: the reserve is used once, then busy
		if !appendReturns(t, s, i, 10*time.Second) {
			t.Fatalf("Append %d waited for the next segment's reserve to be written", i)
		}
	}
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the reserve was never rewritten")
	}
	if n := s.segmentCount(); n < 3 {
		t.Fatalf("%d segments, want several", n)
	}
	release()
	if err := waitUntil(10*time.Second, func() error {
		_, err := os.Stat(filepath.Join(dir, reserveName))
		return err
	}); err != nil {
		t.Fatalf("no reserve once released: %v", err)
	}
	if got := drain(t, s, 0); !equalInts(got, seq(0, 60)) {
		t.Fatalf("read %d records, want 60 in order", len(got))
	}
}

// TestHalfDeletedSegmentRemoved: a segment a crash left half deleted (renamed
// to .deleted, partly truncated) is removed by the next Open and never read.
func TestHalfDeletedSegmentRemoved(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Destinations: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		s.Append(rec(i), 1)
	}
	s.Close()
	half := filepath.Join(dir, segmentName(0)+deletedSuffix)
	if err := os.WriteFile(half, []byte("BGSPOOL1 half deleted"), 0o600); err != nil {
		t.Fatal(err)
	}
	s = openT(t, Options{Dir: dir, Destinations: []string{"a"}})
	if _, err := os.Stat(half); err == nil {
		t.Fatal("half-deleted segment still there after Open")
	}
	if got := drain(t, s, 0); !equalInts(got, seq(0, 5)) {
		t.Fatalf("read %v", got)
	}
}

// TestRetireAndFreeInSteps: a retired segment is renamed at once and freed
// in steps later, whether larger or smaller than one step, and nothing is
// left behind.
func TestRetireAndFreeInSteps(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int64{0, 100, removeStep, 3*removeStep + 17} {
		path := filepath.Join(dir, segmentName(uint64(size)))
		if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
		del, err := retireSegment(path)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("size %d: the segment keeps its name after retiring", size)
		}
		steps := 0
		if err := freeInSteps(del, size, removeStep, func() { steps++ }); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if want := max(0, int((size-1)/removeStep)); steps != want {
			t.Fatalf("size %d: %d steps, want %d", size, steps, want)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
}

// TestOpenFailureReturns: an Open that fails after taking the directory
// (here a cursor that cannot be opened) returns its error and releases the
// directory; it does not wait for background work that never started.
func TestOpenFailureReturns(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "a"+cursorSuffix), 0o700); err != nil { // a directory where the cursor file goes
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Open(Options{Dir: dir, Destinations: []string{"a"}})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Open succeeded with a directory for a cursor file")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Open did not return")
	}
	s := openT(t, Options{Dir: dir, Destinations: []string{"b"}}) // the lock was released
	s.Close()
}
