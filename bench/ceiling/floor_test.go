package ceiling

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fasthttp"
)

// TestFloorWritesAndCompressesEachRequest serves requests through the
// floor's handler and checks that each is answered with the pixel, written
// to the segment in order before its answer, and found in the compressed
// output after Close, across more than one batch.
func TestFloorWritesAndCompressesEachRequest(t *testing.T) {
	dir := t.TempDir()
	f, err := NewFloor(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	n := floorBatchRecords*2 + 7
	for i := range n {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod("POST")
		uri := fmt.Sprintf("/b?n=%d", i)
		ctx.Request.SetRequestURI(uri)
		ctx.Request.Header.SetUserAgent("UA/1")
		body := fmt.Sprintf(`{"i":%d}`, i)
		ctx.Request.SetBodyString(body)
		f.Handler(&ctx)
		if ctx.Response.StatusCode() != 200 || !bytes.Equal(ctx.Response.Body(), pixel[:]) {
			t.Fatalf("request %d: status %d, body %x", i, ctx.Response.StatusCode(), ctx.Response.Body())
		}
		fmt.Fprintf(&want, "%s\tUA/1\t%s\n", uri, body)
		if i == 0 { // written before the answer
			seg, err := os.ReadFile(filepath.Join(dir, "segment"))
			if err != nil || !bytes.Equal(seg, want.Bytes()) {
				t.Fatalf("segment after the first answer: %q, %v; want %q", seg, err, want.Bytes())
			}
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	seg, err := os.ReadFile(filepath.Join(dir, "segment"))
	if err != nil || !bytes.Equal(seg, want.Bytes()) {
		t.Fatalf("segment: %d bytes, %v; want %d", len(seg), err, want.Len())
	}
	z, err := os.ReadFile(filepath.Join(dir, "out.zst"))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	got, err := dec.DecodeAll(z, nil)
	if err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("decompressed output: %d bytes, %v; want %d", len(got), err, want.Len())
	}
	// After Close: 500, nothing written.
	var ctx fasthttp.RequestCtx
	f.Handler(&ctx)
	if ctx.Response.StatusCode() != 500 {
		t.Fatalf("after Close: status %d", ctx.Response.StatusCode())
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestFloorRefusesAnUnusableDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFloor(filepath.Join(file, "sub")); err == nil {
		t.Fatal("NewFloor under a regular file succeeded")
	}
}

// TestFloorServerRefusesLongBodies: the floor server reads bodies up to the
// gateway's default limit and refuses a longer one before its handler (as
// the gateway refuses it, though fasthttp answers 400 where the gateway
// answers 413), so that it writes nothing the gateway would not.
func TestFloorServerRefusesLongBodies(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Server{Variant: FloorVariant, FloorDir: dir}.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String() + "/b"
	for _, c := range []struct {
		n    int
		want int
	}{{FloorMaxBodyBytes, 200}, {FloorMaxBodyBytes + 1, 400}} {
		resp, err := http.Post(url, "text/plain", strings.NewReader(strings.Repeat("x", c.n)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("body of %d bytes: status %d; want %d", c.n, resp.StatusCode, c.want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	seg, err := os.ReadFile(filepath.Join(dir, "segment"))
	if err != nil || bytes.Count(seg, []byte("\n")) != 1 {
		t.Fatalf("segment: %d records, %v; want the one accepted request", bytes.Count(seg, []byte("\n")), err)
	}
}
