package gateway

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// startLimited serves a Gateway with o through a LimitedListener of
// o.MaxConns on a real loopback listener, wrapped by Gateway.Listener as
// the server does.
func startLimited(t *testing.T, o ServerOptions) (*LimitedListener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ll := NewLimitedListener(ln, o.MaxConns, prometheus.NewRegistry())
	g := New(Settings{}, nil)
	srv := g.NewServer(o)
	go srv.Serve(g.Listener(ll))
	t.Cleanup(func() { srv.Shutdown() })
	return ll, ln.Addr().String()
}

// keepAlive is one client connection that sends pixel requests.
type keepAlive struct {
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *keepAlive {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &keepAlive{c: c, br: bufio.NewReader(c)}
}

// pixel sends one pixel request and reads the answer; it returns the status
// or an error if the connection was closed.
func (k *keepAlive) pixel(timeout time.Duration) (int, error) {
	k.c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(k.c, "GET /p.gif?site=a HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(k.br, nil)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestLimitedListenerShedsOldestIdle: at the cap, a new connection is served
// and the connection idle longest is closed to make room.
func TestLimitedListenerShedsOldestIdle(t *testing.T) {
	ll, addr := startLimited(t, ServerOptions{MaxConns: 2})
	a, b := dial(t, addr), dial(t, addr)
	for i, k := range []*keepAlive{a, b} {
		if st, err := k.pixel(5 * time.Second); err != nil || st != 200 {
			t.Fatalf("pixel: %d %v", st, err)
		}
		// The server marks a connection idle when it starts reading the
		// next request, a moment after the response: wait for it, so a is
		// idle before b under any load.
		waitIdle(t, ll, i+1)
	}
	c := dial(t, addr)
	if st, err := c.pixel(5 * time.Second); err != nil || st != 200 {
		t.Fatalf("third connection at the cap: %d %v", st, err)
	}
	// a was idle longest: closed. b stays usable.
	if _, err := a.pixel(5 * time.Second); err == nil {
		t.Fatal("the oldest idle connection was not closed")
	}
	if st, err := b.pixel(5 * time.Second); err != nil || st != 200 {
		t.Fatalf("the newer idle connection was closed: %d %v", st, err)
	}
	if n := testutil.ToFloat64(ll.metrics.shed); n != 1 {
		t.Fatalf("shed = %v; want 1", n)
	}
	if n := ll.Open(); n > 2 {
		t.Fatalf("open = %d; cap 2", n)
	}
}

// TestLimitedListenerWaitsForBusy: connections in the middle of a request
// are never closed for room; a new one waits until one closes.
func TestLimitedListenerWaitsForBusy(t *testing.T) {
	ll, addr := startLimited(t, ServerOptions{MaxConns: 2})
	a, b := dial(t, addr), dial(t, addr)
	// Half a request each: busy, not idle.
	for _, k := range []*keepAlive{a, b} {
		io.WriteString(k.c, "GET /p.gif?site=a HTTP/1.1\r\n")
	}
	c := dial(t, addr)
	if _, err := c.pixel(300 * time.Millisecond); err == nil {
		t.Fatal("a third connection was served while two busy ones held the cap")
	}
	if n := testutil.ToFloat64(ll.metrics.acceptWaits); n < 1 {
		t.Fatalf("accept waits = %v; want ≥ 1", n)
	}
	c.c.Close()
	a.c.Close()
	d := dial(t, addr)
	if st, err := d.pixel(5 * time.Second); err != nil || st != 200 {
		t.Fatalf("after a connection closed: %d %v", st, err)
	}
	// b finishes its request: it was never shed.
	io.WriteString(b.c, "Host: x\r\n\r\n")
	b.c.SetDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(b.br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("busy connection: %v", err)
	}
	if n := testutil.ToFloat64(ll.metrics.shed); n != 0 {
		t.Fatalf("shed = %v; want 0 (no connection was idle)", n)
	}
}

// TestLimitedListenerClose: Close wakes an Accept waiting for a slot.
func TestLimitedListenerClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ll := NewLimitedListener(ln, 1, nil)
	go net.Dial("tcp", ln.Addr().String())
	c, err := ll.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() { _, err := ll.Accept(); done <- err }()
	ll.Close()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "closed") {
			t.Fatalf("Accept after Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Accept did not return after Close")
	}
}

// waitIdle waits until n connections of ll are marked idle.
func waitIdle(t *testing.T, ll *LimitedListener, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		idle := 0
		ll.mu.Lock()
		for c := range ll.conns {
			if c.idleSince.Load() != 0 {
				idle++
			}
		}
		ll.mu.Unlock()
		if idle >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d connections idle after 5s", idle, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestShedOldestIdleAfterResumedRead: a connection whose early armed read
// deadline fired during its idle wait (coarseConn resumes the Read) keeps
// the moment it turned idle, so at the cap it is still the one shed, not a
// connection that turned idle after it.
func TestShedOldestIdleAfterResumedRead(t *testing.T) {
	// Reads armed at 200 ms plus a 50 ms slack; the idle wait (60 s) is
	// left to them and resumed when they fire.
	ll, addr := startLimited(t, ServerOptions{MaxConns: 2, ReadTimeout: 200 * time.Millisecond})

	a := dial(t, addr)
	if st, err := a.pixel(5 * time.Second); err != nil || st != 200 {
		t.Fatalf("a: %d %v", st, err)
	}
	waitIdle(t, ll, 1)
	time.Sleep(100 * time.Millisecond)
	// Dialled only now: a connection waits ReadTimeout for its first
	// request, which the wait above could use up on a slow machine.
	b := dial(t, addr)
	if st, err := b.pixel(5 * time.Second); err != nil || st != 200 {
		t.Fatalf("b: %d %v", st, err)
	}
	waitIdle(t, ll, 2)
	// a's armed deadline fires about 250 ms after its request and its
	// Read is resumed; b's fires about 100 ms later. Between the two, a
	// new connection sheds the oldest idle one: a.
	time.Sleep(200 * time.Millisecond)
	c := dial(t, addr)
	if st, err := c.pixel(5 * time.Second); err != nil || st != 200 {
		t.Fatalf("third connection at the cap: %d %v", st, err)
	}
	if _, err := a.pixel(2 * time.Second); err == nil {
		t.Fatal("a, idle longest, is still open")
	}
	if st, err := b.pixel(2 * time.Second); err != nil || st != 200 {
		t.Fatalf("b, idle after a, was closed: %d %v", st, err)
	}
}
