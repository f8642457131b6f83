package gateway

import (
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Listener wraps the public listener so that a request fasthttp fails to
// read is booked under the endpoint it asked for. When a body is too slow
// (408) or a chunked body too large (413), fasthttp resets the request
// before its error handler runs, and the path is gone; each connection
// therefore remembers the endpoint of the last request line it read. Serve
// the server from NewServer on it: srv.Serve(g.Listener(ln)).
//
// Its connections also arm their read and write deadlines coarsely: a
// timeout fires never early and at most maxDeadlineSlack (250 ms) late,
// and a busy keep-alive connection skips nearly all of fasthttp's three
// deadline updates per request (see coarseDeadline).
func (g *Gateway) Listener(ln net.Listener) net.Listener {
	return &trackingListener{Listener: ln, conns: &g.conns}
}

// connRegistry finds a connection's tracker by its peer address: fasthttp
// hands the error handler its own wrapper of the connection (for
// max_conns_per_ip), which hides ours. Connections register when accepted
// and leave when closed, so the lock is taken per connection, never per
// request.
type connRegistry struct {
	mu sync.Mutex
	m  map[netip.AddrPort]*trackedConn
}

func (r *connRegistry) lookup(peer net.Addr) *trackedConn {
	tcp, ok := peer.(*net.TCPAddr)
	if !ok {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[tcp.AddrPort()]
}

type trackingListener struct {
	net.Listener
	conns *connRegistry
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{coarseConn: coarseConn{Conn: c}, last: endpointOther, conns: l.conns, accepted: time.Now()}
	if tcp, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		tc.key = tcp.AddrPort()
		l.conns.mu.Lock()
		if l.conns.m == nil {
			l.conns.m = make(map[netip.AddrPort]*trackedConn)
		}
		l.conns.m[tc.key] = tc
		l.conns.mu.Unlock()
	}
	return tc, nil
}

// trackedConn remembers the endpoint of the last request line that began a
// read. fasthttp reads a connection, and runs its error handler, on one
// goroutine, so last needs no lock. A read that begins in the middle of a
// request (a body, or pipelined requests) leaves it unchanged. Its
// deadlines are armed coarsely (coarseConn).
type trackedConn struct {
	coarseConn
	last endpoint
	// read is set once a byte was read: the connection carried a request.
	// Atomic for CloseUnusedConns, which reads it from another goroutine.
	read     atomic.Bool
	accepted time.Time
	key      netip.AddrPort
	conns    *connRegistry
	once     sync.Once
}

// Read reads from the connection. A read timeout on a connection that never
// sent a byte reads as the client's close (io.EOF): fasthttp then closes
// it without a response, as it does an idle keep-alive connection, instead
// of writing a 408 nobody asked for. Browsers open connections ahead of
// need (preconnect); one that loses the race and sends its request as the
// 408 arrives takes the 408 as the answer, and a tag fails to load.
func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.coarseConn.Read(p)
	if n > 0 {
		if !c.read.Load() {
			c.read.Store(true)
		}
		if ep, ok := requestLineEndpoint(b2s(p[:n])); ok {
			c.last = ep
		}
	} else if err != nil && !c.read.Load() && isDeadline(err) {
		return 0, io.EOF
	}
	return n, err
}

// unusedGrace is how long a connection must have been open without a byte
// before CloseUnusedConns closes it: a client that connects to send a
// request sends it within a round trip, so a connection this old and
// unused is one opened ahead of need.
const unusedGrace = 250 * time.Millisecond

// CloseUnusedConns closes the connections served through Listener that
// have sent no byte since they were opened at least 250 ms ago, and
// returns how many it closed. A gateway that stops calls it while its
// server shuts down, until the server is done: the server waits for a
// new connection as for a request in progress until it has been open 5 s
// (net/http does the same), so a single browser preconnect or balancer
// TCP check would hold the stop, and the delivery flush after it, that
// long. A request sent as its connection closes gets no answer, as on an
// idle keep-alive connection the server closes; browsers send it again.
func (g *Gateway) CloseUnusedConns() int {
	now := time.Now()
	var unused []*trackedConn
	g.conns.mu.Lock()
	for _, c := range g.conns.m {
		if !c.read.Load() && now.Sub(c.accepted) >= unusedGrace {
			unused = append(unused, c)
		}
	}
	g.conns.mu.Unlock()
	for _, c := range unused {
		c.Close() // takes conns.mu
	}
	return len(unused)
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.conns.mu.Lock()
		if c.conns.m[c.key] == c {
			delete(c.conns.m, c.key)
		}
		c.conns.mu.Unlock()
	})
	return c.Conn.Close()
}

// requestLineEndpoint reads "METHOD /path[?query] ..." at the start of b.
// ok is false when b does not start with a request line.
func requestLineEndpoint(b string) (endpoint, bool) {
	i := 0
	for i < len(b) && i < 16 && b[i] >= 'A' && b[i] <= 'Z' {
		i++
	}
	if i == 0 || i+1 >= len(b) || b[i] != ' ' || b[i+1] != '/' {
		return endpointOther, false
	}
	target := b[i+1:]
	end := strings.IndexAny(target, " ?")
	if end < 0 {
		return endpointOther, false
	}
	return endpointOf(target[:end]), true
}
