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
		Server:        &loadgen.ServerStats{CPUMicrosPerRequest: cpuPerReq, AllocsPerRequest: allocs, CPUMicrosPerEvent: cpuPerEvent, CPUUtil: serverUtil, ScrapeMallocs: 1500, AllocsUncertainty: allocs + 0.004},
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
		gw.Levels = append(gw.Levels, LevelResult{Percent: p, Rate: 400 * float64(p), Result: result(400*float64(p), 40+float64(p), 100+10*float64(p), 30+float64(p)/10, 0, 0, float64(p)/100, float64(p)/60)})
		ce.Levels = append(ce.Levels, LevelResult{Percent: p, Rate: 400 * float64(p), Result: result(400*float64(p), 30, 90, 0, 0, 0, 0, 0)})
		fs.Levels = append(fs.Levels, LevelResult{Percent: p, Rate: 200 * float64(p), Result: result(200*float64(p), 900, 5000, 0, 0, 0, 0, 0)})
	}
	fs.Levels = append(fs.Levels, LevelResult{Percent: 90, Rate: 18000, Err: "loadgen open: boom"})
	r.Targets = []*TargetResult{gw, ce, fs}
	wl := func(key string, g, c *loadgen.Result) *WorkloadResult {
		w, _ := workloadByKey(key)
		return &WorkloadResult{Key: key, Name: w.Name, Event: w.Event, Mix: w.mix(o.Mix), Distinct: w.Distinct,
			Gateway: WorkloadRun{Result: g, Wait: 0.01}, Ceiling: WorkloadRun{Result: c, Wait: -1}}
	}
	r.Workloads = []*WorkloadResult{
		wl("pixel-one", result(60000, 300, 900, 12.5, 0, 12.5, 0.8, 1), result(100000, 200, 700, 5, 0, 5, 1, 0.5)),
		wl("beacon", result(30000, 300, 900, 20, 0.01, 8, 0.6, 1), result(90000, 200, 700, 16, 0, 6.4, 0.95, 0.7)),
		wl("ble", result(20000, 300, 900, 11, 0, 1.5, 0.6, 1), result(90000, 200, 700, 5.5, 0, 0.75, 0.9, 0.5)),
		wl(mixKey, gw.Max, ce.Max),
	}
	r.Workloads[3].FromMax = true
	r.Workloads[0].Gateway.Result.Status = map[string]int64{"200": 1000}
	r.Workloads[1].Ceiling = WorkloadRun{Err: "loadgen closed: exit status 1\nmore"}
	return r
}

func TestSummary(t *testing.T) {
	s := sampleReport().Summary()
	want := Summary{Gateway: "gateway (process)", Ceiling: nameCeiling, ThroughputRatio: 0.8, CPURatio: 23.5 / 18.8,
		P99At50: 600, P99At80: 900, AllocsPerRequest: 0.001, AllocsUncertainty: 0.005, CPUPerRequest: 23.5, CPUPerEvent: 11.2, OK: true}
	if s != want {
		t.Fatalf("got  %+v\nwant %+v", s, want)
	}
	r := sampleReport()
	r.Targets = r.Targets[1:] // no gateway
	if r.Summary().OK {
		t.Fatal("summary without a gateway")
	}
}

func TestGoals(t *testing.T) {
	r := sampleReport()
	got := r.Goals()
	want := []Goal{
		{Name: "single pixel: ceiling / gateway CPU per request", Value: 0.4, Measured: true, Target: 0.75},
		{Name: "beacon (varied): ceiling / gateway CPU per request", Target: 0.75}, // its ceiling run failed
		{Name: "realistic mix: ceiling / gateway CPU per request", Value: 18.8 / 23.5, Measured: true, Target: 0.5},
		{Name: "BLE: gateway CPU per sighting", Value: 1.5, Measured: true, Target: 1.5, AtMost: true, Unit: "µs"},
		{Name: "realistic mix: gateway allocations per request (whole process)", Value: 0.001, Measured: true, Target: 0.01, AtMost: true, Unit: unitAllocs, Uncertainty: 0.005},
		{Name: "gateway p99 at 50 % of its max", Value: 600, Measured: true, Target: 1000, AtMost: true, Unit: "µs"},
		{Name: "gateway longest request at 50 % of its max", Value: 1800, Measured: true, Target: 2000, AtMost: true, Unit: "µs"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d goals: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("goal %d:\ngot  %+v\nwant %+v", i, got[i], want[i])
		}
	}
	met := []bool{false, false, true, true, true, true, true} // 1.5 ≤ 1.5 is met
	for i, g := range got {
		if g.Met() != met[i] {
			t.Errorf("%s: met %v", g.Name, g.Met())
		}
	}
	if v := (Goal{Value: 2001, Measured: true, Target: 2000, AtMost: true}); v.Met() {
		t.Error("2001 ≤ 2000")
	}
	// A server that does not export its allocation count shows 0: not
	// measured, rather than met.
	r.workload(mixKey).Gateway.Result.Server.ScrapeMallocs = 0
	if g := r.Goals()[4]; g.Measured || g.Met() {
		t.Errorf("allocations without go_memstats_mallocs_total: %+v", g)
	}

	// Without workloads only the latency goals remain; without a 50 % level
	// among the levels, none.
	r.Workloads = nil
	if g := r.Goals(); len(g) != 2 {
		t.Fatalf("%+v", g)
	}
	r.Targets[0].Levels = nil
	if g := r.Goals(); len(g) != 2 || g[0].Measured || g[0].verdict() != "" || g[0].measured() != "not measured" {
		t.Fatalf("50 %% level configured but failed: %+v", g)
	}
	r.Options.Levels = []int{25, 80}
	if g := r.Goals(); len(g) != 0 {
		t.Fatalf("%+v", g)
	}
}

func TestMarkdown(t *testing.T) {
	r := sampleReport()
	r.Targets[2].Levels[0].Result.Server = nil // a server whose /metrics could not be read
	if md := string(r.AppendMarkdown(nil)); strings.Contains(md, "Cache hits") {
		t.Error("a cache hit table without hit rates")
	}
	r.Workloads[0].Gateway.Result.Server.CacheHitRates = map[string]float64{"consent": 1, "url": 0.5}
	md := string(r.AppendMarkdown(nil))
	if n := strings.Count(md, "| workload | consent | user agent | URL | text |"); n != 1 {
		t.Errorf("%d cache hit tables", n)
	}
	if strings.Contains(md, "| beacon (varied) | —") {
		t.Error("a row for a workload without hit rates")
	}
	for _, want := range []string{
		"| figure | measured | target | |",
		"| single pixel: ceiling / gateway CPU per request | 0.40 | ≥ 0.75 | not met |",
		"| beacon (varied): ceiling / gateway CPU per request | not measured | ≥ 0.75 |  |",
		"| realistic mix: ceiling / gateway CPU per request | 0.80 | ≥ 0.50 | met |",
		"| BLE: gateway CPU per sighting | 1.50 µs | ≤ 1.50 µs | met |",
		"| realistic mix: gateway allocations per request (whole process) | 0.001 ± 0.005 | ≤ 0.010 | met |",
		"| gateway p99 at 50 % of its max | 600 µs | ≤ 1,000 µs | met |",
		"| gateway longest request at 50 % of its max | 1,800 µs | ≤ 2,000 µs | met |",
		"## Per workload",
		"Closed loop, 64 connections, 3s after 2s warm-up, against gateway (process) and ceiling (fasthttp)",
		"| pixel (one request) | 60,000 | 100,000 | 12.50 | 5.00 | 0.40 | 12.50 | 0.000 | 0.01 / ? | ceiling answered 200: 60.0 %, 204: 35.0 %, 400: 5.0 %; ceiling: load generator saturated, req/s a lower bound |",
		"| beacon (varied) | 30,000 | — | 20.00 | — | — | 8.00 | 0.010 | 0.01 / — | gateway answered 200: 60.0 %, 204: 35.0 %, 400: 5.0 %; ceiling failed: loadgen closed: exit status 1 |",
		"| ble (varied) | 20,000 | 90,000 | 11.00 | 5.50 | 0.50 | 1.50 per sighting | 0.000 |",
		"| realistic mix | 40,000 | 50,000 | 23.50 | 18.80 | 0.80 | 11.20 | 0.001 | 0.01 / ? | the maximum-throughput runs above |",
		"ceiling: load generator saturated, req/s a lower bound",
		"| pixel (one request) | 100.0 % | — | 50.0 % | — |\n\n",
		"- pixel (one request): `-mix pixel=60,beacon=25,ble=10,malformed=5,bots=0.1,xff=0.9,oversize=65537,seed=1,only=pixel,full=1 -distinct 1`",
		"- ble (varied): `-mix pixel=60,beacon=25,ble=10,malformed=5,bots=0.1,xff=0.9,oversize=65537,seed=1,only=ble`",
		"*max µs* is the longest any request took at that load",
		"Produced by `go run ./bench/cmd/compare` on 2024-11-24 03:00 UTC",
		"| max throughput, gateway / ceiling | 80.0 % |",
		"| server CPU per request, gateway / ceiling | 1.25× (requests per CPU-second: 80.0 % of the ceiling's) |",
		"| gateway p99 at 50 % of its max | 600 µs |",
		"| gateway p99 at 80 % of its max | 900 µs |",
		"| gateway allocations per request | 0.001 ± 0.005 |",
		"| gateway server CPU per event | 11.20 µs |",
		"| gateway (process) | 40,000 | 300 | 900 | 1,800 | 0.99 | 0.70 | 0.02 | 23.50 | 11.20 | 0.001 | 200: 60.0 %, 204: 35.0 %, 400: 5.0 % | 0 |  |",
		"| ceiling (fasthttp) | 50,000 | 200 | 700 | 1,400 | 0.80 | 0.97 | ? |",
		"| ceiling (fasthttp) | 50,000 |",
		"load generator saturated: a lower bound",
		"| gateway (process) | 50 % | 20,000 | 20,000 | 90 | 180 | 600 | 1,200 | 1,800 | 0.83 | 0.50 | 0.00 | 35.00 | 0 | 0 |",
		"| ceiling (fasthttp) | 80 % | 32,000 | 32,000 | 30 | 60 | 90 | 180 | 270 | 0.00 | 0.00 | 0.00 | 0.00 | 0 | 0 |",
		"| gateway (fsync) | 10 % of own max | 2,000 | 2,000 | 900 | 1,800 | 5,000 | 10,000 | 15,000 | ? | 0.00 | 0.00 | ? | 0 | 0 |",
		"| gateway (fsync) | 80 % of own max | 16,000 |",
		"| gateway (fsync) | 90 % of own max | 18,000 | failed | | | | | | | | | | loadgen open: boom | |",
		"Rates are percentages of gateway (process)'s maximum (40,000 req/s)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if strings.Count(md, "load generator saturated") != 3 {
		t.Error("the ceiling's maximum run and its pixel and BLE workloads were client-bound, nothing else")
	}
	if strings.Index(md, "## Per workload") > strings.Index(md, "## Maximum throughput") || strings.Index(md, "| figure |") > strings.Index(md, "## Per workload") {
		t.Error("sections out of order")
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

// TestPickMedian: a workload's row is its round with the median ratio,
// the lower of the middle two for an even count, among the rounds where
// both sides were measured; with none, the last round.
func TestPickMedian(t *testing.T) {
	run := func(cpu float64) WorkloadRun { return WorkloadRun{Result: result(1000, 1, 1, cpu, 0, cpu, 0, 0)} }
	round := func(g, c float64) WorkloadRound { return WorkloadRound{Gateway: run(g), Ceiling: run(c)} }
	failed := WorkloadRound{Gateway: WorkloadRun{Err: "boom"}, Ceiling: run(10)}
	for _, c := range []struct {
		name   string
		rounds []WorkloadRound
		want   float64 // ratio of the row; 0: the last round, unmeasured
	}{
		{"one", []WorkloadRound{round(20, 10)}, 0.5},
		{"three", []WorkloadRound{round(20, 10), round(25, 10), round(16, 10)}, 0.5},
		{"three, a fluke high", []WorkloadRound{round(20, 12.8), round(21, 9.8), round(22, 10)}, 9.8 / 21},
		{"two: the lower", []WorkloadRound{round(20, 10), round(10, 10)}, 0.5},
		{"a failed round left out", []WorkloadRound{failed, round(20, 10), round(40, 10)}, 0.25},
		{"none measured", []WorkloadRound{failed, failed}, 0},
		{"a run with an error left out", []WorkloadRound{round(40, 10), {Gateway: WorkloadRun{Result: run(20).Result, Err: "exited during the run"}, Ceiling: run(10)}, round(10, 10)}, 0.25},
	} {
		w := &WorkloadResult{Rounds: c.rounds}
		w.pickMedian()
		if got := w.CPURatio(); got != c.want {
			t.Errorf("%s: ratio %v, want %v", c.name, got, c.want)
		}
		if c.want == 0 && w.Gateway.Err != "boom" {
			t.Errorf("%s: the row is not the last round", c.name)
		}
	}
}

// TestRoundsInReport: with rounds, what went wrong in a round that is not
// shown reaches the notes, and the summary's CPU and allocation figures
// are the mix row's (the goals'), not the maximum-throughput runs'.
func TestRoundsInReport(t *testing.T) {
	r := sampleReport()
	r.Options.Rounds = 3
	beacon := r.Workloads[1]
	good := func(g, c float64) WorkloadRound {
		return WorkloadRound{Gateway: WorkloadRun{Result: result(1000, 1, 1, g, 0.002, g, 0, 1)}, Ceiling: WorkloadRun{Result: result(1000, 1, 1, c, 0, c, 0, 1)}}
	}
	crashed := good(30, 10)
	crashed.Gateway.Err = "loadgen closed: the server exited during the run"
	beacon.Rounds = []WorkloadRound{good(20, 10), crashed, good(10, 10)}
	beacon.pickMedian()
	mix := r.Workloads[3]
	mix.Rounds = []WorkloadRound{{Gateway: mix.Gateway, Ceiling: mix.Ceiling}, good(25, 10), good(19, 10)}
	mix.pickMedian()
	for _, w := range r.Workloads[:3] {
		if len(w.Rounds) == 0 {
			w.Rounds = []WorkloadRound{{Gateway: w.Gateway, Ceiling: w.Ceiling}, {Gateway: w.Gateway, Ceiling: w.Ceiling}, {Gateway: w.Gateway, Ceiling: w.Ceiling}}
		}
	}
	md := string(r.AppendMarkdown(nil))
	for _, want := range []string{"round 2, gateway: loadgen closed: the server exited during the run", "0.50, 0.33, 1.00", "(realistic mix, the median of 3 rounds)"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| realistic mix |") && strings.Contains(line, "answered") {
			t.Errorf("the mix row notes its statuses, which its traffic has by design: %s", line)
		}
	}
	s := r.Summary()
	if w := mix.CPURatio(); s.Rounds != 3 || s.CPURatio != 1/w || s.AllocsPerRequest != mix.Gateway.Result.Server.AllocsPerRequest ||
		s.AllocsUncertainty != mix.Gateway.Result.Server.AllocsUncertainty {
		t.Errorf("summary %+v against the mix row's ratio %v", s, w)
	}
	if g := r.Goals(); g[2].Value != mix.CPURatio() || g[4].Value != s.AllocsPerRequest || g[4].Uncertainty != s.AllocsUncertainty {
		t.Errorf("goals %+v disagree with the summary %+v", g, s)
	}
}
