package main

import (
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/gateway"
)

// adminMaxConnsPerPeer is how many connections one peer address may hold
// open on the admin listener. More than GET /tap's cap of maxTaps, so a
// host running every tap still reaches /healthz and POST /-/reload.
const adminMaxConnsPerPeer = 16

// adminMaxConns is the cap on connections open at once on the admin
// listener: half the file descriptors the public listener's cap leaves
// free (fdReserveFloor and an eighth of the limit, shared with the spool,
// the sinks and the runtime), at least 16 and at most 64, which Prometheus,
// health checks, taps and a profile never need. 64 when the limit is
// unknown.
func adminMaxConns(fdLimit uint64) int {
	if fdLimit == 0 {
		return 64
	}
	return int(min(max((fdReserveFloor+fdLimit/8)/2, 16), 64))
}

// newAdminListener caps the connections the admin listener holds open:
// anyone who reaches it may connect (the image binds it on every
// interface), and connections without a cap used up the file descriptors
// the public listener, the spool and the sinks need. A peer address holds
// at most adminMaxConnsPerPeer: one more is closed at once, unanswered,
// and counted in beacongate_admin_connections_refused_total, registered
// on reg (nil: not registered). At
// maxConns in all, the oldest idle keep-alive connection is closed to make
// room, else new connections wait in the kernel's accept queue (as on the
// public listener, gateway.LimitedListener); a connection that sends
// nothing is closed after the header timeout.
func newAdminListener(ln net.Listener, maxConns int, reg prometheus.Registerer) net.Listener {
	refused := prometheus.NewCounter(prometheus.CounterOpts{Name: "beacongate_admin_connections_refused_total",
		Help: "Connections to the admin listener closed at once, unanswered, because their peer address already held " + strconv.Itoa(adminMaxConnsPerPeer) + " open."})
	if reg != nil {
		reg.MustRegister(refused)
	}
	return gateway.NewLimitedListener(&peerCapListener{Listener: ln, max: adminMaxConnsPerPeer, open: map[netip.Addr]int{}, refused: refused}, maxConns, nil)
}

// peerCapListener closes a new connection at once when its peer address
// (an IPv6 peer's /64 network) already holds max open, and counts it in
// refused.
type peerCapListener struct {
	net.Listener
	max     int
	mu      sync.Mutex
	open    map[netip.Addr]int
	refused prometheus.Counter
}

func (l *peerCapListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		var addr netip.Addr // an IPv6 peer by its /64, as on the public listener
		if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
			addr = gateway.LimitKey(ap.Addr())
		}
		l.mu.Lock()
		if l.open[addr] >= l.max {
			l.mu.Unlock()
			c.Close()
			l.refused.Inc()
			continue
		}
		l.open[addr]++
		l.mu.Unlock()
		return &peerCapConn{Conn: c, l: l, addr: addr}, nil
	}
}

type peerCapConn struct {
	net.Conn
	l    *peerCapListener
	addr netip.Addr
	once sync.Once
}

// Close closes the connection and gives its peer's slot back once.
func (c *peerCapConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		if c.l.open[c.addr]--; c.l.open[c.addr] <= 0 {
			delete(c.l.open, c.addr)
		}
		c.l.mu.Unlock()
	})
	return err
}
