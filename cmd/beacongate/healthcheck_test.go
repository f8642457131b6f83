package main

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"
)

// TestHealthcheckTimeoutMustBePositive: -timeout 0 gave an HTTP client
// without any timeout, so a gateway that accepts the connection and never
// answers (stuck, or its admin listener's backlog) held the health check
// forever, and a negative one failed at once with "unhealthy" though
// nothing was asked of the gateway. Both are refused as bad usage (exit 2).
func TestHealthcheckTimeoutMustBePositive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts, never answers
		var held []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	for _, timeout := range []string{"0", "-1s"} {
		done := make(chan struct{})
		var out, errb bytes.Buffer
		code := -1
		go func() {
			code = run([]string{"healthcheck", "-admin", ln.Addr().String(), "-timeout", timeout}, nil, &out, &errb)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("-timeout %s: still waiting after 10 s for a gateway that never answers", timeout)
		}
		if code != 2 || !strings.Contains(errb.String(), "-timeout") {
			t.Errorf("-timeout %s: exit %d, stdout %q, stderr %q; want 2 and a word on -timeout", timeout, code, out.String(), errb.String())
		}
	}
}
