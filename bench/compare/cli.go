package compare

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/beacongate/beacongate/bench/gomod"
)

// sharedGeoIP is MaxMind's public test database where the project's shared
// test data lives, next to the repository; used when present.
const sharedGeoIP = "../shared/testdata/maxmind/GeoIP2-City-Test.mmdb"

// SharedGeoIP returns the absolute path of MaxMind's test database in the
// shared test data next to the module at root, or "" when it is absent.
func SharedGeoIP(root string) string {
	p, err := filepath.Abs(filepath.Join(root, sharedGeoIP))
	if err != nil {
		return ""
	}
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// Main is the compare command: it parses args (without the program name),
// runs the comparison, prints the Markdown report to stdout and returns the
// exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	o := DefaultOptions()
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.OutDir, "out", o.OutDir, "directory for latest.md and latency.svg, relative to the module root")
	fs.StringVar(&o.GatewayPkg, "gateway-pkg", o.GatewayPkg, "gateway package to build")
	fs.StringVar(&o.GatewayBin, "gateway-bin", "", "prebuilt gateway binary (skips the build)")
	fs.StringVar(&o.GatewayConfig, "gateway-config", "", "base gateway config (YAML); spool.durability is set on top. Default: trust loopback as a proxy")
	gatewayArgs := fs.String("gateway-args", "", "extra gateway flags, space-separated")
	geoip := fs.String("geoip", "auto", "MaxMind database for the gateway config; auto: "+sharedGeoIP+" if present; empty: none")
	durab := fs.String("durability", strings.Join(o.Durabilities, ","), "gateway spool durability variants; the first is the reference")
	fs.BoolVar(&o.Stdlib, "stdlib", o.Stdlib, "also measure the net/http ceiling")
	fs.BoolVar(&o.Floor, "floor", o.Floor, "also measure the floor: the fasthttp ceiling writing each request to a file before its answer and compressing it with zstd (ceiling -floor)")
	fs.BoolVar(&o.Stalls, "stalls", o.Stalls, "also run the reference gateway at 50 % of its maximum with -pprof and read an execution trace for stalls by spool, shipper or sink work (bench/stalls)")
	fs.DurationVar(&o.StallsTrace, "stalls-trace", o.StallsTrace, "length of the stalls phase's execution trace")
	fs.BoolVar(&o.Pin, "pin", o.Pin, "pin servers and load generator to separate CPUs with taskset")
	fs.IntVar(&o.Conns, "conns", o.Conns, "closed-loop connections and open-loop senders")
	fs.DurationVar(&o.MaxDuration, "max-duration", o.MaxDuration, "closed-loop measured window")
	fs.DurationVar(&o.MaxWarmup, "max-warmup", o.MaxWarmup, "closed-loop warm-up")
	fs.DurationVar(&o.LatDuration, "lat-duration", o.LatDuration, "open-loop measured window per level")
	fs.DurationVar(&o.LatWarmup, "lat-warmup", o.LatWarmup, "open-loop warm-up per level")
	levels := fs.String("levels", joinInts(o.Levels), "open-loop loads, % of the reference maximum")
	fs.StringVar(&o.Mix, "mix", o.Mix, "traffic mix (see loadgen -mix)")
	fs.StringVar(&o.Sites, "sites", o.Sites, "site ids in the traffic")
	work := fs.String("workloads", "all", "workloads phase: all, none, or some of "+strings.Join(workloadKeys(), ","))
	fs.DurationVar(&o.WorkDuration, "work-duration", o.WorkDuration, "closed-loop measured window per workload")
	fs.DurationVar(&o.WorkWarmup, "work-warmup", o.WorkWarmup, "closed-loop warm-up per workload")
	fs.IntVar(&o.Rounds, "rounds", o.Rounds, "rounds of the workloads phase (gateway then ceiling each); the report shows the round with the median ratio")
	quick := fs.Bool("quick", false, "short windows (2 s / 1 s, workloads 2 s), three levels and one round unless -rounds is given: a try-out, not a result")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var err error
	if o.Levels, err = parseInts(*levels); err != nil {
		fmt.Fprintln(stderr, "compare: -levels:", err)
		return 2
	}
	if o.Workloads, err = parseWorkloads(*work); err != nil {
		fmt.Fprintln(stderr, "compare: -workloads:", err)
		return 2
	}
	o.Durabilities = strings.Split(*durab, ",")
	o.GatewayArgs = strings.Fields(*gatewayArgs)
	if *quick {
		o.MaxDuration, o.MaxWarmup, o.LatDuration, o.LatWarmup = 2*time.Second, 500*time.Millisecond, time.Second, 250*time.Millisecond
		o.Levels = []int{25, 50, 80}
		o.WorkDuration, o.WorkWarmup = 2*time.Second, time.Second
		if !flagSet(fs, "rounds") {
			o.Rounds = 1
		}
	}
	if o.Rounds < 1 {
		fmt.Fprintln(stderr, "compare: -rounds must be at least 1")
		return 2
	}
	o.Command = "go run ./bench/cmd/compare"
	if len(args) > 0 {
		o.Command += " " + strings.Join(args, " ")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.Root, err = gomod.Root(ctx); err != nil {
		fmt.Fprintln(stderr, "compare:", err)
		return 1
	}
	o.GeoIP = *geoip
	if o.GeoIP == "auto" {
		o.GeoIP = SharedGeoIP(o.Root)
	}
	rep, err := Run(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "compare:", err)
		return 1
	}
	stdout.Write(rep.AppendMarkdown(nil))
	fmt.Fprintf(stderr, "compare: done in %v; wrote %s\n", rep.Elapsed.Round(time.Second), filepath.Join(o.OutDir, "latest.md"))
	return 0
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1000 {
			return nil, fmt.Errorf("%q is not a percentage between 1 and 1000", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
