package gateway

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// maxDeadlineSlack bounds how late a coarse deadline may fire after the time
// the server asked for. A deadline is armed on the socket with a slack of a
// quarter of its timeout, at most this, so that the deadlines of the next
// requests on a busy connection, a few microseconds later each, fall inside
// it and need no new arming.
const maxDeadlineSlack = 250 * time.Millisecond

// coarseDeadline arms one direction's deadline (read or write) of a
// connection coarsely. fasthttp sets three deadlines per request (the idle
// wait, the request read, the response write), each a call into the
// runtime's poller that re-arms a timer; on a busy keep-alive connection
// nearly all of them can be skipped:
//
//   - A deadline is armed only when the one on the socket would fire more
//     than the slack it was armed with after the requested time (or none is
//     armed); it is then armed at the requested time plus a slack of a
//     quarter of its timeout, at most maxDeadlineSlack. So a timeout fires
//     at most maxDeadlineSlack late (a quarter of the timeout while the
//     timeouts set stay alike, as fasthttp's do).
//   - A later deadline (the 60 s idle wait after a 5 s read) leaves the
//     earlier one armed. When that one fires before the requested time, the
//     connection's Read or Write sees the timeout, re-arms at the requested
//     time and retries (rearm), so no timeout fires early.
//
// Go's net.Conn deadlines may be extended after they fired: the connection
// stays usable. The mutex makes Set*Deadline safe from another goroutine,
// but a deadline set to cancel a blocked Read (time.Now()) takes effect
// only within the slack of the one armed: nothing here cancels reads that
// way, and neither does fasthttp.
type coarseDeadline struct {
	mu    sync.Mutex
	want  time.Time     // the deadline asked for; zero: none
	armed time.Time     // the deadline set on the socket; zero: none
	slack time.Duration // how late armed may be past want, chosen when armed
}

// set records deadline t and arms it through arm when the deadline on the
// socket would fire too late.
func (d *coarseDeadline) set(t time.Time, arm func(time.Time) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.want = t
	if t.IsZero() || !d.armed.IsZero() && !d.armed.After(t.Add(d.slack)) {
		// No deadline (one still armed is lifted when it fires), or the one
		// armed fires in time (if early, rearm extends it then).
		return nil
	}
	slack := max(min(maxDeadlineSlack, time.Until(t)/4), 0)
	if err := arm(t.Add(slack)); err != nil {
		return err
	}
	d.armed, d.slack = t.Add(slack), slack
	return nil
}

// rearm is called after an operation failed with a deadline error. When
// the requested deadline has not passed (the armed one fired early, or none
// is wanted any more), it arms the requested one and reports true: the
// caller retries. Otherwise the timeout is real.
func (d *coarseDeadline) rearm(arm func(time.Time) error) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.want.IsZero() && !time.Now().Before(d.want) {
		return false
	}
	if err := arm(d.want); err != nil {
		return false
	}
	d.armed, d.slack = d.want, 0
	return true
}

// isDeadline reports whether err is a deadline's timeout.
func isDeadline(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// coarseConn is a connection whose deadlines are armed coarsely (see
// coarseDeadline). Its methods are those of net.Conn.
type coarseConn struct {
	net.Conn
	rd, wd coarseDeadline
}

func (c *coarseConn) Read(p []byte) (int, error) {
	for {
		n, err := c.Conn.Read(p)
		if n == 0 && err != nil && isDeadline(err) && c.rd.rearm(c.Conn.SetReadDeadline) {
			continue
		}
		return n, err
	}
}

func (c *coarseConn) Write(p []byte) (int, error) {
	written := 0
	for {
		n, err := c.Conn.Write(p[written:])
		written += n
		if err != nil && written < len(p) && isDeadline(err) && c.wd.rearm(c.Conn.SetWriteDeadline) {
			continue
		}
		return written, err
	}
}

// SetReadDeadline implements net.Conn.
func (c *coarseConn) SetReadDeadline(t time.Time) error {
	return c.rd.set(t, c.Conn.SetReadDeadline)
}

// SetWriteDeadline implements net.Conn.
func (c *coarseConn) SetWriteDeadline(t time.Time) error {
	return c.wd.set(t, c.Conn.SetWriteDeadline)
}

// SetDeadline implements net.Conn.
func (c *coarseConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}
