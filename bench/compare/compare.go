// Package compare runs the whole gateway-versus-ceiling comparison: it
// builds the servers and the load generator, runs each server pinned to one
// CPU with the load generator on another, finds each server's maximum
// throughput (closed loop), measures latency at fixed fractions of the
// gateway's maximum (open loop), for the fasthttp and net/http ceilings and
// the gateway with durability process and fsync, then compares the gateway
// with the fasthttp ceiling endpoint by endpoint (the workloads phase), and
// writes a Markdown report and an SVG latency chart.
package compare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/beacongate/beacongate/bench/loadgen"
)

// Options configure a comparison. Zero durations and counts take the
// defaults of DefaultOptions.
type Options struct {
	Root   string // module root: builds run here, relative paths resolve here
	OutDir string // where latest.md and latency.svg go

	GatewayPkg    string   // package to build, e.g. ./cmd/beacongate
	GatewayBin    string   // prebuilt gateway binary; skips the build
	GatewayConfig string   // base YAML config; the spool durability is set on top of it
	GatewayArgs   []string // extra flags after -listen -admin -data -config
	GeoIP         string   // MaxMind database for the gateway config; "" for none
	Durabilities  []string // spool durability variants of the gateway

	CeilingBin, LoadgenBin string // prebuilt binaries; skip their builds
	Stdlib                 bool   // also measure the net/http ceiling
	Pin                    bool   // pin with taskset when possible
	// Floor also measures the ceiling's floor variant (ceiling -floor):
	// the GIF plus a write of each request before the answer and zstd in
	// the background, the least the gateway's promises cost.
	Floor bool
	// Stalls runs the stalls phase: the reference gateway again at 50 %
	// of its maximum with an execution trace of StallsTrace (see
	// StallsResult).
	Stalls      bool
	StallsTrace time.Duration

	Conns       int           // closed-loop connections and open-loop senders
	MaxDuration time.Duration // closed-loop measured window
	MaxWarmup   time.Duration
	LatDuration time.Duration // open-loop measured window per level
	LatWarmup   time.Duration
	Levels      []int  // open-loop load, % of the reference maximum
	Mix         string // loadgen -mix
	Sites       string // loadgen -sites

	// Workloads are the keys of the workloads phase (see workloads), in
	// order; none skips the phase.
	Workloads    []string
	WorkDuration time.Duration // closed-loop measured window per workload
	WorkWarmup   time.Duration
	// Rounds is how many times the workloads phase measures each workload
	// on both servers, the gateway and the ceiling one after the other;
	// the report takes the round with the median ratio. With more than
	// one, the realistic mix is measured again in rounds 2 on (its first
	// round is the maximum-throughput runs), with their windows.
	Rounds int

	Command string // how the run was started, for the report
}

// DefaultOptions fit the whole comparison in about five minutes on two cores.
func DefaultOptions() Options {
	return Options{
		OutDir:       "bench/results",
		GatewayPkg:   "./cmd/beacongate",
		Durabilities: []string{"process", "fsync"},
		Stdlib:       true,
		Floor:        true,
		Stalls:       true,
		StallsTrace:  3 * time.Second,
		Pin:          true,
		Conns:        64,
		MaxDuration:  5 * time.Second,
		// The gateway's free lists fill and its record, event and batch
		// buffers grow to the traffic's sizes during the first seconds; a
		// shorter warm-up measures that growth as allocations per request.
		MaxWarmup:   5 * time.Second,
		LatDuration: 3 * time.Second,
		LatWarmup:   500 * time.Millisecond,
		Levels:      []int{10, 25, 50, 65, 80, 90},
		Mix:         loadgen.DefaultMix().String(),
		Sites:       "shop-example",
		Workloads:   workloadKeys(),
		// Shorter than the maximum-throughput runs: eight runs of these
		// fit in under a minute, and CPU per request (10 ms resolution)
		// is steady to about 1 % over 3 s at tens of thousands of req/s.
		WorkDuration: 3 * time.Second,
		WorkWarmup:   2 * time.Second,
		// One run per workload read 0.57 on the mix where the runs
		// around it read 0.46 (the ceiling measured while the machine was
		// busy): the median of three rounds is what the report shows.
		Rounds:  3,
		Command: "go run ./bench/cmd/compare",
	}
}

// Target names in the report.
const (
	nameCeiling = "ceiling (fasthttp)"
	nameStdlib  = "ceiling (net/http)"
	nameFloor   = "floor (fasthttp, spool write, zstd)"
)

func gatewayName(durability string) string { return "gateway (" + durability + ")" }

// target is one server to measure.
type target struct {
	name     string
	argv     func(listen, admin string) []string
	gateway  bool
	ownLevel bool   // open-loop levels relative to its own maximum, not the reference
	dataDir  string // the gateway's -data directory; "" for the ceilings
}

// Run performs the comparison, logging progress to log, and returns the
// report. It also writes latest.md and latency.svg to o.OutDir.
func Run(ctx context.Context, o Options, log io.Writer) (*Report, error) {
	began := time.Now()
	if o.Root == "" {
		return nil, errors.New("compare: no module root")
	}
	tmp, err := os.MkdirTemp("", "beacongate-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	rep := newReport(o)
	pin := newPinner(o.Pin)
	rep.Pinning = pin.describe()
	fmt.Fprintf(log, "compare: %s\n", rep.Pinning)

	// Build what was not given prebuilt.
	bin := func(given, pkg, name string) (string, error) {
		if given != "" {
			return given, nil
		}
		out := filepath.Join(tmp, name)
		fmt.Fprintf(log, "compare: go build %s\n", pkg)
		return out, build(ctx, o.Root, pkg, out)
	}
	ceilingBin, err := bin(o.CeilingBin, "./bench/cmd/ceiling", "ceiling")
	if err != nil {
		return nil, err
	}
	loadgenBin, err := bin(o.LoadgenBin, "./bench/cmd/loadgen", "loadgen")
	if err != nil {
		return nil, err
	}
	gatewayBin, err := bin(o.GatewayBin, o.GatewayPkg, "beacongate")
	if err != nil {
		rep.GatewaySkipped = err.Error()
		fmt.Fprintf(log, "compare: SKIPPING THE GATEWAY, it does not build:\n%s\n", err)
	}

	var targets []target
	gatewayTarget := func(d, dataDir string) target {
		cfgPath := filepath.Join(tmp, "beacongate-"+d+".yaml")
		return target{
			name: gatewayName(d), gateway: true, dataDir: dataDir,
			argv: func(listen, admin string) []string {
				return append([]string{gatewayBin, "-listen", listen, "-admin", admin, "-data", dataDir, "-config", cfgPath}, o.GatewayArgs...)
			},
		}
	}
	if rep.GatewaySkipped == "" {
		for i, d := range o.Durabilities {
			cfg, err := GatewayConfig(o.GatewayConfig, d, o.GeoIP)
			if err == nil {
				err = os.WriteFile(filepath.Join(tmp, "beacongate-"+d+".yaml"), cfg, 0o644)
			}
			if err != nil {
				return nil, fmt.Errorf("compare: gateway config: %w", err)
			}
			t := gatewayTarget(d, filepath.Join(tmp, "data-"+d))
			t.ownLevel = i > 0
			targets = append(targets, t)
		}
	}
	ceilingTarget := target{name: nameCeiling, argv: func(l, a string) []string { return []string{ceilingBin, "-listen", l, "-admin", a} }}
	stdTarget := target{name: nameStdlib, argv: func(l, a string) []string { return []string{ceilingBin, "-stdlib", "-listen", l, "-admin", a} }}
	floorTarget := target{name: nameFloor, argv: func(l, a string) []string {
		return []string{ceilingBin, "-floor", filepath.Join(tmp, "floor"), "-listen", l, "-admin", a}
	}}
	// The reference (first) target sets the open-loop rates for the others:
	// the gateway with the first durability, or the ceiling without a gateway.
	ordered := []target{ceilingTarget}
	if len(targets) > 0 {
		ordered = []target{targets[0], ceilingTarget}
	}
	if o.Floor {
		ordered = append(ordered, floorTarget)
	}
	if o.Stdlib {
		ordered = append(ordered, stdTarget)
	}
	if len(targets) > 1 {
		ordered = append(ordered, targets[1:]...)
	}

	runner := &runner{o: o, pin: pin, loadgen: loadgenBin, log: log}
	for i, t := range ordered {
		fmt.Fprintf(log, "compare: [%d/%d] %s\n", i+1, len(ordered), t.name)
		tr := runner.measure(ctx, t, rep)
		rep.Targets = append(rep.Targets, tr)
		if i == 0 && tr.Max != nil {
			rep.RefName, rep.RefMax = t.name, tr.Max.Throughput
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if o.Stalls && len(targets) > 0 && rep.RefName == targets[0].name && rep.RefMax > 0 {
		fmt.Fprintf(log, "compare: stalls: %s at %d %% of its maximum, traced\n", targets[0].name, stallsLevel)
		t := gatewayTarget(o.Durabilities[0], filepath.Join(tmp, "stalls-"+o.Durabilities[0]))
		rep.Stalls = runner.stallsPhase(ctx, t, rep.RefMax*stallsLevel/100, o.StallsTrace)
		if rep.Stalls.Err != "" {
			fmt.Fprintf(log, "compare:   stalls: %s\n", firstLines(rep.Stalls.Err, 3))
		} else {
			fmt.Fprintf(log, "compare:   longest stall by background work %.3f ms\n", float64(rep.Stalls.Stalls.StallMax)/1e6)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if len(o.Workloads) > 0 {
		var gw *target
		if len(targets) > 0 {
			// The reference gateway again, on a spool of its own.
			t := gatewayTarget(o.Durabilities[0], filepath.Join(tmp, "work-"+o.Durabilities[0]))
			gw = &t
		}
		rep.Workloads = runner.workloadPhase(ctx, gw, ceilingTarget, rep)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	rep.Elapsed = time.Since(began)
	rep.LoadAvg = loadAvg()

	out := o.OutDir
	if !filepath.IsAbs(out) {
		out = filepath.Join(o.Root, out)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return rep, err
	}
	if err := os.WriteFile(filepath.Join(out, "latest.md"), rep.AppendMarkdown(nil), 0o644); err != nil {
		return rep, err
	}
	if err := os.WriteFile(filepath.Join(out, "latency.svg"), rep.Chart().AppendSVG(nil), 0o644); err != nil {
		return rep, err
	}
	return rep, nil
}

// runner measures targets with the load generator binary.
type runner struct {
	o       Options
	pin     pinner
	loadgen string
	log     io.Writer
}

// measure starts t, finds its maximum, runs the open-loop levels, stops it.
// Failures are recorded in the result, not returned: one broken server
// must not lose the others' figures.
func (r *runner) measure(ctx context.Context, t target, rep *Report) *TargetResult {
	tr := &TargetResult{Name: t.name, Gateway: t.gateway}
	srv, err := r.start(ctx, t)
	if err != nil {
		tr.Err = err.Error()
		return tr
	}
	defer func() {
		if err := srv.stop(); err != nil && tr.Err == "" {
			tr.Err = err.Error()
		}
	}()

	res, wait, err := r.run(ctx, srv, load{mode: "closed", warmup: r.o.MaxWarmup, duration: r.o.MaxDuration})
	if err != nil {
		tr.Err = err.Error()
		return tr
	}
	tr.Max, tr.MaxWait = res, wait
	fmt.Fprintf(r.log, "compare:   max %s req/s, p99 %s µs, server CPU %.0f %%, loadgen CPU %.0f %%\n",
		loadgen.Group(res.Throughput, 0), loadgen.Group(res.Latency.P99, 0), 100*serverUtil(res), 100*res.ClientCPUUtil)

	ref := rep.RefMax
	tr.LevelsOf = rep.RefName
	if t.ownLevel || ref == 0 {
		ref, tr.LevelsOf = res.Throughput, t.name
	}
	for _, pct := range r.o.Levels {
		rate := ref * float64(pct) / 100
		lr := LevelResult{Percent: pct, Rate: rate}
		if rate < 1 {
			lr.Err = "rate below 1 req/s"
		} else if res, wait, err := r.run(ctx, srv, load{mode: "open", rate: rate, warmup: r.o.LatWarmup, duration: r.o.LatDuration}); err != nil {
			lr.Err = err.Error()
		} else {
			lr.Result, lr.Wait = res, wait
			fmt.Fprintf(r.log, "compare:   %3d %% = %s req/s: p50 %s µs, p99 %s µs\n", pct, loadgen.Group(rate, 0),
				loadgen.Group(res.Latency.P50, 0), loadgen.Group(res.Latency.P99, 0))
		}
		tr.Levels = append(tr.Levels, lr)
		if srv.exited() || ctx.Err() != nil {
			break
		}
	}
	return tr
}

// start starts t on free loopback ports and waits until it is ready.
func (r *runner) start(ctx context.Context, t target) (*server, error) {
	listen, err := FreeAddr()
	admin := ""
	if err == nil {
		admin, err = FreeAddr()
	}
	if err != nil {
		return nil, err
	}
	srv, err := startServer(ctx, t.name, r.pin.command(roleServer, t.argv(listen, admin)), listen, admin, 30*time.Second)
	if err != nil {
		fmt.Fprintf(r.log, "compare:   %v\n", err)
	}
	return srv, err
}

// load is one load generator run.
type load struct {
	mode             string  // closed or open
	rate             float64 // open loop, requests/s
	warmup, duration time.Duration
	mix              string // loadgen -mix; empty for Options.Mix
	distinct         int    // loadgen -distinct; 0 for its default
}

// argv returns the load generator's command line for l against srv, not
// yet pinned.
func (r *runner) argv(srv *server, l load) []string {
	requests := int64(loadgen.MaxRequests)
	if l.mode == "open" {
		requests = int64(l.rate*(l.warmup+l.duration).Seconds()) + 1
	}
	mix := l.mix
	if mix == "" {
		mix = r.o.Mix
	}
	argv := []string{r.loadgen,
		"-target", srv.targetURL(), "-metrics", srv.metricsURL(),
		"-mode", l.mode, "-conns", strconv.Itoa(r.o.Conns),
		"-rate", strconv.FormatFloat(max(l.rate, 1), 'f', 0, 64),
		"-warmup", l.warmup.String(), "-duration", l.duration.String(),
		"-requests", strconv.FormatInt(requests, 10),
		"-mix", mix, "-sites", r.o.Sites, "-json", "-"}
	if l.distinct > 0 {
		argv = append(argv, "-distinct", strconv.Itoa(l.distinct))
	}
	return argv
}

// run executes one loadgen run against srv and decodes its JSON result. It
// also returns how long, per second of the run, the server's threads were
// ready to run but waited for a CPU (from /proc: other processes on its
// CPU); -1 when that cannot be read.
func (r *runner) run(ctx context.Context, srv *server, l load) (*loadgen.Result, float64, error) {
	mode, warmup, duration := l.mode, l.warmup, l.duration
	argv := r.pin.command(roleClient, r.argv(srv, l))
	// The load generator stops itself; this bound only catches a hang.
	rctx, cancel := context.WithTimeout(ctx, 2*(warmup+duration)+60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(rctx, argv[0], argv[1:]...)
	var stdout bytes.Buffer
	stderr := &tail{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	wait0, ok0 := runqueueWait(srv.cmd.Process.Pid)
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return nil, 0, fmt.Errorf("loadgen %s: %w\n%s", mode, err, stderr.String())
	}
	wall := time.Since(t0)
	wait1, ok1 := runqueueWait(srv.cmd.Process.Pid)
	waited := -1.0
	if ok0 && ok1 && wall > 0 {
		waited = (wait1 - wait0).Seconds() / wall.Seconds()
	}
	var res loadgen.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return nil, 0, fmt.Errorf("loadgen %s: bad JSON: %w", mode, err)
	}
	if srv.exited() {
		return &res, waited, fmt.Errorf("%s exited during the run:\n%s", srv.name, firstLines(srv.out.String(), 15))
	}
	return &res, waited, nil
}

// GatewayConfig returns base (a YAML file, or the bench default when empty)
// with spool.durability set, and geoip.database when geoip is given.
// The bench default trusts loopback as a proxy, so X-Forwarded-For client
// addresses reach the geo and IP stages as they would behind a load balancer.
func GatewayConfig(base, durability, geoip string) ([]byte, error) {
	doc := map[string]any{}
	if base != "" {
		b, err := os.ReadFile(base)
		if err != nil {
			return nil, err
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", base, err)
		}
		if doc == nil {
			doc = map[string]any{}
		}
	} else {
		doc["server"] = map[string]any{"trusted_proxies": []string{"127.0.0.0/8", "::1/128"}}
	}
	section := func(name string) (map[string]any, error) {
		v, ok := doc[name]
		if !ok || v == nil {
			m := map[string]any{}
			doc[name] = m
			return m, nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %q is not a mapping", base, name)
		}
		return m, nil
	}
	spool, err := section("spool")
	if err != nil {
		return nil, err
	}
	spool["durability"] = durability
	if geoip != "" {
		g, err := section("geoip")
		if err != nil {
			return nil, err
		}
		g["database"] = geoip
	}
	return yaml.Marshal(doc)
}

// loadAvg returns /proc/loadavg's first three fields, or "".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
