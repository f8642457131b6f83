package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/ropa"
	"github.com/beacongate/beacongate/wiring"
)

// runReport implements "beacongate report": it writes the record of
// processing (see package ropa) for a config, as Markdown or HTML, to
// stdout or to -o FILE. Exit codes: 0 written, 1 invalid config or write
// error, 2 bad usage.
func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config `FILE` (default: the embedded default config)")
	format := fs.String("format", "md", "output format: md (Markdown) or html (one self-contained page)")
	out := fs.String("o", "", "write to `FILE` instead of stdout")
	diff := fs.String("diff", "", "instead of the report, what changed since the older config `OLD.yaml` (Markdown; reportdiff.go)")
	data := fs.String("data", "", "the gateway's data `DIR`, when it runs with serve -data (default: the config's server.data_dir)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: beacongate report [-config FILE] [-format md|html] [-o FILE] [-diff OLD.yaml] [-data DIR]\n\n"+
			"Writes the record of processing activities (GDPR Art. 30) generated from the config.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if *format != "md" && *format != "html" {
		fmt.Fprintf(stderr, "beacongate report: -format %q: want md or html\n", *format)
		return 2
	}
	if *diff != "" && *format != "md" {
		fmt.Fprintf(stderr, "beacongate report: -diff writes Markdown only; leave out -format %s\n", *format)
		return 2
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		printConfigError(stderr, "beacongate report", *configPath, err)
		return 1
	}
	// The data directory the gateway runs with (serve -data) moves the
	// stores the report names, as it does for the other officer commands.
	withData := func(c *config.Config) error {
		if *data == "" {
			return nil
		}
		return c.Apply(config.Overrides{DataDir: *data})
	}
	if err := withData(cfg); err != nil {
		fmt.Fprintf(stderr, "beacongate report: %v\n", err)
		return 1
	}
	r, err := buildReport(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate report: %v\n", err)
		return 1
	}
	r.Generated = cliClock.Now().UTC() // the injected clock, not Build's wall clock
	write := r.WriteMarkdown
	if *diff != "" {
		old, err := config.Load(*diff)
		if err == nil {
			err = withData(old)
		}
		if err != nil {
			printConfigError(stderr, "beacongate report -diff", *diff, err)
			return 1
		}
		write = func(w io.Writer) error { return writeReportDiff(w, old, cfg, *diff, *configPath) }
	}
	if *format == "html" {
		write = r.WriteHTML
	}
	if *out == "" {
		if err := write(stdout); err != nil {
			fmt.Fprintf(stderr, "beacongate report: %v\n", err)
			return 1
		}
		return 0
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate report: %v\n", err)
		return 1
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "beacongate report: %v\n", err)
		return 1
	}
	return 0
}

// buildReport makes the record of processing of cfg from the plan the
// server would compile from it, vendor list included.
func buildReport(cfg *config.Config) (*ropa.Report, error) {
	gvl, err := wiring.LoadGVL(cfg)
	if err != nil {
		return nil, err
	}
	p, err := wiring.Compile(cfg, gvl)
	if err != nil {
		return nil, err
	}
	return ropa.Build(cfg, p), nil
}
