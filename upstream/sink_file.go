package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/internal/atomicfile"
	"github.com/beacongate/beacongate/internal/flock"
)

// FileOptions configures a file destination: rolling zstd-compressed NDJSON
// files, readable with zstdcat.
//
// The file being written is named <Prefix>-<UTC start>-<n>.ndjson.zst.part.
// Each batch is appended to it as one complete zstd frame before the batch is
// acknowledged, so even the .part file is readable with zstdcat at any time
// (concatenated frames form one valid stream). When the file rolls, or at
// Close, it is fsynced and renamed without ".part": a file without ".part"
// is complete and never changes again. A .part file left by a crash is
// repaired (cut after its last complete frame), fsynced and renamed at the
// next start. The sink holds a lock on the .part file it writes, so that
// the start of another process writing to the same Dir (a second gateway
// collecting into one folder) leaves that file alone. Files are created
// 0640 (Dir, if created, 0750): they hold the records, and are not for
// every user of the host.
//
// If the fsync or the close of a file fails when it is finished, the file
// keeps its .part name: its batches were acknowledged when written, but the
// disk did not confirm them, so the name must not say the file is complete.
// Those batches cannot be sent again (the shipper has moved past them); the
// error, which names the file, reaches the shipper instead, which logs it
// and counts a retry: the Send that rolled the file returns it, a roll by
// the timer makes the next Send return it, Close returns it. The batch such
// a Send carried was not written and is retried into a new file. The next
// start repairs the .part file as after a crash: check the disk, and what
// the file holds, before then.
//
// A batch whose write (or, with DurabilityFsync, fsync) fails is not
// acknowledged: it is cut off the file again, and the shipper's retry
// writes it to the same file, so that a disk failing for a while leaves
// one partial file, with each batch in it once. If the cut fails, the file
// is closed with its .part name and opened and cut again before the next
// batch or at Close; until that succeeds, Send fails and no new file is
// started.
//
// Durability says when a batch counts as written, as for the spool: with
// DurabilityProcess (the zero value) a batch is acknowledged once write(2)
// handed it to the kernel, which survives a crash or kill -9 of the process
// (the spool makes the same promise for the records before they get here);
// with DurabilityFsync each batch is also fsynced before it is acknowledged,
// so that it survives a power loss. A Pipeline sets it from its spool's
// durability.
type FileOptions struct {
	Dir       string        // default <DataDir>/out
	Prefix    string        // default "events"
	RollBytes int64         // roll after this many compressed bytes, default 64 MiB
	RollAge   time.Duration // roll a file this old, default 10 min
	// Clock names the files and tells their age. Nil means clock.Real;
	// a Pipeline passes its own.
	Clock clock.Clock
	// Durability: DurabilityFsync fsyncs each batch before acknowledging
	// it; DurabilityProcess (default) fsyncs a file only when it rolls or
	// closes. A Pipeline sets its spool's durability here.
	Durability Durability
}

// FileSink writes batches to rolling files. See FileOptions.
type FileSink struct {
	o FileOptions

	mu      sync.Mutex
	f       *os.File
	path    string // final name; the file is path+".part" while open
	size    int64
	opened  time.Time
	seq     int
	enc     *Encoder // for batches not already zstd-encoded
	closed  bool
	stop    chan struct{}
	stopped chan struct{}
	// reopen says that the .part file at path, closed by cutBack, may
	// end in bytes of an unacknowledged batch: resume opens it again and
	// cuts it back to size before it is written or finished.
	reopen bool
	// rollErr is the error of a file the roller failed to finish: the
	// next Send (or Close) returns it, as there is no caller to return
	// it to at the time.
	rollErr error

	syncs atomic.Int64 // fsyncs of output files, for tests
	// fsync fsyncs an output file: (*os.File).Sync, which tests replace
	// to make an fsync fail as on a failing disk.
	fsync func(*os.File) error
}

const partSuffix = ".part"

// outputMode is the mode of output files: they hold the records (as the
// spool and the dead letters do, 0600), so they are readable by the
// gateway's user and group (a loader that shares its group) only, never by
// every user of the host. Their folder is created 0750.
const outputMode = 0o640

// NewFileSink creates o.Dir if needed, restricts the output files an
// earlier version left readable by every user (restrictEarlier) and repairs
// .part files a crash left.
func NewFileSink(o FileOptions) (*FileSink, error) {
	if o.Dir == "" {
		return nil, errors.New("upstream: file sink needs a Dir")
	}
	if o.Prefix == "" {
		o.Prefix = "events"
	}
	o.Clock = clock.Or(o.Clock)
	if strings.ContainsAny(o.Prefix, `/\`) {
		return nil, fmt.Errorf("upstream: file prefix %q holds a path separator", o.Prefix)
	}
	if o.RollBytes <= 0 {
		o.RollBytes = 64 << 20
	}
	if o.RollAge <= 0 {
		o.RollAge = 10 * time.Minute
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("upstream: cannot create %q: %w", o.Dir, err)
	}
	s := &FileSink{o: o, stop: make(chan struct{}), stopped: make(chan struct{}), fsync: (*os.File).Sync}
	if err := s.restrictEarlier(); err != nil {
		return nil, err
	}
	if err := s.repair(); err != nil {
		return nil, err
	}
	go s.roller()
	return s, nil
}

// restrictEarlier takes every user's access away from the output files
// (finished and .part) that a beacongate before 2026-12-07 created 0644:
// after an upgrade on the same data directory they would otherwise stay
// readable by every user of the host for as long as retention keeps them.
// The owner's and the group's access stay as they are. A file that cannot
// be restricted (owned by another user) refuses the start, naming it: the
// gateway does not run with records every user may read in its output.
func (s *FileSink) restrictEarlier() error {
	if runtime.GOOS == "windows" {
		return nil // no mode bits for other users
	}
	files, err := filepath.Glob(filepath.Join(s.o.Dir, s.o.Prefix+"-*.ndjson.zst*"))
	if err != nil {
		return err
	}
	for _, p := range files {
		if !strings.HasSuffix(p, ".ndjson.zst") && !strings.HasSuffix(p, ".ndjson.zst"+partSuffix) {
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o007 == 0 {
			continue // gone (retention, another instance's rename), or not open to every user
		}
		if err := os.Chmod(p, fi.Mode().Perm()&^0o007); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("upstream: %s is readable by every user (mode %04o; a beacongate before 2026-12-07 created output files so) and cannot be restricted: %w; restrict it with: chmod o-rwx %s",
				p, fi.Mode().Perm(), err, p)
		}
	}
	return nil
}

// repair finishes the .part files of an earlier run. A .part file whose
// lock another process holds (see lockPart) is being written, by another
// gateway whose file destination writes to the same dir: it is left
// alone, and so is one its writer finished meanwhile.
func (s *FileSink) repair() error {
	parts, err := filepath.Glob(filepath.Join(s.o.Dir, s.o.Prefix+"-*.ndjson.zst"+partSuffix))
	if err != nil {
		return err
	}
	repaired := false
	for _, p := range parts {
		done, err := s.repairPart(p)
		if err != nil {
			return err
		}
		repaired = repaired || done
	}
	if repaired {
		return atomicfile.SyncDir(s.o.Dir)
	}
	return nil
}

// repairPart finishes the .part file at p, a run left behind: it cuts it
// after its last complete frame, fsyncs it and renames it, or removes it
// when it holds no complete frame. done is false when p was left alone:
// gone, or being written by another process.
func (s *FileSink) repairPart(p string) (done bool, err error) {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // finished by its writer meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("upstream: cannot open %q: %w", p, err)
	}
	defer f.Close() // and unlocked, once finished
	if !flock.TryLock(f) {
		return false, nil
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return false, fmt.Errorf("upstream: cannot read %q: %w", p, err)
	}
	n := completeZstdFrames(b)
	if n == 0 {
		os.Remove(p)
		return true, nil
	}
	if n < len(b) {
		if err := f.Truncate(int64(n)); err != nil {
			return false, fmt.Errorf("upstream: cannot repair %q: %w", p, err)
		}
	}
	// The process that wrote it may not have fsynced it.
	s.syncs.Add(1)
	if err := f.Sync(); err != nil {
		return false, fmt.Errorf("upstream: cannot fsync %q to finish it (check the disk): %w", p, err)
	}
	if err := os.Rename(p, strings.TrimSuffix(p, partSuffix)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil // finished by its writer, which had closed it
		}
		return false, fmt.Errorf("upstream: cannot finish %q: %w", p, err)
	}
	return true, nil
}

// ContextFree tells the shipper that Send does not read its context.
func (s *FileSink) ContextFree() {}

// Send appends the batch as one zstd frame, and fsyncs in DurabilityFsync
// mode. Errors are retryable. A file the roller failed to finish makes
// Send return that error once, without writing the batch.
func (s *FileSink) Send(_ context.Context, b *Batch) error {
	data := b.Encoded
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("upstream: file sink closed")
	}
	if err := s.rollErr; err != nil {
		s.rollErr = nil
		return err
	}
	if b.Codec != CodecZstd || len(data) == 0 {
		if s.enc == nil {
			enc, err := NewEncoder(CodecZstd, 0)
			if err != nil {
				return err
			}
			s.enc = enc
		}
		var err error
		if data, err = s.enc.AppendEncoded(nil, b.Data); err != nil {
			return err
		}
	}
	if s.f == nil && s.reopen {
		if err := s.resume(); err != nil {
			return err
		}
	}
	if s.f != nil && (s.size >= s.o.RollBytes || s.aged()) {
		if err := s.finish(); err != nil {
			return err
		}
	}
	if s.f == nil {
		if err := s.create(); err != nil {
			return err
		}
	}
	if _, err := s.f.Write(data); err != nil {
		// The file may end in part of this batch: cut it off, so that the
		// shipper's retry of the batch goes to this file, once.
		return errors.Join(fmt.Errorf("upstream: cannot write %q: %w", s.path+partSuffix, err), s.cutBack())
	}
	if s.o.Durability == DurabilityFsync {
		s.syncs.Add(1)
		if err := s.fsync(s.f); err != nil {
			// The batch is not acknowledged and will be sent again:
			// cut it off, as after a failed write.
			return errors.Join(fmt.Errorf("upstream: cannot fsync %q: %w", s.path+partSuffix, err), s.cutBack())
		}
	}
	s.size += int64(len(data))
	return nil
}

// cutBack cuts the open file back to its acknowledged batches (s.size),
// after a write or fsync of a batch that is not acknowledged: the retry of
// that batch, and the batches after it, go to the same file, and the batch
// is in it once. In fsync durability the cut is fsynced, so that the
// file's name, once complete, never covers a batch the disk did not
// confirm. When the cut fails the file is closed, keeping its .part name,
// and reopened and cut by the next Send (or Close): a disk that keeps
// failing leaves this one partial file, never one per retry. s.mu is held.
func (s *FileSink) cutBack() error {
	err := s.cut(s.f)
	if err == nil {
		return nil
	}
	s.f.Close()
	s.f, s.reopen = nil, true
	return fmt.Errorf("upstream: cannot cut %q back to its acknowledged batches; it keeps its %s name and is cut before the next batch: %w",
		s.path+partSuffix, partSuffix, err)
}

// cut truncates f to s.size and puts its offset there; in fsync
// durability it fsyncs the cut. s.mu is held.
func (s *FileSink) cut(f *os.File) error {
	if err := f.Truncate(s.size); err != nil {
		return err
	}
	if _, err := f.Seek(s.size, io.SeekStart); err != nil {
		return err
	}
	if s.o.Durability == DurabilityFsync {
		s.syncs.Add(1)
		return s.fsync(f)
	}
	return nil
}

// resume opens again, and cuts back, the .part file cutBack closed. If
// another process finished it meanwhile (a second gateway starting on this
// dir repairs the .part files it finds unlocked), there is nothing to
// resume and the next batch goes to a new file. s.mu is held.
func (s *FileSink) resume() error {
	part := s.path + partSuffix
	f, err := os.OpenFile(part, os.O_WRONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		s.reopen = false
		return nil
	}
	if err == nil && (!flock.TryLock(f) || !sameFile(f, part)) {
		f.Close()
		s.reopen = false // taken by another process: its file now
		return nil
	}
	if err == nil {
		if err = s.cut(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("upstream: cannot cut %q back to its acknowledged batches; it keeps its %s name: %w", part, partSuffix, err)
	}
	s.f, s.reopen = f, false
	return nil
}

func (s *FileSink) create() error {
	opened := s.o.Clock.Now() // with clock.Real, keeps its monotonic reading (see aged)
	now := opened.UTC()
	for {
		s.seq++
		path := filepath.Join(s.o.Dir, fmt.Sprintf("%s-%s-%06d.ndjson.zst", s.o.Prefix, now.Format("20060102T150405Z"), s.seq))
		f, err := os.OpenFile(path+partSuffix, os.O_CREATE|os.O_EXCL|os.O_WRONLY, outputMode)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("upstream: cannot create %q: %w", path, err)
		}
		// Locked while it is written (see lockPart), and still the file
		// of its name once locked: another gateway starting on this dir
		// may have taken the new, empty file for one a run left, and
		// removed it.
		if !flock.TryLock(f) || !sameFile(f, path+partSuffix) {
			f.Close()
			continue
		}
		if _, err := os.Stat(path); err == nil { // finished by an earlier run
			f.Close()
			os.Remove(path + partSuffix)
			continue
		}
		if err := atomicfile.SyncDir(s.o.Dir); err != nil {
			f.Close()
			return fmt.Errorf("upstream: cannot fsync %q: %w", s.o.Dir, err)
		}
		s.f, s.path, s.size, s.opened = f, path, 0, opened
		return nil
	}
}

// aged reports whether the open file is due to roll by its age: RollAge
// since it was opened, or opened after the clock's reading (a clock
// stepped back), which would otherwise keep it open, unfinished, for as
// long as the step. With clock.Real both readings carry the monotonic
// clock, which time.Time.Sub uses, so a step of the wall clock changes
// neither; opened must not be converted (UTC strips that reading). s.mu
// is held.
func (s *FileSink) aged() bool {
	age := s.o.Clock.Now().Sub(s.opened)
	return age >= s.o.RollAge || age < 0
}

// finish fsyncs and closes the current file and renames it to its final
// name (or removes it when empty). If the fsync or the close fails, the
// file keeps its .part name (see FileOptions) and the error says so. s.mu
// is held.
func (s *FileSink) finish() error {
	if s.f == nil && s.reopen {
		if err := s.resume(); err != nil {
			return err
		}
	}
	f := s.f
	if f == nil {
		return nil
	}
	s.f = nil
	part := s.path + partSuffix
	if s.size == 0 {
		err := f.Close()
		os.Remove(part)
		return err
	}
	var err error
	if s.o.Durability != DurabilityFsync {
		// Each batch was only written: make the finished file durable
		// before its name says it is complete.
		s.syncs.Add(1)
		err = s.fsync(f)
	}
	err = errors.Join(err, f.Close())
	if err != nil {
		return fmt.Errorf("upstream: cannot finish %q, which keeps its %s name: its acknowledged batches may not be on disk; "+
			"check the disk (the next start repairs the file): %w", part, partSuffix, err)
	}
	if err := os.Rename(part, s.path); err != nil {
		return fmt.Errorf("upstream: cannot finish %q: %w", part, err)
	}
	if err := atomicfile.SyncDir(s.o.Dir); err != nil {
		return fmt.Errorf("upstream: cannot fsync %q after finishing %q: %w", s.o.Dir, s.path, err)
	}
	return nil
}

// sameFile reports whether the open file f is the file at path.
func sameFile(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Stat(path)
	return err == nil && os.SameFile(fi, pi)
}

// roller finishes a file that reached RollAge while no batch came.
func (s *FileSink) roller() {
	defer close(s.stopped)
	t := time.NewTicker(max(min(s.o.RollAge/4, time.Second), time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			if s.f != nil && s.aged() {
				if err := s.finish(); err != nil {
					s.rollErr = errors.Join(s.rollErr, err)
				}
			}
			s.mu.Unlock()
		}
	}
}

// Close finishes the current file. It also returns the error of a file
// the roller failed to finish that no Send has returned yet.
func (s *FileSink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	err := errors.Join(s.rollErr, s.finish())
	s.rollErr = nil
	s.mu.Unlock()
	<-s.stopped
	return err
}
