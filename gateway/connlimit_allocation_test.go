//go:build !race

package gateway

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestConnLimitAllocs: the per-request part of a limited connection (Read
// and Write bookkeeping) does not allocate.
func TestConnLimitAllocs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ll := NewLimitedListener(ln, 4, nil)
	defer ll.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sc, err := ll.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	req, resp := []byte("GET / HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 204 No Content\r\n\r\n")
	rbuf, cbuf := make([]byte, 64), make([]byte, 64)
	n := testing.AllocsPerRun(1000, func() {
		client.Write(req)
		sc.Read(rbuf)
		sc.Write(resp)
		client.Read(cbuf)
	})
	if n != 0 {
		t.Fatalf("allocs per request on a limited connection = %v; want 0", n)
	}
}

// TestTrackedConnAllocs: a request on a connection from Gateway.Listener,
// with fasthttp's three deadline updates (coarse), does not allocate.
func TestTrackedConnAllocs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := New(Settings{}, nil)
	tl := g.Listener(ln)
	defer tl.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sc, err := tl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	req, resp := []byte("GET /p.gif HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 204 No Content\r\n\r\n")
	rbuf, cbuf := make([]byte, 64), make([]byte, 64)
	n := testing.AllocsPerRun(1000, func() {
		sc.SetReadDeadline(time.Now().Add(time.Minute))
		client.Write(req)
		sc.Read(rbuf)
		sc.SetReadDeadline(time.Now().Add(5 * time.Second))
		sc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		sc.Write(resp)
		client.Read(cbuf)
	})
	if n != 0 {
		t.Fatalf("allocs per request on a tracked connection = %v; want 0", n)
	}
}

// TestOversizeBodyAllocs: a body over the limit (up to twice it) is
// answered 413 on a connection kept open, without allocating, where a
// refusal by fasthttp closed the connection and each new connection cost
// about 14 allocations.
func TestOversizeBodyAllocs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := New(Settings{}, nil)
	srv := g.NewServer(ServerOptions{MaxBodyBytes: 1024})
	go srv.Serve(g.Listener(ln))
	defer srv.Shutdown()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	// A stalled server fails the test instead of hanging it.
	if err := client.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	req := []byte("POST /b HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1500\r\n\r\n" + strings.Repeat("x", 1500))
	br := bufio.NewReader(client)
	var resp fasthttp.Response
	do := func() {
		if _, err := client.Write(req); err != nil {
			t.Fatal(err)
		}
		resp.Reset()
		if err := resp.Read(br); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode() != 413 || resp.ConnectionClose() {
			t.Fatalf("oversize body: %d, connection closed %v; want 413 on a kept connection", resp.StatusCode(), resp.ConnectionClose())
		}
	}
	for range 100 {
		do()
	}
	if n := testing.AllocsPerRun(1000, do); n != 0 {
		t.Fatalf("allocs per oversize request = %v; want 0", n)
	}
}
