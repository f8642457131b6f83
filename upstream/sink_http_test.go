package upstream

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestHTTPHeadersAndToken(t *testing.T) {
	c := newCollector(t)
	tok := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tok, []byte("s3cret\n"), 0o600)
	d := httpDest("api", c.srv.URL)
	d.HTTP.Headers = map[string]string{"X-Api-Key": "k1"}
	d.HTTP.BearerTokenFile = tok
	d.Compression = CodecGzip
	p := openP(t, Options{Destinations: []DestinationOptions{d}})
	var a appender
	a.run(t, p, "h", 1, 10, RouteTo(0))
	waitFor(t, "delivery", 10*time.Second, func() bool { return c.ids.countMissing(a.ackedIDs()) == 0 })
	closeP(t, p)
	h := *c.headers.Load()
	f := func(k, want string) {
		t.Helper()
		if got := h.Get(k); got != want {
			t.Fatalf("%s = %q, want %q", k, got, want)
		}
	}
	f("Authorization", "Bearer s3cret")
	f("X-Api-Key", "k1")
	f("Content-Encoding", "gzip")
	f("Content-Type", "application/x-ndjson")
	if !strings.HasPrefix(h.Get("Idempotency-Key"), "api-") {
		t.Fatalf("Idempotency-Key = %q", h.Get("Idempotency-Key"))
	}
}

// TestHTTPDeadLetter: a 400 answer moves the batch to the dead-letter
// folder once; it is not retried, and later batches flow.
func TestHTTPDeadLetter(t *testing.T) {
	c := newCollector(t)
	c.setBehave(func(n int64, w http.ResponseWriter, r *http.Request) int {
		if n == 1 {
			return http.StatusBadRequest
		}
		return http.StatusOK
	})
	data := t.TempDir()
	reg := prometheus.NewRegistry()
	d := httpDest("api", c.srv.URL)
	// Batches cut by count only: with httpDest's 20 ms age, a run of 100
	// appends slower than that (the race detector on a busy machine) made
	// two batches, and a third request.
	d.Batch.MaxEvents, d.Batch.MaxAge = 100, time.Minute
	p := openP(t, Options{DataDir: data, Registerer: reg, Destinations: []DestinationOptions{d}})
	var a appender
	a.run(t, p, "l", 1, 100, RouteTo(0)) // the first batch: refused
	waitFor(t, "the dead letter", 10*time.Second, func() bool { return p.Stats()[0].DeadBatches == 1 })
	a.run(t, p, "m", 1, 100, RouteTo(0))
	waitFor(t, "the second batch", 10*time.Second, func() bool { return c.ids.n.Load() > 0 && p.Stats()[0].LagBytes == 0 })
	if n := metricSum(t, reg, "beacongate_upstream_dead_letter_batches_total"); n != 1 {
		t.Fatalf("dead_letter_batches_total = %v", n)
	}
	closeP(t, p)

	dl := newIDSet()
	files := readZstdDir(t, filepath.Join(data, "deadletter", "api"), dl)
	all := newIDSet()
	for id, n := range dl.m {
		for range n {
			all.add(id)
		}
	}
	for id, n := range c.ids.m {
		for range n {
			all.add(id)
		}
	}
	missing, dups := all.compare(a.ackedIDs())
	if files != 1 || dl.n.Load() == 0 || len(missing) != 0 || dups != 0 {
		t.Fatalf("dead-letter files %d with %d records; %d missing overall, %d duplicates", files, dl.n.Load(), len(missing), dups)
	}
	reason, err := filepath.Glob(filepath.Join(data, "deadletter", "api", "*.error"))
	if err != nil || len(reason) != 1 {
		t.Fatalf("reason file: %q", reason)
	}
	if b, _ := os.ReadFile(reason[0]); !strings.Contains(string(b), "HTTP 400") {
		t.Fatalf("reason: %q", b)
	}
	if got := c.requests.Load(); got != 2 {
		t.Fatalf("%d requests; the refused batch must not be retried", got)
	}
}

// TestHTTP429RetryAfter: the upstream asks to wait 1 s; the next attempt
// must not come sooner.
func TestHTTP429RetryAfter(t *testing.T) {
	c := newCollector(t)
	var first atomic.Int64
	var gap atomic.Int64
	c.setBehave(func(n int64, w http.ResponseWriter, r *http.Request) int {
		now := time.Now().UnixNano()
		if n == 1 {
			first.Store(now)
			w.Header().Set("Retry-After", "1")
			return http.StatusTooManyRequests
		}
		if n == 2 {
			gap.Store(now - first.Load())
		}
		return http.StatusOK
	})
	p := openP(t, Options{Destinations: []DestinationOptions{httpDest("api", c.srv.URL)}})
	var a appender
	a.run(t, p, "r", 1, 50, RouteTo(0))
	waitFor(t, "delivery after Retry-After", 10*time.Second, func() bool { return c.ids.countMissing(a.ackedIDs()) == 0 })
	closeP(t, p)
	if g := time.Duration(gap.Load()); g < time.Second {
		t.Fatalf("retried after %v despite Retry-After: 1", g)
	}
}

// TestHTTPSlowUpstream: the upstream takes longer than the send timeout for
// its first answers (it processes them anyway, as real servers do), then
// answers slowly but in time. Everything arrives; duplicates are allowed.
func TestHTTPSlowUpstream(t *testing.T) {
	c := newCollector(t)
	c.setBehave(func(n int64, w http.ResponseWriter, r *http.Request) int {
		if n <= 3 {
			time.Sleep(300 * time.Millisecond) // past SendTimeout
		} else {
			time.Sleep(30 * time.Millisecond)
		}
		return http.StatusOK
	})
	d := httpDest("slow", c.srv.URL)
	d.SendTimeout = 150 * time.Millisecond
	p := openP(t, Options{Destinations: []DestinationOptions{d}})
	var a appender
	a.run(t, p, "s", 4, 500, RouteTo(0))
	acked := a.ackedIDs()
	waitFor(t, "delivery to a slow upstream", 30*time.Second, func() bool { return c.ids.countMissing(acked) == 0 })
	closeP(t, p)
	_, dups := c.ids.compare(acked)
	st := p.Stats()[0]
	if st.Retries < 3 {
		t.Fatalf("%d retries; the first 3 attempts timed out", st.Retries)
	}
	t.Logf("acked %d, lost 0, duplicates %d, batches %d, retries %d", len(acked), dups, st.Batches, st.Retries)
}

// TestBearerTokenFileBlankFirstLine: a bearer_token_file whose first line
// is blank but which holds the token on a later line passed config check
// (which counted the whole file) while the start, which reads the first
// line, refused it as "empty". Both read it with tokenfile.Read now: the
// start refuses it saying the first line is empty, never quoting the
// token, and takes the token on the first line as before.
func TestBearerTokenFileBlankFirstLine(t *testing.T) {
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("\ns3cr3t-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := NewHTTPSink(HTTPOptions{URL: "https://c.example/in", BearerTokenFile: tok})
	if err == nil || !strings.Contains(err.Error(), "first line is empty") || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("a blank first line: %v; want an error saying the first line is empty, without the token", err)
	}
	if err := os.WriteFile(tok, []byte("s3cr3t-token\nrest\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := NewHTTPSink(HTTPOptions{URL: "https://c.example/in", BearerTokenFile: tok})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.header.Get("Authorization"); got != "Bearer s3cr3t-token" {
		t.Fatalf("Authorization = %q; want the first line", got)
	}
}
