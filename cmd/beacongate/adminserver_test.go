package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/upstream"
)

// TestAdminListenerDropsIdleAndSlowClients: the admin listener answers
// /metrics, /healthz and /readyz to anyone who reaches it (the image binds
// it on every interface), and its server had no timeout after a request's
// headers: a keep-alive connection left idle, or one sending a request body
// a byte now and then, stayed open for ever, so a client could hold
// connections, and file descriptors, until the spool and the sinks had none
// left. It now closes an idle connection after the idle timeout and stops
// reading a request after the read timeout; GET /tap, a stream, still runs
// past both.
func TestAdminListenerDropsIdleAndSlowClients(t *testing.T) {
	p, err := upstream.Open(upstream.Options{DataDir: t.TempDir(), Clock: clock.NewManual(clocktest.Golden),
		Destinations: []upstream.DestinationOptions{{Name: "warehouse", Sink: &aggregateSink{}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	a := &app{pipeline: p}
	reg := prometheus.NewRegistry()
	var stopping atomic.Bool
	registerReady(reg, a, &stopping)
	to := adminTimeouts{header: 300 * time.Millisecond, read: 300 * time.Millisecond, idle: 300 * time.Millisecond}
	addr := serveAdmin(t, a.adminMux(reg, &stopping, true), to)

	// closedWithin reports whether the server closes conn within d, reading
	// and dropping what it sends.
	closedWithin := func(conn net.Conn, d time.Duration) bool {
		conn.SetReadDeadline(time.Now().Add(d))
		_, err := io.Copy(io.Discard, conn)
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
	dial := func() net.Conn {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}

	t.Run("idle keep-alive", func(t *testing.T) {
		conn := dial()
		io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: admin\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /healthz: %v %v", resp, err)
		}
		if !closedWithin(conn, 5*time.Second) {
			t.Fatal("an idle keep-alive connection is still open 5 s after its request, past the idle timeout")
		}
	})
	t.Run("slow body", func(t *testing.T) {
		conn := dial()
		io.WriteString(conn, "GET /metrics HTTP/1.1\r\nHost: admin\r\nContent-Length: 100\r\n\r\n0123456789")
		if !closedWithin(conn, 5*time.Second) {
			t.Fatal("a request whose body trickles in is still being read 5 s later, past the read timeout")
		}
	})
	t.Run("tap outlives the timeouts", func(t *testing.T) {
		conn := dial()
		io.WriteString(conn, "GET /tap HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /tap: %v %v", resp, err)
		}
		time.Sleep(1 * time.Second) // past the read and idle timeouts
		rec := `{"v":1,"id":"tap-after-timeouts","site":"s"}`
		if err := p.Append([]byte(rec), upstream.RouteTo(0)); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || !strings.Contains(line, "tap-after-timeouts") {
			t.Fatalf("the tap stream after the timeouts: %q, %v; want the record appended", line, err)
		}
	})
}

// TestTokenMatches: the admin token is accepted exactly, and refused when
// shorter, longer, a prefix, empty or different, all through digests of the
// same length (a plain constant-time compare returns at once on a length
// difference, which tells a prober the token's length).
func TestTokenMatches(t *testing.T) {
	want := []byte("s3cret-admin-token")
	if !tokenMatches([]byte("s3cret-admin-token"), want) {
		t.Fatal("the token itself was refused")
	}
	for _, got := range []string{"", "s3cret", "s3cret-admin-token ", "s3cret-admin-tokeN", "x"} {
		if tokenMatches([]byte(got), want) {
			t.Errorf("tokenMatches(%q) = true", got)
		}
	}
}

// TestCloseMessage: the stop's warning tells a flush cut short by
// shutdown_timeout from a destination or spool that failed to close (a
// file destination's last fsync, the spool's disk): until 2026-12-06 both
// read "delivery did not finish; the rest stays in the spool", which sent
// operators looking at the timeout when the disk had failed.
func TestCloseMessage(t *testing.T) {
	late := fmt.Errorf(`upstream: ["warehouse"] not drained, the rest stays in the spool: %w`, context.DeadlineExceeded)
	failed := errors.New(`upstream: closing "local": fsync: input/output error`)
	for _, c := range []struct {
		err  error
		want string
	}{
		{late, "delivery did not finish in time; the rest stays in the spool"},
		{errors.Join(late), "delivery did not finish in time; the rest stays in the spool"},
		{errors.Join(failed), "closing a destination or the spool failed"},
		{failed, "closing a destination or the spool failed"},
		{errors.Join(failed, late), "delivery did not finish in time, and closing a destination or the spool failed"},
	} {
		if got := closeMessage(c.err); !strings.HasPrefix(got, c.want) {
			t.Errorf("closeMessage(%v) = %q; want it to start %q", c.err, got, c.want)
		}
	}
}

// TestAdminListenerCapsConnections: the admin listener holds at most
// adminMaxConnsPerPeer connections of one peer address open; one more from
// that peer is closed at once, unanswered, while other peers (the health
// check on loopback, a scraper) are still served. Its total is capped too
// (TestE2EAdminConnFlood): before 2026-12-07 neither was, and connections
// to it, which answer anyone who reaches it, could use up the process's
// file descriptors.
func TestAdminListenerCapsConnections(t *testing.T) {
	base, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	ln := newAdminListener(base, 64, reg)
	a := &app{}
	var stopping atomic.Bool
	srv := newAdminServer(a.adminMux(reg, &stopping, false), slog.New(slog.DiscardHandler), defaultAdminTimeouts)
	go srv.Serve(ln)
	defer srv.Close()

	dialFrom := func(ip string) net.Conn {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 2 * time.Second}
		c, err := d.Dial("tcp", base.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closed reports whether the server closed c within d.
	closed := func(c net.Conn, d time.Duration) bool {
		c.SetReadDeadline(time.Now().Add(d))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
	healthz := func(c net.Conn) int {
		t.Helper()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: admin\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	var held []net.Conn
	for range adminMaxConnsPerPeer {
		held = append(held, dialFrom("127.0.0.7"))
	}
	extra := dialFrom("127.0.0.7")
	if !closed(extra, 2*time.Second) {
		t.Fatalf("connection %d of one peer is still open; want it closed at once", adminMaxConnsPerPeer+1)
	}
	for i, c := range held {
		if closed(c, 10*time.Millisecond) {
			t.Fatalf("the peer's connection %d of %d was closed", i+1, adminMaxConnsPerPeer)
		}
	}
	// The refusal is counted (no label: nothing names the peer).
	if n := registryValue(t, reg, "beacongate_admin_connections_refused_total"); n != 1 {
		t.Fatalf("beacongate_admin_connections_refused_total = %v; want 1", n)
	}
	if st := healthz(dialFrom("127.0.0.1")); st != 200 {
		t.Fatalf("/healthz from another peer while one holds its cap: %d", st)
	}
	if st := healthz(held[0]); st != 200 {
		t.Fatalf("/healthz on a held connection: %d", st)
	}
	// A connection closed frees the peer's slot.
	held[1].Close()
	deadline := time.Now().Add(3 * time.Second)
	for {
		if st := healthz(dialFrom("127.0.0.7")); st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the peer's slot was not freed when one of its connections closed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAdminTokenSchemeAnyCase: the admin token is taken in an
// Authorization header whose scheme is written in any case, as RFC 9110
// (11.1) and RFC 6750 have it ("bearer TOKEN" is the same credentials as
// "Bearer TOKEN"), also with more than one space before the token. Until
// 2026-12-07 only "Bearer " was read: a client writing the scheme in
// lower case got 401 saying the endpoint needs the token it had sent.
func TestAdminTokenSchemeAnyCase(t *testing.T) {
	const token = "0123456789abcdef-admin"
	a := &app{adminToken: []byte(token)}
	reg := prometheus.NewRegistry()
	var stopping atomic.Bool
	addr := serveAdmin(t, a.adminMux(reg, &stopping, true), defaultAdminTimeouts)
	for _, c := range []struct {
		auth string
		want int
	}{
		{"Bearer " + token, 200},
		{"bearer " + token, 200},
		{"BEARER " + token, 200},
		{"Bearer   " + token, 200},
		{"Bearer", 401},
		{"Bearer " + token + "x", 401},
		{"Basic " + token, 401},
		{"Bearer" + token, 401},
		{"", 401},
	} {
		req, _ := http.NewRequest("GET", "http://"+addr+"/debug/pprof/", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("Authorization %q: %d; want %d", strings.Replace(c.auth, token, "TOKEN", 1), resp.StatusCode, c.want)
		}
	}
}

// TestAdminListenerDropsStalledReaders: the admin listener bounded how long
// it waited for a request's headers and body, but not for the client to
// take its answer. A client that sent GET /metrics (or anything else
// anyone may ask: /healthz, a 404, a guarded endpoint's 401) many times
// over one connection and read nothing held the connection for ever, its
// handler blocked in a write once the socket buffers were full: 64 such
// connections (16 from each of 4 addresses, or from one IPv6 /64) took
// every admin connection slot, and the health checks and scrapes waited in
// the accept queue until the orchestrator restarted the gateway. An answer
// to a peer without the admin token (or loopback) is now written within the
// write bound or its connection is closed.
func TestAdminListenerDropsStalledReaders(t *testing.T) {
	reg := prometheus.NewRegistry()
	// About 1 MB of metrics, so that a few answers fill the buffers.
	big := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "beacongate_test_padding", Help: "padding"}, []string{"k"})
	reg.MustRegister(big)
	for i := range 4000 {
		big.WithLabelValues(fmt.Sprintf("%04d-%s", i, strings.Repeat("x", 200))).Set(1)
	}
	a := &app{}
	var stopping atomic.Bool
	to := adminTimeouts{header: 300 * time.Millisecond, read: 300 * time.Millisecond, idle: 300 * time.Millisecond, write: 300 * time.Millisecond}
	addr := serveAdmin(t, a.adminMux(reg, &stopping, true), to)

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const asks = 32
	go io.WriteString(conn, strings.Repeat("GET /metrics HTTP/1.1\r\nHost: admin\r\n\r\n", asks))
	time.Sleep(1500 * time.Millisecond) // read nothing, well past the write bound
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, _ := io.Copy(io.Discard, conn)
	one := int64(0)
	if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
		one, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if one < 500_000 {
		t.Fatalf("GET /metrics answered %d bytes; want the padding's megabyte", one)
	}
	if n >= asks*one {
		t.Fatalf("a connection that read nothing for 1.5 s still got all %d answers (%d bytes): the server waited for it past the write bound", asks, n)
	}
	// A request guard lets through (loopback here) is not bound: a CPU
	// profile writes only after its seconds.
	resp, err := http.Get("http://" + addr + "/debug/pprof/profile?seconds=1")
	if err != nil {
		t.Fatalf("a 1 s profile, longer than the write bound: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("a 1 s profile, longer than the write bound: %d, %d bytes, %v", resp.StatusCode, len(body), err)
	}
}

// TestAdminLoopbackRefusesOtherSitesPages: without an admin token the
// guarded endpoints answer loopback peers, and a loopback peer was all
// they checked. A browser on the gateway's host (the quickstart's laptop)
// is a loopback peer for any page it shows: a page of another site could
// POST /-/reload (a form needs no preflight), and one whose name it
// re-points at 127.0.0.1 (DNS rebinding) could read GET /tap's records and
// the profiles as its own. A loopback peer's request must now name a
// loopback host and come from no other site's page (Origin,
// Sec-Fetch-Site); curl, beacongate tap, a port forward or an SSH tunnel
// name 127.0.0.1, [::1] or localhost and send neither.
func TestAdminLoopbackRefusesOtherSitesPages(t *testing.T) {
	a := &app{}
	reg := prometheus.NewRegistry()
	var stopping atomic.Bool
	addr := serveAdmin(t, a.adminMux(reg, &stopping, true), defaultAdminTimeouts)
	_, port, _ := net.SplitHostPort(addr)
	for _, c := range []struct {
		name    string
		headers []string
		want    int
	}{
		{"curl", nil, 200},
		{"localhost", []string{"Host", "localhost:" + port}, 200},
		{"LOCALHOST", []string{"Host", "LOCALHOST"}, 200},
		{"ipv6 loopback", []string{"Host", "[::1]:" + port}, 200},
		{"127.0.1.1", []string{"Host", "127.0.1.1:" + port}, 200},
		{"same-origin page", []string{"Origin", "http://127.0.0.1:" + port, "Sec-Fetch-Site", "same-origin"}, 200},
		{"rebound name", []string{"Host", "rebind.attacker.example:" + port}, 403},
		{"rebound name, no port", []string{"Host", "rebind.attacker.example"}, 403},
		{"other site's page", []string{"Origin", "https://attacker.example"}, 403},
		{"opaque origin", []string{"Origin", "null"}, 403},
		{"cross-site, no origin", []string{"Sec-Fetch-Site", "cross-site"}, 403},
	} {
		req, _ := http.NewRequest("GET", "http://"+addr+"/debug/pprof/", nil)
		for i := 0; i < len(c.headers); i += 2 {
			if c.headers[i] == "Host" {
				req.Host = c.headers[i+1]
			} else {
				req.Header.Set(c.headers[i], c.headers[i+1])
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d; want %d", c.name, resp.StatusCode, c.want)
		}
	}
}

// TestAdminPeerCapCountsAnIPv6NetworkAsOnePeer: one IPv6 host holds a
// whole /64 and can take a new address in it for every connection; the
// admin listener's per-peer cap counted each address apart, so one host
// could hold every admin connection (and keep /healthz from answering).
// It counts the /64 now, as the public listener does. (Loopback has no
// /64 of addresses to dial from: the listener under test is given
// connections with the peer addresses an IPv6 host would have.)
func TestAdminPeerCapCountsAnIPv6NetworkAsOnePeer(t *testing.T) {
	conns := make(chan net.Conn, 64)
	base := &addrListener{conns: conns}
	l := &peerCapListener{Listener: base, max: adminMaxConnsPerPeer, open: map[netip.Addr]int{}, refused: prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})}
	var kept []net.Conn
	accept := func(peer string) (net.Conn, bool) {
		t.Helper()
		c, s := net.Pipe()
		t.Cleanup(func() { c.Close(); s.Close() })
		conns <- remoteAddrConn{Conn: s, remote: net.TCPAddrFromAddrPort(netip.MustParseAddrPort(peer))}
		before := len(conns)
		if before == 0 {
			t.Fatal("no connection queued")
		}
		// Accept returns the connection or refuses it and waits for the
		// next: queue a marker from another network behind it.
		m, ms := net.Pipe()
		t.Cleanup(func() { m.Close(); ms.Close() })
		conns <- remoteAddrConn{Conn: ms, remote: net.TCPAddrFromAddrPort(netip.MustParseAddrPort("[2001:db8:ffff::1]:1"))}
		got, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		if got.RemoteAddr().String() == "[2001:db8:ffff::1]:1" {
			return nil, false
		}
		// Take the marker back off the queue, unaccepted.
		<-conns
		return got, true
	}
	for i := range adminMaxConnsPerPeer {
		c, ok := accept(fmt.Sprintf("[2001:db8:1:2::%x]:4000", i+1))
		if !ok {
			t.Fatalf("connection %d from the /64 refused; want the first %d accepted", i+1, adminMaxConnsPerPeer)
		}
		kept = append(kept, c)
	}
	if _, ok := accept("[2001:db8:1:2:ffff::77]:4000"); ok {
		t.Fatalf("connection %d from one /64, from yet another address in it, accepted; want it refused", adminMaxConnsPerPeer+1)
	}
	if _, ok := accept("[2001:db8:1:3::1]:4000"); !ok {
		t.Fatal("a connection from another /64 refused")
	}
	kept[0].Close()
	if _, ok := accept("[2001:db8:1:2::abcd]:4000"); !ok {
		t.Fatal("after one of the /64's connections closed, its next was refused")
	}
}

// addrListener hands out the connections queued on conns.
type addrListener struct{ conns chan net.Conn }

func (l *addrListener) Accept() (net.Conn, error) { return <-l.conns, nil }
func (l *addrListener) Close() error              { return nil }
func (l *addrListener) Addr() net.Addr            { return &net.TCPAddr{IP: net.IPv6loopback} }

// remoteAddrConn is a connection with the peer address of a remote host.
type remoteAddrConn struct {
	net.Conn
	remote net.Addr
}

func (c remoteAddrConn) RemoteAddr() net.Addr { return c.remote }

// serveAdmin serves mux as the admin listener does, with timeouts to, on
// 127.0.0.1 until the test ends, and returns its address.
func serveAdmin(t *testing.T, mux http.Handler, to adminTimeouts) string {
	t.Helper()
	srv := newAdminServer(mux, slog.New(slog.DiscardHandler), to)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}
