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
