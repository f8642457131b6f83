package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Reader reads, in order, the records routed to one destination, from that
// destination's position. It is owned by one goroutine (the destination's
// shipper); only Committed and Pos-free methods of the Spool are shared.
type Reader struct {
	s       *Spool
	name    string
	index   int      // route bit in this run's segments
	cf      *os.File // cursor file
	cbuf    []byte
	notify  chan struct{}
	corrupt prometheus.Counter
	// corruptBytes counts the bytes of damaged frames skipped.
	corruptBytes prometheus.Counter

	committed atomic.Uint64
	wakeAt    atomic.Uint64 // notify once the durable end reaches this; 0: after every write
	wakeRecs  atomic.Uint64 // ... or once the spool's written records reach this; 0: no such bound

	pos       uint64 // next offset to read
	lastStart uint64 // start of the frame last returned, for Unread

	// The segment being read.
	f       *os.File
	haveSeg bool
	segBase uint64
	limit   uint64 // read up to here in this segment
	final   bool   // limit is the segment's end; otherwise the durable end
	bit     int    // route bit of this destination in this segment

	// Read window: buf[:bufN] holds the bytes at offsets [bufOff, bufOff+bufN).
	buf    []byte
	bufOff uint64
	bufN   int
	// bufMem is true when buf[:bufN] was copied from the spool's in-memory
	// tail, which keeps a copy of the newest bytes this process wrote (up
	// to Options.TailBytes), as it framed and checksummed them: they were
	// not read back from the disk, so Next does not compute their
	// checksums again. Bytes read from a segment file are always checked.
	bufMem bool
}

// tailCopy bounds one copy from the spool's in-memory tail: about 300
// typical records, some 10 µs of copying.
const tailCopy = 128 << 10

const (
	bitUnknown = -2 // header not read yet
	bitNone    = -1 // the segment has no records for this destination
)

var errShortRead = errors.New("spool: segment shorter than recorded")

func (s *Spool) openReader(i int, name string) (*Reader, error) {
	path := filepath.Join(s.dir, name+cursorSuffix)
	cf, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: cannot open cursor %q: %w", path, err)
	}
	r := &Reader{
		s:            s,
		name:         name,
		index:        i,
		cf:           cf,
		cbuf:         make([]byte, 0, cursorFileLen),
		notify:       make(chan struct{}, 1),
		corrupt:      s.m.corrupt.WithLabelValues(name),
		corruptBytes: s.m.corruptBytes.WithLabelValues(name),
		bit:          bitUnknown,
		// Big enough for a few hundred typical records per read call;
		// grows on demand for a frame longer than that.
		buf: make([]byte, min(1<<20, max(64<<10, 2*(frameHeaderLen+s.opts.MaxRecordBytes)))),
	}
	var b [cursorFileLen + 1]byte
	n, err := cf.ReadAt(b[:], 0)
	if err != nil && err != io.EOF {
		cf.Close()
		return nil, fmt.Errorf("spool: cannot read cursor %q: %w", path, err)
	}
	if n > 0 {
		off, ok := parseCursor(b[:n])
		if ok {
			r.committed.Store(off)
		} else {
			// Start from the oldest segment: records are sent again
			// rather than skipped.
			s.opts.Logger.Warn("spool: damaged cursor, reading from the oldest record", "cursor", path)
		}
	}
	return r, nil
}

// Name returns the destination's name.
func (r *Reader) Name() string { return r.name }

// Notify returns a channel that receives a value after new records were
// written (see NotifyAfter and NotifyAfterRecords). Spurious wake-ups
// happen; call Next to find out.
func (r *Reader) Notify() <-chan struct{} { return r.notify }

// NotifyAfter says when Notify's channel gets a value: after a write that
// takes the stream at least n bytes past the reader's position, or after
// every write for n = 0 (the default); it drops a bound on records that
// NotifyAfterRecords set. A reader that would rather not be woken for
// every small write sets n > 0, and 0 again before it waits for the next
// record whatever its size. It reports whether that much is written
// already (or a segment header the reader has not passed yet): the caller
// then reads instead of waiting, as no notification may come.
func (r *Reader) NotifyAfter(n uint64) (ready bool) {
	r.wakeRecs.Store(0)
	at := r.pos + max(n, 1)
	if n == 0 {
		r.wakeAt.Store(0)
	} else {
		r.wakeAt.Store(at)
	}
	// After the store: a write either sees the new wakeAt, or its end is
	// seen here.
	return r.s.durable.Load() >= at
}

// NotifyAfterRecords is NotifyAfter(max(n, 1)), and Notify's channel also
// gets a value after a write that brings the records of the group writes
// that add to the spool's count after this call to k (records for every
// destination count, so this wakes early rather than late). It reports
// ready when n bytes are written past the reader's position, and also when
// anything is: records written before the call are not in the count, so
// the caller reads them first. A shipper holding part of a batch sets k to
// the records the batch lacks, which its bytes cannot bound when records
// differ in size.
func (r *Reader) NotifyAfterRecords(n, k uint64) (ready bool) {
	if k == 0 {
		return r.NotifyAfter(n)
	}
	// The count before the end: a group that adds to the count after
	// this load counts toward k; one that added before it has moved the
	// end already (the writer stores the end first), which ready reports.
	r.wakeRecs.Store(r.s.written.Load() + k)
	at := r.pos + max(n, 1)
	r.wakeAt.Store(at)
	end := r.s.durable.Load()
	return end >= at || end > r.pos
}

// Pos returns the offset after the last record returned or skipped.
func (r *Reader) Pos() uint64 { return r.pos }

// Committed returns the last committed offset.
func (r *Reader) Committed() uint64 { return r.committed.Load() }

// Lag returns the bytes written after the reader's position.
func (r *Reader) Lag() uint64 {
	end := r.s.durable.Load()
	if p := r.committed.Load(); p < end {
		return end - p
	}
	return 0
}

// Unread steps back before the record the last Next returned, so the next
// call returns it again. Call it at most once after a Next that returned ok.
func (r *Reader) Unread() { r.pos = r.lastStart }

// Commit records that the destination acknowledged every record before off
// (a value from Pos), persists it, and deletes the segments every
// destination has passed. Commits that do not move forward are no-ops.
func (r *Reader) Commit(off uint64) error {
	if off <= r.committed.Load() {
		return nil
	}
	r.cbuf = appendCursor(r.cbuf[:0], off)
	if _, err := r.cf.WriteAt(r.cbuf, 0); err != nil {
		return diskError("write cursor", err)
	}
	r.committed.Store(off)
	err := r.s.trim()
	r.s.rollDelivered()
	return err
}

// Next returns the next record routed to this destination, with the time it
// was appended (Unix milliseconds). ok is false when no record is available
// yet. rec points into the Reader's buffer and is valid until the next call.
// Damaged frames are counted and skipped. err is an I/O error: retry later.
func (r *Reader) Next() (rec []byte, unixMS int64, ok bool, err error) {
	for {
		if r.pos >= r.limit {
			if err := r.advance(); err != nil {
				return nil, 0, false, err
			}
			if r.pos >= r.limit {
				return nil, 0, false, nil
			}
		}
		switch r.bit {
		case bitUnknown:
			if err := r.readHeader(); err != nil {
				return nil, 0, false, err
			}
			continue
		case bitNone:
			r.pos = r.limit
			continue
		}
		b, err := r.view(r.pos, frameHeaderLen)
		if err != nil {
			if r.damaged(err) {
				continue
			}
			return nil, 0, false, err
		}
		f, st := decodeFrame(b, !r.bufMem)
		if st == frameShort && len(b) >= frameHeaderLen {
			if need := frameHeaderLen + uint64(binary.LittleEndian.Uint32(b)); need <= r.limit-r.pos {
				if b, err = r.view(r.pos, int(need)); err != nil {
					if r.damaged(err) {
						continue
					}
					return nil, 0, false, err
				}
				f, st = decodeFrame(b, !r.bufMem)
			}
		}
		switch st {
		case frameOK:
			start := r.pos
			r.pos += uint64(f.size)
			if f.route.Has(r.bit) {
				r.lastStart = start
				return f.rec, f.unixMS, true, nil
			}
			continue
		case frameShort:
			// The durable end is always a frame boundary, so a frame
			// that runs past it is damage (a damaged length), or in a
			// finished segment a torn tail. An incomplete header in
			// the live segment waits for the next write: the limit is
			// read again on the next call (without that, a reader led
			// there by damage would wait on a limit it never renews),
			// and then the whole header is decoded, or skipped as
			// damage.
			if !r.final && len(b) < frameHeaderLen {
				r.limit = r.pos
				return nil, 0, false, nil
			}
		}
		if err := r.skipDamaged(); err != nil {
			return nil, 0, false, err
		}
	}
}

// skipDamaged moves from the damaged frame at pos to the next valid frame
// (a frame start whose length is in bounds and whose checksum verifies), or
// to the limit, and counts what it skipped.
func (r *Reader) skipDamaged() error {
	from := r.pos
	next, err := r.resync(from + 1)
	if err != nil {
		if r.damaged(err) {
			return nil
		}
		return err
	}
	recs := r.countDamaged(from, next)
	r.corrupt.Add(float64(recs))
	r.corruptBytes.Add(float64(next - from))
	r.s.markDamaged(r.segBase)
	r.s.opts.Logger.Warn("spool: damaged frames skipped", "destination", r.name,
		"segment", segmentName(r.segBase), "offset", from-r.segBase, "bytes", next-from, "records", recs)
	r.pos = next
	return nil
}

// countDamaged counts the frames in the damaged region [from, to): when
// the length fields in it still chain from one frame to the next and end
// exactly at to (damaged payloads or checksums), each frame counts;
// otherwise (a damaged length, a zeroed range) the extent of the frames is
// unknown and the region counts as one.
func (r *Reader) countDamaged(from, to uint64) int {
	n := 0
	for p := from; p < to; n++ {
		b, err := r.view(p, frameHeaderLen)
		if err != nil || len(b) < frameHeaderLen {
			return 1
		}
		l := uint64(binary.LittleEndian.Uint32(b))
		if l == 0 || l > hardMaxRecord || p+frameHeaderLen+l > to {
			return 1
		}
		p += frameHeaderLen + l
	}
	return max(n, 1)
}

// damaged handles a segment file shorter than its recorded size: the rest
// of the segment is skipped and counted; and a segment file removed by
// someone else, skipped and counted once. It reports whether err was one
// of those.
func (r *Reader) damaged(err error) bool {
	if errors.Is(err, errSegmentGone) {
		r.corrupt.Inc()
		r.bit = bitNone
		r.pos = r.limit
		return true
	}
	if !errors.Is(err, errShortRead) {
		return false
	}
	r.corrupt.Inc()
	if r.pos < r.limit {
		r.corruptBytes.Add(float64(r.limit - r.pos))
	}
	r.s.markDamaged(r.segBase)
	r.bit = bitNone
	r.pos = r.limit
	return true
}

// readHeader reads the current segment's header and finds this
// destination's bit in it.
func (r *Reader) readHeader() error {
	b, err := r.view(r.segBase, segHeaderFixed+maxSegNamesLen)
	if err != nil {
		if r.damaged(err) {
			return nil
		}
		return err
	}
	names, size, st := parseSegmentHeader(b)
	if st == frameOK {
		r.bit = nameIndex(names, r.name)
		r.pos = max(r.pos, r.segBase+uint64(size))
		return nil
	}
	// A damaged header. Its frames carry their own checksums: read them
	// with the names the header still shows, or else this run's names
	// (the same unless the destinations changed since the segment was
	// written). The segment goes to quarantine once passed.
	r.s.markDamaged(r.segBase)
	names, size, _, ok := salvageSegmentHeader(b)
	if ok {
		r.bit = nameIndex(names, r.name)
	} else {
		r.bit = r.index
	}
	r.s.opts.Logger.Warn("spool: damaged segment header; reading its frames anyway", "destination", r.name,
		"segment", segmentName(r.segBase), "names_intact", ok)
	if r.pos > r.segBase {
		return nil // a cursor inside the segment: a frame boundary
	}
	if ok {
		r.pos = r.segBase + uint64(size)
		return nil
	}
	p, err := r.resync(r.segBase)
	if err != nil {
		if r.damaged(err) {
			return nil
		}
		return err
	}
	r.pos = p
	return nil
}

// resync returns the offset of the first valid frame at or after from, or
// the limit.
func (r *Reader) resync(from uint64) (uint64, error) {
	for p := from; p+frameHeaderLen <= r.limit; p++ {
		b, err := r.view(p, frameHeaderLen)
		if err != nil {
			return r.limit, err
		}
		n := uint64(binary.LittleEndian.Uint32(b))
		if n == 0 || n > hardMaxRecord || p+frameHeaderLen+n > r.limit {
			continue
		}
		if b, err = r.view(p, frameHeaderLen+int(n)); err != nil {
			return r.limit, err
		}
		if _, st := parseFrame(b); st == frameOK {
			return p, nil
		}
	}
	return r.limit, nil
}

// view returns the buffered bytes from off on, at least min(n, limit-off)
// of them, copied from the spool's in-memory tail when it still holds them
// (a reader that keeps up), else read from the segment file. off < limit.
func (r *Reader) view(off uint64, n int) ([]byte, error) {
	want := int(min(uint64(n), r.limit-off))
	if off >= r.bufOff && off+uint64(want) <= r.bufOff+uint64(r.bufN) {
		return r.buf[off-r.bufOff : r.bufN], nil
	}
	if want > len(r.buf) {
		r.buf = make([]byte, want)
	}
	m := int(min(uint64(len(r.buf)), r.limit-off))
	var err error
	// From memory, at most tailCopy bytes (or the frame asked for) at a
	// time: the flush leader, which holds up appends, may be waiting for
	// the ring's lock to add the next group.
	k := r.s.tail.read(off, r.buf[:min(m, max(want, tailCopy))])
	r.bufMem = k >= want
	if r.bufMem {
		r.s.m.readsMemory.Inc()
	} else {
		if r.f == nil {
			if err := r.openSegment(); err != nil {
				r.bufN = 0
				return nil, err
			}
		}
		r.s.m.readsDisk.Inc()
		k, err = r.f.ReadAt(r.buf[:m], int64(off-r.segBase))
	}
	r.bufOff, r.bufN = off, k
	if k < want {
		r.bufN = 0
		if err == nil || err == io.EOF {
			return nil, errShortRead
		}
		return nil, fmt.Errorf("spool: cannot read segment: %w", err)
	}
	return r.buf[:k], nil
}

// advance finds the segment holding pos (moving to the next segment when
// the current one is done) and how far it may be read.
func (r *Reader) advance() error {
	s := r.s
	durable := s.durable.Load() // before segMu: see writeGroup
	s.segMu.Lock()
	segs := s.segs
	if len(segs) == 0 {
		// Draining on a full disk, and everything was delivered.
		s.segMu.Unlock()
		r.limit, r.final = r.pos, false
		return nil
	}
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base > r.pos }) - 1
	if i < 0 {
		i = 0
		r.pos = segs[0].base
	}
	var limit, gap uint64
	var final bool
	for {
		end := segs[i].end()
		if i+1 < len(segs) {
			end = min(end, segs[i+1].base)
		}
		limit = min(end, durable)
		final = i+1 < len(segs) && end <= durable
		if r.pos < limit || !final {
			break
		}
		i++
		if r.pos < segs[i].base {
			// A segment file shorter than the stream says (cut by
			// damage): the missing bytes are lost.
			gap += segs[i].base - r.pos
			r.pos = segs[i].base
		}
	}
	base := segs[i].base
	s.segMu.Unlock()
	if gap > 0 {
		r.corrupt.Inc()
		r.corruptBytes.Add(float64(gap))
		s.opts.Logger.Warn("spool: segment shorter than the stream; its missing end is lost", "destination", r.name,
			"next_segment", segmentName(base), "bytes", gap)
	}

	if !r.haveSeg || base != r.segBase {
		if r.f != nil {
			r.f.Close()
			r.f = nil
		}
		// The file is opened by the first read from disk (view): a
		// reader that keeps up reads the segment from memory and never
		// opens it (an open allocates, once per segment and reader).
		r.haveSeg, r.segBase, r.bit, r.bufN = true, base, bitUnknown, 0
	}
	r.limit, r.final = limit, final
	return nil
}

// errSegmentGone is view's error when the segment's file does not exist
// (removed by someone else): the segment is skipped (see damaged).
var errSegmentGone = errors.New("spool: segment file missing")

// openSegment opens the current segment's file for reading.
func (r *Reader) openSegment() error {
	f, err := os.Open(segmentPath(r.s.dir, r.segBase))
	switch {
	case err == nil:
		r.f = f
		return nil
	case errors.Is(err, os.ErrNotExist):
		return errSegmentGone
	default:
		return fmt.Errorf("spool: cannot open segment: %w", err)
	}
}

func (r *Reader) close() error {
	var err error
	if r.f != nil {
		err = r.f.Close()
		r.f = nil
	}
	return errors.Join(err, r.cf.Close())
}
