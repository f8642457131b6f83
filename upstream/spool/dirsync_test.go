package spool

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestProcessDurabilitySyncsTheDirectoryOnlyOnClose: in process durability
// the background goroutine creates, recycles and frees segments without an
// fsync of the directory (which held the only core for 9-12 ms in the
// gateway at half load: bench/stalls), and Close syncs it once.
func TestProcessDurabilitySyncsTheDirectoryOnlyOnClose(t *testing.T) {
	var syncs atomic.Int32
	o := recycleOpts(t.TempDir())
	o.slowOp = func(op string) {
		if op == "sync directory" {
			syncs.Add(1)
		}
	}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	syncs.Store(0)            // Open syncs the directory after creating the first segment
	recycleFirstSegment(t, s) // segments created, delivered, recycled
	// Before, the background goroutine synced the directory right after
	// its round: give it that round.
	err = waitUntil(time.Second, func() error {
		if syncs.Load() > 0 {
			return nil
		}
		return errors.New("no sync")
	})
	if err == nil {
		t.Fatalf("the directory was synced %d times while the spool ran", syncs.Load())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if syncs.Load() != 1 {
		t.Errorf("Close synced the directory %d times, want once", syncs.Load())
	}
}
