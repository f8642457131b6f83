package spool

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/beacongate/beacongate/internal/yield"
)

// background does the spool's slow file work away from Append and the
// shippers: freeing delivered segments (trim only renames them), writing
// the next segment's reserve ahead of need, and syncing the directory after
// a segment was created or deleted in process durability. Appends and trim
// only wake it (wake never blocks).
func (s *Spool) background() {
	defer close(s.bgDone)
	for {
		select {
		case <-s.stopBg:
			return
		case <-s.kick:
		}
		s.trim()
		s.freeDoomed(s.pause, true)
		s.resMu.Lock()
		s.writeReserve()
		s.resMu.Unlock()
		if s.opts.slowOp != nil {
			s.opts.slowOp("idle")
		}
		// No fsync of the directory here in process durability: one took
		// 9-12 ms on this machine at half load, and a goroutine in a
		// system call holds the only P until the runtime's monitor takes
		// it back, so requests waited up to 14.6 ms behind it
		// (bench/stalls). Close syncs it; see syncDirIfDirty.
	}
}

// syncDirIfDirty syncs the spool directory when a segment was created or
// deleted since the last sync without one (process durability), at Close.
// Process durability does not promise to survive the machine; until then
// the file system's own commits make the names durable (ext4: every 5 s),
// and a segment a crash of the machine brings back or loses is handled as
// any record whose cursor or page had not reached the disk.
func (s *Spool) syncDirIfDirty() {
	if s.dirDirty.Swap(false) {
		if err := s.syncDir(); err != nil {
			s.opts.Logger.Warn("spool: cannot fsync the spool directory", "err", err)
		}
	}
}

// makePause returns what the background goroutine calls after each step
// of freeing or zeroing a segment: it gives the core to the requests (and
// calls the test hook "step"). Made once, by Open: the rounds allocate
// nothing for it.
func (s *Spool) makePause() func() {
	if s.opts.slowOp == nil {
		return yield.Core
	}
	return func() {
		yield.Core()
		s.opts.slowOp("step")
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
// and a goroutine in a system call keeps its P until the runtime's monitor
// takes it back, which in a busy process can take milliseconds: with one P,
// no request runs meanwhile. On this project's disk (ext4, pages cached) a
// 4 MiB step took 0.3 ms at the median and up to 1.6 ms, 8.5 ms under load
// (an execution trace at 20,000 requests/s, where the removals were the
// largest part of the longest waits for the core); a 1 MiB step 80-90 us, up
// to 0.2 ms, for about the same total (5.0-5.6 ms per 64 MiB against
// 4.3-7.7); smaller steps cost more in all (256 KiB: 11 ms).
const removeStep = 1 << 20

// doomedFile is a delivered segment renamed to its .deleted name, waiting
// for the background goroutine to free it.
type doomedFile struct {
	path string
	size int64
}

// retireSegment renames the delivered segment at path to its .deleted
// name, so that a crash at any point after leaves no short segment behind,
// only a file that the next Open removes, and returns that name.
func retireSegment(path string) (string, error) {
	del := path + deletedSuffix
	return del, os.Rename(path, del)
}

// freeDoomed frees the retired segments waiting, calling between after
// each step (the background goroutine pauses there for the requests;
// Close, with no requests left, does not). With recycle, the last one
// waiting may be recycled instead (the others are freed first, so that a
// short disk gets their space back at once); Close does not recycle.
func (s *Spool) freeDoomed(between func(), recycle bool) {
	for {
		s.doomedMu.Lock()
		if len(s.doomed) == 0 {
			s.doomedMu.Unlock()
			return
		}
		d := s.doomed[0]
		s.doomed = s.doomed[1:]
		last := len(s.doomed) == 0
		s.doomedMu.Unlock()
		if recycle && last && s.recycle(d, between) {
			continue
		}
		if s.opts.slowOp != nil {
			s.opts.slowOp("remove")
		}
		if err := freeInSteps(d.path, d.size, removeStep, between); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.opts.Logger.Warn("spool: cannot delete a delivered segment; the next Open removes it", "err", err)
		}
	}
}

// freeInSteps frees the file of size bytes at path step bytes at a time,
// calling between after each step, and deletes it.
func freeInSteps(path string, size, step int64, between func()) error {
	if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
		for n := size - step; n > 0; n -= step {
			if f.Truncate(n) != nil {
				break
			}
			between()
		}
		f.Close()
	}
	return os.Remove(path)
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

// recycle makes the delivered segment d the reserve, zeros and all, and
// reports whether it did. The next segment then overwrites pages the
// kernel has cached instead of taking new ones and freeing them again
// once delivered (see docs/benchmark-history.md for what it saves).
//
// Every byte of d is overwritten with zeros, in steps of zeroStep
// calling between after each, then its first bytes with this run's
// recycled header, before it is renamed: a crash of the process can then
// never show a delivered record as a new one, and a segment left behind
// has zeros, not records, past its frames (cut when the segment is left,
// or by Open after a crash). It does nothing, and d is freed instead:
//   - in fsync durability, where a power loss could bring back pages the
//     zeros had not yet reached the disk in (in process durability a
//     power loss may do so: delivered records can then be delivered
//     again, as records whose cursor had not reached the disk are);
//   - while the disk fails or the reserve could not be written, so that
//     the space goes back to the disk;
//   - within three segments of MaxBytes, where the reserve and the unused
//     end of the segment being written would take the space of records;
//   - when the reserve is a recycled segment already, or d's file is
//     longer than a segment and a record.
func (s *Spool) recycle(d doomedFile, between func()) bool {
	if !s.mayRecycle() {
		return false
	}
	s.resMu.Lock()
	wanted := s.reserveWantsRecycled()
	s.resMu.Unlock()
	if !wanted {
		return false
	}
	f, err := os.OpenFile(d.path, os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	kept := false // the handle goes to the reserve; closed otherwise
	defer func() {
		if !kept {
			f.Close()
		}
	}()
	// The file's own size, not the segment's recorded one: a write that
	// failed and could not be cut may have left bytes past it.
	fi, err := f.Stat()
	if err != nil || fi.Size() <= int64(len(s.recycledHeader)) || fi.Size() > s.opts.SegmentBytes+int64(frameHeaderLen+s.opts.MaxRecordBytes) {
		return false
	}
	if s.opts.slowOp != nil {
		s.opts.slowOp("recycle")
	}
	err = zeroInSteps(f, fi.Size(), zeroStep, between)
	if err == nil {
		_, err = f.WriteAt(s.recycledHeader, 0)
	}
	if err != nil {
		return false // freed instead
	}
	if s.opts.slowOp != nil {
		s.opts.slowOp("recycled")
	}
	s.resMu.Lock()
	defer s.resMu.Unlock()
	// Again, after the zeros: the disk may have failed meanwhile.
	if !s.mayRecycle() || !s.reserveWantsRecycled() {
		return false
	}
	if err := os.Rename(d.path, s.reservePath); err != nil {
		return false
	}
	// Kept open: the segment that takes the reserve writes with it.
	kept = true
	s.reserveErr = nil
	s.setReserve(true, fi.Size(), f)
	s.m.recycled.Inc()
	return true
}

// reserveWantsRecycled reports whether a recycled segment may become the
// reserve: the last reserve could be written, and the reserve is not a
// recycled segment already (only those are held open). resMu is held.
func (s *Spool) reserveWantsRecycled() bool {
	return s.reserveErr == nil && s.reserveFile == nil
}

// mayRecycle reports whether the disk and the size cap let a delivered
// segment be recycled now.
func (s *Spool) mayRecycle() bool {
	return !s.fsync && !s.diskTrouble.Load() && s.diskBytes.Load()+3*s.opts.SegmentBytes <= s.opts.MaxBytes
}

// zeroStep is how much of a recycled segment one write of zeros covers.
// Each write holds the goroutine's P until it returns or the runtime's
// monitor takes the P back (up to 10 ms in a busy process): with one P no
// request runs meanwhile. 1 MiB steps took up to 7.6-8.0 ms in the
// gateway at half load (bench/stalls: the longest stalls of requests were
// behind them), where this machine's kernel takes back pages for the
// segment; 64 KiB steps bound that to a sixteenth for about the same
// total (BenchmarkZeroSegment).
const zeroStep = 64 << 10

// zeroes is what zeroInSteps writes (in the binary's zeroed data: it costs
// no memory until read, and reading it maps the kernel's zero page).
var zeroes [removeStep]byte

// zeroInSteps overwrites the first size bytes of f with zeros, step bytes
// (at most removeStep) at a time, calling between after each step.
func zeroInSteps(f *os.File, size, step int64, between func()) error {
	step = min(step, int64(len(zeroes)))
	for off := int64(0); off < size; off += step {
		if _, err := f.WriteAt(zeroes[:min(step, size-off)], off); err != nil {
			return err
		}
		between()
	}
	return nil
}
