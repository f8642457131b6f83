package gateway

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/bench/loadgen"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
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

// BenchmarkServeLoadgen serves requests bench/cmd/loadgen sends in the
// compare run (testdata/loadgen: the repeated pixel of the "pixel (one
// request)" workload, a beacon array of two events, a BLE batch of 12
// sightings; and, as pixel-varied, beacon-varied and ble-varied, the 4,096
// distinct requests of compare's varied workloads, in turn after one pass
// that fills the engine's caches) through the embedded default config, with loopback trusted as
// a proxy as compare configures it, the real spool and the file
// destination. Its instruction counts (valgrind --tool=cachegrind, two
// iteration counts subtracted) are steady where the machine's timings are
// not. The MaxMind test database is used when ../shared/testdata has it.
func BenchmarkServeLoadgen(b *testing.B) {
	yaml := strings.Replace(string(config.DefaultYAML()), "trusted_proxies: []", `trusted_proxies: ["127.0.0.0/8"]`, 1)
	geoDB := filepath.Join("..", "..", "shared", "testdata", "maxmind", "GeoIP2-City-Test.mmdb")
	if _, err := os.Stat(geoDB); err != nil {
		geoDB = "" // a synthetic database: the requests' addresses are not in it
	}
	// The BLE batch's sightings were seen from 00:56:29 on: the clock lets
	// them in (server.max_sighting_age).
	now := time.Date(2026, 12, 6, 0, 57, 0, 0, time.UTC)
	for _, kind := range []string{"pixel", "beacon", "ble"} {
		name := kind + "-varied"
		b.Run(name, func(b *testing.B) {
			raws := variedRequests(b, kind, now)
			pl := newPipelineGateway(b, yaml, geoDB, now)
			pl.withSpool(pl.openFilePipeline(b, nil))
			d := newDriver(pl.g, "127.0.0.1")
			serve := func(raw []byte) {
				if resp := d.do(raw); resp.StatusCode() >= 300 {
					b.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
				}
			}
			for _, raw := range raws {
				serve(raw) // the caches' steady state, as after compare's warm-up
			}
			// The set-up's garbage (the generator's requests) collected
			// now, so that no collection of it falls among the counted
			// requests, which allocate nothing.
			runtime.GC()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				serve(raws[i%len(raws)])
				i++
			}
		})
	}
	for _, name := range []string{"pixel", "beacon", "ble"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "loadgen", name+".http"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			pl := newPipelineGateway(b, yaml, geoDB, now)
			pl.withSpool(pl.openFilePipeline(b, nil))
			d := newDriver(pl.g, "127.0.0.1")
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if resp := d.do(raw); resp.StatusCode() >= 300 {
					b.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
				}
			}
		})
	}
}

// variedRequests are the distinct requests of compare's varied workload
// for kind (pixel, beacon or ble), as bench/loadgen generates them with
// compare's default mix (seed 1), BLE sightings dated just before now.
func variedRequests(b *testing.B, kind string, now time.Time) [][]byte {
	m := loadgen.DefaultMix()
	m.Now = now
	if err := m.Set("only=" + kind); err != nil {
		b.Fatal(err)
	}
	reqs, err := m.Generate(4096)
	if err != nil {
		b.Fatal(err)
	}
	raws := make([][]byte, len(reqs))
	for i, r := range reqs {
		var h []string
		for _, kv := range r.Headers {
			h = append(h, kv.Key, kv.Value)
		}
		var body []byte
		if len(r.Body) > 0 {
			body = r.Body
		}
		raws[i] = rawRequest(r.Method, r.URI, body, h...)
	}
	return raws
}
