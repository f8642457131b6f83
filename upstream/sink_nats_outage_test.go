package upstream

import (
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNATSOutageLogSaysDisconnected: while no NATS server can be reached
// (an outage, or a start with the servers down), every publish fails at
// once, since nothing is buffered while disconnected, with nats.go's
// "outbound buffer limit exceeded". That was the error the gateway logged
// every 30 s for the whole outage, sending an operator to look at buffer
// sizes (max_pending) instead of the servers. The warning must say that
// no server is connected, and why the last attempt failed.
func TestNATSOutageLogSaysDisconnected(t *testing.T) {
	ns := startNATS(t)
	natsStream(t, ns.url())
	var logs lockedBuffer
	p := openP(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Destinations: []DestinationOptions{natsDest(ns.url())}})
	var a appender
	a.run(t, p, "n", 1, 10, RouteTo(0))
	waitFor(t, "the first records delivered", 10*time.Second, func() bool { return p.Stats()[0].Records >= 10 })

	ns.stop()
	// Stand in for the server long enough to see the client try to
	// reconnect, and fail: the next send has a reason to give.
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(ns.port))
	if err != nil {
		t.Fatal(err)
	}
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	l.Close()
	a.run(t, p, "o", 1, 10, RouteTo(0))
	waitFor(t, "a failed send logged", 10*time.Second, func() bool { return strings.Contains(logs.String(), "send failed") })
	line := logs.String()[strings.Index(logs.String(), "send failed"):]
	line, _, _ = strings.Cut(line, "\n")
	if strings.Contains(line, "buffer") || !strings.Contains(line, "not connected to a NATS server") || !strings.Contains(line, "the last attempt failed: ") {
		t.Fatalf("the outage is logged as %q; want it to say no server is connected, and why", line)
	}

	ns.start()
	acked := a.ackedIDs()
	waitFor(t, "delivery after the server is back", 30*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	closeP(t, p)
	if len(acked) != 20 {
		t.Fatalf("acked %d of 20", len(acked))
	}
}
