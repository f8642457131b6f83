package ceiling

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
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
