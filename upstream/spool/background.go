package spool

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// background does the spool's slow file work away from Append: deleting
// delivered segments, writing the next segment's reserve ahead of need,
// and syncing the directory after a segment was created in process
// durability. Appends only wake it (wake never blocks).
func (s *Spool) background() {
	defer close(s.bgDone)
	for {
		select {
		case <-s.stopBg:
			return
		case <-s.kick:
		}
		s.trim()
		s.resMu.Lock()
		s.writeReserve()
		s.resMu.Unlock()
		if s.dirDirty.Swap(false) {
			if err := syncDir(s.dir); err != nil {
				s.opts.Logger.Warn("spool: cannot fsync the spool directory", "err", err)
			}
		}
	}
}

// wake asks the background goroutine for a round of work.
func (s *Spool) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// stopBackground ends the background goroutine after its current round,
// if it was started.
func (s *Spool) stopBackground() {
	if !s.bgStarted {
		return // Open failed before starting it
	}
	select {
	case <-s.stopBg:
		return // stopped already
	default:
	}
	close(s.stopBg)
	<-s.bgDone
}

// reserveMissing reports whether the last reserve could not be written. It
// does not wait for the background goroutine.
func (s *Spool) reserveMissing() bool {
	if !s.resMu.TryLock() {
		return false // being written now
	}
	defer s.resMu.Unlock()
	return s.reserveErr != nil
}

// deletedSuffix marks a delivered segment being deleted: renamed first, so
// that a crash half-way through leaves no short segment behind, only a file
// that the next Open removes.
const deletedSuffix = ".deleted"

// removeStep is how much of a segment one truncate call frees. Unlinking a
// 64 MiB segment whose pages are cached took 17-21 ms in one system call,
// and Go only hands the core to another thread some time into a system
// call: in steps of 4 MiB each call is short, and the other goroutines run
// between them.
const removeStep = 4 << 20

// removeSegment deletes a delivered segment file of size bytes at path.
func removeSegment(path string, size int64) error {
	del := path + deletedSuffix
	if err := os.Rename(path, del); err != nil {
		return err
	}
	if f, err := os.OpenFile(del, os.O_WRONLY, 0); err == nil {
		for n := size - removeStep; n > 0; n -= removeStep {
			if f.Truncate(n) != nil {
				break
			}
			runtime.Gosched()
		}
		f.Close()
	}
	return os.Remove(del)
}

// removeDeleted removes the segments a crash left half deleted.
func removeDeleted(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), segmentSuffix+deletedSuffix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
