package gateway

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Accept backoff after the process ran out of file descriptors: short at
// first, since closing one idle connection frees one, then up to a second
// (what net/http does for temporary accept errors).
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// slotRecheck is how often an Accept that waits for a free slot looks again
// for an idle connection to close: connections turn idle without closing, so
// there is no event to wait for.
const slotRecheck = 50 * time.Millisecond

// LimitedListener caps the connections open at once on a listener and keeps
// accepting when the process runs out of file descriptors:
//
//   - At MaxConns, Accept holds the new connection (the kernel's accept
//     queue holds the ones after it) and closes the oldest idle keep-alive
//     connection to make room; a connection is idle from the end of a
//     response until the next request's first bytes. When none is idle it
//     waits for one to close.
//   - When accept fails with EMFILE or ENFILE, Accept closes the oldest idle
//     connection, counts the error and retries with a backoff instead of
//     returning it (which would end fasthttp's Serve and the process).
//
// Create it with NewLimitedListener. It only counts connections: requests
// are never read or written here.
type LimitedListener struct {
	net.Listener
	max int

	mu    sync.Mutex
	conns map[*limitedConn]struct{} // open connections, for shedding
	open  int                       // connections open or being accepted
	// shedding is set while a connection closed to make room has not
	// released its slot yet, so one waiting Accept closes one connection.
	shedding bool

	seq   atomic.Uint64 // orders the moments connections turn idle
	freed chan struct{} // signaled (capacity 1) when a slot is released
	done  chan struct{} // closed by Close
	once  sync.Once

	metrics connMetrics
}

type connMetrics struct {
	acceptRetries prometheus.Counter
	acceptWaits   prometheus.Counter
	shed          prometheus.Counter
}

// NewLimitedListener wraps ln with a cap of maxConns open connections
// (at least 1) and registers its metrics on reg (nil: unregistered).
func NewLimitedListener(ln net.Listener, maxConns int, reg prometheus.Registerer) *LimitedListener {
	l := &LimitedListener{
		Listener: ln,
		max:      max(maxConns, 1),
		conns:    make(map[*limitedConn]struct{}),
		freed:    make(chan struct{}, 1),
		done:     make(chan struct{}),
		metrics: connMetrics{
			acceptRetries: prometheus.NewCounter(prometheus.CounterOpts{Name: "beacongate_gateway_accept_retries_total",
				Help: "Accepts that failed because the process or system ran out of file descriptors (EMFILE, ENFILE) and were retried after a backoff."}),
			acceptWaits: prometheus.NewCounter(prometheus.CounterOpts{Name: "beacongate_gateway_accept_waits_total",
				Help: "Times the public listener stopped accepting because server.max_conns connections were open."}),
			shed: prometheus.NewCounter(prometheus.CounterOpts{Name: "beacongate_gateway_connections_shed_total",
				Help: "Idle keep-alive connections closed to make room for new ones (at server.max_conns or out of file descriptors)."}),
		},
	}
	if reg != nil {
		reg.MustRegister(l.metrics.acceptRetries, l.metrics.acceptWaits, l.metrics.shed,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "beacongate_gateway_connections",
				Help: "Connections open on the public listener."}, func() float64 { return float64(l.Open()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "beacongate_gateway_connections_max",
				Help: "Cap on connections open on the public listener (server.max_conns, or derived from the open-file limit)."}, func() float64 { return float64(l.max) }))
	}
	return l
}

// Open returns the number of connections open (or being accepted).
func (l *LimitedListener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Max returns the cap on open connections.
func (l *LimitedListener) Max() int { return l.max }

// Accept accepts the next connection and, while max connections are open,
// holds it until a slot is free, closing the oldest idle connection to make
// room. Accepting first means only a real new connection sheds an idle one;
// the one held is the only connection over the cap. Accept returns an error
// only when the listener is closed or fails for a reason other than
// running out of file descriptors.
func (l *LimitedListener) Accept() (net.Conn, error) {
	backoff := time.Duration(0)
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !isFDExhausted(err) {
				return nil, err
			}
			l.metrics.acceptRetries.Inc()
			// Closing an idle connection frees a descriptor: retry as soon
			// as its slot is released. Otherwise wait for one to close.
			var freed <-chan struct{}
			if l.shedOldestIdle() {
				freed = l.freed
			}
			backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-freed:
				t.Stop()
				backoff = 0
			case <-l.done:
				t.Stop()
				return nil, net.ErrClosed
			}
			continue
		}
		if !l.acquire() {
			c.Close()
			return nil, net.ErrClosed
		}
		lc := &limitedConn{Conn: c, l: l}
		l.mu.Lock()
		l.conns[lc] = struct{}{}
		l.mu.Unlock()
		return lc, nil
	}
}

// Close closes the listener and wakes an Accept waiting for a slot.
// Connections already accepted stay open.
func (l *LimitedListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// acquire reserves a slot, waiting while max connections are open and
// closing the oldest idle one to make room. It returns false once the
// listener is closed.
func (l *LimitedListener) acquire() bool {
	waited := false
	for {
		l.mu.Lock()
		if l.open < l.max {
			l.open++
			l.mu.Unlock()
			return true
		}
		l.mu.Unlock()
		if !waited {
			waited = true
			l.metrics.acceptWaits.Inc()
		}
		l.shedOldestIdle()
		t := time.NewTimer(slotRecheck)
		select {
		case <-l.freed:
		case <-t.C:
		case <-l.done:
			t.Stop()
			return false
		}
		t.Stop()
	}
}

// release frees a slot.
func (l *LimitedListener) release() {
	l.mu.Lock()
	l.open--
	l.mu.Unlock()
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

// shedOldestIdle closes the connection that has been idle longest, unless a
// connection closed for room has not released its slot yet. The server's
// read on it fails and the server closes it, which releases its slot. It
// reports whether a slot is on its way back (a connection was, or is being,
// closed for room).
func (l *LimitedListener) shedOldestIdle() bool {
	l.mu.Lock()
	if l.shedding {
		l.mu.Unlock()
		return true
	}
	var oldest *limitedConn
	var oldestSeq uint64
	for c := range l.conns {
		if s := c.idleSince.Load(); s != 0 && (oldest == nil || s < oldestSeq) {
			oldest, oldestSeq = c, s
		}
	}
	if oldest == nil || !oldest.idleSince.CompareAndSwap(oldestSeq, 0) {
		l.mu.Unlock()
		return false
	}
	oldest.shed = true
	l.shedding = true
	l.mu.Unlock()
	l.metrics.shed.Inc()
	oldest.Conn.Close() // the server's pending Read fails; it then calls Close
	return true
}

func (l *LimitedListener) remove(c *limitedConn) {
	l.mu.Lock()
	delete(l.conns, c)
	if c.shed {
		l.shedding = false
	}
	l.mu.Unlock()
	l.release()
}

// isFDExhausted reports whether err says the process (EMFILE) or the system
// (ENFILE) has no file descriptor left.
func isFDExhausted(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// limitedConn is a connection accepted by a LimitedListener. It tracks
// whether the server is waiting for the next request on it (idle) and gives
// its slot back when closed.
type limitedConn struct {
	net.Conn
	l *LimitedListener
	// idleSince is 0 while a request is being read or served; otherwise the
	// listener's sequence number when the connection turned idle, so the
	// smallest is the oldest idle connection.
	idleSince atomic.Uint64
	// responded is set by Write and cleared by a Read that returns data: a
	// Read that starts after a response waits for the next request.
	responded atomic.Bool
	shed      bool // guarded by l.mu
	closeOnce sync.Once
}

// Read marks the connection idle while it waits for a new request. A Read
// resumed while idle (coarseConn retries one when an early armed deadline
// fires) keeps the moment the connection turned idle, so it does not look
// newer than connections that turned idle after it.
func (c *limitedConn) Read(b []byte) (int, error) {
	if c.responded.Load() && c.idleSince.Load() == 0 {
		c.idleSince.Store(c.l.seq.Add(1))
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.idleSince.Store(0)
		c.responded.Store(false)
	}
	return n, err
}

// Write notes that a response went out.
func (c *limitedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.responded.Store(true)
	return n, err
}

// Close closes the connection and releases its slot once.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.l.remove(c) })
	return err
}
