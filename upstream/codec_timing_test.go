package upstream

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// BenchmarkCompression compresses one batch of 1000 realistic anonymized
// records (~450 bytes on average, with a random id and pseudonym) per op, with a
// reused encoder. MB/s is of uncompressed input; "ratio" is input/output.
func BenchmarkCompression(b *testing.B) {
	data := testBatchData(1000)
	for _, bc := range []struct {
		c     Codec
		level int
	}{
		{CodecZstd, 0}, {CodecZstd, 1}, {CodecZstd, 3}, {CodecZstd, 7}, {CodecZstd, 11},
		{CodecGzip, 1}, {CodecGzip, 6}, {CodecGzip, 9},
	} {
		b.Run(fmt.Sprintf("%v-%d", bc.c, bc.level), func(b *testing.B) {
			e, err := NewEncoder(bc.c, bc.level)
			if err != nil {
				b.Fatal(err)
			}
			var out []byte
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if out, err = e.AppendEncoded(out[:0], data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(data))/float64(len(out)), "ratio")
			benchSink = out
		})
	}
}

// BenchmarkCompressionNaiveZstd is what the reused encoder replaces: a new
// zstd writer per batch.
func BenchmarkCompressionNaiveZstd(b *testing.B) {
	data := testBatchData(1000)
	var buf bytes.Buffer
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		w, err := zstd.NewWriter(&buf)
		if err != nil {
			b.Fatal(err)
		}
		w.Write(data)
		w.Close()
	}
	b.ReportMetric(float64(len(data))/float64(buf.Len()), "ratio")
}

var benchSink []byte
