package gateway

import (
	"fmt"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// hostileConfig is goldenConfig keeping 64 properties (k0..k63), so that
// each value of a beacon with the most properties is scanned.
var hostileConfig = func() string {
	names := make([]string, 64)
	for i := range names {
		names[i] = fmt.Sprintf("k%d", i)
	}
	return strings.Replace(goldenConfig, "allow: [plan, cart_value, note]", "allow: [plan, cart_value, note, "+strings.Join(names, ", ")+"]", 1)
}()

// hostilePatterns are texts a scanner once read in quadratic time when
// repeated into one long value (see anonymize/scrub's BenchmarkAppendText).
var hostilePatterns = []struct{ name, unit string }{
	{"atrun", "at-+"},
	{"phonerun", "-0151"},
}

// hostileBody is a beacon of at most n bytes whose values are unit
// repeated as far as the field limits let them go: an array of events
// with 4,000-byte page URLs (urls), or one event with 1,000-byte
// property values (props). Each value starts with its own letters, so
// that no cache answers for the next.
func hostileBody(shape, unit string, n int) []byte {
	fill := strings.Repeat(unit, 4000/len(unit)+1)
	tag := func(i int) string { return string(rune('a'+i%26)) + string(rune('a'+i/26%26)) }
	var b strings.Builder
	switch shape {
	case "urls":
		b.WriteString("[")
		for i := 0; b.Len() < n-4150; i++ {
			fmt.Fprintf(&b, `{"site":"s","event":"e","consent":["analytics","ads"],"url":"https://x.example/%s/%s"},`, tag(i), fill[:4000])
		}
		b.WriteString(`{"site":"s","event":"e"}]`)
	case "props":
		b.WriteString(`{"site":"s","event":"e","consent":["analytics","ads"],"props":{`)
		for i := 0; b.Len() < n-1100 && i < 63; i++ {
			fmt.Fprintf(&b, `"k%d":"%s %s",`, i, tag(i), fill[:1000])
		}
		b.WriteString(`"k63":1}}`)
	}
	return []byte(b.String())
}

// BenchmarkServeHostile serves beacons built to cost the most CPU, at a
// quarter, half and all of the default server.max_body_bytes (64 KiB),
// through the privacy engine. The cost of a request must grow no faster
// than its size: MB/s must not fall from 16K to 63K.
func BenchmarkServeHostile(b *testing.B) {
	for _, pat := range hostilePatterns {
		for _, shape := range []string{"urls", "props"} {
			for _, n := range []int{16 << 10, 32 << 10, 63 << 10} {
				raw := rawRequest("POST", "/b", hostileBody(shape, pat.unit, n), "Content-Type", "text/plain;charset=UTF-8", "User-Agent", benchUA)
				b.Run(fmt.Sprintf("%s-%s-%dK", pat.name, shape, n>>10), func(b *testing.B) {
					p := newPipelineGateway(b, hostileConfig, "", clocktest.Golden)
					p.withSpool(&nullSpool{})
					d := newDriver(p.g, "81.2.69.142")
					if resp := d.do(raw); resp.StatusCode() != 204 {
						b.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
					}
					b.ReportAllocs()
					b.SetBytes(int64(len(raw)))
					for b.Loop() {
						d.do(raw)
					}
				})
			}
		}
	}
}
