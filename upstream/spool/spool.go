package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beacongate/beacongate/internal/atomicfile"
)

// Spool is the durable record log. Its methods are safe for concurrent use.
type Spool struct {
	opts    Options
	dir     string
	dirFile *os.File // dir, open for syncing it
	// reservePath is dir's reserveName.
	reservePath string
	lock        *os.File
	header      []byte // segment header of this run
	// recycledHeader is the header of this run's recycled segments: the
	// same names, recycledMagic (as long as segMagic).
	recycledHeader []byte
	fsync          bool

	mu            sync.Mutex
	cond          sync.Cond // on mu: a flush finished, or buffer space appeared
	active        []byte    // frames waiting for the next group write
	activeRecords int
	spare         []byte // the other buffer while a flush runs; nil then
	gen           uint64 // generation of active; a flush of gen g sets doneGen = g
	doneGen       uint64
	// The last failed generations, oldest first from failCount%failRing
	// once the ring is full (failCount failures in all), so that Wait
	// reports only failures of the groups a caller joined.
	failGens  [failRing]uint64
	failErrs  [failRing]error
	failCount int
	flushing  bool
	closed    bool
	pending   int64 // bytes in active and in the buffer being written
	diskErr   error // last disk error; nil after a good write
	diskErrAt time.Time
	// diskDownAt is when the disk error diskErr belongs to began (its
	// first failure after a good write), and diskDropped0 the disk drops
	// counted then: the all-clear says how long and how many.
	diskDownAt   time.Time
	diskDropped0 float64
	lastAppend   int64 // monotonic ns of the last append, with GatherWindow
	gapAvg       int64 // moving average of the ns between appends, with GatherWindow
	lastGroup    int   // records in the last group written

	// Owned by the flush leader (flushing == true), and by Open and Close.
	cur     *os.File
	curBase uint64
	curSize int64
	// curFileSize is cur's size on disk: more than curSize when cur is a
	// recycled segment, whose zeros past curSize are cut when the
	// segment is left (endSegment).
	curFileSize int64
	curBad      bool // a write to cur failed, or there is no cur: start a new segment first

	// The reserve file (see reserveName), written ahead of need by the
	// background goroutine. resMu is only tried by the flush leader: if
	// the background goroutine holds it, the leader creates the segment
	// itself rather than wait.
	resMu      sync.Mutex
	reserveErr error // the last reserve could not be written: the disk is full
	// reserveReady: the reserve file holds this run's header (alone, or
	// a recycled segment's). Written with resMu held; the flush leader
	// reads it without, and when the reserve is ready waits for resMu
	// (held briefly then) rather than create the segment's file itself.
	reserveReady atomic.Bool
	// reserveSize is the reserve file's size when ready: the header
	// alone, or a recycled segment's size (zeros after the header).
	reserveSize int64
	// reserveFile is the recycled reserve, kept open for writing by
	// recycle so that the segment taking it opens nothing; nil otherwise.
	// Only setReserve changes reserveReady, reserveSize and reserveFile,
	// so that a handle never outlives the file it was opened on as
	// reserve.
	reserveFile *os.File

	// Background work off the request path (see background): deleting
	// delivered segments, writing the next reserve; dirDirty: a segment
	// was created or deleted in process durability, the directory is to
	// be synced at Close.
	kick      chan struct{}
	stopBg    chan struct{}
	bgDone    chan struct{}
	dirDirty  atomic.Bool
	bgStarted bool // set by Open once the spool works
	// pause is called between the steps of freeing or zeroing a
	// delivered segment in the background (see makePause).
	pause func()

	tail *tail // the newest bytes written, for readers that keep up

	// doomed are the delivered segments trim retired (renamed to their
	// .deleted names), oldest first, for the background goroutine to
	// free (freeDoomed).
	doomedMu sync.Mutex
	doomed   []doomedFile

	segMu     sync.Mutex
	segs      []segment       // oldest first; the last is being written if hasActive
	hasActive bool            // false while a full disk keeps this run's first segment from being created
	damaged   map[uint64]bool // bases of segments with damage: quarantined, not deleted

	durable atomic.Uint64 // readers may read up to here
	written atomic.Uint64 // records of the group writes since Open, stored after durable
	// fullSince is true from a record refused for a full spool until a
	// record is taken again; fullRefused counts the refusals meanwhile.
	// The warning and the all-clear are logged at those two changes only:
	// nothing else in the log would say that records are being refused
	// (pixels lost, beacons answered 503) while the destinations lag.
	// fullLimit is the size limit the first refusal met: a record taken
	// under a higher one (the BLE spool's write-backs, into the headroom
	// its sightings may not use) does not end it.
	fullSince   atomic.Bool
	fullRefused atomic.Uint64
	fullLimit   atomic.Int64
	// diskTrouble mirrors diskErr != nil for the background goroutine,
	// which does not take mu: a failing disk gets delivered segments'
	// space back instead of recycling them.
	diskTrouble atomic.Bool
	diskBytes   atomic.Int64
	readers     []*Reader
	m           metrics
	closeOnce   sync.Once
	closeErr    error
}

// gatherGroups: a leader only waits for company after a group smaller than
// this. Groups this large form by themselves near saturation, where a
// waiting leader would leave the core idle: Go's poller sleeps in whole
// milliseconds, so a shorter wait on an idle core lasts about 1 ms.
const gatherGroups = 8

// monoBase anchors the monotonic times of GatherWindow.
var monoBase = time.Now()

// Open opens or creates the spool in opts.Dir, repairs a torn tail left by a
// crash, and starts a new segment. It fails if another process has the
// directory open.
func Open(opts Options) (*Spool, error) {
	if err := resolve(&opts); err != nil {
		return nil, err
	}
	s := &Spool{opts: opts, dir: opts.Dir, fsync: opts.Durability == DurabilityFsync}
	s.cond.L = &s.mu
	s.gen = 1
	s.header = appendSegmentHeader(nil, opts.Destinations)
	s.recycledHeader = appendRecycledHeader(nil, opts.Destinations)
	s.reservePath = filepath.Join(opts.Dir, reserveName)
	s.active = make([]byte, 0, opts.BufferBytes)
	s.spare = make([]byte, 0, opts.BufferBytes)
	s.m = newMetrics(s, opts.Destinations)
	s.tail = newTail(opts.TailBytes)
	s.kick = make(chan struct{}, 1)
	s.stopBg = make(chan struct{})
	s.bgDone = make(chan struct{})
	s.pause = s.makePause()

	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: cannot create %q: %w", s.dir, err)
	}
	lock, err := lockDir(filepath.Join(s.dir, lockFileName))
	if err != nil {
		return nil, err
	}
	s.lock = lock
	// Held open for the directory syncs of every segment created or
	// deleted, which would otherwise open it each time.
	if s.dirFile, err = os.Open(s.dir); err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("spool: cannot open %q: %w", s.dir, err)
	}
	if err := s.open(); err != nil {
		s.closeFiles()
		return nil, err
	}
	if err := s.m.register(opts.Registerer); err != nil {
		s.closeFiles()
		return nil, err
	}
	s.bgStarted = true
	go s.background()
	return s, nil
}

// open loads the segments and cursors, repairs the newest segment and
// starts this run's segment.
func (s *Spool) open() error {
	segs, err := listSegments(s.dir)
	if err != nil {
		return err
	}
	for len(segs) > 0 {
		last := &segs[len(segs)-1]
		keep, err := s.repair(last)
		if err != nil {
			return err
		}
		if keep {
			break
		}
		// Nothing valid, not even the header: a crash right after the
		// file was created (or damage, now in quarantine). Its base is
		// reused below, and the segment before it may be the one the
		// crash interrupted: repair it too.
		segs = segs[:len(segs)-1]
	}
	var end uint64
	for i, g := range segs {
		e := g.end()
		if i+1 < len(segs) {
			// A segment whose unused end a failed cut left behind
			// (endSegment) ends where the next one starts.
			e = min(e, segs[i+1].base)
		}
		end = max(end, e)
		s.diskBytes.Add(g.size)
	}
	for i, name := range s.opts.Destinations {
		r, err := s.openReader(i, name)
		if err != nil {
			return err
		}
		s.readers = append(s.readers, r)
		end = max(end, r.committed.Load())
	}
	s.warnRemovedDestinations(segs)
	// The stream never reuses an offset: start after the last segment and
	// after every cursor (a cursor can be ahead of the data after a power
	// loss in process mode).
	s.segs = segs
	s.curBase = end
	removeDeleted(s.dir)
	if err := s.createSegment(true); err != nil {
		if !errors.Is(err, ErrDisk) {
			return err
		}
		// A full (or failing) disk: start draining. Appends fail (and
		// /readyz says 503) while the shippers deliver what is spooled;
		// the first write that works, or a probe by Err, ends it.
		s.opts.Logger.Error("spool: cannot start a segment; draining what is spooled, refusing new records until the disk has room",
			"err", err)
		s.curBad = true
		s.diskFailed(err)
	}
	s.durable.Store(s.curBase + uint64(s.curSize))
	first := s.curBase
	if len(s.segs) > 0 {
		first = s.segs[0].base
	}
	for _, r := range s.readers {
		r.pos = max(r.committed.Load(), first)
		// A cursor before the oldest segment (a destination new to the
		// spool, a damaged cursor) has nothing left to acknowledge
		// before it: its lag counts from there, not from the stream's
		// start.
		r.committed.Store(r.pos)
	}
	return s.trim()
}

// warnRemovedDestinations logs each destination that segments still on
// disk were written for, that this run does not have (removed or renamed
// in the config), and whose cursor is before the end of such a segment:
// the records spooled for it and not yet delivered go to no destination
// now, and are deleted once this run's destinations have read past them,
// which a start on a caught-up spool does at once. Nothing else would
// tell the operator that acknowledged events were just given up. bytes is
// an upper bound: a segment may also hold records for other destinations.
func (s *Spool) warnRemovedDestinations(segs []segment) {
	current := make(map[string]bool, len(s.opts.Destinations))
	for _, name := range s.opts.Destinations {
		current[name] = true
	}
	cursors := make(map[string]uint64)
	pending := make(map[string]uint64)
	var order []string
	hdr := make([]byte, segHeaderFixed+maxSegNamesLen)
	for _, g := range segs {
		f, err := os.Open(segmentPath(s.dir, g.base))
		if err != nil {
			continue
		}
		n, _ := f.ReadAt(hdr, 0)
		f.Close()
		names, _, st := parseSegmentHeader(hdr[:n])
		if st != frameOK {
			continue
		}
		for name := range strings.SplitSeq(string(names), "\n") {
			if name == "" || current[name] || filepath.Base(name) != name {
				continue
			}
			c, ok := cursors[name]
			if !ok {
				c = s.cursorOf(name)
				cursors[name] = c
			}
			if g.end() <= c {
				continue
			}
			if _, seen := pending[name]; !seen {
				order = append(order, name)
			}
			pending[name] += g.end() - max(g.base, c)
		}
	}
	for _, name := range order {
		s.opts.Logger.Warn("spool: records spooled for a destination the config no longer has (removed or renamed) "+
			"will not be delivered, and are deleted once the configured destinations have read past them; "+
			"to deliver them, put the destination back under this name and let it catch up (beacongate_upstream_lag_bytes at 0) before removing it",
			"destination", name, "bytes", pending[name])
	}
}

// cursorOf returns the committed offset in the cursor file of the
// destination name, or 0 when it has none or it is damaged.
func (s *Spool) cursorOf(name string) uint64 {
	b, err := os.ReadFile(filepath.Join(s.dir, name+cursorSuffix))
	if err != nil {
		return 0
	}
	off, ok := parseCursor(b)
	if !ok {
		return 0
	}
	return off
}

// repair truncates the torn or damaged tail of the newest segment, left by a
// crash in the middle of a write, after copying it to the quarantine
// folder (a disk that cannot take the copy, a full one, is logged and the
// tail cut all the same: it holds no valid frame). Frames that verify are never cut: damage in the middle, or in
// the header, is left for the readers to skip, and the segment is marked
// for quarantine. keep is false if nothing valid is left: the file was
// then removed (empty) or quarantined.
func (s *Spool) repair(g *segment) (keep bool, err error) {
	path := segmentPath(s.dir, g.base)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Errorf("spool: cannot open %q: %w", path, err)
	}
	defer f.Close()
	res, err := scanSegment(f, g.size)
	if err != nil {
		return false, fmt.Errorf("spool: cannot read %q: %w", path, err)
	}
	if res.validEnd == 0 {
		f.Close()
		if g.size == 0 {
			if err := os.Remove(path); err != nil {
				return false, fmt.Errorf("spool: cannot remove empty segment: %w", err)
			}
			return false, nil
		}
		s.opts.Logger.Warn("spool: newest segment holds no valid frame; moved to quarantine",
			"segment", path, "size", g.size)
		s.m.tornBytes.Add(float64(g.size))
		if err := s.quarantine(segmentName(g.base), path); err != nil {
			return false, err
		}
		return false, s.syncDir()
	}
	if res.damaged > 0 || res.headerBad {
		s.opts.Logger.Warn("spool: damaged newest segment; readers skip the damaged frames, and the segment goes to quarantine once delivered",
			"segment", path, "regions", res.damaged, "header_damaged", res.headerBad)
		s.markDamaged(g.base)
	}
	if res.validEnd == g.size {
		return true, nil
	}
	// In a recycled segment, zeros after the frames are its unused end,
	// not damage: they are cut without a word. Anything before them is a
	// torn write.
	if res.validEnd < res.dataEnd {
		s.opts.Logger.Warn("spool: truncating torn tail", "segment", path,
			"size", g.size, "valid", res.validEnd, "records", res.records)
		s.m.tornBytes.Add(float64(res.dataEnd - res.validEnd))
		if err := s.quarantineTail(f, g.base, res.validEnd, res.dataEnd); err != nil {
			// The copy is kept for a human: the tail holds no valid
			// frame. A disk that cannot take it (a full one) must not
			// keep the spool from opening and draining what it holds.
			s.opts.Logger.Warn("spool: cannot keep the torn tail in quarantine; cutting it all the same",
				"segment", path, "err", err)
		}
	}
	if err := f.Truncate(res.validEnd); err != nil {
		return false, fmt.Errorf("spool: cannot truncate %q: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return false, fmt.Errorf("spool: cannot fsync %q: %w", path, err)
	}
	g.size = res.validEnd
	return true, nil
}

// quarantineDir is where damaged segments and cut tails are kept, inside
// the spool directory: they are never read again, only kept for a human.
const quarantineDir = "quarantine"

// QuarantineDir returns the quarantine folder of the spool in dir.
func QuarantineDir(dir string) string { return filepath.Join(dir, quarantineDir) }

// IsQuarantineFile reports whether name is a file the spool moves or writes
// to its quarantine folder: a segment, or a torn tail cut off one. A
// quarantined file's modification time is when it was quarantined, on
// Options.Clock, so that a retention rule counts from then.
func IsQuarantineFile(name string) bool {
	if _, ok := parseSegmentName(name); ok {
		return true
	}
	seg, off, ok := strings.Cut(name, ".tail-")
	if !ok || off == "" {
		return false
	}
	if _, err := strconv.ParseUint(off, 10, 63); err != nil {
		return false
	}
	_, ok = parseSegmentName(seg)
	return ok
}

// quarantine moves the file at path to the quarantine folder as name.
func (s *Spool) quarantine(name, path string) error {
	qdir := filepath.Join(s.dir, quarantineDir)
	if err := os.MkdirAll(qdir, 0o700); err != nil {
		return diskError("create quarantine folder", err)
	}
	if err := os.Rename(path, filepath.Join(qdir, name)); err != nil {
		return diskError("move to quarantine", err)
	}
	s.m.quarantined.Inc()
	s.stampQuarantined(filepath.Join(qdir, name))
	return atomicfile.SyncDir(qdir)
}

// stampQuarantined sets the modification time of a file just put in
// quarantine to now, the start of its retention
// (privacy.quarantine_retention): a segment written days before it was
// delivered and moved must not be deleted the moment it arrives. A failure
// is logged: the file is then dated by its last write, and may go sooner.
func (s *Spool) stampQuarantined(path string) {
	now := s.opts.Clock.Now()
	if err := os.Chtimes(path, now, now); err != nil {
		s.opts.Logger.Warn("spool: cannot date a quarantined file; its retention counts from its last write", "err", err)
	}
}

// quarantineTail copies the bytes of f from validEnd to end (where the
// zeros of a recycled segment's unused end begin, or the file's size) to
// the quarantine folder before they are cut, unless they are a torn frame
// header (less than a frame header: nothing worth keeping).
func (s *Spool) quarantineTail(f *os.File, base uint64, validEnd, end int64) error {
	if end-validEnd < frameHeaderLen {
		return nil
	}
	tail := make([]byte, end-validEnd)
	if _, err := f.ReadAt(tail, validEnd); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("spool: cannot read the tail of %q: %w", f.Name(), err)
	}
	qdir := filepath.Join(s.dir, quarantineDir)
	if err := os.MkdirAll(qdir, 0o700); err != nil {
		return diskError("create quarantine folder", err)
	}
	name := filepath.Join(qdir, fmt.Sprintf("%s.tail-%d", segmentName(base), validEnd))
	if err := os.WriteFile(name, tail, 0o600); err != nil {
		os.Remove(name) // a part of the tail is no copy of it
		return diskError("write quarantined tail", err)
	}
	s.m.quarantined.Inc()
	s.stampQuarantined(name)
	return atomicfile.SyncDir(qdir)
}

// markDamaged records that the segment at base holds damage: trim moves it
// to the quarantine folder instead of deleting it.
func (s *Spool) markDamaged(base uint64) {
	s.segMu.Lock()
	if s.damaged == nil {
		s.damaged = make(map[uint64]bool)
	}
	s.damaged[base] = true
	s.segMu.Unlock()
}

// reserveName is a spare segment file holding only this run's header,
// written in advance, or a recycled segment (Spool.recycle): on a full
// disk, rolling a delivered segment needs no new space, since the reserve
// is renamed into place (see createSegment).
const reserveName = "next-segment.reserve"

// checkWrite asks the test hook, if any, whether n more bytes fit.
func (s *Spool) checkWrite(n int) error {
	if s.opts.writeCheck == nil {
		return nil
	}
	return s.opts.writeCheck(int64(n))
}

// createSegment starts a segment at s.curBase + s.curSize, from the reserve
// file if there is one, and then has a new reserve written: at once if
// inline (Open, the readiness probe), else by the background goroutine, so
// that the flush leader, which holds up every append, only renames a file
// prepared ahead of need. If it fails, the current segment stays in use.
func (s *Spool) createSegment(inline bool) error {
	s.endSegment()
	base := s.curBase + uint64(s.curSize)
	path := segmentPath(s.dir, base)
	f, fileSize := s.takeReserve(path, inline)
	if f == nil {
		fileSize = int64(len(s.header))
		var err error
		f, err = os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return diskError("create segment", err)
		}
		fail := func(op string, err error) error {
			f.Close()
			os.Remove(path)
			return diskError(op, err)
		}
		err = s.checkWrite(len(s.header))
		if err == nil {
			_, err = f.WriteAt(s.header, 0)
		}
		if err != nil {
			return fail("write segment header", err)
		}
		if s.fsync {
			if err := f.Sync(); err != nil {
				return fail("fsync segment header", err)
			}
		}
	}
	if s.fsync || inline {
		if err := s.syncDir(); err != nil {
			f.Close()
			os.Remove(path)
			return diskError("fsync spool directory", err)
		}
	} else {
		// In process durability the new name only has to survive the
		// process, which it does once created: the directory is synced
		// at Close (see syncDirIfDirty).
		s.dirDirty.Store(true)
	}
	if s.cur != nil {
		// The old segment's frames were all written (and, in fsync mode,
		// synced by writeGroup before it asked for a new segment).
		s.cur.Close()
	}
	s.cur, s.curBase, s.curSize, s.curFileSize = f, base, int64(len(s.header)), fileSize
	s.segMu.Lock()
	s.segs = append(s.segs, segment{base: base, size: s.curSize})
	s.hasActive = true
	s.segMu.Unlock()
	s.diskBytes.Add(s.curSize)
	if fileSize > int64(len(s.header)) {
		s.tail.put(base, s.recycledHeader) // the bytes the file holds
	} else {
		s.tail.put(base, s.header)
	}
	if inline {
		s.resMu.Lock()
		s.writeReserve()
		s.resMu.Unlock()
	} else {
		s.wake()
	}
	return nil
}

// takeReserve renames the reserve file to path and opens it for writing,
// if it holds exactly this run's header (and, recycled, zeros after it),
// and returns it with its size; nil otherwise. Unless inline, it returns
// nil at once when the background goroutine is writing the reserve.
func (s *Spool) takeReserve(path string, inline bool) (*os.File, int64) {
	if inline || s.reserveReady.Load() {
		s.resMu.Lock()
	} else if !s.resMu.TryLock() {
		return nil, 0
	}
	defer s.resMu.Unlock()
	rpath := s.reservePath
	if !s.reserveReady.Load() {
		// Not written by this run (an older run's, or none): check it. An
		// older run's recycled reserve is not read back, only removed.
		fi, err := os.Stat(rpath)
		if err != nil {
			return nil, 0
		}
		if fi.Size() != int64(len(s.header)) {
			os.Remove(rpath)
			return nil, 0
		}
		b, err := os.ReadFile(rpath)
		if err != nil {
			return nil, 0
		}
		if !bytes.Equal(b, s.header) {
			os.Remove(rpath) // an older run's names
			return nil, 0
		}
	}
	f, size := s.reserveFile, s.reserveSize
	s.reserveFile = nil // handed to the segment, not closed
	s.setReserve(false, 0, nil)
	if err := os.Rename(rpath, path); err != nil {
		if f != nil {
			f.Close()
		}
		return nil, 0
	}
	if f == nil {
		// Not a recycled segment (only those are held open): the header
		// alone.
		var err error
		if f, err = os.OpenFile(path, os.O_WRONLY, 0); err != nil {
			os.Remove(path)
			return nil, 0
		}
		size = int64(len(s.header))
	}
	return f, size
}

// endSegment cuts the zeros a recycled segment holds past its frames
// before the segment is left, so that a segment other than the newest
// always ends with its last frame (the newest is repaired by Open). A
// failed cut is logged and the spool goes on: readers stop at the next
// segment's base, but after a restart the zeros count as the segment's
// size, and the stream's next offset moves past them.
func (s *Spool) endSegment() {
	if s.cur == nil || s.curFileSize <= s.curSize {
		return
	}
	if err := s.cur.Truncate(s.curSize); err != nil {
		s.opts.Logger.Warn("spool: cannot cut the unused end of a recycled segment", "err", err)
		return
	}
	s.curFileSize = s.curSize
}

// writeReserve writes the reserve file unless this run's is in place, and
// records the outcome. resMu is held.
func (s *Spool) writeReserve() {
	if s.reserveReady.Load() {
		return
	}
	s.reserveErr = s.makeReserve()
	s.setReserve(s.reserveErr == nil, int64(len(s.header)), nil)
}

// setReserve records what the reserve file is: ready (ok) or not, its
// size, and the open handle of a recycled one. A handle held before and
// not passed again is closed: the file it was opened on is no longer the
// reserve. resMu is held.
func (s *Spool) setReserve(ok bool, size int64, f *os.File) {
	if s.reserveFile != nil && s.reserveFile != f {
		s.reserveFile.Close()
	}
	s.reserveSize, s.reserveFile = size, f
	s.reserveReady.Store(ok)
}

// makeReserve writes the reserve file for the next segment (fsynced in
// fsync mode), so that a full disk can still roll a delivered segment. Its error says the
// disk has no room left for even a header.
func (s *Spool) makeReserve() error {
	if s.opts.slowOp != nil {
		s.opts.slowOp("reserve")
	}
	rpath := s.reservePath
	tmp := rpath + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return diskError("create segment reserve", err)
	}
	err = s.checkWrite(len(s.header))
	if err == nil {
		_, err = f.Write(s.header)
	}
	if err == nil && s.fsync {
		// As for segment headers: without fsync a power loss may leave
		// it empty, and takeReserve then ignores it.
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, rpath)
	}
	if err != nil {
		os.Remove(tmp)
		return diskError("write segment reserve", err)
	}
	return nil
}

// Append stores record for the destinations in route and returns once it is
// as durable as Options.Durability says. record is one line of NDJSON: a
// final '\n' is dropped, another '\n' is refused. Append copies record and
// does not keep it. It does not allocate (except, once per SegmentBytes, for
// the append that starts a new segment file).
//
// It returns nil, ErrFull, ErrClosed, ErrInvalidRecord or a *DiskError
// (errors.Is(err, ErrDisk)); every refusal is counted in
// beacongate_upstream_dropped_records_total, so callers need not count it.
//
// Append is Enqueue and Wait for one record.
func (s *Spool) Append(record []byte, route Route) error {
	var p Pending
	if err := s.Enqueue(&p, record, route); err != nil {
		return err
	}
	return s.Wait(&p)
}

// Pending is the records one caller enqueued and has not waited for yet:
// the first and last group they joined. The zero value holds none. It is
// not safe for concurrent use; each request has its own.
type Pending struct {
	s           *Spool // the spool the records went to; valid when n > 0
	first, last uint64 // generations; valid when n > 0
	n           int
	unixMS      int64 // the spool time of the first record, given to all of them
	// from and to are where the records' frames start and end in the
	// active buffer of generation first, and bytes their length: the
	// frames are one run, which Withdraw can cut, when to-from == bytes.
	from, to, bytes int
}

// errOtherSpool: a Pending holds another spool's records. Enqueue counts
// the record refused as invalid; Wait leaves the Pending as it is.
var errOtherSpool = errors.New("spool: a Pending holds records of another spool; wait for them first")

// Len returns how many records p holds.
func (p *Pending) Len() int { return p.n }

// Spool returns the spool p's records went to, nil when it holds none: the
// one to Wait on, for a caller that writes to several.
func (p *Pending) Spool() *Spool {
	if p.n == 0 {
		return nil
	}
	return p.s
}

// Enqueue adds record to the next group write, as Append does, and adds it
// to p, but returns without waiting for the write: Wait(p) does. A caller
// with several records (a request's events) enqueues them all, then waits
// once, so that they share a group write instead of each waiting for its
// own. Records are written in the order they were enqueued. A record
// enqueued and never waited for is still written by the next group.
//
// Its errors are Append's, except a *DiskError of the group write, which
// Wait returns. A refused record is counted and not added to p; those
// enqueued before it stay in p.
func (s *Spool) Enqueue(p *Pending, record []byte, route Route) error {
	return s.enqueue(p, record, route, s.opts.MaxBytes-s.opts.Headroom)
}

// AppendHeadroom is Append, except that the record may use Options.Headroom:
// it is refused with ErrFull only when the spool would hold more than
// MaxBytes.
func (s *Spool) AppendHeadroom(record []byte, route Route) error {
	var p Pending
	if err := s.enqueue(&p, record, route, s.opts.MaxBytes); err != nil {
		return err
	}
	return s.Wait(&p)
}

// AppendUpTo is AppendHeadroom with a lower limit: the record is refused
// with ErrFull when the spool would hold more than maxBytes (or more than
// Options.MaxBytes). A caller that keeps the end of the headroom for some
// records of its own appends the others with it.
func (s *Spool) AppendUpTo(record []byte, route Route, maxBytes int64) error {
	var p Pending
	if err := s.enqueue(&p, record, route, min(maxBytes, s.opts.MaxBytes)); err != nil {
		return err
	}
	return s.Wait(&p)
}

// enqueue is Enqueue with the spool's size limit for this record.
func (s *Spool) enqueue(p *Pending, record []byte, route Route, limit int64) error {
	if p.n > 0 && p.s != s {
		s.m.dropInvalid.Inc() // a caller's mistake: counted as an invalid record
		return errOtherSpool
	}
	if n := len(record); n > 0 && record[n-1] == '\n' {
		record = record[:n-1]
	}
	if len(record) == 0 || len(record) > s.opts.MaxRecordBytes || bytes.IndexByte(record, '\n') >= 0 {
		s.m.dropInvalid.Inc()
		return ErrInvalidRecord
	}
	need := frameHeaderLen + len(record)
	// A caller's records are spooled within microseconds of each other:
	// they share the first one's time, and the clock is read once.
	ms := p.unixMS
	if p.n == 0 {
		ms = s.opts.Clock.Now().UnixMilli()
	}
	var blockedAt time.Time

	s.mu.Lock()
	for {
		if s.closed {
			s.mu.Unlock()
			s.m.dropClosed.Inc()
			return ErrClosed
		}
		if err := s.diskErr; err != nil && !s.diskRetryDue() {
			s.mu.Unlock()
			s.m.dropDisk.Inc()
			return err
		}
		if s.diskBytes.Load()+s.pending+int64(need) > limit {
			if s.opts.WhenFull == FullShed {
				s.mu.Unlock()
				s.m.dropFull.Inc()
				s.refusedFull(limit)
				return ErrFull
			}
			if blockedAt.IsZero() {
				blockedAt = time.Now()
			} else if time.Since(blockedAt) >= s.opts.BlockTimeout {
				s.mu.Unlock()
				s.m.dropFull.Inc()
				s.refusedFull(limit)
				return ErrFull
			}
			if len(s.active) > 0 && !s.flushing {
				// Records enqueued and not yet written (this caller's
				// earlier ones, say) are written first: readers can then
				// deliver them and free the space waited for.
				s.flushLocked()
				continue
			}
			s.mu.Unlock()
			time.Sleep(blockPoll)
			s.mu.Lock()
			continue
		}
		if len(s.active)+need > cap(s.active) {
			s.flushOrWait()
			continue
		}
		break
	}
	if s.opts.GatherWindow > 0 {
		now := int64(time.Since(monoBase))
		s.gapAvg += (now - s.lastAppend - s.gapAvg) / 8
		s.lastAppend = now
	}
	if p.n == 0 {
		p.s, p.first, p.unixMS, p.from, p.bytes = s, s.gen, ms, len(s.active), 0
	}
	s.active = appendFrame(s.active, record, route, ms)
	s.activeRecords++
	s.pending += int64(need)
	p.last, p.to, p.bytes = s.gen, len(s.active), p.bytes+need
	p.n++
	s.mu.Unlock()
	if s.fullSince.Load() && limit <= s.fullLimit.Load() {
		s.tookAgain()
	}
	return nil
}

// refusedFull counts a record refused because the spool held limit bytes,
// and logs the first such refusal since records were last taken.
func (s *Spool) refusedFull(limit int64) {
	s.fullRefused.Add(1)
	if s.fullSince.CompareAndSwap(false, true) {
		s.fullLimit.Store(limit)
		s.opts.Logger.Warn("spool: full; refusing records until the destinations deliver and free space "+
			"(the gateway answers beacons and BLE posts 503, and pixels are lost)",
			"dir", s.dir, "limit_bytes", limit, "size_bytes", s.diskBytes.Load())
	}
}

// tookAgain logs that the spool takes records again after refusing some
// for being full, and how many it refused.
func (s *Spool) tookAgain() {
	if s.fullSince.CompareAndSwap(true, false) {
		s.opts.Logger.Info("spool: taking records again after being full", "dir", s.dir,
			"refused", s.fullRefused.Swap(0))
	}
}

// Withdraw takes p's records back out of the next group write, if no
// write has taken any of them yet and no other caller's record came
// between or after them, and empties p; it reports whether it did. A
// caller that cannot take all of a request's records (the spool filled up
// part-way) withdraws those it enqueued, so that its refusal stores none
// of them: a retry of the request then duplicates nothing, and no
// destination gets an event another was refused. When it reports false,
// p is unchanged: Wait for it as usual. The records withdrawn are counted
// as dropped because the spool was full.
func (s *Spool) Withdraw(p *Pending) bool {
	if p.n == 0 || p.s != s {
		return false
	}
	s.mu.Lock()
	ok := p.first == s.gen && p.last == s.gen && p.to == len(s.active) && p.to-p.from == p.bytes
	if ok {
		s.active = s.active[:p.from]
		s.activeRecords -= p.n
		s.pending -= int64(p.bytes)
	}
	s.mu.Unlock()
	if ok {
		s.m.dropFull.Add(float64(p.n))
		*p = Pending{}
	}
	return ok
}

// Wait returns once every record in p is as durable as Options.Durability
// says, and empties p. It returns nil, or the *DiskError of a failed write
// of a group p's records joined: then some of them may be lost, and all of
// p's records are counted as dropped (the caller refuses them all, and a
// retry sends them again, which at-least-once delivery allows). The
// reverse, nil for a lost record, cannot happen.
func (s *Spool) Wait(p *Pending) error {
	if p.n == 0 {
		return nil
	}
	if p.s != s {
		return errOtherSpool
	}
	first, last, n := p.first, p.last, p.n
	*p = Pending{}
	s.mu.Lock()
	for s.doneGen < last {
		s.flushOrWait()
	}
	err := s.failedIn(first, last)
	s.mu.Unlock()
	if err != nil {
		s.m.dropDisk.Add(float64(n))
	}
	return err
}

// failRing is how many failed group writes the spool remembers for Wait.
const failRing = 8

// failedIn returns the error of a failed group write in generations
// first..last, or nil. When failures older than the ring remembers may
// fall in the range, it returns the last failure's error: a failure is
// never missed, at worst one outside the range is reported. s.mu is held.
func (s *Spool) failedIn(first, last uint64) error {
	for i := range min(s.failCount, failRing) {
		if g := s.failGens[i]; g >= first && g <= last {
			return s.failErrs[i]
		}
	}
	// The forgotten failures are older than the oldest kept one, which
	// sits in the slot written next.
	if s.failCount > failRing && s.failGens[s.failCount%failRing] > first {
		return s.failErrs[(s.failCount-1)%failRing]
	}
	return nil
}

// flushOrWait makes the caller the group leader if no flush runs, or waits
// for the running one. s.mu is held.
func (s *Spool) flushOrWait() {
	if s.flushing {
		s.cond.Wait()
		return
	}
	s.flushLocked()
}

// flushLocked writes the active buffer as one group. s.mu is held on entry
// and on return, released while writing.
func (s *Spool) flushLocked() {
	s.flushing = true
	gather := !s.fsync && s.opts.GatherWindow > 0 && s.gapAvg < int64(s.opts.GatherWindow) &&
		s.lastGroup < gatherGroups
	s.mu.Unlock()
	if s.fsync && s.opts.FsyncMaxDelay > 0 {
		time.Sleep(s.opts.FsyncMaxDelay)
	} else if gather {
		// Appends have been coming less than a window apart: wait for
		// the next ones, so that the core takes them off the network and
		// they join this group (see Options.GatherWindow).
		s.m.gathers.Inc()
		time.Sleep(s.opts.GatherWindow)
	} else {
		// Let goroutines that are ready to run append first, so that they
		// join this group rather than each start a write of their own.
		// When nothing else is runnable this returns at once.
		runtime.Gosched()
	}
	s.mu.Lock()
	buf, records, g := s.active, s.activeRecords, s.gen
	s.lastGroup = records
	s.active, s.activeRecords, s.spare = s.spare[:0], 0, nil
	s.gen++
	s.mu.Unlock()

	err := s.writeGroup(buf)
	if err == nil {
		s.m.records.Add(float64(records))
		s.m.bytes.Add(float64(len(buf)))
	} else {
		s.opts.Logger.Error("spool: write failed; appends fail until a write succeeds",
			"err", err, "records", records)
	}
	// Counted whether or not the write failed (readers may read what a
	// failed group wrote): a count too high wakes a reader early, never
	// late. After writeGroup stored the end (see NotifyAfterRecords).
	recs := s.written.Add(uint64(records))
	end := s.durable.Load()
	for _, r := range s.readers {
		if end < r.wakeAt.Load() {
			if k := r.wakeRecs.Load(); k == 0 || recs < k {
				continue // the reader asked to sleep until more is written
			}
		}
		select {
		case r.notify <- struct{}{}:
		default:
		}
	}

	s.mu.Lock()
	s.spare = buf[:0]
	s.pending -= int64(len(buf))
	s.doneGen = g
	if err != nil {
		s.failGens[s.failCount%failRing], s.failErrs[s.failCount%failRing] = g, err
		s.failCount++
		s.diskFailed(err)
	} else {
		s.diskRecovered()
	}
	s.flushing = false
	s.cond.Broadcast()
}

// writeGroup writes whole frames from buf to the segments, starting new
// segments as they fill up, then fsyncs in fsync mode. Only the flush
// leader calls it.
func (s *Spool) writeGroup(buf []byte) error {
	if len(buf) == 0 {
		return nil
	}
	err := s.writeFrames(buf)
	if err == nil && s.reserveMissing() {
		// The disk was full when the reserve was due: retry while it
		// takes writes again, before it is needed.
		s.wake()
	}
	if err == nil && s.fsync {
		s.m.fsyncs.Inc()
		if err = diskError("fsync", s.cur.Sync()); err != nil {
			s.curBad = true // after a failed fsync, the page cache cannot be trusted
		}
	}
	// Readers may read whatever was written, even by a group that failed
	// later: a record delivered although its Append failed is harmless.
	s.durable.Store(s.curBase + uint64(s.curSize))
	return err
}

func (s *Spool) writeFrames(buf []byte) error {
	empty := int64(len(s.header))
	if s.curBad {
		// A write to this segment failed; a new file may work (and the
		// old one keeps its valid frames).
		if err := s.createSegment(false); err != nil {
			return err
		}
		s.curBad = false
		s.wake() // a delivered segment left behind by the failure can go
	}
	for len(buf) > 0 {
		// Take the whole frames that fit in the current segment (at least
		// one if the segment holds none, however long it is).
		n := 0
		for n < len(buf) {
			fl := frameHeaderLen + int(binary.LittleEndian.Uint32(buf[n:]))
			if (n > 0 || s.curSize > empty) && s.curSize+int64(n+fl) > s.opts.SegmentBytes {
				break
			}
			n += fl
		}
		if n == 0 {
			if s.fsync {
				s.m.fsyncs.Inc()
				if err := s.cur.Sync(); err != nil {
					return diskError("fsync", err)
				}
			}
			if err := s.createSegment(false); err != nil {
				return err
			}
			s.wake() // frees the previous segment if it was delivered
			continue
		}
		s.m.writes.Inc()
		err := s.checkWrite(n)
		if err == nil {
			_, err = s.cur.WriteAt(buf[:n], s.curSize)
		}
		if err != nil {
			// Best effort: drop a partial write so the segment ends on a
			// frame boundary. Readers and the next Open check anyway.
			if s.cur.Truncate(s.curSize) == nil {
				s.curFileSize = s.curSize
			}
			s.curBad = true
			return diskError("write", err)
		}
		s.tail.put(s.curBase+uint64(s.curSize), buf[:n])
		s.curSize += int64(n)
		s.curFileSize = max(s.curFileSize, s.curSize)
		s.diskBytes.Add(int64(n))
		s.segMu.Lock()
		s.segs[len(s.segs)-1].size = s.curSize
		s.segMu.Unlock()
		buf = buf[n:]
	}
	return nil
}

// trim deletes the segments that every reader has committed past. It is
// called by the background goroutine and by Reader.Commit (the shippers),
// never by an Append, and it deletes with no lock held: segMu only guards
// taking the segments off the list, so each is deleted by one caller.
func (s *Spool) trim() error {
	low := ^uint64(0)
	for _, r := range s.readers {
		low = min(low, r.committed.Load())
	}
	// On the stack unless more than a few segments go at once.
	var delBuf [4]segment
	var badBuf [4]bool
	del, bad := delBuf[:0], badBuf[:0]
	s.segMu.Lock()
	for len(s.segs) > 0 && (len(s.segs) > 1 || !s.hasActive) && s.segEnd(0) <= low {
		del = append(del, s.segs[0])
		bad = append(bad, s.damaged[s.segs[0].base])
		delete(s.damaged, s.segs[0].base)
		s.segs = s.segs[1:]
	}
	s.segMu.Unlock()
	if len(del) == 0 {
		return nil
	}
	var errs []error
	for i, g := range del {
		path := segmentPath(s.dir, g.base)
		var err error
		if bad[i] {
			if err = s.quarantine(segmentName(g.base), path); err == nil {
				s.opts.Logger.Warn("spool: damaged segment delivered as far as it could be; kept in quarantine",
					"segment", filepath.Join(s.dir, quarantineDir, segmentName(g.base)))
			}
		} else {
			if s.opts.slowOp != nil {
				s.opts.slowOp("retire")
			}
			var del string
			if del, err = retireSegment(path); err == nil {
				s.doomedMu.Lock()
				s.doomed = append(s.doomed, doomedFile{path: del, size: g.size})
				s.doomedMu.Unlock()
			}
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		s.diskBytes.Add(-g.size)
	}
	if s.fsync {
		if err := s.syncDir(); err != nil {
			errs = append(errs, err)
		}
	} else {
		// In process durability a deletion only has to be seen by this
		// process: the directory is synced at Close (see
		// syncDirIfDirty). A segment that a crash of the machine
		// brings back is deleted again by Open where the cursors on disk
		// are past it, and delivered again where they are not, as any
		// record is whose cursor had not reached the disk in this
		// durability.
		s.dirDirty.Store(true)
	}
	// The background goroutine frees the retired files in steps, pausing
	// for the requests between them; nobody waits for it.
	s.wake()
	if err := errors.Join(errs...); err != nil {
		return diskError("delete segment", err)
	}
	return nil
}

// segEnd returns where segment i's records end: its size, or the next
// segment's base if the file is longer. segMu is held.
func (s *Spool) segEnd(i int) uint64 {
	if i+1 < len(s.segs) {
		return min(s.segs[i].end(), s.segs[i+1].base)
	}
	return s.segs[i].end()
}

// CloseAppends stops accepting records (later Appends return ErrClosed) and
// waits until the records already accepted are written. Readers keep
// working until Close.
func (s *Spool) CloseAppends() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for s.flushing || len(s.active) > 0 {
		s.flushOrWait()
	}
	return s.diskErr
}

// Close calls CloseAppends, then closes every file, the Readers' too, and
// releases the directory. Readers must not be used after Close.
func (s *Spool) Close() error {
	s.closeOnce.Do(func() {
		err := s.CloseAppends()
		if e := s.closeFiles(); err == nil {
			err = e
		}
		s.m.unregister()
		s.closeErr = err
	})
	return s.closeErr
}

// closeStep is what Close calls between the steps of freeing a delivered
// segment: no requests are left to pause for; tests may hook it ("step").
func (s *Spool) closeStep() {
	if s.opts.slowOp != nil {
		s.opts.slowOp("step")
	}
}

func (s *Spool) closeFiles() error {
	var errs []error
	s.stopBackground()
	// What the background goroutine had not done yet: no requests are
	// left to pause for.
	s.freeDoomed(s.closeStep, false)
	s.syncDirIfDirty()
	if s.cur != nil {
		s.endSegment()
		if s.fsync {
			errs = append(errs, s.cur.Sync())
		}
		errs = append(errs, s.cur.Close())
		s.cur = nil
	}
	for _, r := range s.readers {
		errs = append(errs, r.close())
	}
	s.resMu.Lock()
	if s.reserveFile != nil {
		errs = append(errs, s.reserveFile.Close())
		s.reserveFile = nil
	}
	s.reserveReady.Store(false)
	s.resMu.Unlock()
	if s.dirFile != nil {
		errs = append(errs, s.dirFile.Close())
		s.dirFile = nil
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
		s.lock = nil
	}
	return errors.Join(errs...)
}

// Err returns the last disk error, or nil if the last write succeeded. For
// readiness checks: once Options.DiskRetryInterval has passed since the
// error, Err tries the disk again by itself (it starts a new segment and
// writes the reserve), so readiness returns when space does, without
// waiting for an Append.
func (s *Spool) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.diskErr == nil || s.closed || s.flushing || !s.diskRetryDue() {
		return s.diskErr
	}
	s.flushing = true // lead, so that cur is ours
	s.mu.Unlock()
	err := s.probe()
	s.mu.Lock()
	s.flushing = false
	if err == nil {
		s.diskRecovered()
	} else {
		s.diskFailed(err)
	}
	s.cond.Broadcast()
	return s.diskErr
}

// diskFailed records a disk error at the clock's time. s.mu is held (or
// Open runs alone).
func (s *Spool) diskFailed(err error) {
	now := s.opts.Clock.Now()
	if s.diskErr == nil {
		s.diskDownAt, s.diskDropped0 = now, counterValue(s.m.dropDisk)
	}
	s.diskErr, s.diskErrAt = err, now
	s.diskTrouble.Store(true)
}

// diskRecovered clears the disk error after a write that worked, and logs
// the all-clear when there was one: the failure was logged at ERROR
// ("appends fail until a write succeeds"), and without this line the log
// would never say that records are taken again. s.mu is held.
func (s *Spool) diskRecovered() {
	if s.diskErr != nil {
		s.opts.Logger.Info("spool: the disk takes writes again; taking records again", "dir", s.dir,
			"failed_for", s.opts.Clock.Now().Sub(s.diskDownAt).String(),
			"refused", uint64(counterValue(s.m.dropDisk)-s.diskDropped0))
	}
	s.diskErr = nil
	s.diskTrouble.Store(false)
}

// diskRetryDue reports whether Options.DiskRetryInterval has passed on the
// clock since the last disk error. s.mu is held.
func (s *Spool) diskRetryDue() bool {
	return s.opts.Clock.Now().Sub(s.diskErrAt) >= s.opts.DiskRetryInterval
}

// probe checks that the disk takes writes again: it starts the segment a
// failure left missing, and rewrites the reserve. Only the flush leader
// calls it.
func (s *Spool) probe() error {
	if s.curBad {
		if err := s.createSegment(true); err != nil {
			return err
		}
		s.curBad = false
		s.durable.Store(s.curBase + uint64(s.curSize))
		s.trim()
		s.resMu.Lock()
		defer s.resMu.Unlock()
		return s.reserveErr
	}
	s.resMu.Lock()
	defer s.resMu.Unlock()
	if _, err := os.Stat(s.reservePath); err == nil {
		return nil
	}
	s.setReserve(false, 0, nil)
	s.writeReserve()
	return s.reserveErr
}

// rollDelivered starts a new segment when every reader has committed past
// the end of the segment being written and the disk or the size cap is
// under pressure, so that trim can free that segment: otherwise a
// delivered segment would hold its space until it filled up, which on a
// full disk it never does.
func (s *Spool) rollDelivered() {
	low := ^uint64(0)
	for _, r := range s.readers {
		low = min(low, r.committed.Load())
	}
	s.mu.Lock()
	if s.flushing || s.closed || len(s.active) > 0 || s.cur == nil || s.curBad ||
		low < s.curBase+uint64(s.curSize) || s.curSize <= int64(len(s.header)) ||
		(s.diskErr == nil && s.diskBytes.Load()+int64(frameHeaderLen+s.opts.MaxRecordBytes) <= s.opts.MaxBytes-s.opts.Headroom) {
		s.mu.Unlock()
		return
	}
	s.flushing = true
	s.mu.Unlock()
	err := s.createSegment(false)
	if err == nil {
		s.durable.Store(s.curBase + uint64(s.curSize))
	}
	s.mu.Lock()
	s.flushing = false
	s.cond.Broadcast()
	s.mu.Unlock()
	if err != nil {
		s.opts.Logger.Warn("spool: cannot roll the delivered segment", "err", err)
		return
	}
	s.trim()
}

// Full reports whether the spool holds at least MaxBytes minus Headroom
// minus room for one largest record: Append may refuse the next record.
func (s *Spool) Full() bool {
	s.mu.Lock()
	p := s.pending
	s.mu.Unlock()
	return s.diskBytes.Load()+p+int64(frameHeaderLen+s.opts.MaxRecordBytes) > s.opts.MaxBytes-s.opts.Headroom
}

// RoomFor reports whether n records of recordBytes bytes in all (without
// their newlines) fit in the spool now, under MaxBytes less Headroom, with
// the headers of the segments they may start. A caller that has the spool
// to itself (deadletter replay) appends a group of records all or none.
func (s *Spool) RoomFor(n int, recordBytes int64) bool {
	need := recordBytes + int64(n)*frameHeaderLen
	need += (need/s.opts.SegmentBytes + 1) * int64(len(s.header))
	s.mu.Lock()
	p := s.pending
	s.mu.Unlock()
	return s.diskBytes.Load()+p+need <= s.opts.MaxBytes-s.opts.Headroom
}

// Size returns the bytes of the segments' frames and headers: what
// MaxBytes counts. In process durability the files can hold more: see
// Options.MaxBytes.
func (s *Spool) Size() int64 { return s.diskBytes.Load() }

// End returns the offset up to which records can be read.
func (s *Spool) End() uint64 { return s.durable.Load() }

// Reader returns the reader of the i-th destination.
func (s *Spool) Reader(i int) *Reader { return s.readers[i] }

// Options returns the options in effect, defaults applied.
func (s *Spool) Options() Options { return s.opts }

func (s *Spool) segmentCount() int {
	s.segMu.Lock()
	defer s.segMu.Unlock()
	return len(s.segs)
}

// syncDir fsyncs the spool directory through the descriptor held open.
func (s *Spool) syncDir() error {
	if s.opts.slowOp != nil {
		s.opts.slowOp("sync directory")
	}
	return s.dirFile.Sync()
}
