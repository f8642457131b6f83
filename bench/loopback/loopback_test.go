package loopback

import (
	"context"
	"net"
	"testing"
)

func TestParse(t *testing.T) {
	ok := func(raw, addr, host, path string) {
		t.Helper()
		tg, err := Parse(raw)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		if tg.Addr.String() != addr || tg.Host != host || tg.Path != path {
			t.Fatalf("%q: got %v %q %q; want %s %q %q", raw, tg.Addr, tg.Host, tg.Path, addr, host, path)
		}
	}
	ok("http://127.0.0.1:8080", "127.0.0.1:8080", "127.0.0.1:8080", "/")
	ok("127.0.0.1:8080", "127.0.0.1:8080", "127.0.0.1:8080", "/")
	ok("http://127.1.2.3:80/metrics", "127.1.2.3:80", "127.1.2.3:80", "/metrics")
	ok("http://localhost:9100/metrics?x=1", "127.0.0.1:9100", "localhost:9100", "/metrics?x=1")
	ok("http://LocalHost:1", "127.0.0.1:1", "LocalHost:1", "/")
	ok("http://[::1]:8080/", "[::1]:8080", "[::1]:8080", "/")
	ok("http://[::ffff:127.0.0.1]:8080", "127.0.0.1:8080", "[::ffff:127.0.0.1]:8080", "/")

	bad := func(raw string) {
		t.Helper()
		if tg, err := Parse(raw); err == nil {
			t.Fatalf("%q: accepted as %v", raw, tg.Addr)
		}
	}
	bad("http://10.0.0.1:8080")
	bad("http://192.168.1.10:8080")
	bad("http://172.16.0.1:80")
	bad("http://8.8.8.8:80")
	bad("http://0.0.0.0:8080")
	bad("http://[::]:8080")
	bad("http://[::ffff:10.0.0.1]:8080")
	bad("http://[fe80::1]:8080")
	bad("http://example.com:80")
	bad("http://localhost.:8080")
	bad("http://localhost.example.com:8080")
	bad("http://127.1:8080") // shorthand is not an IP literal netip accepts; refuse rather than guess
	bad("http://2130706433:8080")
	bad("https://127.0.0.1:8443")
	bad("ftp://127.0.0.1:21")
	bad("http://127.0.0.1")
	bad("http://127.0.0.1:0")
	bad("http://127.0.0.1:65536")
	bad("http://user:pw@127.0.0.1:80")
	bad("")
}

func TestCheckAddr(t *testing.T) {
	f := func(addr string, ok bool) {
		t.Helper()
		if _, err := CheckAddr(addr); (err == nil) != ok {
			t.Fatalf("%q: err = %v; want ok=%v", addr, err, ok)
		}
	}
	f("127.0.0.1:80", true)
	f("[::1]:80", true)
	f("localhost:80", true)
	f("10.1.1.1:80", false)
	f("example.com:80", false)
	f("127.0.0.1", false)
	f("127.0.0.1:x", false)
}

func TestDialRefuses(t *testing.T) {
	// A refused address must fail before any connection attempt.
	if c, err := Dial(context.Background(), "192.0.2.1:80"); err == nil {
		c.Close()
		t.Fatal("dialled a non-loopback address")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := Dial(context.Background(), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
