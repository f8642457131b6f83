package upstream

import (
	"fmt"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Codec is how a batch is compressed on the wire.
type Codec uint8

// The codecs.
const (
	CodecAuto Codec = iota // the default: zstd
	CodecNone
	CodecZstd
	CodecGzip
)

// String returns "auto", "none", "zstd" or "gzip".
func (c Codec) String() string {
	switch c {
	case CodecAuto:
		return "auto"
	case CodecNone:
		return "none"
	case CodecZstd:
		return "zstd"
	case CodecGzip:
		return "gzip"
	}
	return "unknown"
}

// ParseCodec parses the names String returns; "" is CodecAuto.
func ParseCodec(s string) (Codec, error) {
	switch s {
	case "", "auto":
		return CodecAuto, nil
	case "none":
		return CodecNone, nil
	case "zstd":
		return CodecZstd, nil
	case "gzip":
		return CodecGzip, nil
	}
	return CodecAuto, fmt.Errorf("upstream: unknown codec %q (want none, zstd or gzip)", s)
}

// resolve returns the codec CodecAuto stands for.
func (c Codec) resolve() Codec {
	if c == CodecAuto {
		return CodecZstd
	}
	return c
}

// ContentEncoding returns the HTTP Content-Encoding value, "" for none.
func (c Codec) ContentEncoding() string {
	switch c.resolve() {
	case CodecZstd:
		return "zstd"
	case CodecGzip:
		return "gzip"
	}
	return ""
}

// Ext returns the file name extension of data compressed with c.
func (c Codec) Ext() string {
	switch c.resolve() {
	case CodecZstd:
		return ".zst"
	case CodecGzip:
		return ".gz"
	}
	return ""
}

// Encoder compresses whole batches, reusing its state: a new zstd writer per
// batch costs about 3 MB and 35 allocations, a reused one with EncodeAll
// none. An Encoder is not safe for concurrent use.
type Encoder struct {
	codec Codec
	zenc  *zstd.Encoder
	gz    *gzip.Writer
	w     sliceWriter
}

// NewEncoder returns an encoder for c at level: 0 is the codec's default;
// zstd takes the zstd command's levels (1-22, mapped onto the four speeds
// of klauspost/compress: 1-2 fastest, 3-5 default, 6-9 better, 10+ best);
// gzip takes 1-9.
//
// zstd's default here is the fastest speed, not zstd's own level 3: on
// ~450-byte event records in 1,000-record batches it compresses at ~590
// MB/s with ratio 7.7 (with defaultWindow), against ~300 MB/s and 7.8 at
// level 3, and at the edge the CPU is the scarce resource.
func NewEncoder(c Codec, level int) (*Encoder, error) {
	e := &Encoder{codec: c.resolve()}
	switch e.codec {
	case CodecNone:
	case CodecZstd:
		speed := []zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithWindowSize(defaultWindow)}
		if level > 0 {
			speed = []zstd.EOption{zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level))}
		}
		var err error
		e.zenc, err = zstd.NewWriter(nil, append(speed, zstd.WithEncoderConcurrency(1))...)
		if err != nil {
			return nil, fmt.Errorf("upstream: zstd encoder: %w", err)
		}
	case CodecGzip:
		l := gzip.DefaultCompression
		if level != 0 {
			l = level
		}
		var err error
		e.gz, err = gzip.NewWriterLevel(&e.w, l)
		if err != nil {
			return nil, fmt.Errorf("upstream: gzip level %d: %w", level, err)
		}
	default:
		return nil, fmt.Errorf("upstream: unknown codec %d", c)
	}
	return e, nil
}

// Codec returns the encoder's codec (never CodecAuto).
func (e *Encoder) Codec() Codec { return e.codec }

// AppendEncoded appends src, compressed as one zstd frame or gzip member
// (or as is for CodecNone), to dst.
func (e *Encoder) AppendEncoded(dst, src []byte) ([]byte, error) {
	switch e.codec {
	case CodecZstd:
		return e.zenc.EncodeAll(src, dst), nil
	case CodecGzip:
		e.w.b = dst
		e.gz.Reset(&e.w)
		if _, err := e.gz.Write(src); err != nil {
			return dst, err
		}
		err := e.gz.Close()
		dst, e.w.b = e.w.b, nil
		return dst, err
	}
	return append(dst, src...), nil
}

// defaultWindow is the zstd window of the default level: matches reach
// back at most 64 KiB, about 150 records, instead of 4 MiB (the fastest
// level's blocks are 64 KiB either way). On 1,000 typical records
// (BenchmarkCompression/zstd-0, GOMAXPROCS=1, six runs alternated)
// 513-542 -> 581-603 MB/s, the ratio 7.58 -> 7.67; 32 KiB measured
// 573-584 MB/s at 7.51. An encoder holds about 3.6 MiB instead of 18,
// and decoders need less memory, too. The explicit levels keep zstd's
// own windows: who picks one wants the ratio.
const defaultWindow = 64 << 10

// sliceBytes is how much of a batch AppendEncodedSliced compresses between
// two yields: 128 KiB, about 300 typical records, about 0.22 ms of the
// fastest level (two of its 64 KiB blocks) on this project's machine. A 1,000-record
// batch compressed in one go held the only core for 0.5-2.8 ms, and every
// request that came in meanwhile waited behind it. 64 KiB was measured on
// 2026-12-07 and not kept: the 99th percentile of the requests' stalls by
// background work at half load 0.30-0.38 -> 0.20-0.22 ms (compare's stalls
// phase, three runs each), but 2 % more CPU per request at saturation
// (loadgen's mix, four alternated runs each: 20.89 -> 21.32 µs; the
// encoder's tables cold more often), and the longest stalls stayed under
// 2 ms either way.
const sliceBytes = 128 << 10

// AppendEncodedSliced is AppendEncoded in bounded slices: it compresses
// src sliceBytes at a time, as one zstd frame or gzip member all the same,
// and calls yield between slices so that other goroutines get the core.
func (e *Encoder) AppendEncodedSliced(dst, src []byte, yield func()) ([]byte, error) {
	if len(src) <= sliceBytes || e.codec == CodecNone {
		return e.AppendEncoded(dst, src)
	}
	e.w.b = dst
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	switch e.codec {
	case CodecZstd:
		e.zenc.Reset(&e.w)
		w = e.zenc
	case CodecGzip:
		e.gz.Reset(&e.w)
		w = e.gz
	}
	var err error
	for len(src) > 0 && err == nil {
		n := min(len(src), sliceBytes)
		_, err = w.Write(src[:n])
		src = src[n:]
		if len(src) > 0 {
			yield()
		}
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	dst, e.w.b = e.w.b, nil
	return dst, err
}

// sliceWriter is an io.Writer appending to b.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
