package gateway

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMaxConnsPerIPRefusal: on a real server on 127.0.0.1 with
// max_conns_per_ip 2, a third connection from the address is answered 429
// with a body naming server.max_conns_per_ip and closed, and counted in
// rejected_total under the endpoint it asked for, reason
// too_many_connections (no address in any label), with Retry-After 1 (the
// peer's own connections free a slot as they close); one that sends nothing is
// closed unanswered and counted under other; the two connections within
// the cap are served throughout, and closing one lets a new one in.
func TestMaxConnsPerIPRefusal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	g := New(Settings{}, reg)
	srv := g.NewServer(ServerOptions{MaxConnsPerIP: 2})
	go srv.Serve(g.Listener(NewLimitedListener(ln, 100, nil)))
	t.Cleanup(func() { srv.Shutdown() })
	addr := ln.Addr().String()

	a, b := dial(t, addr), dial(t, addr)
	for _, k := range []*keepAlive{a, b} {
		if st, err := k.pixel(5 * time.Second); err != nil || st != 200 {
			t.Fatalf("pixel within the cap: %d %v", st, err)
		}
	}

	c := dial(t, addr)
	c.c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c.c, "GET /p.gif?site=a HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("over the cap: no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || !resp.Close || !strings.Contains(string(body), "server.max_conns_per_ip") ||
		strings.Contains(string(body), "MaxConnsPerIP") || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("over the cap: %d close=%v Retry-After %q %q; want 429, Connection: close, Retry-After 1, a body naming server.max_conns_per_ip",
			resp.StatusCode, resp.Close, resp.Header.Get("Retry-After"), body)
	}
	if _, err := c.br.ReadByte(); err != io.EOF {
		t.Fatalf("over the cap: connection not closed after the answer: %v", err)
	}
	if n := testutil.ToFloat64(g.metrics.rejected[endpointPixel][reasonTooManyConnections]); n != 1 {
		t.Fatalf(`rejected{endpoint="pixel",reason="too_many_connections"} = %v; want 1`, n)
	}

	// A connection over the cap that asks nothing gets no answer.
	silent := dial(t, addr)
	silent.c.SetDeadline(time.Now().Add(5 * time.Second))
	if n, err := silent.br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("silent connection over the cap: read %d bytes, %v; want closed unanswered", n, err)
	}
	if n := testutil.ToFloat64(g.metrics.rejected[endpointOther][reasonTooManyConnections]); n != 1 {
		t.Fatalf(`rejected{endpoint="other",reason="too_many_connections"} = %v; want 1`, n)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if strings.Contains(lp.GetValue(), "127.0.0.1") {
					t.Fatalf("%s has the peer address in label %s", mf.GetName(), lp.GetName())
				}
			}
		}
	}

	// The connections within the cap were never disturbed.
	for _, k := range []*keepAlive{a, b} {
		if st, err := k.pixel(5 * time.Second); err != nil || st != 200 {
			t.Fatalf("pixel within the cap after refusals: %d %v", st, err)
		}
	}

	// Closing one makes room: the server sees the close on its next read,
	// a moment later, so poll (bounded).
	a.c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d := dial(t, addr)
		st, err := d.pixel(5 * time.Second)
		if err == nil && st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no room after a connection closed: %d %v", st, err)
		}
		d.c.Close()
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRefusalsBounded: refused connections are answered on goroutines of
// their own, each holding a descriptor for up to twice refuseWait; an
// address that opens many at once must not pile them up. Past maxRefusing
// in flight, a refused connection is closed at once (and counted).
func TestRefusalsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := New(Settings{}, prometheus.NewRegistry())
	srv := g.NewServer(ServerOptions{MaxConnsPerIP: 1})
	go srv.Serve(g.Listener(NewLimitedListener(ln, 1000, nil)))
	t.Cleanup(func() { srv.Shutdown() })
	addr := ln.Addr().String()

	hold := dial(t, addr)
	if st, err := hold.pixel(5 * time.Second); err != nil || st != 200 {
		t.Fatalf("pixel within the cap: %d %v", st, err)
	}
	const extra = maxRefusing + 100
	conns := make([]net.Conn, 0, extra)
	for range extra {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// None of them sends anything: those answered by refuse wait up to
	// refuseWait; the others are closed at once. Count those closed well
	// before refuseWait.
	closed := make(chan bool, extra)
	early := time.Now().Add(refuseWait / 2)
	for _, c := range conns {
		go func() {
			c.SetReadDeadline(early)
			_, err := c.Read(make([]byte, 1))
			closed <- err == io.EOF
		}()
	}
	closedEarly := 0
	for range conns {
		if <-closed {
			closedEarly++
		}
	}
	if closedEarly < extra-maxRefusing {
		t.Fatalf("%d of %d refused connections closed at once; want at least %d (at most %d answered at a time)",
			closedEarly, extra, extra-maxRefusing, maxRefusing)
	}
	if n := testutil.ToFloat64(g.metrics.rejected[endpointOther][reasonTooManyConnections]); n < extra-maxRefusing {
		t.Fatalf(`rejected{endpoint="other",reason="too_many_connections"} = %v; want the %d closed at once counted`, n, extra-maxRefusing)
	}
}
