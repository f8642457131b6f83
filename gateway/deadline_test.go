package gateway

import (
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beacongate/beacongate/internal/conntest"
)

// armCounter counts the deadlines armed on a real connection.
type armCounter struct {
	net.Conn
	reads, writes atomic.Int64
}

func (c *armCounter) SetReadDeadline(t time.Time) error {
	c.reads.Add(1)
	return c.Conn.SetReadDeadline(t)
}

func (c *armCounter) SetWriteDeadline(t time.Time) error {
	c.writes.Add(1)
	return c.Conn.SetWriteDeadline(t)
}

// coarsePair returns a coarse server side and the client side of a real
// loopback TCP connection, and the counter under the coarse side.
func coarsePair(t *testing.T) (*coarseConn, *armCounter, net.Conn) {
	t.Helper()
	client, server := conntest.Pair(t)
	counter := &armCounter{Conn: server}
	return &coarseConn{Conn: counter}, counter, client
}

// TestCoarseDeadlinesSkipBusyRequests: fasthttp's three deadlines per
// request (idle wait, request read, response write) arm the socket a few
// times in a burst of requests, not three times per request.
func TestCoarseDeadlinesSkipBusyRequests(t *testing.T) {
	c, counter, client := coarsePair(t)
	req, resp := []byte("GET / HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 204 No Content\r\n\r\n")
	buf := make([]byte, 64)
	const requests = 1000
	began := time.Now()
	for range requests {
		c.SetReadDeadline(time.Now().Add(60 * time.Second)) // idle wait
		client.Write(req)
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second)) // request read
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(resp); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(client, buf[:len(resp)]); err != nil {
			t.Fatal(err)
		}
	}
	// Each direction re-arms at most once per slack (250 ms) that passes,
	// plus the first arms.
	periods := int64(time.Since(began)/maxDeadlineSlack) + 1
	if r, w := counter.reads.Load(), counter.writes.Load(); r > 2*periods+1 || w > periods+1 {
		t.Fatalf("%d requests in %v armed %d read and %d write deadlines; want at most %d and %d",
			requests, time.Since(began), r, w, 2*periods+1, periods+1)
	}
}

// TestCoarseDeadlineNeverEarly: a later deadline leaves an earlier one
// armed; when that fires, the read is resumed under the later one, so data
// arriving before the later deadline is read.
func TestCoarseDeadlineNeverEarly(t *testing.T) {
	c, counter, client := coarsePair(t)
	c.SetReadDeadline(time.Now().Add(40 * time.Millisecond))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n := counter.reads.Load(); n != 1 {
		t.Fatalf("armed %d times; want 1 (the later deadline waits for the earlier one to fire)", n)
	}
	time.AfterFunc(200*time.Millisecond, func() { client.Write([]byte("x")) })
	buf := make([]byte, 8)
	n, err := c.Read(buf)
	if err != nil || n != 1 {
		t.Fatalf("Read = %d, %v; want the byte sent after the earlier deadline", n, err)
	}
	if got := counter.reads.Load(); got != 2 {
		t.Fatalf("armed %d times; want 2 (re-armed once when the earlier deadline fired)", got)
	}
}

// TestCoarseDeadlineLiftedLazily: a deadline lifted (zero) after one was
// armed does not fire either.
func TestCoarseDeadlineLiftedLazily(t *testing.T) {
	c, _, client := coarsePair(t)
	c.SetReadDeadline(time.Now().Add(40 * time.Millisecond))
	c.SetReadDeadline(time.Time{})
	time.AfterFunc(200*time.Millisecond, func() { client.Write([]byte("x")) })
	if n, err := c.Read(make([]byte, 8)); err != nil || n != 1 {
		t.Fatalf("Read = %d, %v; want the byte, no timeout", n, err)
	}
}

// TestCoarseDeadlineShortensAndFires: an earlier deadline is armed at once,
// and fires as a timeout no earlier than asked and at most the slack late
// (with room for a busy machine).
func TestCoarseDeadlineShortensAndFires(t *testing.T) {
	c, _, _ := coarsePair(t)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	const timeout = 100 * time.Millisecond
	began := time.Now()
	c.SetReadDeadline(began.Add(timeout))
	_, err := c.Read(make([]byte, 8))
	took := time.Since(began)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read err = %v; want a timeout", err)
	}
	if took < timeout || took > 5*time.Second {
		t.Fatalf("timed out after %v; want %v to %v plus scheduling", took, timeout, timeout+timeout/4)
	}
}

// TestCoarseDeadlineCancelsBlockedRead: a deadline in the past set from
// another goroutine unblocks a Read at once, as on a plain connection.
func TestCoarseDeadlineCancelsBlockedRead(t *testing.T) {
	c, _, _ := coarsePair(t)
	c.SetReadDeadline(time.Now().Add(time.Minute))
	time.AfterFunc(50*time.Millisecond, func() { c.SetReadDeadline(time.Now()) })
	began := time.Now()
	_, err := c.Read(make([]byte, 8))
	if !isDeadline(err) || time.Since(began) > 5*time.Second {
		t.Fatalf("Read = %v after %v; want a timeout soon after 50ms", err, time.Since(began))
	}
}

// TestCoarseWriteDeadlineResumes: a write that outlasts an earlier armed
// deadline but not the requested later one completes.
func TestCoarseWriteDeadlineResumes(t *testing.T) {
	c, counter, client := coarsePair(t)
	c.SetWriteDeadline(time.Now().Add(40 * time.Millisecond))
	c.SetWriteDeadline(time.Now().Add(20 * time.Second))
	big := make([]byte, 32<<20) // more than the socket buffers hold
	got := make(chan int64, 1)
	time.AfterFunc(300*time.Millisecond, func() {
		n, _ := io.Copy(io.Discard, client)
		got <- n
	})
	n, err := c.Write(big)
	if err != nil || n != len(big) {
		t.Fatalf("Write = %d, %v; want all %d bytes", n, err, len(big))
	}
	if counter.writes.Load() < 2 {
		t.Fatalf("armed %d write deadlines; the earlier one never fired, so the test proved nothing", counter.writes.Load())
	}
	c.Conn.Close()
	if r := <-got; r != int64(len(big)) {
		t.Fatalf("client read %d bytes; want %d", r, len(big))
	}
}

// TestCoarseWriteDeadlineFires: a write the peer never reads fails with a
// timeout once the requested deadline has passed.
func TestCoarseWriteDeadlineFires(t *testing.T) {
	c, _, _ := coarsePair(t)
	began := time.Now()
	c.SetWriteDeadline(began.Add(100 * time.Millisecond))
	n, err := c.Write(make([]byte, 32<<20))
	if !isDeadline(err) || n >= 32<<20 || time.Since(began) < 100*time.Millisecond {
		t.Fatalf("Write = %d, %v after %v; want a timeout after 100ms", n, err, time.Since(began))
	}
}

// BenchmarkRequestDeadlines: fasthttp's three deadline updates per request
// on a keep-alive connection, on the plain connection and coarse.
func BenchmarkRequestDeadlines(b *testing.B) {
	_, server := conntest.Pair(b)
	for _, bc := range []struct {
		name string
		conn net.Conn
	}{{"plain", server}, {"coarse", &coarseConn{Conn: server}}} {
		b.Run(bc.name, func(b *testing.B) {
			c := bc.conn
			for b.Loop() {
				c.SetReadDeadline(time.Now().Add(60 * time.Second))
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			}
		})
	}
}
