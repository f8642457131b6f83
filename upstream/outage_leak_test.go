package upstream

import (
	"context"
	"net"
	"net/http"
	"os"
	"runtime"
	"testing"
	"time"
)

// tightRetry makes a failing destination try again every millisecond, so
// that a test sees thousands of failed attempts in seconds.
var tightRetry = RetryOptions{Initial: time.Millisecond, Max: time.Millisecond}

// openFDs returns how many file descriptors the process holds, or -1 where
// /proc/self/fd cannot be read.
func openFDs() int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(es)
}

// settledGoroutines returns the number of goroutines once it is at most
// bound, or after a second of waiting for it to get there (goroutines of
// a connection being closed end a moment later).
func settledGoroutines(bound int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 100 && n > bound; i++ {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// checkNoGrowth lets destination 0 of p fail from warm to warm+more
// attempts and fails the test if goroutines or file descriptors grew
// meanwhile: an outage of days is millions of attempts.
func checkNoGrowth(t *testing.T, p *Pipeline, warm, more uint64) {
	t.Helper()
	waitFor(t, "the first failed attempts", 30*time.Second, func() bool { return p.Stats()[0].Retries >= warm })
	g0, f0 := settledGoroutines(0), openFDs()
	waitFor(t, "more failed attempts", 60*time.Second, func() bool { return p.Stats()[0].Retries >= warm+more })
	g1, f1 := settledGoroutines(g0), openFDs()
	// A margin of a few for the attempt in progress at either count.
	if g1 > g0+2 || f1 > f0+4 {
		t.Fatalf("after %d more failed attempts: goroutines %d -> %d, file descriptors %d -> %d", more, g0, g1, f0, f1)
	}
	t.Logf("%d failed attempts: goroutines %d -> %d, file descriptors %d -> %d", p.Stats()[0].Retries, g0, g1, f0, f1)
}

// closeNow closes p without waiting for the failing destination.
func closeNow(p *Pipeline) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.Close(ctx)
}

// TestOutageLeavesNothingBehind: a destination that fails every attempt
// (an HTTP collector refusing connections, answering 503, or taking the
// request and never answering; a NATS server down; Kafka brokers down)
// keeps no goroutine, timer, connection or file descriptor per attempt.
func TestOutageLeavesNothingBehind(t *testing.T) {
	for _, mode := range []string{"refused", "503", "silent"} {
		t.Run("http "+mode, func(t *testing.T) {
			var url string
			switch mode {
			case "refused":
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				url = "http://" + l.Addr().String()
				l.Close()
			case "503":
				c := newCollector(t)
				c.setBehave(func(int64, http.ResponseWriter, *http.Request) int { return http.StatusServiceUnavailable })
				url = c.srv.URL
			case "silent": // reads the request, never answers
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { l.Close() })
				go func() {
					for {
						c, err := l.Accept()
						if err != nil {
							return
						}
						go func() {
							defer c.Close()
							b := make([]byte, 32<<10)
							for {
								if _, err := c.Read(b); err != nil {
									return
								}
							}
						}()
					}
				}()
				url = "http://" + l.Addr().String()
			}
			d := httpDest("down", url)
			d.Retry = tightRetry
			d.SendTimeout = 5 * time.Millisecond
			p := openP(t, Options{Destinations: []DestinationOptions{d}})
			defer closeNow(p)
			var a appender
			a.run(t, p, "h", 1, 20, RouteTo(0))
			checkNoGrowth(t, p, 100, 1000)
		})
	}
	t.Run("nats", func(t *testing.T) {
		ns := startNATS(t)
		natsStream(t, ns.url())
		d := natsDest(ns.url())
		d.Retry = tightRetry
		p := openP(t, Options{Destinations: []DestinationOptions{d}})
		defer closeNow(p)
		ns.stop()
		var a appender
		a.run(t, p, "n", 1, 20, RouteTo(0))
		checkNoGrowth(t, p, 100, 2000)
	})
	t.Run("kafka", func(t *testing.T) {
		c := newKafka(t)
		d := kafkaDest(c.ListenAddrs())
		d.Retry = tightRetry
		d.SendTimeout = 10 * time.Millisecond
		p := openP(t, Options{Destinations: []DestinationOptions{d}})
		defer closeNow(p)
		var a appender
		a.run(t, p, "k", 1, 20, RouteTo(0))
		waitFor(t, "the first records produced", 10*time.Second, func() bool { return p.Stats()[0].Records >= 20 })
		c.Close()
		a.run(t, p, "l", 1, 20, RouteTo(0))
		checkNoGrowth(t, p, 20, 100) // each attempt waits for franz-go's own dial backoff
	})
}
