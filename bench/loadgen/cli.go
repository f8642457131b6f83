package loadgen

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Main is the loadgen command: it parses args (without the program name),
// runs, writes the text report to stdout (or stderr when -json is "-") and
// returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mix := DefaultMix()
	target := fs.String("target", "http://127.0.0.1:8080", "server base URL; loopback only (127.0.0.0/8, [::1], localhost)")
	metrics := fs.String("metrics", "http://127.0.0.1:9100/metrics", "server's Prometheus page, read before and after the run; empty to skip")
	mode := fs.String("mode", "closed", "closed (N connections, max throughput) or open (fixed rate, latency)")
	conns := fs.Int("conns", 64, "connections (closed) or concurrent senders (open)")
	rate := fs.Float64("rate", 10000, "open loop: requests per second")
	duration := fs.Duration("duration", 10*time.Second, "measured window")
	warmup := fs.Duration("warmup", time.Second, "sent before the measured window, not measured")
	requests := fs.Int64("requests", 50_000_000, "at most this many requests, warm-up included")
	timeout := fs.Duration("timeout", 5*time.Second, "per-request timeout")
	distinct := fs.Int("distinct", 4096, "distinct requests generated for the mix, then cycled")
	sites := fs.String("sites", strings.Join(mix.Sites, ","), "comma-separated site ids used in the traffic")
	fs.Var(&mix, "mix", "traffic mix, e.g. pixel=60,beacon=25,ble=10,malformed=5,bots=0.1,xff=0.9,oversize=65537,seed=1; only=pixel|beacon|ble for one endpoint alone (no malformed requests, no bots); full=1 for pixels with every part")
	jsonOut := fs.String("json", "", "also write the result as JSON to this file; - for stdout (the table then goes to stderr)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadgen: unexpected arguments %q\n", fs.Args())
		return 2
	}
	m, err := ParseMode(*mode)
	if err == nil && (*distinct < 1 || *distinct > 1_000_000) {
		err = fmt.Errorf("-distinct must be 1..1000000")
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	mix.Sites = strings.Split(*sites, ",")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = runCLI(ctx, Config{
		Target: *target, Metrics: *metrics, Mode: m, Conns: *conns, Rate: *rate,
		Warmup: *warmup, Duration: *duration, MaxRequests: *requests, Timeout: *timeout,
	}, mix, *distinct, *jsonOut, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	return 0
}

func runCLI(ctx context.Context, cfg Config, mix Mix, distinct int, jsonOut string, stdout, stderr io.Writer) error {
	var err error
	if cfg.Traffic, err = mix.Generate(distinct); err != nil {
		return err
	}
	res, err := Run(ctx, cfg)
	if err != nil {
		return err
	}
	text := stdout
	if jsonOut == "-" {
		text = stderr
	}
	fmt.Fprintf(text, "mix            %s\n", mix)
	if err := res.WriteText(text); err != nil {
		return err
	}
	if jsonOut == "" {
		return nil
	}
	b, err := res.JSON()
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if jsonOut == "-" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(jsonOut, b, 0o644)
}
