// Package stages turns `go test -bench` output of the pipeline's packages
// into the per-stage budget: one Markdown table of ns/op and allocs/op,
// ordered like a request flows through the gateway, with the whole
// per-request path at the bottom. Benchmarks are assigned to stages by the
// words of their names (and, failing that, their package), so new or renamed
// benchmarks land in the right row or in an "unmapped" list, and a stage
// with no benchmark shows as missing. No figure is ever filled in by hand.
package stages

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// Metric is one value/unit pair of a benchmark line, e.g. 12.5 ns/event.
type Metric struct {
	Value float64
	Unit  string
}

// Bench is one benchmark result.
type Bench struct {
	Name   string // without the "Benchmark" prefix and the -GOMAXPROCS suffix, e.g. "DecodeTC/range"
	Procs  int    // the -N suffix; 0 if absent
	Pkg    string // import path from the preceding "pkg:" line
	N      int64  // iterations
	NsOp   float64
	BOp    float64
	Allocs float64
	HasMem bool     // B/op and allocs/op were reported
	Extra  []Metric // custom metrics (b.ReportMetric, MB/s)
}

// Output is what one or more `go test -bench` runs printed.
type Output struct {
	Benches []Bench
	Failed  []string // lines saying a package failed ("FAIL pkg [build failed]", "--- FAIL: BenchmarkX")
	NoBench []string // packages that ran but reported no benchmark
}

// Parse reads `go test -bench -benchmem` output. Lines it does not know are
// ignored, so logs between results do no harm; a benchmark whose name and
// figures were split by its own log output is joined again.
func Parse(r io.Reader) (Output, error) {
	var out Output
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	pkg, pending := "", ""
	benchesInPkg := 0
	endPkg := func(name string) {
		if name != "" && benchesInPkg == 0 {
			out.NoBench = append(out.NoBench, name)
		}
		benchesInPkg = 0
	}
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimSpace(line[len("pkg: "):])
			continue
		case strings.HasPrefix(line, "ok  \t"):
			f := strings.Fields(line)
			if len(f) >= 2 {
				endPkg(f[1])
			}
			pkg = ""
			continue
		case strings.HasPrefix(line, "FAIL\t"), strings.HasPrefix(trimmed, "--- FAIL: "), strings.HasPrefix(line, "FAIL "):
			out.Failed = append(out.Failed, trimmed)
			continue
		case strings.HasPrefix(line, "?   \t"): // no test files
			continue
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if strings.HasPrefix(f[0], "Benchmark") {
			if len(f) == 1 {
				pending = f[0] // figures follow after the benchmark's own output
				continue
			}
			if b, ok := parseResult(f[0], f[1:]); ok {
				b.Pkg = pkg
				out.Benches = append(out.Benches, b)
				benchesInPkg++
			}
			pending = ""
			continue
		}
		if pending != "" && isDigits(f[0]) {
			if b, ok := parseResult(pending, f); ok {
				b.Pkg = pkg
				out.Benches = append(out.Benches, b)
				benchesInPkg++
				pending = ""
			}
		}
	}
	return out, sc.Err()
}

// parseResult reads "N v unit v unit ..." for the benchmark full name.
func parseResult(full string, f []string) (Bench, bool) {
	if len(f) < 3 || (len(f)-1)%2 != 0 {
		return Bench{}, false
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return Bench{}, false
	}
	b := Bench{N: n}
	b.Name, b.Procs = splitName(strings.TrimPrefix(full, "Benchmark"))
	seenNs := false
	for i := 1; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return Bench{}, false
		}
		switch unit := f[i+1]; unit {
		case "ns/op":
			b.NsOp, seenNs = v, true
		case "B/op":
			b.BOp, b.HasMem = v, true
		case "allocs/op":
			b.Allocs, b.HasMem = v, true
		default:
			b.Extra = append(b.Extra, Metric{v, unit})
		}
	}
	return b, seenNs
}

// splitName separates the -GOMAXPROCS suffix go test appends to a name.
func splitName(s string) (string, int) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 || i == len(s)-1 || !isDigits(s[i+1:]) {
		return s, 0
	}
	p, _ := strconv.Atoi(s[i+1:])
	return s[:i], p
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
