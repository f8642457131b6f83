package ceiling

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fasthttp"
)

// Floor is the ceiling plus the least work the gateway's promises need per
// request, without any of its logic: each request's bytes (request URI,
// User-Agent, body: about the size of a record) are written to a segment
// file before the answer, as the spool writes an event before its 2xx with
// durability process, and compressed in the background with the codec and
// settings of the file destination (zstd at its fastest level, a 64 KiB
// window, 128 KiB slices, batches of 1,000 records or 1 MiB) into an output
// file. No parsing, no consent, no anonymizing, no encoding, no grouping of
// writes, no read back, no fsync. Both files are written in a circle of
// FloorFileBytes, as the spool recycles its segments.
//
// The ratio of the ceiling's CPU per request to the floor's is what a
// gateway that keeps these promises can reach on this machine at best; the
// gateway's own ratio is measured against the ceiling.
type Floor struct {
	mu      sync.Mutex
	seg     *os.File
	off     int64
	rec     []byte
	batch   []byte
	records int
	full    chan []byte // batches for the compressor
	empty   chan []byte // batch buffers back from it
	done    chan error
	closed  bool
}

// Floor's sizes: a segment and the compressed output each wrap around at
// FloorFileBytes (the spool's segment size); a batch is handed to the
// compressor at floorBatchRecords records or floorBatchBytes bytes (the
// file destination's defaults), compressed floorSliceBytes at a time (the
// shipper's slices).
const (
	FloorFileBytes    = 64 << 20
	floorBatchRecords = 1000
	floorBatchBytes   = 1 << 20
	floorSliceBytes   = 128 << 10
	floorWindowBytes  = 64 << 10
)

// NewFloor creates dir if needed and the floor's two files in it
// ("segment" and "out.zst", truncated), and starts its compressor.
func NewFloor(dir string) (*Floor, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	seg, err := os.OpenFile(filepath.Join(dir, "segment"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	out, err := os.OpenFile(filepath.Join(dir, "out.zst"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		seg.Close()
		return nil, fmt.Errorf("floor: %w", err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithWindowSize(floorWindowBytes), zstd.WithEncoderConcurrency(1))
	if err != nil {
		seg.Close()
		out.Close()
		return nil, fmt.Errorf("floor: %w", err)
	}
	f := &Floor{
		seg:   seg,
		rec:   make([]byte, 0, 16<<10),
		batch: make([]byte, 0, floorBatchBytes+64<<10),
		full:  make(chan []byte, 1),
		empty: make(chan []byte, 2), // the spare and the one Close hands over
		done:  make(chan error, 1),
	}
	f.empty <- make([]byte, 0, floorBatchBytes+64<<10)
	go func() { f.done <- f.compress(enc, out) }()
	return f, nil
}

// compress writes each batch from f.full to out as zstd frames of at most
// floorSliceBytes of input each, until f.full is closed.
func (f *Floor) compress(enc *zstd.Encoder, out *os.File) error {
	var z []byte
	var off int64
	var first error
	for batch := range f.full {
		for rest := batch; len(rest) > 0; {
			n := min(len(rest), floorSliceBytes)
			z = enc.EncodeAll(rest[:n], z[:0])
			if off+int64(len(z)) > FloorFileBytes {
				off = 0
			}
			if _, err := out.WriteAt(z, off); err != nil && first == nil {
				first = err
			}
			off += int64(len(z))
			rest = rest[n:]
		}
		f.empty <- batch[:0]
	}
	if err := out.Close(); err != nil && first == nil {
		first = err
	}
	return first
}

// Handler records the request as described on Floor, then answers with the
// pixel as FastHandler does. A failed write answers 500. It does not
// allocate.
func (f *Floor) Handler(ctx *fasthttp.RequestCtx) {
	if err := f.record(ctx); err != nil {
		ctx.Error("floor: "+err.Error(), fasthttp.StatusInternalServerError)
		return
	}
	FastHandler(ctx)
}

func (f *Floor) record(ctx *fasthttp.RequestCtx) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errors.New("closed")
	}
	r := append(f.rec[:0], ctx.Request.Header.RequestURI()...)
	r = append(r, '\t')
	r = append(r, ctx.Request.Header.UserAgent()...)
	r = append(r, '\t')
	r = append(r, ctx.Request.Body()...)
	r = append(r, '\n')
	f.rec = r
	if f.off+int64(len(r)) > FloorFileBytes {
		f.off = 0
	}
	if _, err := f.seg.WriteAt(r, f.off); err != nil {
		return err
	}
	f.off += int64(len(r))
	f.batch = append(f.batch, r...)
	f.records++
	if f.records >= floorBatchRecords || len(f.batch) >= floorBatchBytes {
		f.full <- f.batch
		f.batch, f.records = <-f.empty, 0
	}
	return nil
}

// Close compresses the records of the unfinished batch, waits for the
// compressor and closes both files. Requests after Close are answered 500.
func (f *Floor) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	if len(f.batch) > 0 {
		f.full <- f.batch
		f.batch = nil
	}
	close(f.full)
	f.mu.Unlock()
	err := <-f.done
	if cerr := f.seg.Close(); err == nil {
		err = cerr
	}
	return err
}
