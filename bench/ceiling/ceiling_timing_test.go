package ceiling

import (
	"net/http/httptest"
	"testing"

	"github.com/valyala/fasthttp"
)

func BenchmarkFastHandler(b *testing.B) {
	b.ReportAllocs()
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/p.gif?site=a")
	for b.Loop() {
		ctx.Response.Reset()
		FastHandler(&ctx)
	}
}

func BenchmarkStdHandler(b *testing.B) {
	b.ReportAllocs()
	r := httptest.NewRequest("GET", "/p.gif?site=a", nil)
	for b.Loop() {
		StdHandler(httptest.NewRecorder(), r)
	}
}
