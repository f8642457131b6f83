// Command icount counts the instructions the gateway executes per request
// (package bench/icount): BenchmarkServeLoadgen's pixel, beacon and BLE
// batch, and compare's varied pixels, beacons and BLE batches, under
// valgrind's cachegrind, with two iteration counts. It needs valgrind
// (Debian/Ubuntu package valgrind); it builds the gateway's test binary
// first (up to a minute and a half cold), then takes about three minutes
// per run of the six workloads.
//
//	go run ./bench/cmd/icount                     # one run of each workload
//	go run ./bench/cmd/icount -runs 6 -workloads pixel,pixel-varied
//
// Run with -h for all flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/beacongate/beacongate/bench/gomod"
	"github.com/beacongate/beacongate/bench/icount"
)

func main() {
	workloads := flag.String("workloads", strings.Join(icount.Workloads, ","), "comma-separated: "+strings.Join(icount.Workloads, ", "))
	low := flag.Int("low", 300, "the smaller iteration count")
	high := flag.Int("high", 900, "the larger iteration count")
	runs := flag.Int("runs", 1, "counts per workload, alternated between workloads")
	pgo := flag.String("pgo", "cmd/beacongate/default.pgo", `build profile of the test binary, as the gateway is built (relative to the module root); "off" for none`)
	verbose := flag.Bool("v", false, "show the build and each count as it comes")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *workloads, *low, *high, *runs, *pgo, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "icount:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, workloads string, low, high, runs int, pgo string, verbose bool) error {
	if low < 1 || high <= low {
		return fmt.Errorf("-low %d and -high %d: want 1 <= -low < -high", low, high)
	}
	if runs < 1 {
		return fmt.Errorf("-runs %d: want at least 1", runs)
	}
	var names []string
	for _, w := range strings.Split(workloads, ",") {
		if w = strings.TrimSpace(w); w != "" {
			names = append(names, w)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("-workloads %q names none: want some of %s", workloads, strings.Join(icount.Workloads, ", "))
	}
	root, err := gomod.Root(ctx)
	if err != nil {
		return err
	}
	o := icount.Options{Root: root, Workloads: names, Low: low, High: high, Runs: runs}
	if pgo != "off" {
		if !filepath.IsAbs(pgo) {
			pgo = filepath.Join(root, pgo)
		}
		o.PGO = pgo
	}
	if verbose {
		o.Log = os.Stderr
	}
	results, err := icount.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Printf("instructions per request (%d - %d iterations", high, low)
	if o.PGO != "" {
		fmt.Printf(", built with %s", filepath.Base(o.PGO))
	}
	fmt.Println(")")
	for _, r := range results {
		lo, hi := slices.Min(r.PerRequest), slices.Max(r.PerRequest)
		if len(r.PerRequest) == 1 {
			fmt.Printf("%-13s %9.0f\n", r.Workload, lo)
		} else {
			fmt.Printf("%-13s %9.0f - %.0f (%d runs)\n", r.Workload, lo, hi, len(r.PerRequest))
		}
	}
	return nil
}
