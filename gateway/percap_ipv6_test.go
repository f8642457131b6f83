package gateway

import (
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestLimitKey: the key a peer's connections (server.max_conns_per_ip) and
// a client's requests (server.max_requests_per_client) are counted under
// is an IPv4 address itself, an IPv4-mapped IPv6 address as its IPv4
// address, and an IPv6 address as its /64, zone dropped.
func TestLimitKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"192.0.2.2", "192.0.2.2"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2::a", "2001:db8:1:2::"},
		{"2001:db8:1:2:1234:5678:9abc:def0", "2001:db8:1:2::"},
		{"fe80::1%eth0", "fe80::"},
		{"2001:db8:1:3::a", "2001:db8:1:3::"},
		{"::1", "::"},
	} {
		if got := limitKey(netip.MustParseAddr(tc.in)); got != netip.MustParseAddr(tc.want) {
			t.Errorf("limitKey(%s) = %s; want %s", tc.in, got, tc.want)
		}
	}
}

// remoteAs serves real loopback connections as if they came from the
// addresses in from, in the order accepted: loopback has one IPv6
// address, ::1, so a /64 cannot be dialled from on it.
type remoteAs struct {
	net.Listener
	from chan netip.AddrPort
}

type remoteAsConn struct {
	net.Conn
	addr *net.TCPAddr
}

func (c remoteAsConn) RemoteAddr() net.Addr { return c.addr }

func (l remoteAs) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return remoteAsConn{Conn: c, addr: net.TCPAddrFromAddrPort(<-l.from)}, nil
}

// TestMaxConnsPerIPv6Network: server.max_conns_per_ip counted each IPv6
// address on its own, so a client took another address of its /64 (RFC
// 8981 temporary addresses rotate there) for every connection and was
// never capped. With a cap of 1, a second connection from the same /64 is
// refused, and one from another /64 accepted.
func TestMaxConnsPerIPv6Network(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	from := make(chan netip.AddrPort, 3)
	for _, a := range []string{"[2001:db8:1:2::a]:1000", "[2001:db8:1:2::b]:1001", "[2001:db8:1:3::a]:1002"} {
		from <- netip.MustParseAddrPort(a)
	}
	g := New(Settings{}, prometheus.NewRegistry())
	g.conns.maxPerPeer.Store(1)
	ln := g.Listener(remoteAs{Listener: inner, from: from})
	defer ln.Close()
	addr := inner.Addr().String()

	accepted := make(chan net.Conn, 3)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			accepted <- c
		}
	}()
	next := func() net.Conn {
		select {
		case c := <-accepted:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("no connection accepted")
			return nil
		}
	}
	dial(t, addr)
	if got := next().RemoteAddr().String(); got != "[2001:db8:1:2::a]:1000" {
		t.Fatalf("first accepted from %s", got)
	}
	// Dialled in order, so the second is taken from the queue before the third.
	second := dial(t, addr)
	io.WriteString(second.c, "GET /p.gif?site=a HTTP/1.1\r\nHost: x\r\n\r\n")
	dial(t, addr)
	if got := next().RemoteAddr().String(); got != "[2001:db8:1:3::a]:1002" {
		t.Fatalf("accepted a connection from %s; want the one from 2001:db8:1:3::a, the one from 2001:db8:1:2::b refused (same /64 as an open one)", got)
	}
	second.c.SetDeadline(time.Now().Add(5 * time.Second))
	if line, err := second.br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 429 ") {
		t.Fatalf("second connection of the /64: %q %v; want 429", line, err)
	}
}
