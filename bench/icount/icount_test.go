package icount

import (
	"context"
	"strings"
	"testing"
)

// sample is the head and tail of a real cachegrind output file
// (valgrind 3.19, --cache-sim=no), with one function's lines between.
const sample = `desc: I1 cache:         32768 B, 64 B, 8-way associative
desc: D1 cache:         32768 B, 64 B, 8-way associative
desc: LL cache:         268435456 B, 64 B, direct-mapped
cmd: /tmp/gateway.test -test.run ^$ -test.bench ^BenchmarkServeLoadgen$/^pixel$ -test.benchtime 300x
events: Ir
fl=/work/main/gateway/query.go
fn=github.com/beacongate/beacongate/gateway.assignQueryArg
52 1200
summary: 157541329
`

func TestParseSummary(t *testing.T) {
	n, err := ParseSummary(strings.NewReader(sample))
	if err != nil || n != 157541329 {
		t.Fatalf("got %d, %v; want 157541329", n, err)
	}
	for name, in := range map[string]string{
		"no summary":         strings.Replace(sample, "summary: 157541329\n", "", 1),
		"no events line":     strings.Replace(sample, "events: Ir\n", "", 1),
		"another event":      strings.Replace(sample, "events: Ir", "events: Dr", 1),
		"not a number":       strings.Replace(sample, "157541329", "15754x329", 1),
		"empty summary":      strings.Replace(sample, " 157541329", "", 1),
		"negative":           strings.Replace(sample, "157541329", "-1", 1),
		"beyond uint64":      strings.Replace(sample, "157541329", "18446744073709551616", 1),
		"empty file":         "",
		"another tool's log": "==4242== Memcheck, a memory error detector\n",
	} {
		if n, err := ParseSummary(strings.NewReader(in)); err == nil {
			t.Errorf("%s: got %d, want an error", name, n)
		}
	}
}

func TestPerRequest(t *testing.T) {
	if got, err := PerRequest(1_000_000, 4_000_000, 300, 900); err != nil || got != 5000 {
		t.Fatalf("got %v, %v; want 5000", got, err)
	}
	if _, err := PerRequest(4_000_000, 1_000_000, 300, 900); err == nil {
		t.Error("fewer instructions for more iterations: want an error")
	}
	if _, err := PerRequest(1, 2, 900, 900); err == nil {
		t.Error("equal iteration counts: want an error")
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"unknown workload": {Workloads: []string{"pixels"}, Low: 300, High: 900, Runs: 1},
		"low not below":    {Low: 900, High: 900, Runs: 1},
		"no runs":          {Low: 300, High: 900},
		"workload twice":   {Workloads: []string{"pixel", "pixel"}, Low: 300, High: 900, Runs: 1},
		"missing profile":  {PGO: "/nonexistent/default.pgo", Low: 300, High: 900, Runs: 1},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

// FuzzParseSummary: any input gives a count or an error, never a panic, and
// a count only from a file with an events line naming Ir first.
func FuzzParseSummary(f *testing.F) {
	f.Add(sample)
	f.Add("events: Ir\nsummary: 1\n")
	f.Add("events: Ir Dr\nsummary: 12 3\n")
	f.Add("summary: 5\n")
	f.Fuzz(func(t *testing.T, in string) {
		n, err := ParseSummary(strings.NewReader(in))
		if err != nil {
			return
		}
		for line := range strings.Lines(in) {
			if v, ok := strings.CutPrefix(line, "events:"); ok {
				if f := strings.Fields(v); len(f) > 0 && f[0] == "Ir" {
					return
				}
			}
		}
		t.Fatalf("count %d from input without an events line naming Ir first", n)
	})
}
