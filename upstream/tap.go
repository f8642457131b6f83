package upstream

import (
	"sync"
	"sync/atomic"
)

// TapFilter selects the records a tap sees. Empty fields match everything.
type TapFilter struct {
	Site    string // the record's "site"
	Consent string // the record's consent.state
	// Destination: only records routed to the destination of this name.
	Destination string
}

// Tap receives a copy of every record Append or Enqueue stores that
// matches its filter, as it is appended (an enqueued record before its
// write: if that fails, the caller refuses it and a retry sends it again): anonymized records only (the tap sits behind
// the privacy engine and never sees a request). It is bounded: it holds at
// most the number of records given to Pipeline.Tap, in buffers allocated
// up front, and a reader that falls behind is cut off (Closed is closed and
// Cut reports true), so a slow tap never makes Append wait.
type Tap struct {
	p      *Pipeline
	filter TapFilter
	route  Route // 0: any destination
	ch     chan []byte
	free   chan []byte
	closed chan struct{}
	cut    atomic.Bool
	once   sync.Once
}

// tapBufferBytes is the room of each of a tap's buffers, allocated when it
// opens: records up to this long (nearly all: a pixel's is under 1 KiB, a
// beacon's with many properties a few) are copied without allocating; a
// longer one grows the buffer it lands in (see tapKeepBytes).
const tapBufferBytes = 4 << 10

// tapList is the set of open taps, replaced as a whole (copy on write) so
// that Append reads it with one atomic load and no lock.
type tapList struct{ taps []*Tap }

// Tap opens a tap holding at most buffered records (at least 1). ok is
// false when f names a destination that does not exist.
func (p *Pipeline) Tap(f TapFilter, buffered int) (t *Tap, ok bool) {
	buffered = max(buffered, 1)
	t = &Tap{p: p, filter: f, ch: make(chan []byte, buffered), free: make(chan []byte, buffered),
		closed: make(chan struct{})}
	if f.Destination != "" {
		for i, sh := range p.shippers {
			if sh.name == f.Destination {
				t.route = RouteTo(i)
			}
		}
		if t.route == 0 {
			return nil, false
		}
	}
	for range buffered {
		t.free <- make([]byte, 0, tapBufferBytes)
	}
	p.tapMu.Lock()
	defer p.tapMu.Unlock()
	if p.tapsClosed {
		// The pipeline is closing: nothing will be appended any more.
		t.once.Do(func() { close(t.closed) })
		return t, true
	}
	nl := &tapList{}
	if old := p.taps.Load(); old != nil {
		nl.taps = append(nl.taps, old.taps...)
	}
	nl.taps = append(nl.taps, t)
	p.taps.Store(nl)
	p.m.taps.Inc()
	return t, true
}

// C delivers the records. Hand each back with Done once written.
func (t *Tap) C() <-chan []byte { return t.ch }

// Closed is closed when the tap is closed or cut, or the pipeline closes.
func (t *Tap) Closed() <-chan struct{} { return t.closed }

// tapKeepBytes is the longest buffer a tap keeps once a record grew it: a
// beacon's record of a few KiB goes on being copied without allocating,
// while a longer one's buffer is given up when handed back (Done, off the
// request path), so that a tap left open never holds its buffers at the
// longest record it saw (1,024 of up to 1 MiB).
const tapKeepBytes = 16 << 10

// Done returns a record's buffer for reuse.
func (t *Tap) Done(rec []byte) {
	if cap(rec) > tapKeepBytes {
		rec = make([]byte, 0, tapBufferBytes)
	}
	select {
	case t.free <- rec[:0]:
	default:
	}
}

// Cut reports whether the tap was closed because its reader fell behind.
func (t *Tap) Cut() bool { return t.cut.Load() }

// Close removes the tap.
func (t *Tap) Close() { t.remove(false) }

func (t *Tap) remove(cut bool) {
	t.once.Do(func() {
		p := t.p
		p.tapMu.Lock()
		defer p.tapMu.Unlock()
		var nl *tapList
		for _, x := range p.taps.Load().taps {
			if x != t {
				if nl == nil {
					nl = &tapList{}
				}
				nl.taps = append(nl.taps, x)
			}
		}
		p.taps.Store(nl)
		p.m.taps.Dec()
		if cut {
			t.cut.Store(true)
			p.m.tapsCut.Inc()
		}
		close(t.closed)
	})
}

// closeTaps ends every open tap (Closed is closed, Cut stays false) and
// every tap opened after it. Pipeline.Close calls it once appends stopped.
func (p *Pipeline) closeTaps() {
	p.tapMu.Lock()
	p.tapsClosed = true
	l := p.taps.Load()
	p.tapMu.Unlock()
	if l == nil {
		return
	}
	for _, t := range l.taps {
		t.remove(false)
	}
}

// offer copies record to every matching tap, never waiting: a tap with no
// free buffer is cut.
func (p *Pipeline) offer(record []byte, route Route) {
	l := p.taps.Load()
	if l == nil {
		return
	}
	for _, t := range l.taps {
		if t.cut.Load() || !t.matches(record, route) {
			continue
		}
		select {
		case buf := <-t.free:
			select {
			case t.ch <- append(buf[:0], record...): // room: at most cap(ch) buffers exist
			default:
			}
		default:
			t.remove(true)
		}
	}
}

func (t *Tap) matches(record []byte, route Route) bool {
	if t.route != 0 && route&t.route == 0 {
		return false
	}
	if t.filter.Site != "" && string(jsonStringField(record, "site")) != t.filter.Site {
		return false
	}
	if t.filter.Consent != "" && string(consentState(record)) != t.filter.Consent {
		return false
	}
	return true
}
