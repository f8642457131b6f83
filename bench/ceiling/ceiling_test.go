package ceiling

import (
	"bytes"
	"context"
	"encoding/hex"
	"image/gif"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// The pixel as given in the bench issue, byte for byte.
const gifHex = "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"

func TestGIF(t *testing.T) {
	b := AppendGIF(nil)
	if len(b) != GIFLen || GIFLen != 43 {
		t.Fatalf("len = %d, GIFLen = %d; want 43", len(b), GIFLen)
	}
	if got := hex.EncodeToString(b); got != gifHex {
		t.Fatalf("gif = %s; want %s", got, gifHex)
	}
	img, err := gif.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if r := img.Bounds(); r.Dx() != 1 || r.Dy() != 1 {
		t.Fatalf("bounds = %v; want 1x1", r)
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Fatalf("pixel alpha = %d; want 0 (transparent)", a)
	}
	// AppendGIF appends and does not hand out the package's array.
	b2 := AppendGIF([]byte("x"))
	b2[1] = 'Z'
	if string(AppendGIF(nil)[:3]) != "GIF" || string(b2[:2]) != "xZ" {
		t.Fatalf("AppendGIF shares its storage")
	}
}

func TestFastHandler(t *testing.T) {
	f := func(method, uri, body string) {
		t.Helper()
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod(method)
		ctx.Request.SetRequestURI(uri)
		ctx.Request.SetBodyString(body)
		FastHandler(&ctx)
		r := &ctx.Response
		if r.StatusCode() != 200 || string(r.Header.ContentType()) != "image/gif" ||
			string(r.Header.Peek("Cache-Control")) != "no-store, max-age=0" || !bytes.Equal(r.Body(), pixel[:]) {
			t.Fatalf("%s %s: status %d, type %q, cache %q, body %x", method, uri, r.StatusCode(),
				r.Header.ContentType(), r.Header.Peek("Cache-Control"), r.Body())
		}
	}
	f("GET", "/p.gif?site=a", "")
	f("POST", "/b", `{"site":"a"}`)
	f("DELETE", "/anything/else", "")
}

func TestStdHandler(t *testing.T) {
	w := httptest.NewRecorder()
	StdHandler(w, httptest.NewRequest("POST", "/b", strings.NewReader("{}")))
	if w.Code != 200 || w.Header().Get("Content-Type") != "image/gif" || w.Header().Get("Content-Length") != "43" ||
		w.Header().Get("Cache-Control") != "no-store, max-age=0" || !bytes.Equal(w.Body.Bytes(), pixel[:]) {
		t.Fatalf("got %d %v %x", w.Code, w.Header(), w.Body.Bytes())
	}
}

func TestVariantString(t *testing.T) {
	if FastHTTP.String() != "fasthttp" || Stdlib.String() != "net/http" || Variant(9).String() != "unknown" {
		t.Fatal("Variant.String")
	}
}

// TestServe runs both variants and the admin listener on loopback and makes
// one request of each kind.
func TestServe(t *testing.T) {
	for _, v := range []Variant{FastHTTP, Stdlib} {
		t.Run(v.String(), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			aln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 2)
			go func() { done <- Serve(ctx, ln, v) }()
			go func() { done <- ServeAdmin(ctx, aln, NewRegistry()) }()

			resp, err := http.Post("http://"+ln.Addr().String()+"/b", "text/plain;charset=UTF-8", strings.NewReader(`{"site":"x"}`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Equal(body, pixel[:]) || resp.Header.Get("Cache-Control") != "no-store, max-age=0" {
				t.Fatalf("pixel: %d %x", resp.StatusCode, body)
			}
			resp, err = http.Get("http://" + aln.Addr().String() + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, name := range []string{"process_cpu_seconds_total ", "go_memstats_mallocs_total ", "go_goroutines "} {
				if !bytes.Contains(body, []byte("\n"+name)) {
					t.Errorf("metrics lack %q", name)
				}
			}
			cancel()
			for range 2 {
				if err := <-done; err != nil {
					t.Errorf("serve returned %v", err)
				}
			}
		})
	}
}

func TestListenAndMain(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var log bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- Listen(ctx, "127.0.0.1:0", "127.0.0.1:0", Server{Variant: Stdlib}, &log) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "ceiling (net/http) listening on 127.0.0.1:") {
		t.Fatalf("log: %q", log.String())
	}
	// A listener that cannot bind is an error, and the other one is closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := Listen(context.Background(), "127.0.0.1:0", ln.Addr().String(), Server{Variant: FastHTTP}, io.Discard); err == nil {
		t.Fatal("Listen on a taken admin address succeeded")
	}
	var stderr bytes.Buffer
	if code := Main([]string{"-listen", ln.Addr().String()}, &stderr); code != 1 || !strings.Contains(stderr.String(), "ceiling:") {
		t.Fatalf("Main on a taken address: %d %q", code, stderr.String())
	}
	if code := Main([]string{"-bogus"}, io.Discard); code != 2 {
		t.Fatalf("Main with a bad flag: %d", code)
	}
}
