package compare

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/bench/loadgen"
)

func result(tput, p50, p99, cpuPerReq, allocs, cpuPerEvent, clientUtil, serverUtil float64) *loadgen.Result {
	return &loadgen.Result{
		Throughput: tput, Completed: 1000, Status: map[string]int64{"200": 600, "204": 350, "400": 50},
		Latency:       loadgen.Latency{Count: 1000, P50: p50, P90: p50 * 2, P99: p99, P999: p99 * 2, Max: p99 * 3},
		ClientCPUUtil: clientUtil,
		Server:        &loadgen.ServerStats{CPUMicrosPerRequest: cpuPerReq, AllocsPerRequest: allocs, CPUMicrosPerEvent: cpuPerEvent, CPUUtil: serverUtil},
	}
}

func sampleReport() *Report {
	o := DefaultOptions()
	r := &Report{Date: "2024-11-24 03:00 UTC", Machine: "test box", Command: "go run ./bench/cmd/compare", Pinning: "pinned", Options: o,
		RefName: "gateway (process)", RefMax: 40000}
	gw := &TargetResult{Name: "gateway (process)", Gateway: true, Max: result(40000, 300, 900, 23.5, 0.001, 11.2, 0.7, 0.99), MaxWait: 0.02, LevelsOf: "gateway (process)"}
	ce := &TargetResult{Name: nameCeiling, Max: result(50000, 200, 700, 18.8, 0.0, 9, 0.97, 0.8), MaxWait: -1, LevelsOf: "gateway (process)"}
	fs := &TargetResult{Name: "gateway (fsync)", Gateway: true, Max: result(20000, 500, 2000, 40, 0.002, 20, 0.5, 0.9), LevelsOf: "gateway (fsync)"}
	for _, p := range []int{10, 50, 80} {
		gw.Levels = append(gw.Levels, LevelResult{Percent: p, Rate: 400 * float64(p), Result: result(400*float64(p), 40+float64(p), 100+10*float64(p), 0, 0, 0, 0, 0)})
		ce.Levels = append(ce.Levels, LevelResult{Percent: p, Rate: 400 * float64(p), Result: result(400*float64(p), 30, 90, 0, 0, 0, 0, 0)})
		fs.Levels = append(fs.Levels, LevelResult{Percent: p, Rate: 200 * float64(p), Result: result(200*float64(p), 900, 5000, 0, 0, 0, 0, 0)})
	}
	fs.Levels = append(fs.Levels, LevelResult{Percent: 90, Rate: 18000, Err: "loadgen open: boom"})
	r.Targets = []*TargetResult{gw, ce, fs}
	return r
}

func TestSummary(t *testing.T) {
	s := sampleReport().Summary()
	want := Summary{Gateway: "gateway (process)", Ceiling: nameCeiling, ThroughputRatio: 0.8, CPURatio: 23.5 / 18.8,
		P99At50: 600, P99At80: 900, AllocsPerRequest: 0.001, CPUPerRequest: 23.5, CPUPerEvent: 11.2, OK: true}
	if s != want {
		t.Fatalf("got  %+v\nwant %+v", s, want)
	}
	r := sampleReport()
	r.Targets = r.Targets[1:] // no gateway
	if r.Summary().OK {
		t.Fatal("summary without a gateway")
	}
}

func TestMarkdown(t *testing.T) {
	md := string(sampleReport().AppendMarkdown(nil))
	for _, want := range []string{
		"Produced by `go run ./bench/cmd/compare` on 2024-11-24 03:00 UTC",
		"| max throughput, gateway / ceiling | 80.0 % |",
		"| server CPU per request, gateway / ceiling | 1.25× (requests per CPU-second: 80.0 % of the ceiling's) |",
		"| gateway p99 at 50 % of its max | 600 µs |",
		"| gateway p99 at 80 % of its max | 900 µs |",
		"| gateway allocations per request | 0.001 |",
		"| gateway server CPU per event | 11.20 µs |",
		"| gateway (process) | 40,000 | 300 | 900 | 1,800 | 0.99 | 0.70 | 0.02 | 23.50 | 11.20 | 0.001 | 200: 60.0 %, 204: 35.0 %, 400: 5.0 % | 0 |  |",
		"| ceiling (fasthttp) | 50,000 | 200 | 700 | 1,400 | 0.80 | 0.97 | ? |",
		"| ceiling (fasthttp) | 50,000 |",
		"load generator saturated: a lower bound",
		"| gateway (process) | 50 % | 20,000 | 20,000 | 90 | 180 | 600 | 1,200 | 1,800 | 0.00 | 0 | 0 |",
		"| gateway (fsync) | 80 % of own max | 16,000 |",
		"| gateway (fsync) | 90 % of own max | 18,000 | failed | | | | | | | loadgen open: boom | |",
		"Rates are percentages of gateway (process)'s maximum (40,000 req/s)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if strings.Count(md, "load generator saturated") != 1 {
		t.Error("only the ceiling run was client-bound")
	}
}

func TestChart(t *testing.T) {
	c := sampleReport().Chart()
	if len(c.Series) != 6 || !c.LogY {
		t.Fatalf("%d series", len(c.Series))
	}
	// fsync: the failed level is left out; p99 solid, p50 dashed, one colour per server.
	fs99, fs50 := c.Series[4], c.Series[5]
	if fs99.Name != "gateway (fsync) p99" || len(fs99.Points) != 3 || fs99.Dashed || !fs50.Dashed || fs99.Color != fs50.Color || fs99.Color == c.Series[0].Color {
		t.Fatalf("fsync series %+v %+v", fs99, fs50)
	}
	checkXML(t, c.AppendSVG(nil))
}
