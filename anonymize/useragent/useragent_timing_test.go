package useragent

import (
	"testing"

	mua "github.com/mileusna/useragent"
)

var (
	sinkInfo Info
	sinkLib  mua.UserAgent
)

func benchUAs(b *testing.B) ([][]byte, []string, int64) {
	lines := readCorpus(b)
	raw := make([][]byte, len(lines))
	strs := make([]string, len(lines))
	var total int64
	for i, c := range lines {
		raw[i], strs[i] = []byte(c.ua), c.ua
		total += int64(len(c.ua))
	}
	return raw, strs, total / int64(len(lines))
}

// BenchmarkParse runs over the whole corpus, one UA per op.
func BenchmarkParse(b *testing.B) {
	raw, _, avg := benchUAs(b)
	b.ReportAllocs()
	b.SetBytes(avg)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sinkInfo = Parse(raw[i%len(raw)])
	}
}

func BenchmarkParseChromeDesktop(b *testing.B) {
	ua := []byte("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
	b.ReportAllocs()
	b.SetBytes(int64(len(ua)))
	for i := 0; i < b.N; i++ {
		sinkInfo = Parse(ua)
	}
}

func BenchmarkParseParallel(b *testing.B) {
	raw, _, avg := benchUAs(b)
	b.ReportAllocs()
	b.SetBytes(avg)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var in Info
		for i := 0; pb.Next(); i++ {
			in = Parse(raw[i%len(raw)])
		}
		sinkInfo = in
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	in := Parse([]byte("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"))
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = in.AppendJSON(buf[:0])
	}
}

// BenchmarkMileusna is the library the issue measured (12 allocations,
// 3.5 µs), over the same corpus, for comparison.
func BenchmarkMileusna(b *testing.B) {
	_, strs, avg := benchUAs(b)
	b.ReportAllocs()
	b.SetBytes(avg)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sinkLib = mua.Parse(strs[i%len(strs)])
	}
}
