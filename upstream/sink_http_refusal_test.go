package upstream

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestClassifyHTTPRefusals: redirects and credential answers are retried for
// a while, never delivered and never dead-lettered at first sight.
func TestClassifyHTTPRefusals(t *testing.T) {
	f := func(status int, location string, want Refusal) {
		t.Helper()
		err := classifyHTTP(status, "", location, nil, time.Time{})
		if err == nil {
			t.Fatalf("%d: nil error, the batch would count as delivered", status)
		}
		if IsPermanent(err) {
			t.Fatalf("%d: permanent at first sight", status)
		}
		if got := RefusalOf(err); got != want {
			t.Fatalf("%d: refusal %v, want %v", status, got, want)
		}
	}
	f(http.StatusMovedPermanently, "https://other.example/x?token=1", RefusalRedirect)
	f(http.StatusFound, "/elsewhere", RefusalRedirect)
	f(http.StatusSeeOther, "", RefusalRedirect)
	f(http.StatusTemporaryRedirect, "https://other.example/", RefusalRedirect)
	f(http.StatusPermanentRedirect, "https://other.example/", RefusalRedirect)
	f(http.StatusNotModified, "", RefusalRedirect)
	f(http.StatusUnauthorized, "", RefusalAuth)
	f(http.StatusForbidden, "", RefusalAuth)

	// The Location's host is named, never its path or query.
	err := classifyHTTP(http.StatusFound, "", "https://user:pw@other.example:8443/collect?token=abc", nil, time.Time{})
	if msg := err.Error(); !strings.Contains(msg, "other.example:8443") || strings.Contains(msg, "token") ||
		strings.Contains(msg, "collect") || strings.Contains(msg, "pw") {
		t.Fatalf("redirect error %q: want the host only", msg)
	}
}

// TestHTTPRedirectIsNotDelivery reproduces the loss of issue 13 item 2: the
// upstream answers 302 to a path that accepts anything with 200. Followed,
// the POST became a GET without body and the batch counted as sent. Now a
// redirect is a failure: the batch stays in the spool until the upstream
// takes POSTs again, and every acknowledged event arrives.
func TestHTTPRedirectIsNotDelivery(t *testing.T) {
	c := newCollector(t)
	var redirecting atomic.Bool
	var gets atomic.Int64
	redirecting.Store(true)
	c.setBehave(func(n int64, w http.ResponseWriter, r *http.Request) int {
		if r.Method != http.MethodPost {
			gets.Add(1)
			return http.StatusOK // the redirect target: 200 to anything, counts nothing
		}
		if redirecting.Load() && r.URL.Path == "/" {
			w.Header().Set("Location", c.srv.URL+"/moved?token=abc")
			return http.StatusFound
		}
		return http.StatusOK
	})
	reg := prometheus.NewRegistry()
	d := httpDest("api", c.srv.URL)
	d.Batch.MaxEvents = 100
	p := openP(t, Options{Registerer: reg, Destinations: []DestinationOptions{d}})
	var a appender
	a.run(t, p, "r", 2, 300, RouteTo(0))
	waitFor(t, "some redirects", 10*time.Second, func() bool { return c.requests.Load() >= 5 })
	redirecting.Store(false)
	acked := a.ackedIDs()
	waitFor(t, "the spool to drain", 20*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	missing, dups := c.ids.compare(acked)
	st := p.Stats()[0]
	t.Logf("acknowledged %d, delivered %d, lost %d (duplicates %d, retries %d)",
		len(acked), len(acked)-len(missing), len(missing), dups, st.Retries)
	if len(missing) != 0 || st.DeadBatches != 0 || gets.Load() != 0 {
		t.Fatalf("%d lost, %d dead batches, %d GETs sent after a redirect", len(missing), st.DeadBatches, gets.Load())
	}
	if n := metricSum(t, reg, "beacongate_upstream_send_redirects_total"); n < 1 {
		t.Fatalf("send_redirects_total = %v", n)
	}
	closeP(t, p)
}

// TestHTTPRedirectDeadLetteredAfterWindow: an upstream that keeps
// redirecting gets the batch dead-lettered, but only once it has done so for
// RedirectDeadLetterAfter; the reason names the Location's host only.
func TestHTTPRedirectDeadLetteredAfterWindow(t *testing.T) {
	c := newCollector(t)
	var first atomic.Int64 // the first refusal, on the shipper's monotonic clock
	c.setBehave(func(n int64, w http.ResponseWriter, r *http.Request) int {
		first.CompareAndSwap(0, monoNow())
		w.Header().Set("Location", "https://moved.example:8443/path?token=abc")
		return http.StatusMovedPermanently
	})
	data := t.TempDir()
	d := httpDest("api", c.srv.URL)
	const window = 300 * time.Millisecond
	d.Retry.RedirectDeadLetterAfter = window
	p := openP(t, Options{DataDir: data, Destinations: []DestinationOptions{d}})
	var a appender
	a.run(t, p, "w", 1, 50, RouteTo(0))
	waitFor(t, "the dead letter", 10*time.Second, func() bool { return p.Stats()[0].DeadBatches == 1 })
	elapsed := time.Duration(monoNow() - first.Load()) // as the shipper measures the window
	st := p.Stats()[0]
	closeP(t, p)
	if elapsed < window || st.Retries < 2 {
		t.Fatalf("dead-lettered after %v and %d retries; want at least %v of retries", elapsed, st.Retries, window)
	}
	reason, _ := filepath.Glob(filepath.Join(data, "deadletter", "api", "*.error"))
	if len(reason) != 1 {
		t.Fatalf("reason files: %q", reason)
	}
	b, _ := os.ReadFile(reason[0])
	if !strings.Contains(string(b), "moved.example:8443") || strings.Contains(string(b), "token") {
		t.Fatalf("reason %q: want the Location host only", b)
	}
}

// TestHTTPAuthRetriedThenDelivered reproduces issue 13 item 6: a short 401
// window (a token being rotated) sent batches to the dead-letter folder.
// Now 401 and 403 are retried; everything arrives once the token works.
func TestHTTPAuthRetriedThenDelivered(t *testing.T) {
	c := newCollector(t)
	var refusing atomic.Bool
	var refused atomic.Int64 // answered 401 or 403 (a request counted by the collector may not be yet)
	refusing.Store(true)
	c.setBehave(func(n int64, w http.ResponseWriter, r *http.Request) int {
		if refusing.Load() {
			refused.Add(1)
			if n%2 == 0 {
				return http.StatusForbidden
			}
			return http.StatusUnauthorized
		}
		return http.StatusOK
	})
	reg := prometheus.NewRegistry()
	d := httpDest("api", c.srv.URL)
	d.Batch.MaxEvents = 100
	p := openP(t, Options{Registerer: reg, Destinations: []DestinationOptions{d}})
	var a appender
	a.run(t, p, "a", 2, 300, RouteTo(0))
	waitFor(t, "refused attempts", 10*time.Second, func() bool { return refused.Load() >= 6 })
	if g := metricSum(t, reg, "beacongate_upstream_auth_failing_seconds"); g <= 0 {
		t.Errorf("auth_failing_seconds = %v while the upstream refuses the token", g)
	}
	refusing.Store(false)
	acked := a.ackedIDs()
	waitFor(t, "the spool to drain", 20*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	missing, _ := c.ids.compare(acked)
	st := p.Stats()[0]
	t.Logf("acknowledged %d, delivered %d, lost %d, dead-lettered %d", len(acked), len(acked)-len(missing), len(missing), st.DeadRecords)
	if len(missing) != 0 || st.DeadBatches != 0 {
		t.Fatalf("%d lost, %d records dead-lettered", len(missing), st.DeadRecords)
	}
	if n := metricSum(t, reg, "beacongate_upstream_send_auth_failures_total"); n < 6 {
		t.Fatalf("send_auth_failures_total = %v", n)
	}
	if g := metricSum(t, reg, "beacongate_upstream_auth_failing_seconds"); g != 0 {
		t.Fatalf("auth_failing_seconds = %v after a success", g)
	}
	closeP(t, p)
}

// TestHTTPAuthDeadLetteredAfterWindow: credentials refused for longer than
// AuthDeadLetterAfter: the batch goes to the dead-letter folder then, not
// before.
func TestHTTPAuthDeadLetteredAfterWindow(t *testing.T) {
	c := newCollector(t)
	var first atomic.Int64 // the first refusal, on the shipper's monotonic clock
	c.setBehave(func(n int64, w http.ResponseWriter, r *http.Request) int {
		first.CompareAndSwap(0, monoNow())
		return http.StatusUnauthorized
	})
	d := httpDest("api", c.srv.URL)
	const window = 300 * time.Millisecond
	d.Retry.AuthDeadLetterAfter = window
	p := openP(t, Options{Destinations: []DestinationOptions{d}})
	var a appender
	a.run(t, p, "x", 1, 50, RouteTo(0))
	waitFor(t, "the dead letter", 10*time.Second, func() bool { return p.Stats()[0].DeadBatches == 1 })
	elapsed := time.Duration(monoNow() - first.Load()) // as the shipper measures the window
	st := p.Stats()[0]
	closeP(t, p)
	if elapsed < window || st.Retries < 2 {
		t.Fatalf("dead-lettered after %v and %d retries; want at least %v of retries", elapsed, st.Retries, window)
	}
}

// TestHTTPNetworkErrorShowsNoURLQuery: a collector URL may carry its key
// in the query (?token=...); a network error (the collector down) goes to
// the log, and must name the host, never the path or query.
func TestHTTPNetworkErrorShowsNoURLQuery(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	s, err := NewHTTPSink(HTTPOptions{URL: "http://" + addr + "/ingest/tenant-7?token=s3cr3t-T0KEN"})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), &Batch{Destination: "api", Data: []byte("{}\n")})
	if err == nil {
		t.Fatal("nil error from a closed port")
	}
	if IsPermanent(err) {
		t.Fatalf("network error %q is permanent; want it retried", err)
	}
	if msg := err.Error(); !strings.Contains(msg, addr) || strings.Contains(msg, "s3cr3t") || strings.Contains(msg, "tenant-7") {
		t.Fatalf("network error %q: want the host only", msg)
	}
}

// TestHTTPTokenRotatedInFile: the README says 401/403 are retried because
// tokens rotate. A token rotated by writing the new one into
// bearer_token_file is taken by the running gateway: after a refusal the
// sink reads the file again, and every record arrives without a restart or
// a dead letter. Before, the file was read once at start, and the batches
// were refused until the auth window sent them to the dead letters.
func TestHTTPTokenRotatedInFile(t *testing.T) {
	c := newCollector(t)
	var refused atomic.Int64
	c.setBehave(func(n int64, w http.ResponseWriter, r *http.Request) int {
		if r.Header.Get("Authorization") != "Bearer rotated" {
			refused.Add(1)
			return http.StatusUnauthorized
		}
		return http.StatusOK
	})
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("expired\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := httpDest("api", c.srv.URL)
	d.HTTP.BearerTokenFile = tok
	d.Batch.MaxEvents = 100
	p := openP(t, Options{Destinations: []DestinationOptions{d}})
	var a appender
	a.run(t, p, "r", 1, 100, RouteTo(0))
	waitFor(t, "refused attempts", 10*time.Second, func() bool { return refused.Load() >= 2 })
	if err := os.WriteFile(tok, []byte("rotated\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	acked := a.ackedIDs()
	waitFor(t, "the spool to drain", 20*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	if missing, _ := c.ids.compare(acked); len(missing) != 0 || p.Stats()[0].DeadBatches != 0 {
		t.Fatalf("%d of %d records missing, %d batches dead-lettered", len(missing), len(acked), p.Stats()[0].DeadBatches)
	}
	closeP(t, p)
}
