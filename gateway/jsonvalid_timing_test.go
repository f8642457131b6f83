package gateway

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// jsonBenchBodies are a realistic beacon body (~900 bytes) and a store's BLE
// ping with 40 sightings, plus a junk body that fails half-way, the case
// validJSON exists for.
func jsonBenchBodies() []struct {
	name string
	body []byte
} {
	beacon := beaconBody()
	return []struct {
		name string
		body []byte
	}{
		{"beacon", beacon},
		{"ble40", bleBody(40)},
		{"beacon-truncated", beacon[:len(beacon)/2]},
	}
}

func BenchmarkValidJSON(b *testing.B) {
	for _, bb := range jsonBenchBodies() {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			want := validJSON(bb.body)
			for b.Loop() {
				if validJSON(bb.body) != want {
					b.Fatal("unstable result")
				}
			}
		})
	}
}

func BenchmarkStdlibJSONValid(b *testing.B) {
	for _, bb := range jsonBenchBodies() {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				json.Valid(bb.body)
			}
		})
	}
}

func BenchmarkUTF8Valid(b *testing.B) {
	for _, bb := range jsonBenchBodies() {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				utf8.Valid(bb.body)
			}
		})
	}
}

// BenchmarkFastjsonParse is what post.go does today after utf8.Valid: a
// reused Parser, which allocates only when the body is invalid.
func BenchmarkFastjsonParse(b *testing.B) {
	for _, bb := range jsonBenchBodies() {
		b.Run(bb.name, func(b *testing.B) {
			var p fastjson.Parser
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				p.ParseBytes(bb.body)
			}
		})
	}
}

// BenchmarkValidJSONThenFastjson is the planned hot path: validJSON as the
// gate, fastjson only for bodies that pass.
func BenchmarkValidJSONThenFastjson(b *testing.B) {
	for _, bb := range jsonBenchBodies() {
		b.Run(bb.name, func(b *testing.B) {
			var p fastjson.Parser
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				if validJSON(bb.body) {
					p.ParseBytes(bb.body)
				}
			}
		})
	}
}
