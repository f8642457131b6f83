package compare

import (
	"bytes"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beacongate/beacongate/bench/loadgen"
	"github.com/beacongate/beacongate/bench/machine"
	"github.com/beacongate/beacongate/bench/svgchart"
)

// Report is everything a comparison measured.
type Report struct {
	Date, Machine, Command, Pinning string
	Options                         Options
	GatewaySkipped                  string // why the gateway was not measured
	RefName                         string // target whose maximum sets the open-loop rates
	RefMax                          float64
	Targets                         []*TargetResult
	Workloads                       []*WorkloadResult // per endpoint against the fasthttp ceiling
	Stalls                          *StallsResult     // nil when the phase did not run
	Elapsed                         time.Duration
	LoadAvgStart, LoadAvg           string // /proc/loadavg before and after: other work on the machine skews figures
}

// TargetResult is one server's figures.
type TargetResult struct {
	Name    string
	Gateway bool
	Err     string
	Max     *loadgen.Result // closed loop
	// MaxWait is how long the server's threads waited for a CPU held by
	// other processes, per second of the closed-loop run; -1 if unknown.
	MaxWait  float64
	LevelsOf string // whose maximum the level percentages refer to
	Levels   []LevelResult
}

// LevelResult is one open-loop run.
type LevelResult struct {
	Percent int
	Rate    float64
	Result  *loadgen.Result
	Wait    float64 // as TargetResult.MaxWait
	Err     string
}

func newReport(o Options) *Report {
	return &Report{
		Date:         time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Machine:      machine.Describe().String(),
		Command:      o.Command,
		Options:      o,
		LoadAvgStart: loadAvg(),
	}
}

func (r *Report) target(name string) *TargetResult {
	for _, t := range r.Targets {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// level returns the open-loop result at pct, or nil.
func (t *TargetResult) level(pct int) *loadgen.Result {
	if t == nil {
		return nil
	}
	for _, l := range t.Levels {
		if l.Percent == pct {
			return l.Result
		}
	}
	return nil
}

func serverUtil(r *loadgen.Result) float64 {
	if r == nil || r.Server == nil {
		return 0
	}
	return r.Server.CPUUtil
}

// clientBound reports whether a closed-loop maximum was limited by the load
// generator rather than the server: the generator's core was nearly full
// while the server's was not.
func clientBound(r *loadgen.Result) bool {
	return r != nil && r.Server != nil && r.ClientCPUUtil >= 0.9 && r.Server.CPUUtil < 0.9
}

// Summary holds the headline figures of the gateway against the ceiling.
type Summary struct {
	Gateway, Ceiling string
	// ThroughputRatio is gateway / ceiling maximum requests per second.
	ThroughputRatio float64
	// CPURatio is gateway / ceiling server CPU per request; its inverse is
	// the gateway's requests per CPU-second as a share of the ceiling's.
	CPURatio float64
	// FloorRatio is ceiling / floor server CPU per request at their
	// maxima (the mix): the best ratio a server that writes and compresses
	// every request reached; 0 without a floor.
	FloorRatio                 float64
	P99At50, P99At80           float64 // gateway, µs
	AllocsPerRequest           float64 // gateway, closed loop
	AllocsUncertainty          float64 // ± from the scrapes' spread (loadgen.ServerStats)
	CPUPerRequest, CPUPerEvent float64 // gateway, µs, closed loop
	// Rounds is how many rounds of the realistic mix the CPU and
	// allocation figures come from (its row of the workloads table, the
	// round with the median ratio); 0: the maximum-throughput runs.
	Rounds int
	OK     bool
}

// Summary compares the reference gateway with the fasthttp ceiling.
func (r *Report) Summary() Summary {
	if len(r.Options.Durabilities) == 0 {
		return Summary{}
	}
	g, c := r.target(gatewayName(r.Options.Durabilities[0])), r.target(nameCeiling)
	if g == nil || c == nil || g.Max == nil || c.Max == nil || g.Max.Server == nil || c.Max.Server == nil {
		return Summary{}
	}
	s := Summary{Gateway: g.Name, Ceiling: c.Name, OK: true,
		AllocsPerRequest:  g.Max.Server.AllocsPerRequest,
		AllocsUncertainty: g.Max.Server.AllocsUncertainty,
		CPUPerRequest:     g.Max.Server.CPUMicrosPerRequest,
		CPUPerEvent:       g.Max.Server.CPUMicrosPerEvent}
	if c.Max.Throughput > 0 {
		s.ThroughputRatio = g.Max.Throughput / c.Max.Throughput
	}
	if c.Max.Server.CPUMicrosPerRequest > 0 {
		s.CPURatio = g.Max.Server.CPUMicrosPerRequest / c.Max.Server.CPUMicrosPerRequest
	}
	// With rounds, the same figures as the mix's row and goals.
	if w := r.workload(mixKey); w != nil && len(w.Rounds) > 1 && w.CPURatio() > 0 {
		gs := w.Gateway.Result.Server
		s.AllocsPerRequest, s.CPUPerRequest, s.CPUPerEvent = gs.AllocsPerRequest, gs.CPUMicrosPerRequest, gs.CPUMicrosPerEvent
		s.AllocsUncertainty = gs.AllocsUncertainty
		s.CPURatio = 1 / w.CPURatio()
		s.Rounds = len(w.Rounds)
	}
	if f := r.target(nameFloor); f != nil && f.Max != nil && f.Max.Server != nil && f.Max.Server.CPUMicrosPerRequest > 0 {
		s.FloorRatio = c.Max.Server.CPUMicrosPerRequest / f.Max.Server.CPUMicrosPerRequest
	}
	s.P99At50, s.P99At80 = -1, -1
	if l := g.level(50); l != nil {
		s.P99At50 = l.Latency.P99
	}
	if l := g.level(80); l != nil {
		s.P99At80 = l.Latency.P99
	}
	return s
}

// AppendMarkdown appends the report as a Markdown document.
func (r *Report) AppendMarkdown(dst []byte) []byte {
	b := bytes.NewBuffer(dst)
	o := r.Options
	b.WriteString("# beacongate against the ceiling\n\n")
	fmt.Fprintf(b, "Produced by `%s` on %s, in %s.  \n", r.Command, r.Date, r.Elapsed.Round(time.Second))
	fmt.Fprintf(b, "Machine: %s; %s.  \n", r.Machine, r.Pinning)
	if r.LoadAvgStart != "" || r.LoadAvg != "" {
		fmt.Fprintf(b, "Load average before / after: %s / %s (other work on the machine lowers every figure).  \n", r.LoadAvgStart, r.LoadAvg)
	}
	fmt.Fprintf(b, "Traffic: `%s`, sites `%s`; closed loop %d connections, %v after %v warm-up; open loop %v per level after %v warm-up.\n\n",
		o.Mix, o.Sites, o.Conns, o.MaxDuration, o.MaxWarmup, o.LatDuration, o.LatWarmup)
	gwCfg := "bench default (X-Forwarded-For trusted from loopback, as behind a local proxy)"
	if o.GatewayConfig != "" {
		gwCfg = "`" + o.GatewayConfig + "`"
	}
	geo := "none"
	if o.GeoIP != "" {
		geo = "`" + filepath.Base(o.GeoIP) + "`"
	}
	fmt.Fprintf(b, "Gateway config: %s, with `spool.durability` per variant; geo database: %s.\n\n", gwCfg, geo)
	if r.GatewaySkipped != "" {
		b.WriteString("**The gateway was not measured:** it did not build.\n\n```\n")
		b.WriteString(firstLines(r.GatewaySkipped, 12))
		b.WriteString("\n```\n\n")
	}

	if s := r.Summary(); s.OK {
		b.WriteString("## Summary\n\n")
		fmt.Fprintf(b, "| %s vs %s | measured |\n|---|---:|\n", s.Gateway, s.Ceiling)
		fmt.Fprintf(b, "| max throughput, gateway / ceiling | %s |\n", pct(s.ThroughputRatio))
		of := ""
		if s.Rounds > 1 {
			of = fmt.Sprintf(" (realistic mix, the median of %d rounds)", s.Rounds)
		}
		if s.CPURatio > 0 {
			fmt.Fprintf(b, "| server CPU per request, gateway / ceiling%s | %.2f× (requests per CPU-second: %s of the ceiling's) |\n", of, s.CPURatio, pct(1/s.CPURatio))
		}
		if s.FloorRatio > 0 {
			fmt.Fprintf(b, "| server CPU per request, ceiling / floor (maximum-throughput runs; the best ratio for a server that writes and compresses each request) | %.2f |\n", s.FloorRatio)
		}
		fmt.Fprintf(b, "| gateway p99 at 50 %% of its max | %s |\n", us(s.P99At50))
		fmt.Fprintf(b, "| gateway p99 at 80 %% of its max | %s |\n", us(s.P99At80))
		allocs := Goal{Value: s.AllocsPerRequest, Measured: true, Unit: unitAllocs, Uncertainty: s.AllocsUncertainty}
		fmt.Fprintf(b, "| gateway allocations per request%s | %s |\n", of, allocs.measured())
		fmt.Fprintf(b, "| gateway server CPU per request%s | %.2f µs |\n", of, s.CPUPerRequest)
		fmt.Fprintf(b, "| gateway server CPU per event%s | %.2f µs |\n\n", of, s.CPUPerEvent)
	}
	if goals := r.Goals(); len(goals) > 0 {
		if !r.Summary().OK {
			b.WriteString("## Summary\n\n")
		}
		b.WriteString("Targets of issue 21 (benchmarks, not tests). Ratios are the fasthttp ceiling's server CPU per request divided by the gateway's: 1.00 would be as cheap as bare fasthttp.\n\n")
		b.WriteString("| figure | measured | target | |\n|---|---:|---:|---|\n")
		for _, g := range goals {
			fmt.Fprintf(b, "| %s | %s | %s | %s |\n", g.Name, g.measured(), g.target(), g.verdict())
		}
		b.WriteString("\n")
	}
	r.appendWorkloads(b)

	b.WriteString("## Maximum throughput (closed loop)\n\n")
	b.WriteString("CPU columns are cores busy (1.00 = one full core). *CPU wait* is how long the server's threads were ready to run but another process held the CPU, per second: " +
		"anything above a few hundredths means the machine was busy with other work and every figure of that row is lowered. " +
		"CPU µs and allocations are the server's own, from its /metrics over the measured window (the warm-up left out), per response; events are those carried by requests answered 2xx.\n\n")
	b.WriteString("| server | req/s | p50 µs | p99 µs | p99.9 µs | server CPU | loadgen CPU | CPU wait | CPU µs/request | CPU µs/event | allocs/request | responses | errors | note |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|\n")
	for _, t := range r.Targets {
		if t.Max == nil {
			fmt.Fprintf(b, "| %s | failed | | | | | | | | | | | | %s |\n", t.Name, mdCell(firstLines(t.Err, 1)))
			continue
		}
		m := t.Max
		srvCPU, perReq, perEv, allocs := "?", "?", "?", "?"
		if m.Server != nil {
			srvCPU = fmt.Sprintf("%.2f", m.Server.CPUUtil)
			perReq = fmt.Sprintf("%.2f", m.Server.CPUMicrosPerRequest)
			perEv = fmt.Sprintf("%.2f", m.Server.CPUMicrosPerEvent)
			allocs = fmt.Sprintf("%.3f", m.Server.AllocsPerRequest)
		}
		var notes []string
		if clientBound(m) {
			notes = append(notes, "load generator saturated: a lower bound")
		}
		if t.Err != "" {
			notes = append(notes, firstLines(t.Err, 1))
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %.2f | %s | %s | %s | %s | %s | %s | %s |\n",
			t.Name, loadgen.Group(m.Throughput, 0), num(m.Latency.P50), num(m.Latency.P99), num(m.Latency.P999),
			srvCPU, m.ClientCPUUtil, wait(t.MaxWait), perReq, perEv, allocs, statusShares(m), errorsCell(m), mdCell(strings.Join(notes, "; ")))
	}

	b.WriteString("\n## Latency against offered load (open loop)\n\n")
	fmt.Fprintf(b, "Rates are percentages of %s's maximum (%s req/s) unless the table says otherwise; each latency is timed from the request's intended send time, so queueing is not hidden.\n\n",
		r.RefName, loadgen.Group(r.RefMax, 0))
	b.WriteString("*max µs* is the longest any request took at that load: the longest stall a request saw, whether in the server or in the machine.\n\n")
	b.WriteString("*server CPU* and *loadgen CPU* are cores busy over the measured window (1.00 = one full core), *CPU wait* as in the maximum-throughput table, and *CPU µs/request* the server's own: " +
		"below its maximum a request costs a server more CPU than at it (each one wakes the server and the client by itself), so a level keeps the core busier than its share of the maximum, " +
		"and the latency rises with how busy the core is, not with the share. A load generator near 1.00 sends late, and that delay counts as latency.\n\n")
	b.WriteString("| server | load | offered req/s | achieved req/s | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | server CPU | loadgen CPU | CPU wait | CPU µs/request | errors | not sent |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n")
	for _, t := range r.Targets {
		for _, l := range t.Levels {
			load := fmt.Sprintf("%d %%", l.Percent)
			if t.LevelsOf != r.RefName {
				load += " of own max"
			}
			if l.Result == nil {
				fmt.Fprintf(b, "| %s | %s | %s | failed | | | | | | | | | | %s | |\n", t.Name, load, loadgen.Group(l.Rate, 0), mdCell(firstLines(l.Err, 1)))
				continue
			}
			x := l.Result
			srvCPU, perReq := "?", "?"
			if x.Server != nil {
				srvCPU = fmt.Sprintf("%.2f", x.Server.CPUUtil)
				perReq = fmt.Sprintf("%.2f", x.Server.CPUMicrosPerRequest)
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.2f | %s | %s | %s | %d |\n", t.Name, load, loadgen.Group(l.Rate, 0),
				loadgen.Group(x.Throughput, 0), num(x.Latency.P50), num(x.Latency.P90), num(x.Latency.P99), num(x.Latency.P999), num(x.Latency.Max),
				srvCPU, x.ClientCPUUtil, wait(l.Wait), perReq, errorsCell(x), x.Unsent)
		}
	}
	b.WriteString("\n![latency percentiles against offered load](latency.svg)\n")
	r.appendStalls(b)

	var failures []string
	for _, t := range r.Targets {
		if t.Err != "" {
			failures = append(failures, fmt.Sprintf("%s:\n%s", t.Name, firstLines(t.Err, 20)))
		}
	}
	if len(failures) > 0 {
		b.WriteString("\n## Problems\n\n```\n")
		b.WriteString(strings.Join(failures, "\n\n"))
		b.WriteString("\n```\n")
	}
	return b.Bytes()
}

// Chart plots p50 (dashed) and p99 (solid) against offered load, one colour
// per server.
func (r *Report) Chart() svgchart.Chart {
	c := svgchart.Chart{
		Title:   "Latency against offered load (open loop)",
		XLabel:  "offered load (requests/s)",
		YLabel:  "latency (log scale)",
		LogY:    true,
		FormatY: svgchart.Micros,
	}
	for i, t := range r.Targets {
		color := svgchart.Palette[i%len(svgchart.Palette)]
		var p50, p99 []svgchart.Point
		for _, l := range t.Levels {
			if l.Result == nil || l.Result.Latency.Count == 0 {
				continue
			}
			p50 = append(p50, svgchart.Point{X: l.Rate, Y: l.Result.Latency.P50})
			p99 = append(p99, svgchart.Point{X: l.Rate, Y: l.Result.Latency.P99})
		}
		if len(p50) == 0 {
			continue
		}
		c.Series = append(c.Series,
			svgchart.Series{Name: t.Name + " p99", Color: color, Points: p99},
			svgchart.Series{Name: t.Name + " p50", Color: color, Dashed: true, Points: p50})
	}
	return c
}

// statusShares lists status codes with their share of responses.
func statusShares(r *loadgen.Result) string {
	if r.Completed == 0 {
		return "none"
	}
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(r.Status)) {
		parts = append(parts, fmt.Sprintf("%s: %.1f %%", code, 100*float64(r.Status[code])/float64(r.Completed)))
	}
	return strings.Join(parts, ", ")
}

func errorsCell(r *loadgen.Result) string {
	if len(r.Errors) == 0 {
		return "0"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
		parts = append(parts, k+": "+strconv.FormatInt(r.Errors[k], 10))
	}
	return strings.Join(parts, ", ")
}

func pct(v float64) string {
	if v <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f %%", 100*v)
}

func us(v float64) string {
	if v < 0 {
		return "not measured"
	}
	return num(v) + " µs"
}

// wait prints a CPU wait figure, "?" when unknown.
func wait(v float64) string {
	if v < 0 {
		return "?"
	}
	return fmt.Sprintf("%.2f", v)
}

// num prints a latency: whole microseconds, grouped.
func num(v float64) string { return loadgen.Group(v, 0) }

// mdCell keeps a value inside one table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
