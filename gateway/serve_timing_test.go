package gateway

import (
	"testing"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

const benchUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

func benchRequests() map[string][]byte {
	return map[string][]byte{
		"Pixel":  rawRequest("GET", pixelURI(), nil, "User-Agent", benchUA, "Accept-Language", "de-DE,de;q=0.9", "Cookie", "euconsent-v2="+realTC),
		"Beacon": rawRequest("POST", "/b", beaconBody(), "Content-Type", "text/plain;charset=UTF-8", "User-Agent", benchUA),
		"BLE40":  rawRequest("POST", "/ble", bleBody(40), "Content-Type", "application/json", "User-Agent", "StoreSensor/2.1"),
	}
}

func benchServe(b *testing.B, g *Gateway, raw []byte) {
	d := newDriver(g, "81.2.69.142")
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		d.do(raw)
	}
}

// BenchmarkServeParse is request parsing only: read the HTTP request, parse
// it into events, hand them to a handler that discards them.
func BenchmarkServeParse(b *testing.B) {
	for name, raw := range benchRequests() {
		b.Run(name, func(b *testing.B) {
			benchServe(b, New(Settings{Handler: &countingHandler{}, Clock: clock.Fixed(bleNow)}, nil), raw)
		})
	}
}

// BenchmarkServePipeline adds the whole privacy engine (consent, geo, UA,
// URL and text scanning, pseudonyms, record encoding) behind the parser, with
// a spool that discards records.
func BenchmarkServePipeline(b *testing.B) {
	for name, raw := range benchRequests() {
		b.Run(name, func(b *testing.B) {
			p := newPipelineGateway(b, goldenConfig, "", clocktest.Golden)
			p.withSpool(&nullSpool{})
			benchServe(b, p.g, raw)
		})
	}
}

// BenchmarkServeFull is the whole request path as served: parsing, the
// privacy engine and the append to the real on-disk spool (durability
// process), with the file destination shipping zstd batches in the
// background.
func BenchmarkServeFull(b *testing.B) {
	reqs := benchRequests()
	// A pixel whose event goes to three destinations with three policies:
	// three records, one spool write.
	reqs["Pixel3Policies"] = rawRequest("GET", "/p.gif?site=s&consent=analytics,ads&url=https%3A%2F%2Fs.example%2Fp%3Fgclid%3Dx&uid=u-1", nil, "User-Agent", benchUA)
	for name, raw := range reqs {
		b.Run(name, func(b *testing.B) {
			yaml := goldenConfig
			if name == "Pixel3Policies" {
				yaml = threePolicies
			}
			pl := newPipelineGateway(b, yaml, "", clocktest.Golden)
			pl.withSpool(pl.openFilePipeline(b, nil))
			benchServe(b, pl.g, raw)
		})
	}
}
