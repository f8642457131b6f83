package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
