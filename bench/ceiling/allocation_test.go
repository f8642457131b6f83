//go:build !race

package ceiling

import (
	"testing"

	"github.com/valyala/fasthttp"
)

func TestFastHandlerAllocs(t *testing.T) {
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/p.gif?site=a")
	n := testing.AllocsPerRun(1000, func() {
		ctx.Response.Reset()
		FastHandler(&ctx)
	})
	if n != 0 {
		t.Fatalf("allocs per request = %v; want 0", n)
	}
}

func TestFloorHandlerAllocs(t *testing.T) {
	f, err := NewFloor(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/p.gif?site=a&url=https%3A%2F%2Fshop.example%2F")
	ctx.Request.Header.SetUserAgent("Mozilla/5.0")
	// More than a batch, so that hand-offs to the compressor are counted.
	n := testing.AllocsPerRun(3*floorBatchRecords, func() {
		ctx.Response.Reset()
		f.Handler(&ctx)
	})
	if n != 0 {
		t.Fatalf("allocs per request = %v; want 0", n)
	}
}
