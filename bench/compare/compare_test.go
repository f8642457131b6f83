package compare

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/beacongate/beacongate/bench/ceiling"
	"github.com/beacongate/beacongate/bench/loadgen"
	"github.com/beacongate/beacongate/bench/stalls"
)

// The test binary doubles as the servers and the load generator of the
// end-to-end test: with fakeEnv set, it acts on its arguments and exits.
const fakeEnv = "BEACONGATE_COMPARE_TEST_FAKE"

func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) == "1" {
		os.Exit(fake(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fake(args []string) int {
	for _, a := range args {
		if a == "-target" {
			return loadgen.Main(args, os.Stdout, os.Stderr)
		}
	}
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	listen := fs.String("listen", "", "")
	admin := fs.String("admin", "", "")
	stdlib := fs.Bool("stdlib", false, "")
	floor := fs.String("floor", "", "")
	data := fs.String("data", "", "")
	config := fs.String("config", "", "")
	fs.Bool("pprof", false, "") // the stalls phase's gateway; the ceiling serves a trace anyway
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *config != "" { // acting as the gateway: check what compare wrote
		b, err := os.ReadFile(*config)
		var doc struct {
			Spool struct{ Durability string } `yaml:"spool"`
		}
		if err != nil || yaml.Unmarshal(b, &doc) != nil || (doc.Spool.Durability != "process" && doc.Spool.Durability != "fsync") {
			fmt.Fprintf(os.Stderr, "fake gateway: bad config %q: %v\n", b, err)
			return 3
		}
		// The workload phase starts each workload on an empty spool: a
		// process finding the marker of an earlier one refuses to start.
		if strings.Contains(filepath.Base(*data), "work-") {
			if _, err := os.Stat(filepath.Join(*data, "used")); err == nil {
				fmt.Fprintln(os.Stderr, "fake gateway: the workload's data directory holds an earlier workload's spool")
				return 4
			}
		}
		if err := os.MkdirAll(*data, 0o755); err != nil {
			return 3
		}
		if err := os.WriteFile(filepath.Join(*data, "used"), nil, 0o644); err != nil {
			return 3
		}
	}
	srv := ceiling.Server{Variant: ceiling.FastHTTP}
	if *stdlib {
		srv.Variant = ceiling.Stdlib
	}
	if *floor != "" {
		srv = ceiling.Server{Variant: ceiling.FloorVariant, FloorDir: *floor}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := ceiling.Listen(ctx, *listen, *admin, srv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func quickOptions(t *testing.T) Options {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeEnv, "1")
	o := DefaultOptions()
	o.Root = t.TempDir()
	o.OutDir = "results"
	o.CeilingBin, o.LoadgenBin, o.GatewayBin = self, self, self
	o.Pin = false
	o.Conns = 4
	o.MaxDuration, o.MaxWarmup = 300*time.Millisecond, 100*time.Millisecond
	o.LatDuration, o.LatWarmup = 200*time.Millisecond, 50*time.Millisecond
	o.Levels = []int{50, 80}
	o.WorkDuration, o.WorkWarmup = 200*time.Millisecond, 50*time.Millisecond
	o.Rounds = 2
	o.Command = "go test"
	return o
}

// TestRunEndToEnd runs the whole comparison with tiny windows against fake
// servers (the ceiling, in this test binary) and checks that every target
// was measured and the report files are written and well-formed.
func TestRunEndToEnd(t *testing.T) {
	o := quickOptions(t)
	var log bytes.Buffer
	rep, err := Run(context.Background(), o, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	want := []string{"gateway (process)", nameCeiling, nameFloor, nameStdlib, "gateway (fsync)"}
	if len(rep.Targets) != len(want) {
		t.Fatalf("%d targets\n%s", len(rep.Targets), log.String())
	}
	for i, tr := range rep.Targets {
		if tr.Name != want[i] || tr.Err != "" || tr.Max == nil || tr.Max.Completed == 0 || tr.Max.Server == nil {
			t.Fatalf("target %d: %+v\n%s", i, tr, log.String())
		}
		if runtime.GOOS == "linux" && tr.MaxWait < 0 {
			t.Errorf("%s: CPU wait not read from /proc", tr.Name)
		}
		if len(tr.Levels) != 2 {
			t.Fatalf("%s: %d levels", tr.Name, len(tr.Levels))
		}
		for _, l := range tr.Levels {
			if l.Result == nil || l.Result.Sent+l.Result.Unsent == 0 {
				t.Fatalf("%s at %d %%: %+v", tr.Name, l.Percent, l)
			}
		}
	}
	// Rates: the reference is the first gateway; fsync uses its own maximum.
	if rep.RefName != "gateway (process)" || rep.RefMax != rep.Targets[0].Max.Throughput {
		t.Fatalf("reference %q %v", rep.RefName, rep.RefMax)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Abs(b) }
	if got, want := rep.Targets[1].Levels[0].Rate, rep.RefMax*0.5; !near(got, want) {
		t.Fatalf("ceiling rate at 50 %% = %v; want %v", got, want)
	}
	if got, want := rep.Targets[4].Levels[1].Rate, rep.Targets[4].Max.Throughput*0.8; !near(got, want) || rep.Targets[4].LevelsOf != "gateway (fsync)" {
		t.Fatalf("fsync rate at 80 %% = %v (of %s); want %v", got, rep.Targets[4].LevelsOf, want)
	}
	if s := rep.Summary(); !s.OK || s.ThroughputRatio <= 0 || s.P99At50 <= 0 || s.P99At80 <= 0 || s.FloorRatio <= 0 {
		t.Fatalf("summary %+v", s)
	}

	// Workloads: every one measured on both servers, each with its own
	// traffic (the fake servers answer 200 to everything, so events count).
	if len(rep.Workloads) != len(workloads) {
		t.Fatalf("%d workloads", len(rep.Workloads))
	}
	for i, w := range rep.Workloads {
		if w.Key != workloads[i].Key {
			t.Fatalf("workload %d is %q", i, w.Key)
		}
		for side, run := range map[string]WorkloadRun{"gateway": w.Gateway, "ceiling": w.Ceiling} {
			if run.Err != "" || run.Result == nil || run.Result.Completed == 0 || run.Result.Server == nil {
				t.Fatalf("%s on the %s: %+v\n%s", w.Name, side, run, log.String())
			}
			res := run.Result
			perReq := float64(res.Events) / float64(res.Completed)
			switch w.Key {
			case "pixel-one", "pixel":
				if res.Events != res.Completed {
					t.Errorf("%s on the %s: %d events in %d requests", w.Name, side, res.Events, res.Completed)
				}
			case "ble":
				if perReq < 3 || perReq > 12 {
					t.Errorf("%s on the %s: %.1f sightings per request", w.Name, side, perReq)
				}
			case "beacon":
				if perReq <= 1 || perReq > 4 {
					t.Errorf("%s on the %s: %.1f events per request", w.Name, side, perReq)
				}
			}
		}
		if (w.Key == mixKey) != w.FromMax {
			t.Errorf("%s: FromMax %v", w.Name, w.FromMax)
		}
		if len(w.Rounds) != o.Rounds {
			t.Errorf("%s: %d rounds, want %d", w.Name, len(w.Rounds), o.Rounds)
		}
		found := false
		for _, rd := range w.Rounds {
			found = found || rd.Gateway.Result == w.Gateway.Result && rd.Ceiling.Result == w.Ceiling.Result
		}
		if !found {
			t.Errorf("%s: the row is none of its rounds", w.Name)
		}
	}
	mix := rep.Workloads[len(rep.Workloads)-1]
	if mix.Rounds[0].Gateway.Result != rep.Targets[0].Max || mix.Rounds[0].Ceiling.Result != rep.Targets[1].Max {
		t.Error("the mix workload's first round is not the maximum-throughput runs")
	}
	if mix.Rounds[1].Gateway.Result == nil || mix.Rounds[1].Gateway.Result == rep.Targets[0].Max {
		t.Error("the mix workload's second round did not run")
	}
	if g := rep.Goals(); len(g) != 8 || !g[4].Measured || !g[5].Measured || !g[6].Measured || g[6].Value != rep.Targets[0].Levels[0].Result.Latency.Max || !g[7].Measured {
		t.Errorf("goals %+v", g)
	}
	// The stalls phase traced the fake gateway (the fasthttp ceiling):
	// requests served by fasthttp's workers, no background work of ours.
	if s := rep.Stalls; s == nil || s.Err != "" || s.Load == nil || s.Stalls == nil || s.Stalls.Goroutines[stalls.RoleRequest] == 0 || s.Stalls.Waits == 0 || s.Stalls.StallMax != 0 {
		t.Errorf("stalls phase %+v", s)
	}

	md, err := os.ReadFile(filepath.Join(o.Root, "results", "latest.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"## Summary", "max throughput, gateway / ceiling", "| gateway (fsync) | 80 % of own max |", "latency.svg",
		"## Per workload", "| pixel (one request) |", "ratio, each round", "in 2 rounds", ",only=pixel,full=1 -distinct 1`", "| gateway longest request at 50 % of its max |",
		"| " + nameFloor + " |", "ceiling / floor", "## Stalls by background work (execution trace)", "stalls by spool, shipper or sink work (the part of those waits): p99 0.000 ms, longest 0.000 ms (behind -)",
		"| longest request stall by spool, shipper or sink work at 50 % (execution trace) |"} {
		if !bytes.Contains(md, []byte(s)) {
			t.Errorf("latest.md lacks %q", s)
		}
	}
	svg, err := os.ReadFile(filepath.Join(o.Root, "results", "latency.svg"))
	if err != nil {
		t.Fatal(err)
	}
	checkXML(t, svg)
	if n := bytes.Count(svg, []byte("<polyline")); n != 10 {
		t.Errorf("%d lines in the chart; want 10 (p50 and p99 of 5 servers)", n)
	}
}

// TestRunGatewayMissing: a gateway that does not build is skipped with its
// error; one that does not start is reported failed; the ceiling is still
// measured either way.
func TestRunGatewayMissing(t *testing.T) {
	o := quickOptions(t)
	o.Stdlib, o.Floor = false, false
	o.Levels = []int{50}
	o.GatewayBin = ""
	o.GatewayPkg = "./does/not/exist"
	rep, err := Run(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.GatewaySkipped == "" || len(rep.Targets) != 1 || rep.Targets[0].Name != nameCeiling || rep.Targets[0].Max == nil {
		t.Fatalf("skipped %q, targets %+v", rep.GatewaySkipped, rep.Targets)
	}
	if rep.RefName != nameCeiling || rep.Summary().OK {
		t.Fatalf("reference %q, summary %+v", rep.RefName, rep.Summary())
	}
	if md := string(rep.AppendMarkdown(nil)); !strings.Contains(md, "The gateway was not measured") {
		t.Errorf("report does not say the gateway was skipped:\n%s", md)
	}

	// The workloads still ran on the ceiling; the gateway's are marked.
	if len(rep.Workloads) != len(workloads) {
		t.Fatalf("%d workloads", len(rep.Workloads))
	}
	for _, w := range rep.Workloads {
		if w.Gateway.Result != nil || w.Gateway.Err == "" || w.Ceiling.Result == nil {
			t.Fatalf("%s: %+v", w.Name, w)
		}
	}

	o.GatewayBin = filepath.Join(t.TempDir(), "no-such-binary")
	o.Durabilities = []string{"process"}
	o.Workloads = []string{"ble"}
	rep, err = Run(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Targets) != 2 || rep.Targets[0].Err == "" || rep.Targets[1].Max == nil {
		t.Fatalf("targets %+v", rep.Targets)
	}
	if len(rep.Workloads) != 1 || rep.Workloads[0].Gateway.Err == "" || rep.Workloads[0].Ceiling.Result == nil {
		t.Fatalf("workloads with a gateway that does not start: %+v", rep.Workloads)
	}
	if md := string(rep.AppendMarkdown(nil)); !strings.Contains(md, "| gateway (process) | failed |") || !strings.Contains(md, "## Problems") {
		t.Errorf("report does not show the failed gateway:\n%s", md)
	}
}

func checkXML(t *testing.T, doc []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
	}
}

func TestGatewayConfig(t *testing.T) {
	parse := func(b []byte) map[string]any {
		t.Helper()
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		return m
	}
	b, err := GatewayConfig("", "fsync", "")
	if err != nil {
		t.Fatal(err)
	}
	m := parse(b)
	if m["spool"].(map[string]any)["durability"] != "fsync" || m["server"].(map[string]any)["trusted_proxies"] == nil || m["geoip"] != nil {
		t.Fatalf("default config:\n%s", b)
	}

	dir := t.TempDir()
	base := filepath.Join(dir, "base.yaml")
	os.WriteFile(base, []byte("server:\n  listen: \":9999\"\nspool:\n  durability: process\n  max_bytes: 1GiB\nsites: []\n"), 0o644)
	b, err = GatewayConfig(base, "fsync", "/data/City.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	m = parse(b)
	spool := m["spool"].(map[string]any)
	if spool["durability"] != "fsync" || spool["max_bytes"] != "1GiB" || m["server"].(map[string]any)["listen"] != ":9999" ||
		m["geoip"].(map[string]any)["database"] != "/data/City.mmdb" || m["server"].(map[string]any)["trusted_proxies"] != nil {
		t.Fatalf("merged config:\n%s", b)
	}

	bad := func(content string) {
		t.Helper()
		os.WriteFile(base, []byte(content), 0o644)
		if b, err := GatewayConfig(base, "fsync", ""); err == nil {
			t.Fatalf("%q accepted:\n%s", content, b)
		}
	}
	bad("spool: fast\n")
	bad("spool: [1, 2\n")
	bad("- a list\n")
	if _, err := GatewayConfig(filepath.Join(dir, "absent.yaml"), "fsync", ""); err == nil {
		t.Fatal("absent base accepted")
	}
	os.WriteFile(base, nil, 0o644) // an empty base is an empty mapping
	if b, err := GatewayConfig(base, "process", ""); err != nil || parse(b)["spool"].(map[string]any)["durability"] != "process" {
		t.Fatalf("empty base: %v\n%s", err, b)
	}
}

func TestParseCPUList(t *testing.T) {
	f := func(in string, want ...int) {
		t.Helper()
		got := parseCPUList(in)
		if fmt.Sprint(got) != fmt.Sprint(want) || (want == nil) != (got == nil) {
			t.Fatalf("parseCPUList(%q) = %v; want %v", in, got, want)
		}
	}
	f("0-1", 0, 1)
	f("0", 0)
	f("0-2,5,7-8", 0, 1, 2, 5, 7, 8)
	f("")
	f("x")
	f("3-1")
	if len(cpuSet()) < 1 {
		t.Fatal("no CPUs")
	}
}

func TestPinner(t *testing.T) {
	p := pinner{taskset: "/usr/bin/taskset", server: 2, client: 3}
	if got := strings.Join(p.command(roleServer, []string{"srv", "-x"}), " "); got != "/usr/bin/taskset -c 2 srv -x" {
		t.Fatal(got)
	}
	if got := strings.Join(p.command(roleClient, []string{"lg"}), " "); got != "/usr/bin/taskset -c 3 lg" {
		t.Fatal(got)
	}
	if !strings.Contains(p.describe(), "CPU 2") {
		t.Fatal(p.describe())
	}
	var off pinner
	if got := strings.Join(off.command(roleServer, []string{"srv"}), " "); got != "srv" || off.enabled() || !strings.HasPrefix(off.describe(), "not pinned") {
		t.Fatal(got, off.describe())
	}
	if newPinner(false).enabled() {
		t.Fatal("pinning when not wanted")
	}
}

func TestTail(t *testing.T) {
	tl := &tail{max: 8}
	fmt.Fprint(tl, "hello ")
	fmt.Fprint(tl, "world, again")
	if got := tl.String(); got != ", again" && got != "d, again" {
		t.Fatalf("tail = %q", got)
	}
	if len(tl.buf) > 8 {
		t.Fatalf("tail kept %d bytes", len(tl.buf))
	}
}

func TestParseInts(t *testing.T) {
	if v, err := parseInts("10, 25,90"); err != nil || fmt.Sprint(v) != "[10 25 90]" {
		t.Fatal(v, err)
	}
	for _, bad := range []string{"", "x", "0", "10,,20", "2000"} {
		if _, err := parseInts(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
	if joinInts([]int{1, 2}) != "1,2" {
		t.Fatal("joinInts")
	}
}

func TestParseWorkloads(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got, err := parseWorkloads(in)
		if err != nil || strings.Join(got, ",") != want {
			t.Fatalf("parseWorkloads(%q) = %v, %v; want %q", in, got, err, want)
		}
	}
	f("all", "pixel-one,pixel,beacon,ble,mix")
	f("none", "")
	f("", "")
	f("ble, pixel-one,ble", "pixel-one,ble") // canonical order, no repeats
	f("mix", "mix")
	for _, bad := range []string{"pixels", "all,ble", "ble,", "malformed"} {
		if _, err := parseWorkloads(bad); err == nil || !strings.Contains(err.Error(), "known: all, none, pixel-one") {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	if strings.Join(DefaultOptions().Workloads, ",") != "pixel-one,pixel,beacon,ble,mix" {
		t.Fatal("the default is not every workload")
	}
}

// TestWorkloadTraffic: each workload's -mix is one loadgen accepts and
// generates the endpoint it names, alone, on top of the run's base mix.
func TestWorkloadTraffic(t *testing.T) {
	base := "seed=5,xff=0.5"
	for _, w := range workloads {
		m := loadgen.DefaultMix()
		if err := m.Set(w.mix(base)); err != nil {
			t.Fatalf("%s: %v", w.Name, err)
		}
		if m.Seed != 5 || m.Forwarded != 0.5 {
			t.Fatalf("%s: base mix lost: %s", w.Name, m)
		}
		n := 200
		if w.Distinct > 0 {
			n = w.Distinct
		}
		reqs, err := m.Generate(n)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, r := range reqs {
			kinds[r.Kind.String()]++
			if w.Only != "" && r.Bot {
				t.Fatalf("%s: a bot", w.Name)
			}
		}
		if w.Only != "" && kinds[w.Only] != n {
			t.Fatalf("%s: kinds %v", w.Name, kinds)
		}
		if w.Only == "" && len(kinds) < 4 {
			t.Fatalf("%s: kinds %v", w.Name, kinds)
		}
	}
}

func TestLoadgenArgv(t *testing.T) {
	r := &runner{o: DefaultOptions(), loadgen: "lg"}
	srv := &server{listen: "127.0.0.1:1", admin: "127.0.0.1:2"}
	flag := func(argv []string, name string) string {
		for i, a := range argv {
			if a == name && i+1 < len(argv) {
				return argv[i+1]
			}
		}
		return ""
	}
	one, _ := workloadByKey("pixel-one")
	argv := r.argv(srv, load{mode: "closed", warmup: 2 * time.Second, duration: 3 * time.Second, mix: one.mix(r.o.Mix), distinct: one.Distinct})
	if argv[0] != "lg" || flag(argv, "-mix") != r.o.Mix+",only=pixel,full=1" || flag(argv, "-distinct") != "1" ||
		flag(argv, "-mode") != "closed" || flag(argv, "-warmup") != "2s" || flag(argv, "-duration") != "3s" ||
		flag(argv, "-target") != "http://127.0.0.1:1" || flag(argv, "-metrics") != "http://127.0.0.1:2/metrics" {
		t.Fatalf("argv %q", argv)
	}
	argv = r.argv(srv, load{mode: "open", rate: 1000, warmup: time.Second, duration: time.Second})
	if flag(argv, "-mix") != r.o.Mix || flag(argv, "-distinct") != "" || flag(argv, "-rate") != "1000" || flag(argv, "-requests") != "2001" {
		t.Fatalf("argv %q", argv)
	}
}

func TestMainFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"-workloads", "pixels"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "-workloads: unknown workload") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	errb.Reset()
	if code := Main([]string{"-work-duration", "x"}, &out, &errb); code != 2 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

// TestWorkloadPhaseMixOnly: the mix workload alone starts no server and
// takes the maximum-throughput runs; without a gateway durability it says
// so instead of failing.
func TestWorkloadPhaseMixOnly(t *testing.T) {
	o := DefaultOptions()
	o.Workloads = []string{mixKey}
	o.Rounds = 1 // the maximum-throughput runs only
	rep := sampleReport()
	r := &runner{o: o, log: io.Discard}
	got := r.workloadPhase(context.Background(), nil, target{name: nameCeiling}, rep)
	if len(got) != 1 || !got[0].FromMax || got[0].Gateway.Result != rep.Targets[0].Max || got[0].Ceiling.Result != rep.Targets[1].Max ||
		got[0].Gateway.Wait != 0.02 {
		t.Fatalf("%+v", got)
	}
	r.o.Durabilities = nil
	got = r.workloadPhase(context.Background(), nil, target{name: nameCeiling}, rep)
	if len(got) != 1 || got[0].Gateway.Result != nil || got[0].Gateway.Err == "" || got[0].Ceiling.Result == nil {
		t.Fatalf("%+v", got)
	}
}
