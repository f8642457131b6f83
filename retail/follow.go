package retail

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/valyala/fastjson"
)

// Source is the durable stream a Follower reads: the spool reader of the
// aggregation (package upstream/spool's *Reader satisfies it). Every record
// in it was acknowledged before it was appended.
type Source interface {
	Next() (rec []byte, unixMS int64, ok bool, err error)
	Pos() uint64
	Commit(off uint64) error
}

// Follower aggregates the BLE sighting records of a durable stream and
// writes the aggregates back to it, so that a restart after a kill counts
// every acknowledged sighting once and sends every aggregate id with one
// content only:
//
//   - Memory is only a cache of the stream. The stream's cursor is
//     committed only up to the first record of the current period (day),
//     so after a restart the whole period is read again and every device's
//     visits, new-vs-returning and open intervals are rebuilt exactly;
//     once every interval read is closed, past everything read (commit).
//   - A closed interval's aggregates are written to the stream before any
//     of them is sent, in the interval's marker record (KindIntervalClosed
//     with an "aggregates" array; see Aggregates), one record, so one
//     write: a kill leaves the interval either closed with all its cells
//     or not closed at all. What goes to the destinations is read back
//     from those stored bytes by a second reader of the stream (Forward),
//     so a cell sent again after a kill is sent byte for byte as before.
//     Read back after a restart, the marker closes its interval at the
//     same place in the stream as before the kill, and its aggregates are
//     the interval's cells: none of them is computed again (nor any other
//     cell of the interval, should the restart count otherwise).
//   - The marker holds, in "read", the stream offset the Follower had read
//     to when it closed the interval. A sighting of the interval spooled
//     after that read but before the marker was late for the Follower; a
//     restart, reading it before the marker, holds it back (see
//     holdSighting) and counts it as late once the marker says so.
//   - An interval whose record would exceed Options.MaxRecordBytes is
//     written in several: KindAggregates records of whole stores while
//     they fit, then the marker with the rest. A kill between them leaves
//     the cells not written to be computed after the restart, once,
//     further on in the stream (sightings spooled meanwhile count in
//     them); none of them was sent, and a store's "*" cell, its last, is
//     written with or after its own zones' cells, so no zone is sent both
//     in "*" and on its own: once a store's "*" was written, the restart
//     computes none of its zones again (see Aggregator.emitInterval).
//   - Until the Follower has caught up with the stream's end it does not
//     close intervals by the clock, so no interval is closed half-read.
//
// Records are written with append, which must not return before the
// record is durable (the spool's Append); it must not send them.
type Follower struct {
	a      *Aggregator
	src    Source
	append func(rec []byte) error
	p      fastjson.Parser
	s      Sighting

	// The cells read back from the stream, with their intervals: those of
	// closed intervals are forgotten when a period begins (prune).
	emitted   map[string]int64
	caughtUp  bool
	replaying bool   // closing an interval for a marker read back
	readTo    uint64 // stream offset read to when intervals are closed
	// Sightings read before the first catch-up that may lie between an
	// earlier run's last read and its marker (see holdSighting).
	held        []heldSighting
	hp          fastjson.Parser // parses held sightings
	err         error
	period      int64  // latest period seen in the stream
	periodStart uint64 // stream offset of its first record
	haveStart   bool
	// The last interval marker read back: its stream offset and interval;
	// and the last interval closed. A cursor past a closed day stops at
	// the marker, so a restart knows which intervals are closed.
	markerPos  uint64
	markerIv   int64
	haveMarker bool
	lastClosed int64
	unwritten  bool // a marker was not written back, even bare (ErrNotWritten)

	// maxMS is the latest time of a sighting read (haveMax: one was);
	// withheld are the intervals (from, to,
	// inclusive) that send no cell: those that may count one device under
	// two keys (KindKeysChanged).
	maxMS    int64
	haveMax  bool
	withheld [][2]int64

	// The aggregates of the interval being closed, comma-separated, not
	// written yet; and the site and store of the last one.
	pending    []byte
	lastSite   []byte
	lastStore  []byte
	storeStart int // offset in pending of the last store's first aggregate
	ep         fastjson.Parser
}

// ErrNotWritten is what the Follower's append returns when it could not
// write a record back for want of room and went on without it (its
// aggregates were then sent without being stored). The Follower goes on.
// A marker not written is written again without its aggregates (with
// "unwritten": true), which the append must keep room for (the
// gateway keeps a reserve at the end of the spool's headroom for records
// without aggregates): a restart then still knows the interval closed and
// computes none of its cells again. Only if that too is not written may a
// restart not know the interval closed (see Follower.commit).
var ErrNotWritten = errors.New("retail: record not written back")

// Kinds of the records a Follower writes, and of an aggregate.
// KindIntervalClosed marks an interval closed and holds, in "aggregates",
// its aggregates (or the last of them), and in "read" the stream offset
// the Follower had read to when it closed it; KindAggregates holds, in
// "aggregates", some of an interval's aggregates written before its
// marker. A Follower also reads KindAggregate records (one aggregate each),
// which earlier versions wrote.
//
// KindKeysChanged is written by the gateway (not the Follower) when it
// starts with visitor hashes that do not join up with those of the
// sightings before it in the stream (pseudonym.mode: ephemeral draws a new
// key at every start; a start with another secret or mode than the day's
// sightings so far were hashed with): a shopper sighted on both sides of it would be two
// visitors of one interval, and a zone of fewer than k people could reach
// k. The intervals that may hold sightings of both sides (those open when
// it is read, up to the latest interval of a sighting before it) send no
// cell (see withheld).
const (
	KindAggregate      = "ble_aggregate"
	KindAggregates     = "ble_aggregates"
	KindIntervalClosed = "ble_interval_closed"
	KindKeysChanged    = "ble_keys_changed"
)

// NewFollower returns a Follower of src with options o (see Options; the
// Clock closes intervals).
func NewFollower(o Options, src Source, append func(rec []byte) error) (*Follower, error) {
	f := &Follower{src: src, append: append, emitted: map[string]int64{}}
	a, err := New(o, f.emit)
	if err != nil {
		return nil, err
	}
	a.skip = func(site, store, zone, start string) bool {
		_, ok := f.emitted[cellID(site, store, zone, start)]
		return ok || f.replaying // a marker read back holds its interval's cells
	}
	a.closed = f.closedInterval
	a.withhold = f.withholds
	f.a = a
	return f, nil
}

// withholds tells whether interval iv sends no cell (see KindKeysChanged).
func (f *Follower) withholds(iv int64) bool {
	for _, w := range f.withheld {
		if iv >= w[0] && iv <= w[1] {
			return true
		}
	}
	return false
}

// Aggregator returns the Follower's aggregator (for its Stats).
func (f *Follower) Aggregator() *Aggregator { return f.a }

func cellID(site, store, zone, start string) string {
	return fmt.Sprintf("%d:%s%d:%s%d:%s%s", len(site), site, len(store), store, len(zone), zone, start)
}

// emit takes one aggregate of the interval being closed: it is kept until
// the interval's marker is written (closedInterval), and a store's
// aggregates are written together in one record when they fit (see
// Follower).
func (f *Follower) emit(rec []byte) {
	if f.err != nil || f.replaying {
		return // replaying: the marker read back holds the interval's cells
	}
	v, err := f.ep.ParseBytes(rec)
	if err != nil {
		return // cannot happen: emitCell marshals it
	}
	site, store := v.GetStringBytes("site"), v.GetStringBytes("store")
	if len(f.pending) == 0 || string(site) != string(f.lastSite) || string(store) != string(f.lastStore) {
		f.storeStart = len(f.pending)
		f.lastSite, f.lastStore = append(f.lastSite[:0], site...), append(f.lastStore[:0], store...)
	}
	// The marker's own bytes at most (the longest start time, its
	// fields), besides the aggregates.
	const overhead = 128
	if len(f.pending) > 0 && len(f.pending)+1+len(rec)+overhead > f.a.o.MaxRecordBytes {
		// Write the whole stores kept so far; a store too large for one
		// record on its own is written in several.
		cut := f.storeStart
		if cut == 0 {
			cut = len(f.pending)
		}
		f.writeAggregates(f.pending[:cut])
		rest := f.pending[cut:]
		if len(rest) > 0 && rest[0] == ',' {
			rest = rest[1:]
		}
		f.pending = append(f.pending[:0], rest...)
		f.storeStart = 0
		if f.err != nil {
			return
		}
	}
	if len(f.pending) > 0 {
		f.pending = append(f.pending, ',')
	}
	f.pending = append(f.pending, rec...)
}

// writeAggregates writes aggs (aggregates, comma-separated) in a
// KindAggregates record.
func (f *Follower) writeAggregates(aggs []byte) {
	if len(aggs) == 0 {
		return
	}
	rec := make([]byte, 0, len(aggs)+64)
	rec = append(rec, `{"v":1,"kind":"`+KindAggregates+`","aggregates":[`...)
	rec = append(rec, aggs...)
	rec = append(rec, "]}"...)
	f.write(rec)
}

// write appends rec and tells whether it was written: on ErrNotWritten (no
// room: its aggregates were sent without it) the Follower goes on.
func (f *Follower) write(rec []byte) bool {
	if f.err = f.append(rec); errors.Is(f.err, ErrNotWritten) {
		f.err = nil
		return false
	}
	return true
}

func (f *Follower) closedInterval(iv int64) {
	f.lastClosed = iv
	aggs := f.pending
	f.pending, f.storeStart = f.pending[:0], 0
	if f.err != nil {
		return
	}
	if f.replaying {
		// The marker is in the stream already, and its interval's cells
		// were all written (or sent) before or with it: they are the
		// truth. None is computed again, so a zone merged into "*" is
		// never sent on its own after a restart that counts otherwise.
		return
	}
	start := time.UnixMilli(iv * f.a.ivMS).UTC()
	rec := make([]byte, 0, len(aggs)+160)
	rec = append(rec, `{"v":1,"kind":"`+KindIntervalClosed+`","start":"`...)
	rec = start.AppendFormat(rec, cellTime)
	rec = append(rec, `","end":"`...)
	rec = start.Add(f.a.o.Interval).AppendFormat(rec, cellTime)
	rec = append(rec, `","read":`...)
	rec = strconv.AppendUint(rec, f.readTo, 10)
	bare := len(rec)
	if len(aggs) > 0 {
		rec = append(rec, `,"aggregates":[`...)
		rec = append(rec, aggs...)
		rec = append(rec, ']')
	}
	rec = append(rec, '}')
	if f.write(rec) || f.err != nil {
		return
	}
	// Its aggregates were sent without being written: the marker is
	// written without them (the append keeps room for such small
	// records), so that a restart still knows the interval closed, and
	// with which cells (those sent: it computes none again).
	if len(aggs) == 0 || !f.write(append(rec[:bare], `,"unwritten":true}`...)) {
		f.unwritten = true
	}
}

// Poll reads what the stream holds, then, once caught up, closes the
// intervals the clock says are over and commits what no longer needs
// reading again. It returns the first error of the stream or of append;
// the Follower must then be dropped and a new one started on the stream
// (it rebuilds its state from it).
func (f *Follower) Poll() error {
	if f.err != nil {
		return f.err
	}
	for {
		start := f.src.Pos()
		rec, unixMS, ok, err := f.src.Next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := f.record(rec, start, unixMS); err != nil {
			return err
		}
	}
	f.releaseHeld(func(heldSighting) bool { return true })
	f.caughtUp = true
	f.readTo = f.src.Pos()
	f.a.Tick()
	if f.err != nil {
		return f.err
	}
	return f.commit()
}

// Flush closes every open interval (at shutdown after the stream is
// drained).
func (f *Follower) Flush() error {
	if err := f.Poll(); err != nil {
		return err
	}
	f.a.Flush()
	if f.err != nil {
		return f.err
	}
	return f.commit()
}

// commit moves the cursor to the first record of the latest period once
// every interval before that period is closed; and to the marker of the
// last interval closed once every interval of that period is closed too
// and none is open (a later period began by the clock and no sighting of
// it was read): nothing before it is needed again then, as at the start
// of a period. Without the latter a stream that holds no sighting of the
// new period (its spool full of the last one's, which refuses new ones)
// would never be freed. The cursor stops at that marker, not past it: a
// restart reads it first and so knows its interval and every earlier one
// closed, and a sighting of one of them spooled later (a sensor's late
// batch) stays late, as it was for the Follower before the restart,
// rather than opening the interval again and sending its cells again
// under the same ids with other counts. Until the marker is read back the
// cursor waits; only when a marker could not be written back even
// without its aggregates (ErrNotWritten twice: the spool is full, and
// nothing but this commit frees it; the append's reserve should prevent
// it) does it move past everything read.
func (f *Follower) commit() error {
	if !f.haveStart {
		return nil
	}
	ivs := int64(f.a.o.Period / f.a.o.Interval) // intervals per period
	f.a.mu.Lock()
	closedTo := f.a.closedTo
	open := false
	for _, iv := range f.a.slotIv {
		open = open || iv >= 0
	}
	f.a.mu.Unlock()
	switch {
	case closedTo < f.period*ivs:
		return nil
	case closedTo >= (f.period+1)*ivs && !open:
		switch {
		case f.haveMarker && f.markerIv >= f.lastClosed:
			// A marker closes every interval before it: one written
			// after a refused one makes the refusal moot (the flag may
			// be of the day before, set after midnight).
			f.unwritten = false
			return f.src.Commit(f.markerPos)
		case f.unwritten:
			f.unwritten, f.haveMarker = false, false // the cursor never goes back
			return f.src.Commit(f.src.Pos())
		}
		return nil // the last marker is not read back yet
	}
	return f.src.Commit(f.periodStart)
}

var errNotBLE = errors.New("retail: record is no BLE sighting")

// heldSighting is a sighting record held back (see holdSighting): its
// stream offset, interval, spool time and bytes.
type heldSighting struct {
	pos    uint64
	iv     int64
	unixMS int64
	rec    []byte
}

// maxHeld bounds the sightings held back at once; beyond it the oldest
// are counted (as they were before markers carried "read").
const maxHeld = 1 << 16

// holdSighting tells whether a sighting of interval iv spooled at unixMS
// (the spool's time), read before the Follower first caught up with the
// stream, is held back until a marker shows whether it was late: a run
// before the restart closed an interval once it had read the stream's end
// (the marker's "read" offset) and then appended the marker, so a
// sighting spooled in between lies before the marker although that run
// did not count it (it was late). Only a sighting spooled after its
// interval's end can be one: an interval closes Lateness after its end,
// and a sighting's spool time is taken just before it is appended. Every
// sighting read after a held one is held too, so that they are counted in
// the stream's order, as the run before the restart counted them (a
// device's visits depend on the order of its sightings).
func (f *Follower) holdSighting(iv, unixMS int64) bool {
	if f.caughtUp || unixMS < (iv+1)*f.a.ivMS {
		return false
	}
	f.a.mu.Lock()
	open := iv >= f.a.closedTo
	f.a.mu.Unlock()
	return open
}

// releaseHeld counts the held sightings from the first while take is true
// for them, in stream order, and keeps the rest.
func (f *Follower) releaseHeld(take func(heldSighting) bool) {
	n := 0
	for ; n < len(f.held) && take(f.held[n]); n++ {
		v, err := f.hp.ParseBytes(f.held[n].rec)
		if err == nil && f.sighting(v) == nil {
			f.a.Add(&f.s)
		}
	}
	rest := copy(f.held, f.held[n:])
	clear(f.held[rest:])
	f.held = f.held[:rest]
}

// record handles one record read at stream offset pos, spooled at unixMS.
func (f *Follower) record(rec []byte, pos uint64, unixMS int64) error {
	v, err := f.p.ParseBytes(rec)
	if err != nil {
		return nil // not ours to judge: the shippers count damaged records
	}
	switch string(v.GetStringBytes("kind")) {
	case "ble":
		if err := f.sighting(v); err != nil {
			return nil // a record of an older format: skipped, never fatal
		}
		p := floorDiv(f.s.AtMS, f.a.o.Period.Milliseconds())
		if !f.haveStart {
			// The first sighting this Follower reads. A cursor at a
			// period's first sighting was committed there only once every
			// interval before that period was closed (see commit), and
			// their markers lie before it: sightings of those intervals
			// spooled after it were late, and stay late. (Elsewhere, the
			// stream's start or past a closed day, nothing is open before
			// the first sighting's period either.)
			f.a.mu.Lock()
			f.a.closedTo = max(f.a.closedTo, p*int64(f.a.o.Period/f.a.o.Interval))
			f.a.mu.Unlock()
		}
		if !f.haveStart || p > f.period {
			if f.haveStart {
				f.prune()
			}
			f.period, f.periodStart, f.haveStart = p, pos, true
		}
		iv := floorDiv(f.s.AtMS, f.a.ivMS)
		if !f.haveMax || f.s.AtMS > f.maxMS {
			f.maxMS, f.haveMax = f.s.AtMS, true
		}
		if len(f.held) > 0 || f.holdSighting(iv, unixMS) {
			if len(f.held) >= maxHeld {
				n := 0
				f.releaseHeld(func(heldSighting) bool { n++; return n <= maxHeld/2 })
			}
			f.held = append(f.held, heldSighting{pos: pos, iv: iv, unixMS: unixMS, rec: append([]byte(nil), rec...)})
			return nil
		}
		f.a.Add(&f.s)
	case KindKeysChanged:
		// The sightings read so far name their devices under other keys
		// than those after: an interval still open may count a device
		// under both, as two visitors (held sightings are of intervals
		// still open, and read before: maxMS covers them). The visits of
		// the old keys may end later, past them (see countDwell).
		f.a.mu.Lock()
		from := f.a.closedTo
		if f.haveMax {
			f.a.oldKeysToMS = max(f.a.oldKeysToMS, f.maxMS)
		}
		f.a.mu.Unlock()
		if maxIv := floorDiv(f.maxMS, f.a.ivMS); f.haveMax && maxIv >= from {
			f.withheld = append(f.withheld, [2]int64{from, maxIv})
		}
	case KindAggregate:
		f.noteEmitted(v)
	case KindAggregates:
		for _, a := range v.GetArray("aggregates") {
			f.noteEmitted(a)
		}
	case KindIntervalClosed:
		for _, a := range v.GetArray("aggregates") {
			f.noteEmitted(a)
		}
		t, err := time.Parse(time.RFC3339, string(v.GetStringBytes("start")))
		if err != nil {
			return nil
		}
		// The marker closes every interval that begins before its end:
		// written under another ble.interval (changed with a restart),
		// its interval is not one of ours, and an interval of ours that
		// overlaps it, computed again, would be a window in part sent
		// already, the difference of the two the counts of the part
		// (a single shopper's visit, with k). Markers of earlier
		// versions have no end: their interval was ours. (An interval
		// is at most a day: an end further on is not one.)
		endMS := t.UnixMilli() + f.a.ivMS
		if e, err := time.Parse(time.RFC3339, string(v.GetStringBytes("end"))); err == nil && e.After(t) && e.Sub(t) <= 24*time.Hour {
			endMS = e.UnixMilli()
		}
		iv := floorDiv(endMS-1, f.a.ivMS)
		// The run that wrote the marker had read the stream up to "read"
		// when it closed iv (markers of earlier versions: up to the
		// marker): held sightings spooled before that were counted before
		// iv closed, the others after (those of iv and before as late).
		read := pos
		if r := v.Get("read"); r != nil {
			if n, err := r.Uint64(); err == nil && n < pos {
				read = n
			}
		}
		f.releaseHeld(func(h heldSighting) bool { return h.pos < read })
		f.replaying = true
		f.a.mu.Lock()
		// Before the kill, the tick that closed iv had ended every visit
		// absent by iv's end, each before its interval closed (advance):
		// so does this replay, before closing it.
		end := (iv + 1) * f.a.ivMS
		f.a.advance(iv+1, end)
		f.a.sweep(end)
		f.a.closeBelow(iv + 1)
		f.a.forget()
		f.a.mu.Unlock()
		f.replaying = false
		f.releaseHeld(func(h heldSighting) bool { return !f.holdSighting(h.iv, h.unixMS) })
		f.markerPos, f.markerIv, f.haveMarker = pos, iv, true
	}
	return f.err
}

// noteEmitted notes the cell of aggregate v as emitted. A start that is no
// time cannot be a cell's (emitCell formats it): not noted.
func (f *Follower) noteEmitted(v *fastjson.Value) {
	start := v.GetStringBytes("start")
	t, err := time.Parse(time.RFC3339, string(start))
	if err != nil {
		return
	}
	f.emitted[cellID(string(v.GetStringBytes("site")), string(v.GetStringBytes("store")),
		string(v.GetStringBytes("zone")), string(start))] = floorDiv(t.UnixMilli(), f.a.ivMS)
}

// prune forgets the cells noted as emitted of intervals closed: the
// aggregator never closes them again, so it never asks for them. Called
// when a period begins, it keeps the noted cells to about a period's.
func (f *Follower) prune() {
	f.a.mu.Lock()
	closedTo := f.a.closedTo
	f.a.mu.Unlock()
	for id, iv := range f.emitted {
		if iv < closedTo {
			delete(f.emitted, id)
		}
	}
	f.withheld = slices.DeleteFunc(f.withheld, func(w [2]int64) bool { return w[1] < closedTo })
}

// sighting fills f.s from a BLE record: site, the visitor hash as the
// device (none when the record was received in another period than the
// sighting's: see samePeriod), ble.store, the zone (ble.zone, else props.zone,
// else ble.sensor), ble.rssi,
// ble.seen and ble.randomized.
func (f *Follower) sighting(v *fastjson.Value) error {
	b := v.Get("ble")
	if b == nil {
		return errNotBLE
	}
	seen, err := time.Parse(time.RFC3339, string(b.GetStringBytes("seen")))
	if err != nil {
		return errNotBLE
	}
	s := &f.s
	s.Site = v.GetStringBytes("site")
	s.Device = v.GetStringBytes("visitor")
	s.Store = b.GetStringBytes("store")
	// ble.zone is written under every policy; props.zone only where the
	// policy keeps properties (records of earlier versions).
	s.Zone = b.GetStringBytes("zone")
	if len(s.Zone) == 0 {
		s.Zone = v.GetStringBytes("props", "zone")
	}
	if len(s.Zone) == 0 {
		s.Zone = b.GetStringBytes("sensor")
	}
	s.RSSI = int16(b.GetInt("rssi"))
	s.Randomized = b.GetBool("randomized")
	s.AtMS = seen.UnixMilli()
	if len(s.Device) > 0 && !f.samePeriod(v.GetStringBytes("received"), s.AtMS) {
		// The visitor hash is keyed by the period the sighting was
		// received in (the engine's visitor key), its counts go to the
		// period it was seen in: a batch sent across midnight would give
		// one device of the day's last interval two hashes, two
		// visitors. It names no device of the period it was seen in.
		s.Device = nil
	}
	return nil
}

// samePeriod tells whether a record received at received (RFC 3339; none
// in records of tests and older versions: true) lies in the period of
// atMS.
func (f *Follower) samePeriod(received []byte, atMS int64) bool {
	if len(received) == 0 {
		return true
	}
	t, err := time.Parse(time.RFC3339, string(received))
	if err != nil {
		return true
	}
	p := f.a.o.Period.Milliseconds()
	return floorDiv(t.UnixMilli(), p) == floorDiv(atMS, p)
}
