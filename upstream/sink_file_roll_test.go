package upstream

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// fileBatch is a batch of one record {"id":id}.
func fileBatch(id string) *Batch {
	var b Batch
	b.add([]byte(`{"id":"` + id + `"}`))
	return &b
}

// breakFile closes the sink's open file under it, so that the next fsync,
// write and close of it fail as on a failing disk.
func breakFile(t *testing.T, s *FileSink) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		t.Fatal("no open file to break")
	}
	s.f.Close()
	return s.path
}

// A file whose fsync or close fails when it is finished (rolled by Send or
// by the roller, closed by Close, or given up after a failed write) keeps
// its .part name: its batches were acknowledged, but the disk did not
// confirm them, so it must not be named complete. The error reaches the
// shipper (the Send that rolled it, the next Send after the roller did,
// or Close), naming the file; the batch that Send carried is retried into
// a new file (after a failed write, into the same file, opened again and
// cut back to its acknowledged batches). The next start repairs the .part file (fsyncs it, cuts it
// after its last complete frame) and names it complete.
func TestFileSinkFinishFailureKeepsPart(t *testing.T) {
	for _, c := range []struct {
		name string
		d    Durability
		// fail makes the sink finish its broken file and returns the
		// error that reached the caller.
		fail func(t *testing.T, s *FileSink, clk *clock.Manual) error
	}{
		{"roll in Send", DurabilityProcess, func(t *testing.T, s *FileSink, clk *clock.Manual) error {
			clk.Advance(2 * time.Minute)
			return s.Send(context.Background(), fileBatch("b"))
		}},
		{"roller", DurabilityProcess, func(t *testing.T, s *FileSink, clk *clock.Manual) error {
			clk.Advance(2 * time.Minute)
			waitFor(t, "the roller", 10*time.Second, func() bool {
				s.mu.Lock()
				defer s.mu.Unlock()
				return s.f == nil
			})
			return s.Send(context.Background(), fileBatch("b"))
		}},
		{"Close", DurabilityProcess, func(t *testing.T, s *FileSink, clk *clock.Manual) error {
			return s.Close()
		}},
		{"write in fsync durability", DurabilityFsync, func(t *testing.T, s *FileSink, clk *clock.Manual) error {
			return s.Send(context.Background(), fileBatch("b"))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			clk := clock.NewManual(clocktest.Golden)
			s, err := NewFileSink(FileOptions{Dir: dir, Clock: clk, RollAge: time.Minute, Durability: c.d})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Send(context.Background(), fileBatch("a")); err != nil {
				t.Fatal(err)
			}
			path := breakFile(t, s)
			err = c.fail(t, s, clk)
			if err == nil || !strings.Contains(err.Error(), filepath.Base(path)) {
				t.Fatalf("error %v; want one naming %s", err, filepath.Base(path))
			}
			if _, serr := os.Stat(path); serr == nil {
				t.Fatalf("%s named complete though its fsync or close failed (%v)", filepath.Base(path), err)
			}
			if _, serr := os.Stat(path + partSuffix); serr != nil {
				t.Fatalf("the .part file is gone: %v", serr)
			}
			if c.name != "Close" {
				// The shipper's retry of b succeeds.
				if err := s.Send(context.Background(), fileBatch("b")); err != nil {
					t.Fatalf("retry: %v", err)
				}
				if err := s.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
			}
			// The next start finishes the .part file.
			s2, err := NewFileSink(FileOptions{Dir: dir, Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			if err := s2.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("not finished at the next start: %v", err)
			}
			got := newIDSet()
			readZstdDir(t, dir, got)
			want := []string{"a", "b"}
			if c.name == "Close" {
				want = want[:1]
			}
			if m, d := got.compare(want); len(m) != 0 || d != 0 {
				t.Fatalf("files hold %d missing (%v), %d duplicates", len(m), m, d)
			}
		})
	}
}

// A file destination rolls its file RollAge after opening it, by the
// clock. When the clock is stepped back (NTP) the file's age is negative
// for as long as the step: the file stayed open, named .part, for an hour
// after a step back of an hour, so that a loader that takes only finished
// files saw nothing of that hour. A file opened after the clock's reading
// is rolled at once, by the next Send or by the roller; a new file starts
// at the new time.
func TestFileSinkRollsAfterTheClockStepsBack(t *testing.T) {
	for _, by := range []string{"Send", "roller"} {
		t.Run(by, func(t *testing.T) {
			dir := t.TempDir()
			clk := clock.NewManual(clocktest.Golden)
			s, err := NewFileSink(FileOptions{Dir: dir, Clock: clk, RollAge: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Send(context.Background(), fileBatch("a")); err != nil {
				t.Fatal(err)
			}
			first := s.path
			clk.Set(clocktest.Golden.Add(-time.Hour))
			clk.Advance(2 * time.Minute) // older than RollAge, by the clock since the step
			switch by {
			case "Send":
				if err := s.Send(context.Background(), fileBatch("b")); err != nil {
					t.Fatal(err)
				}
			case "roller":
				waitFor(t, "the roller to finish the file", 5*time.Second, func() bool {
					s.mu.Lock()
					defer s.mu.Unlock()
					return s.f == nil
				})
			}
			if _, err := os.Stat(first); err != nil {
				t.Fatalf("the file opened before the clock stepped back is not finished 2 minutes after the step (RollAge 1m): %v", err)
			}
		})
	}
}

// failFsyncs makes the sink's next n fsyncs of output files fail with EIO,
// as on a failing disk; the fsyncs after them are real.
func failFsyncs(s *FileSink, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fsync = func(f *os.File) error {
		if n > 0 {
			n--
			return &os.PathError{Op: "sync", Path: f.Name(), Err: syscall.EIO}
		}
		return f.Sync()
	}
}

// partFiles lists the .part files in dir.
func partFiles(t *testing.T, dir string) []string {
	t.Helper()
	parts, err := filepath.Glob(filepath.Join(dir, "*"+partSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return parts
}

// In fsync durability a batch whose fsync fails is not acknowledged, and
// the shipper sends it again. Each failure gave the file up (it kept its
// .part name) and each retry opened a new one: a disk whose fsyncs failed
// for a while left one .part file per retry, each ending in a copy of the
// batch, which the next start repaired and named complete, so that the
// batch reached the loader once per failed attempt and once more. Now the
// file is cut back to its acknowledged batches and written on: whatever
// the number of failures (including the fsync of the cut), the folder
// holds at most one partial file, and every batch once.
func TestFileSinkFsyncFailureLeavesOnePart(t *testing.T) {
	for _, fails := range []int{1, 2, 3, 6} {
		t.Run(fmt.Sprint(fails), func(t *testing.T) {
			dir := t.TempDir()
			clk := clock.NewManual(clocktest.Golden)
			s, err := NewFileSink(FileOptions{Dir: dir, Clock: clk, Durability: DurabilityFsync})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Send(context.Background(), fileBatch("a")); err != nil {
				t.Fatal(err)
			}
			first := filepath.Base(s.path)
			failFsyncs(s, fails)
			var tries int
			for {
				tries++
				if tries > fails+1 {
					t.Fatalf("b not written after %d fsync failures and %d tries", fails, tries-1)
				}
				err := s.Send(context.Background(), fileBatch("b"))
				if p := partFiles(t, dir); len(p) > 1 {
					t.Fatalf("after try %d of b: %d partial files %q, want at most 1", tries, len(p), p)
				}
				if err == nil {
					break
				}
				if !strings.Contains(err.Error(), first) {
					t.Fatalf("try %d: %v; want an error naming %s", tries, err, first)
				}
			}
			if err := s.Send(context.Background(), fileBatch("c")); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if p := partFiles(t, dir); len(p) != 0 {
				t.Fatalf("partial files after Close: %q", p)
			}
			// What the next start finds is the same.
			s2, err := NewFileSink(FileOptions{Dir: dir, Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			if err := s2.Close(); err != nil {
				t.Fatal(err)
			}
			got := newIDSet()
			readZstdDir(t, dir, got)
			if m, d := got.compare([]string{"a", "b", "c"}); len(m) != 0 || d != 0 {
				t.Fatalf("files hold %d missing (%v), %d duplicates", len(m), m, d)
			}
		})
	}
}
