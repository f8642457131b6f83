// Command stages regenerates the per-stage budget: it runs the Go benchmarks
// of the request-path packages and writes one Markdown table of ns/op and
// allocs/op per stage, with the whole per-request path at the bottom.
//
//	go run ./bench/cmd/stages                  # writes bench/results/stages.md (+ stages.txt, the raw output)
//	go run ./bench/cmd/stages -input old.txt   # re-tabulate saved go test output without running
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/beacongate/beacongate/bench/gomod"
	"github.com/beacongate/beacongate/bench/machine"
	"github.com/beacongate/beacongate/bench/stages"
)

func main() {
	pkgs := flag.String("pkgs", strings.Join(stages.DefaultPackages, " "), "space-separated package patterns")
	bench := flag.String("bench", ".", "-bench regexp")
	benchtime := flag.String("benchtime", "500ms", "-benchtime per benchmark")
	cpu := flag.String("cpu", "", "-cpu list (default: GOMAXPROCS)")
	out := flag.String("out", "bench/results/stages.md", "Markdown output, relative to the module root")
	raw := flag.String("raw", "bench/results/stages.txt", "raw go test output (benchstat input), relative to the module root; empty to skip")
	input := flag.String("input", "", "parse this saved go test output instead of running the benchmarks")
	flag.Parse()
	if err := run(*pkgs, *bench, *benchtime, *cpu, *out, *raw, *input); err != nil {
		fmt.Fprintln(os.Stderr, "stages:", err)
		os.Exit(1)
	}
}

func run(pkgs, bench, benchtime, cpu, outPath, rawPath, input string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := gomod.Root(ctx)
	if err != nil {
		return err
	}
	var res stages.Output
	var raw []byte
	cmdline := "go run ./bench/cmd/stages"
	if input != "" {
		f, err := os.Open(input)
		if err != nil {
			return err
		}
		defer f.Close()
		if res, err = stages.Parse(f); err != nil {
			return err
		}
		cmdline += " -input " + input
		rawPath = ""
	} else {
		if benchtime != "500ms" {
			cmdline += " -benchtime " + benchtime
		}
		res, raw, err = stages.Run(ctx, stages.RunOptions{Dir: root, Packages: strings.Fields(pkgs), Bench: bench, Benchtime: benchtime, CPU: cpu}, os.Stderr)
		if err != nil {
			return err
		}
	}
	md := stages.AppendMarkdown(nil, res, stages.Header{
		Command: cmdline,
		Date:    time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Machine: machine.Describe().String(),
		Notes:   []string{"Benchmarks share the machine with whatever else runs on it; compare figures from one run."},
	})
	if err := write(root, outPath, md); err != nil {
		return err
	}
	if rawPath != "" {
		if err := write(root, rawPath, raw); err != nil {
			return err
		}
	}
	os.Stdout.Write(md)
	return nil
}

func write(root, p string, b []byte) error {
	if !filepath.IsAbs(p) {
		p = filepath.Join(root, p)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}
