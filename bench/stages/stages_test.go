package stages

import (
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/beacongate/beacongate/gateway
cpu: AMD EPYC
BenchmarkServePixel-2           	 1000000	      1052 ns/op	       0 B/op	       0 allocs/op
BenchmarkServeBeacon/array-2    	  500000	      2210.5 ns/op	      16 B/op	       1 allocs/op
BenchmarkParsePixelQuery-2
    pixel_timing_test.go:20: some log line
 3000000	       412 ns/op	       0 B/op	       0 allocs/op
PASS
ok  	github.com/beacongate/beacongate/gateway	4.021s
goos: linux
goarch: amd64
pkg: github.com/beacongate/beacongate/upstream
cpu: AMD EPYC
BenchmarkSpoolAppend-2   	  200000	      5120 ns/op	  12.50 MB/s	       0 B/op	       0 allocs/op
BenchmarkCompressBatch-2 	    1000	   1200000 ns/op	       850.0 ns/event	    2048 B/op	       3 allocs/op
BenchmarkFrobnicate-2    	 1000000	        12.3 ns/op
PASS
ok  	github.com/beacongate/beacongate/upstream	3.100s
# github.com/beacongate/beacongate/anonymize/geo
anonymize/geo/geo.go:12:2: undefined: foo
FAIL	github.com/beacongate/beacongate/anonymize/geo [build failed]
--- FAIL: BenchmarkEvaluate
    policy_timing_test.go:9: boom
FAIL	github.com/beacongate/beacongate/anonymize/policy	0.010s
pkg: github.com/beacongate/beacongate/anonymize/scrub
PASS
ok  	github.com/beacongate/beacongate/anonymize/scrub	0.005s
`

func TestParse(t *testing.T) {
	out, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Benches) != 6 {
		t.Fatalf("%d benches: %+v", len(out.Benches), out.Benches)
	}
	f := func(i int, name string, procs int, pkg string, ns, bop, allocs float64, hasMem bool, extra int) {
		t.Helper()
		b := out.Benches[i]
		if b.Name != name || b.Procs != procs || !strings.HasSuffix(b.Pkg, pkg) || b.NsOp != ns || b.BOp != bop ||
			b.Allocs != allocs || b.HasMem != hasMem || len(b.Extra) != extra {
			t.Fatalf("bench %d = %+v", i, b)
		}
	}
	f(0, "ServePixel", 2, "/gateway", 1052, 0, 0, true, 0)
	f(1, "ServeBeacon/array", 2, "/gateway", 2210.5, 16, 1, true, 0)
	f(2, "ParsePixelQuery", 2, "/gateway", 412, 0, 0, true, 0)
	f(3, "SpoolAppend", 2, "/upstream", 5120, 0, 0, true, 1)
	f(4, "CompressBatch", 2, "/upstream", 1200000, 2048, 3, true, 1)
	f(5, "Frobnicate", 2, "/upstream", 12.3, 0, 0, false, 0)
	if e := out.Benches[4].Extra[0]; e.Value != 850 || e.Unit != "ns/event" {
		t.Fatalf("extra metric %+v", e)
	}
	if len(out.Failed) != 3 || !strings.Contains(out.Failed[0], "anonymize/geo [build failed]") || !strings.Contains(out.Failed[1], "BenchmarkEvaluate") {
		t.Fatalf("failed = %q", out.Failed)
	}
	if len(out.NoBench) != 1 || !strings.HasSuffix(out.NoBench[0], "/scrub") {
		t.Fatalf("no bench = %q", out.NoBench)
	}
}

func TestSplitName(t *testing.T) {
	f := func(in, name string, procs int) {
		t.Helper()
		if n, p := splitName(in); n != name || p != procs {
			t.Fatalf("splitName(%q) = %q, %d", in, n, p)
		}
	}
	f("ServePixel-2", "ServePixel", 2)
	f("ServePixel", "ServePixel", 0)
	f("Decode/tcf-2.2-8", "Decode/tcf-2.2", 8)
	f("Decode/x-", "Decode/x-", 0)
}

func TestSplitWords(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := strings.Join(splitWords(in), " "); got != want {
			t.Fatalf("splitWords(%q) = %q; want %q", in, got, want)
		}
	}
	f("DecodeTCString", "decode tc string")
	f("SpoolAppend_fsync", "spool append fsync")
	f("UserAgent", "user agent")
	f("HMACSHA256", "hmacsha 256")
	f("BLE40", "ble 40")
	f("Pixel/zstd-1", "pixel zstd 1")
	f("GeoIPLookup", "geo ip lookup")
	f("AppendTruncatedIPv6", "append truncated i pv 6")
	f("Evaluate", "evaluate")
}

func TestClassify(t *testing.T) {
	f := func(name, pkg string, want Stage) {
		t.Helper()
		if got := Classify(name, pkg); got != want {
			t.Fatalf("Classify(%q, %q) = %s; want %s", name, pkg, got, want)
		}
	}
	f("ServePixel", "gateway", WholePath)
	f("ServeBeacon/array", "gateway", WholePath)
	f("Serve/ble", "gateway", WholePath)
	f("ParsePixelQuery", "gateway", ParsePixel)
	f("ParseBeacon", "gateway", ParseBeacon)
	f("DecodeBeaconJSON", "gateway", ParseBeacon)
	f("ParseBLE", "gateway", ParseBLE)
	f("DecodeTC", "anonymize/consent", ConsentDecode)
	f("DecodeTCString/range", "anonymize/consent", ConsentDecode)
	f("ParseGCD", "anonymize/consent", ConsentDecode)
	f("Evaluate", "anonymize/policy", ConsentEvaluate)
	f("EvaluateNoConsent", "anonymize", ConsentEvaluate)
	f("EvaluateTCF", "anonymize/consent", ConsentEvaluate) // the name wins over the package
	f("DecodeTCTypical", "anonymize/consent", ConsentDecode)
	f("ServeParse/Pixel", "gateway", ParsePixel)
	f("ServeParse/Beacon", "gateway", ParseBeacon)
	f("ServeParse/BLE40", "gateway", ParseBLE)
	f("ServeParse/other", "gateway", WholePath)
	f("ServePipeline/BLE40", "gateway", WholePath)
	f("ServeFull/Pixel", "gateway", WholePath)
	f("PipelineAppend/process", "upstream", Delivery)
	f("EndToEnd/kafka", "upstream", Delivery)
	f("Compression/zstd-3", "upstream", BatchCompress)
	f("GeoLookup", "anonymize/geo", GeoLookup)
	f("LookupCity", "anonymize/geo", GeoLookup)
	f("City", "anonymize/geo", GeoLookup)
	f("AppendTruncatedIP", "anonymize", IPTruncate)
	f("ReduceUserAgent", "anonymize/useragent", UAReduce)
	f("UA", "anonymize", UAReduce)
	f("Parse", "anonymize/useragent", UAReduce) // a stage's own package first
	f("Mileusna", "anonymize/useragent", UAReduce)
	f("DecodeRecord", "anonymize/geo", GeoLookup)
	f("AppendJSON", "anonymize/geo", GeoLookup)
	f("AppendJSON", "anonymize", RecordEncode) // no stage package: by name
	f("ParseJSON", "gateway", ParseBeacon)
	f("AppendTruncated", "anonymize/ipmask", IPTruncate)
	f("ServeFromSpool", "upstream/spool", WholePath) // whole-path names before the package
	f("Parse", "gateway", ParsePixel)
	f("ReaderNext", "upstream/spool", SpoolAppend)
	f("ScrubURL", "anonymize/scrub", URLScrub)
	f("Pseudonym", "anonymize/pseudonym", Pseudonym)
	f("HMAC", "anonymize", Pseudonym)
	f("RecordEncode", "upstream/record", RecordEncode)
	f("EncodeRecord", "upstream", RecordEncode)
	f("AppendRecord", "upstream", RecordEncode)
	f("SpoolAppend", "upstream/spool", SpoolAppend)
	f("SpoolAppend/fsync", "upstream/spool", SpoolAppend)
	f("CompressBatch", "upstream", BatchCompress)
	f("ZstdCompression", "upstream", BatchCompress)
	f("Frobnicate", "upstream/sink", Unmapped)
	f("LookupVendor", "x", GeoLookup)
}

func TestRowsAndMarkdown(t *testing.T) {
	out, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	rows := Rows(out.Benches)
	// Every stage appears; stages come in order; unmapped last.
	last := Stage(-1)
	seen := map[Stage]bool{}
	for _, r := range rows {
		if r.Stage < last {
			t.Fatalf("rows out of order: %v after %v", r.Stage, last)
		}
		last = r.Stage
		seen[r.Stage] = true
	}
	for s := ParsePixel; s <= Unmapped; s++ {
		if !seen[s] {
			t.Fatalf("stage %s has no row", s)
		}
	}
	if r := rows[len(rows)-1]; r.Stage != Unmapped || r.Bench.Name != "Frobnicate" {
		t.Fatalf("last row %+v", r)
	}

	md := string(AppendMarkdown(nil, out, Header{Command: "go run ./bench/cmd/stages", Date: "2024-11-24", Machine: "test box"}))
	for _, want := range []string{
		"Produced by `go run ./bench/cmd/stages` on 2024-11-24",
		"| parse pixel query | ParsePixelQuery-2 | gateway | 412 | 0 | 0 |  |",
		"| consent decode (TCF, GCM, GPP, USP) | missing | | | | | |",
		"| spool append | SpoolAppend-2 | upstream | 5120 | 0 | 0 | 12.5 MB/s |",
		"| batch compress | CompressBatch-2 | upstream | 1200000 | 2048 | 3 | 850 ns/event |",
		"| **whole per-request path** | ServePixel-2 | gateway | 1052 | 0 | 0 |  |",
		"| **whole per-request path** | ServeBeacon/array-2 | gateway | 2210 | 16 | 1 |  |",
		"## Benchmarks not mapped to a stage",
		"| Frobnicate-2 | upstream | 12.3 | n/a | n/a |  |",
		"- failed: `FAIL github.com/beacongate/beacongate/anonymize/geo [build failed]`",
		"- no benchmarks: `github.com/beacongate/beacongate/anonymize/scrub`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q\n%s", want, md)
		}
	}
	// The whole path comes after every stage row.
	if strings.Index(md, "| **whole per-request path** |") < strings.Index(md, "| batch compress |") {
		t.Error("whole path is not at the bottom")
	}
}

func TestNum(t *testing.T) {
	f := func(v float64, want string) {
		t.Helper()
		if got := num(v); got != want {
			t.Fatalf("num(%v) = %q; want %q", v, got, want)
		}
	}
	f(0, "0")
	f(3, "3")
	f(1052.4, "1052")
	f(12.34, "12.3")
	f(1.234, "1.23")
	f(0.0123, "0.0123")
}

func TestStageStrings(t *testing.T) {
	for s := ParsePixel; s <= Unmapped; s++ {
		if s.String() == "unknown" {
			t.Errorf("stage %d has no name", s)
		}
	}
	if Stage(99).String() != "unknown" {
		t.Error("Stage(99)")
	}
}
