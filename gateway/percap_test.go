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
// too_many_connections (no address in any label); one that sends nothing is
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
		strings.Contains(string(body), "MaxConnsPerIP") {
		t.Fatalf("over the cap: %d close=%v %q; want 429, Connection: close, a body naming server.max_conns_per_ip",
			resp.StatusCode, resp.Close, body)
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
