// Package conntest gives tests a real TCP connection on the loopback
// interface, both of its ends.
package conntest

import (
	"net"
	"testing"
)

// Pair returns the client and the server end of a new TCP connection on
// 127.0.0.1. Both are closed when tb ends.
func Pair(tb testing.TB) (client, server net.Conn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		client.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}
