package gateway

import (
	"io"
	"net"
	"net/netip"
	"strconv"
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
//
// It also enforces server.max_conns_per_ip (ServerOptions.MaxConnsPerIP,
// set by NewServer): a connection from a peer that already has that many
// open is not handed to the server but refused (see refuse). A peer is an
// IPv4 address or the /64 of an IPv6 one (limitKey).
func (g *Gateway) Listener(ln net.Listener) net.Listener {
	return &trackingListener{Listener: ln, conns: &g.conns, metrics: g.metrics}
}

// connRegistry finds a connection's tracker by its peer address, for the
// error handler, which is handed the connection as the server holds it
// (a wrapper may hide ours). It also counts the open connections of each
// peer address for the per-peer cap. Connections register when accepted
// and leave when closed, so the lock is taken per connection, never per
// request.
type connRegistry struct {
	mu sync.Mutex
	m  map[netip.AddrPort]*trackedConn
	// perPeer counts the open connections of each peer, keyed by limitKey:
	// an IPv4 address (IPv4 in IPv6 unmapped), or the /64 of an IPv6 one,
	// from which one host may pick any address; a key leaves when its last
	// connection closes.
	perPeer map[netip.Addr]int32
	// maxPerPeer is the cap on perPeer; 0: none.
	maxPerPeer atomic.Int32
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
	conns   *connRegistry
	metrics *metrics
	// refusing counts the refused connections being answered (refuse):
	// past maxRefusing a refused connection is closed at once, so that
	// one address opening connections faster than they are answered
	// cannot pile up goroutines and file descriptors, which the cap is
	// there to prevent.
	refusing atomic.Int32
}

// maxRefusing bounds the refused connections answered at once; each holds
// a goroutine and a descriptor for up to twice refuseWait.
const maxRefusing = 64

func (l *trackingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tcp, ok := c.RemoteAddr().(*net.TCPAddr)
		if !ok {
			return &trackedConn{coarseConn: coarseConn{Conn: c}, last: endpointOther, conns: l.conns, accepted: time.Now()}, nil
		}
		key := tcp.AddrPort()
		peer := limitKey(key.Addr())
		limit := l.conns.maxPerPeer.Load()
		l.conns.mu.Lock()
		if n := l.conns.perPeer[peer]; limit > 0 && n >= limit {
			l.conns.mu.Unlock()
			if l.refusing.Add(1) > maxRefusing {
				l.refusing.Add(-1)
				l.metrics.requests[endpointOther].Inc()
				l.metrics.rejected[endpointOther][reasonTooManyConnections].Inc()
				c.Close()
				continue
			}
			go func() {
				defer l.refusing.Add(-1)
				l.refuse(c)
			}()
			continue
		}
		if l.conns.m == nil {
			l.conns.m = make(map[netip.AddrPort]*trackedConn)
			l.conns.perPeer = make(map[netip.Addr]int32)
		}
		tc := &trackedConn{coarseConn: coarseConn{Conn: c}, last: endpointOther, conns: l.conns, accepted: time.Now(), key: key, counted: true}
		l.conns.m[key] = tc
		l.conns.perPeer[peer]++
		l.conns.mu.Unlock()
		return tc, nil
	}
}

// refuseWait bounds each of the two waits of a refused connection: for its
// request, and after the answer for the client to close. A client that
// connects to send a request sends it within a round trip.
const refuseWait = time.Second

// tooManyConns is the answer on a connection over server.max_conns_per_ip.
var tooManyConns = []byte("HTTP/1.1 429 Too Many Requests\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Length: " + strconv.Itoa(len(reasons[reasonTooManyConnections].body)) + "\r\n" +
	"Retry-After: " + string(retryAfter[reasonTooManyConnections]) + "\r\n" +
	"Connection: close\r\n\r\n" + string(reasons[reasonTooManyConnections].body))

// refuse answers a connection over the per-peer cap, on its own goroutine
// so that the accept loop goes on. It reads the start of the request (to
// book the refusal under the endpoint it asked for; only the three paths
// are matched, so nothing of the request reaches a label), answers 429
// naming server.max_conns_per_ip with Connection: close, and reads until
// the client closes before closing: a connection closed with unread bytes
// is reset, and a reset can destroy the answer before the client reads it.
// A connection that sends nothing within refuseWait is closed unanswered
// (it asked nothing) and booked under endpoint other. Either way it is
// counted once in rejected_total{reason="too_many_connections"}.
func (l *trackingListener) refuse(c net.Conn) {
	defer c.Close()
	var buf [512]byte
	c.SetDeadline(time.Now().Add(refuseWait))
	n, _ := io.ReadAtLeast(c, buf[:], len("GET / "))
	ep, asked := requestLineEndpoint(b2s(buf[:n]))
	if !asked {
		ep = endpointOther
	}
	l.metrics.requests[ep].Inc()
	l.metrics.rejected[ep][reasonTooManyConnections].Inc()
	if n == 0 {
		return
	}
	c.SetDeadline(time.Now().Add(refuseWait))
	if _, err := c.Write(tooManyConns); err != nil {
		return
	}
	for {
		if _, err := c.Read(buf[:]); err != nil {
			return
		}
	}
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
	counted  bool // key is registered and counted in perPeer
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
		if !c.counted {
			return
		}
		peer := limitKey(c.key.Addr())
		c.conns.mu.Lock()
		if c.conns.m[c.key] == c {
			delete(c.conns.m, c.key)
		}
		if n := c.conns.perPeer[peer]; n > 1 {
			c.conns.perPeer[peer] = n - 1
		} else {
			delete(c.conns.perPeer, peer)
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
