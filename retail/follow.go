package retail

import (
	"errors"
	"fmt"
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
// appends the aggregates back to it, so that a restart after a kill counts
// every acknowledged sighting once:
//
//   - Memory is only a cache of the stream. The stream's cursor is
//     committed only up to the first record of the current period (day),
//     so after a restart the whole period is read again and every device's
//     visits, new-vs-returning and open intervals are rebuilt exactly;
//     once every interval read is closed, past everything read (commit).
//   - Aggregates are appended to the stream (routed to the destinations
//     and back to the Follower), then a marker that the interval is
//     closed. Read back after a restart, an aggregate says its cell was
//     already emitted (it is not emitted again), and a marker closes its
//     interval at the same place in the stream as before the kill. A kill
//     between an interval's aggregates and its marker leaves the missing
//     cells to be emitted after the restart, once.
//   - Until the Follower has caught up with the stream's end it does not
//     close intervals by the clock, so no interval is closed half-read.
//
// Records are appended with append, which must not return before the
// record is durable (the spool's Append).
type Follower struct {
	a      *Aggregator
	src    Source
	append func(rec []byte) error
	p      fastjson.Parser
	s      Sighting

	emitted     map[string]bool // cells read back from the stream
	caughtUp    bool
	replaying   bool // closing an interval for a marker read back
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
	unwritten  bool // a marker was not written back (ErrNotWritten)
}

// ErrNotWritten is what the Follower's append returns when it could not
// write a record back for want of room and went on without it (the
// record, if an aggregate, was sent). The Follower goes on; a restart may
// then not know the record's interval closed (see Follower.commit).
var ErrNotWritten = errors.New("retail: record not written back")

// Kinds of the records a Follower writes.
const (
	KindAggregate      = "ble_aggregate"
	KindIntervalClosed = "ble_interval_closed"
)

// NewFollower returns a Follower of src with options o (see Options; the
// Clock closes intervals).
func NewFollower(o Options, src Source, append func(rec []byte) error) (*Follower, error) {
	f := &Follower{src: src, append: append, emitted: map[string]bool{}}
	a, err := New(o, f.emit)
	if err != nil {
		return nil, err
	}
	a.skip = func(site, store, zone, start string) bool { return f.emitted[cellID(site, store, zone, start)] }
	a.closed = f.closedInterval
	f.a = a
	return f, nil
}

// Aggregator returns the Follower's aggregator (for its Stats).
func (f *Follower) Aggregator() *Aggregator { return f.a }

func cellID(site, store, zone, start string) string {
	return fmt.Sprintf("%d:%s%d:%s%d:%s%s", len(site), site, len(store), store, len(zone), zone, start)
}

func (f *Follower) emit(rec []byte) {
	if f.err != nil {
		return
	}
	if f.err = f.append(rec); errors.Is(f.err, ErrNotWritten) {
		f.err = nil
	}
}

func (f *Follower) closedInterval(iv int64) {
	f.lastClosed = iv
	if f.replaying || f.err != nil {
		return // the marker is in the stream already
	}
	start := time.UnixMilli(iv * f.a.ivMS).UTC().Format("2006-01-02T15:04:05Z")
	if f.err = f.append([]byte(`{"v":1,"kind":"` + KindIntervalClosed + `","start":"` + start + `"}`)); errors.Is(f.err, ErrNotWritten) {
		f.err, f.unwritten = nil, true
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
		rec, _, ok, err := f.src.Next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := f.record(rec, start); err != nil {
			return err
		}
	}
	f.caughtUp = true
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
// cursor waits; only when a marker could not be written back
// (ErrNotWritten: the spool is full, and nothing but this commit frees it)
// does it move past everything read.
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
		case f.unwritten:
			f.unwritten, f.haveMarker = false, false // the cursor never goes back
			return f.src.Commit(f.src.Pos())
		case f.haveMarker && f.markerIv >= f.lastClosed:
			return f.src.Commit(f.markerPos)
		}
		return nil // the last marker is not read back yet
	}
	return f.src.Commit(f.periodStart)
}

var errNotBLE = errors.New("retail: record is no BLE sighting")

// record handles one record read at stream offset pos.
func (f *Follower) record(rec []byte, pos uint64) error {
	v, err := f.p.ParseBytes(rec)
	if err != nil {
		return nil // not ours to judge: the shippers count damaged records
	}
	switch string(v.GetStringBytes("kind")) {
	case "ble":
		if err := f.sighting(v); err != nil {
			return nil // a record of an older format: skipped, never fatal
		}
		if p := floorDiv(f.s.AtMS, f.a.o.Period.Milliseconds()); !f.haveStart || p > f.period {
			f.period, f.periodStart, f.haveStart = p, pos, true
		}
		f.a.Add(&f.s)
	case KindAggregate:
		f.emitted[cellID(string(v.GetStringBytes("site")), string(v.GetStringBytes("store")),
			string(v.GetStringBytes("zone")), string(v.GetStringBytes("start")))] = true
	case KindIntervalClosed:
		t, err := time.Parse(time.RFC3339, string(v.GetStringBytes("start")))
		if err != nil {
			return nil
		}
		iv := floorDiv(t.UnixMilli(), f.a.ivMS)
		f.replaying = true
		f.a.mu.Lock()
		// Before the kill, the tick that closed iv had ended every visit
		// absent by iv's end: so does this replay, before closing it.
		f.a.sweep((iv + 1) * f.a.ivMS)
		f.a.closeBelow(iv + 1)
		f.a.mu.Unlock()
		f.replaying = false
		f.markerPos, f.markerIv, f.haveMarker = pos, iv, true
	}
	return f.err
}

// sighting fills f.s from a BLE record: site, the visitor hash as the
// device, ble.store, the zone (props.zone, else ble.sensor), ble.rssi,
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
	s.Zone = v.GetStringBytes("props", "zone")
	if len(s.Zone) == 0 {
		s.Zone = b.GetStringBytes("sensor")
	}
	s.RSSI = int16(b.GetInt("rssi"))
	s.Randomized = b.GetBool("randomized")
	s.AtMS = seen.UnixMilli()
	return nil
}
