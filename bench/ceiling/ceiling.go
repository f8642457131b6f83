// Package ceiling is the bare server the gateway is measured against: it
// answers every request, whatever its method, path or body, with the 43-byte
// transparent GIF and does nothing else. It runs on fasthttp (the real
// ceiling, same HTTP stack as the gateway) or on net/http (for users who ask
// why not the standard library). Both variants expose the same Prometheus
// collectors on an admin listener, so CPU seconds and allocations per request
// read from /metrics are comparable with the gateway's.
package ceiling

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"
)

// GIFLen is the size of the pixel in bytes.
const GIFLen = 43

// pixel is the standard transparent 1x1 GIF89a: a two-colour global table
// (black, white), a graphic control extension that makes index 0
// transparent, and one LZW-coded pixel. Answered for every request.
var pixel = [GIFLen]byte{
	'G', 'I', 'F', '8', '9', 'a', // header
	0x01, 0x00, 0x01, 0x00, // width 1, height 1
	0x80, 0x00, 0x00, // global colour table of 2 entries, bg 0, aspect 0
	0x00, 0x00, 0x00, 0xff, 0xff, 0xff, // colour table: black, white
	0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, // GCE: transparent index 0
	0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, // image descriptor
	0x02, 0x02, 0x44, 0x01, 0x00, // LZW min code size 2, one 2-byte block, end
	0x3b, // trailer
}

// AppendGIF appends the 43-byte pixel to dst and returns the extended slice.
func AppendGIF(dst []byte) []byte { return append(dst, pixel[:]...) }

// Response header values, built once. The net/http slices are shared by all
// responses: net/http only reads header values, and StdHandler assigns them
// to the map directly so that no canonicalisation or copy happens.
var (
	contentType       = []byte("image/gif")
	cacheControlKey   = []byte("Cache-Control")
	cacheControlValue = []byte("no-store, max-age=0")

	stdContentType   = []string{"image/gif"}
	stdCacheControl  = []string{"no-store, max-age=0"}
	stdContentLength = []string{"43"}
)

// FastHandler answers any request with the pixel. It does not allocate.
func FastHandler(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.SetContentTypeBytes(contentType)
	ctx.Response.Header.SetCanonical(cacheControlKey, cacheControlValue)
	ctx.Response.SetBody(pixel[:])
}

// StdHandler is FastHandler for net/http.
func StdHandler(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h["Content-Type"] = stdContentType
	h["Cache-Control"] = stdCacheControl
	h["Content-Length"] = stdContentLength
	_, _ = w.Write(pixel[:]) // a write error means the client went away; nothing to do
}

// Variant selects the HTTP stack of the ceiling.
type Variant int

// Variants of the ceiling.
const (
	FastHTTP     Variant = iota // valyala/fasthttp with default settings
	Stdlib                      // net/http with default settings
	FloorVariant                // the Floor's handler on fasthttp with default settings
)

// String returns the variant's name as used in reports.
func (v Variant) String() string {
	switch v {
	case FastHTTP:
		return "fasthttp"
	case Stdlib:
		return "net/http"
	case FloorVariant:
		return "floor"
	}
	return "unknown"
}

// FloorMaxBodyBytes is the longest request body the floor reads: the
// gateway's default server.max_body_bytes.
const FloorMaxBodyBytes = 64 << 10

// Server is what Listen serves: a variant, and for FloorVariant the
// directory of the Floor's files.
type Server struct {
	Variant  Variant
	FloorDir string
}

// Serve answers requests on ln with the pixel until ctx is done, then shuts
// down gracefully and returns nil. Servers use their stacks' defaults, so
// the ceiling is what a user gets without tuning.
func (srv Server) Serve(ctx context.Context, ln net.Listener) error {
	if srv.Variant != FloorVariant {
		return Serve(ctx, ln, srv.Variant)
	}
	f, err := NewFloor(srv.FloorDir)
	if err != nil {
		ln.Close()
		return err
	}
	// The gateway's default server.max_body_bytes: a longer body is
	// refused with 413 before the handler, as the gateway refuses it,
	// rather than written and compressed.
	s := &fasthttp.Server{Handler: f.Handler, MaxRequestBodySize: FloorMaxBodyBytes}
	stop := context.AfterFunc(ctx, func() { _ = s.Shutdown() })
	err = s.Serve(ln)
	stop()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func serveFast(ctx context.Context, ln net.Listener, h fasthttp.RequestHandler) error {
	s := &fasthttp.Server{Handler: h}
	stop := context.AfterFunc(ctx, func() { _ = s.Shutdown() })
	defer stop()
	return s.Serve(ln)
}

// Serve answers requests on ln with the pixel until ctx is done, then shuts
// down gracefully and returns nil. Servers use their stacks' defaults, so
// the ceiling is what a user gets without tuning. For FloorVariant, use
// Server.Serve.
func Serve(ctx context.Context, ln net.Listener, v Variant) error {
	switch v {
	case FastHTTP:
		return serveFast(ctx, ln, FastHandler)
	case Stdlib:
		s := &http.Server{Handler: http.HandlerFunc(StdHandler), ReadHeaderTimeout: 10 * time.Second}
		stop := context.AfterFunc(ctx, func() { _ = s.Shutdown(context.Background()) })
		defer stop()
		if err := s.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
	return errors.New("ceiling: unknown variant")
}
