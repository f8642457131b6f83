package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/upstream"
)

// TestTapWritesRecordsOfferedBeforeClose: when the pipeline closes, a tap
// still holding records (appended before the shutdown, not yet written)
// writes them before it ends the stream: "beacongate tap" then says the
// gateway ended the stream, so it must have shown every record appended
// until then. Before the fix the handler chose at random between a
// waiting record and the tap's end, and ended without the records left.
func TestTapWritesRecordsOfferedBeforeClose(t *testing.T) {
	for round := range 32 {
		p, err := upstream.Open(upstream.Options{DataDir: t.TempDir(), Destinations: []upstream.DestinationOptions{
			{Name: "file", File: &upstream.FileOptions{}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		tap, ok := p.Tap(upstream.TapFilter{}, 16)
		if !ok {
			t.Fatal("no tap")
		}
		for i := range 3 {
			if err := p.Append(fmt.Appendf(nil, `{"v":1,"id":"r%d","site":"s"}`, i), upstream.RouteTo(0)); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		streamTap(&out, nil, tap, nil)
		tap.Close()
		if n := bytes.Count(out.Bytes(), []byte("\n")); n != 3 {
			t.Fatalf("round %d: the tap wrote %d of the 3 records appended before the pipeline closed:\n%s", round, n, out.Bytes())
		}
	}
}

// TestTapsAtMostMaxTaps: at most maxTaps taps stream at once (each holds
// 4 MiB of buffers and costs a copy of every record on the request path);
// one more is refused with 503 and a message saying why, and a slot frees
// when a stream ends. Until 2026-12-06 any number could be opened.
func TestTapsAtMostMaxTaps(t *testing.T) {
	p, err := upstream.Open(upstream.Options{DataDir: t.TempDir(), Destinations: []upstream.DestinationOptions{
		{Name: "file", File: &upstream.FileOptions{}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	a := &app{pipeline: p}
	srv := httptest.NewServer(a.tapHandler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	open := func(ctx context.Context) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/tap", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	var first context.CancelFunc
	for i := range maxTaps {
		c, stop := context.WithCancel(ctx)
		defer stop()
		if i == 0 {
			first = stop
		}
		if resp := open(c); resp.StatusCode != 200 {
			t.Fatalf("tap %d: %s; want 200", i+1, resp.Status)
		}
	}
	resp := open(ctx)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "too many taps open") {
		t.Fatalf("tap %d: %s %q; want 503 saying too many taps are open", maxTaps+1, resp.Status, body)
	}
	first() // one stream ends: its slot frees
	for {
		resp := open(ctx)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no tap slot freed after a stream ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTapReaderThatStopsReadingFreesItsSlot: maxTaps readers open a tap
// each and stop reading (a terminal suspended with ^Z, a pipe into a
// stalled program), with a small receive buffer; records are appended
// until every tap is cut. Each cut tap must end its stream and give back
// its slot, so that a new tap opens. Until 2026-12-07 the handler stayed
// blocked writing to the stalled connection, with no write deadline, for
// as long as the reader kept the connection: the tap was cut but its slot
// and connection were held, and every later tap was refused 503 ("too
// many taps open") until the readers went away or the gateway restarted.
func TestTapReaderThatStopsReadingFreesItsSlot(t *testing.T) {
	defer func(d time.Duration) { tapWriteTimeout = d }(tapWriteTimeout)
	tapWriteTimeout = 300 * time.Millisecond
	preg := prometheus.NewRegistry()
	p, err := upstream.Open(upstream.Options{DataDir: t.TempDir(), Registerer: preg, Destinations: []upstream.DestinationOptions{
		{Name: "file", File: &upstream.FileOptions{}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	tapsOpen := func() int {
		mfs, err := preg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "beacongate_upstream_taps" {
				return int(mf.GetMetric()[0].GetGauge().GetValue())
			}
		}
		t.Fatal("no beacongate_upstream_taps")
		return 0
	}
	a := &app{pipeline: p}
	reg := prometheus.NewRegistry()
	var stopping atomic.Bool
	srv := newAdminServer(a.adminMux(reg, &stopping, false), slog.New(slog.DiscardHandler), defaultAdminTimeouts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	for range maxTaps {
		d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
		}}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close() // held open, never read
		io.WriteString(c, "GET /tap HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	}
	for tapsOpen() < maxTaps {
		time.Sleep(10 * time.Millisecond)
	}
	rec := []byte(`{"v":1,"id":"` + strings.Repeat("x", 2000) + `","site":"s"}`)
	for i := 0; tapsOpen() > 0; i++ {
		if err := p.Append(rec, upstream.RouteTo(0)); err != nil {
			t.Fatal(err)
		}
		if i > 1_000_000 {
			t.Fatalf("%d taps still open after a million records", tapsOpen())
		}
	}
	// Every tap is cut; their readers still hold the connections.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + ln.Addr().String() + "/tap")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a new tap 10 s after every tap was cut, their readers stalled: %s; want 200", resp.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Each stalled reader's connection was cut by the write timeout, and
	// counted (until 2026-12-07 it was not: nothing showed a tap ended so);
	// the new tap, whose reader closed, is not.
	for registryValue(t, reg, "beacongate_admin_tap_write_timeouts_total") < maxTaps {
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := registryValue(t, reg, "beacongate_admin_tap_write_timeouts_total"); n != maxTaps {
		t.Fatalf("beacongate_admin_tap_write_timeouts_total = %v; want %d (each stalled reader)", n, maxTaps)
	}
}

// TestTapUnknownSite: GET /tap?site= naming a site the config does not
// list is answered 400 naming the parameter (never its value), as an
// unknown destination is; "beacongate tap -site" prints that answer and
// exits 1. Until 2026-12 such a tap opened and streamed nothing, forever:
// the operator could not tell a typo from a quiet site. A site the config
// lists opens, and so does any site when the config lists none (every
// site id is then accepted).
func TestTapUnknownSite(t *testing.T) {
	p, err := upstream.Open(upstream.Options{DataDir: t.TempDir(), Destinations: []upstream.DestinationOptions{
		{Name: "file", File: &upstream.FileOptions{}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	cfg, err := config.Parse("tap.yaml", []byte("sites:\n  - id: shop.example\n    origins: [\"https://shop.example\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := &app{pipeline: p}
	a.live.Store(cfg)
	srv := httptest.NewServer(a.tapHandler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	get := func(query string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/tap?"+query, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return resp.StatusCode, "" // a stream: not read to its end
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	st, body := get("site=shop.exampel")
	if st != http.StatusBadRequest || !strings.HasPrefix(body, "site: ") || strings.Contains(body, "exampel") {
		t.Fatalf("tap of an unknown site: %d %q; want 400 naming site, not its value", st, body)
	}
	if st, body := get("site=shop.example"); st != http.StatusOK {
		t.Fatalf("tap of a configured site: %d %q; want 200", st, body)
	}
	if st, body := get("destination=nowhere"); st != http.StatusBadRequest || !strings.HasPrefix(body, "destination: ") {
		t.Fatalf("tap of an unknown destination: %d %q; want 400 naming destination", st, body)
	}

	// The CLI prints the gateway's answer and exits non-zero.
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- runTap([]string{"-admin", srv.Listener.Addr().String(), "-site", "shop.exampel"}, &stdout, &stderr)
	}()
	select {
	case code := <-done:
		if code != 1 || !strings.Contains(stderr.String(), "400 Bad Request: site: ") || stdout.Len() != 0 {
			t.Fatalf("beacongate tap -site unknown: exit %d, stderr %q, stdout %q; want exit 1 and the 400 naming site", code, stderr.String(), stdout.String())
		}
	case <-ctx.Done():
		t.Fatal("beacongate tap -site unknown: still streaming; want exit 1")
	}

	// Without sites in the config every site id is accepted: any tap opens.
	a.live.Store(config.Default())
	if st, body := get("site=anything"); st != http.StatusOK {
		t.Fatalf("tap of a site with no sites configured: %d %q; want 200", st, body)
	}
}
