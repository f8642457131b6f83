// Package icount counts the instructions the gateway executes per request:
// the gateway's BenchmarkServeLoadgen (three requests captured from
// compare's traffic, and compare's three varied workloads, served through
// the default config, the real spool and the file destination) run under valgrind's cachegrind with two iteration
// counts, the difference in instructions divided by the difference in
// iterations, so that start-up and set-up cancel out. The test binary runs
// with GOMAXPROCS=1 (the request, the spool and the shipper on one P, as
// in the benchmarks against the ceiling), GODEBUG=asyncpreemptoff=1
// (no preemption signals, which valgrind delivers slowly and which would
// add instructions of their own) and GOGC=off: the requests allocate
// nothing, so a collection among them is of the set-up's garbage (the
// varied workloads generate megabytes of requests), and where one falls
// differs between the two runs; the counts leave the collector out.
//
// On a shared machine whose timings move by 10-20 % between runs, the
// count moves by about 1.5 % (where the background shipper's batches fall),
// which makes it the measure for changes too small to show end to end.
// Valgrind's CPU has no SHA extensions, so HMAC-SHA256 weighs more in the
// counts than in time.
package icount

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Workloads are the requests BenchmarkServeLoadgen serves, by sub-benchmark
// name: one captured request of each kind, repeated, and the 4,096 distinct
// requests of compare's varied workloads of each kind, in turn (their
// counts include the engine's cache misses, as on varied traffic).
var Workloads = []string{"pixel", "beacon", "ble", "pixel-varied", "beacon-varied", "ble-varied"}

// Options says what to count and how.
type Options struct {
	Root      string   // module root
	Workloads []string // of Workloads; all when empty
	Low, High int      // iteration counts, Low < High
	Runs      int      // counts per workload, alternated between workloads
	PGO       string   // build profile for the test binary; empty for none
	// Log receives the build's and the benchmark runs' output and a line
	// per count as it comes; nil discards them (a failure's error carries
	// the last lines either way).
	Log io.Writer
}

// Result is a workload's instructions per request, one per run.
type Result struct {
	Workload   string
	PerRequest []float64
}

// Run builds the gateway's test binary once and counts each workload
// Runs times. It needs valgrind on the PATH.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if len(o.Workloads) == 0 {
		o.Workloads = Workloads
	}
	for i, w := range o.Workloads {
		if !slices.Contains(Workloads, w) {
			return nil, fmt.Errorf("unknown workload %q: want one of %s", w, strings.Join(Workloads, ", "))
		}
		if slices.Contains(o.Workloads[:i], w) {
			return nil, fmt.Errorf("workload %q named twice", w)
		}
	}
	if o.Low < 1 || o.High <= o.Low {
		return nil, fmt.Errorf("iteration counts %d and %d: want 1 <= low < high", o.Low, o.High)
	}
	if o.Runs < 1 {
		return nil, fmt.Errorf("runs %d: want at least 1", o.Runs)
	}
	if o.PGO != "" {
		if _, err := os.Stat(o.PGO); err != nil {
			return nil, fmt.Errorf("build profile: %w", err)
		}
	}
	valgrind, err := exec.LookPath("valgrind")
	if err != nil {
		return nil, errors.New("valgrind not found: install it (Debian/Ubuntu package valgrind)")
	}
	tmp, err := os.MkdirTemp("", "beacongate-icount-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "gateway.test")
	args := []string{"test", "-c", "-o", bin}
	if o.PGO != "" {
		args = append(args, "-pgo="+o.PGO)
	}
	args = append(args, "./gateway")
	fmt.Fprintf(o.Log, "$ go %s\n", strings.Join(args, " "))
	build := exec.CommandContext(ctx, "go", args...)
	build.Dir = o.Root
	var out bytes.Buffer
	build.Stdout = io.MultiWriter(&out, o.Log)
	build.Stderr = build.Stdout
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("go test -c ./gateway: %w\n%s", err, lastLines(out.String(), 20))
	}
	results := make([]Result, len(o.Workloads))
	for i, w := range o.Workloads {
		results[i].Workload = w
	}
	for run := range o.Runs {
		for i, w := range o.Workloads {
			var total [2]uint64
			for j, n := range [2]int{o.Low, o.High} {
				out := filepath.Join(tmp, fmt.Sprintf("cg.%s.%d.%d", w, run, n))
				if total[j], err = count(ctx, valgrind, bin, filepath.Join(o.Root, "gateway"), out, w, n, o.Log); err != nil {
					return nil, err
				}
			}
			per, err := PerRequest(total[0], total[1], o.Low, o.High)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", w, err)
			}
			fmt.Fprintf(o.Log, "run %d, %s: %.0f instructions per request\n", run+1, w, per)
			results[i].PerRequest = append(results[i].PerRequest, per)
		}
	}
	return results, nil
}

// count runs the workload's benchmark n times under cachegrind and returns
// the instructions the whole process executed.
func count(ctx context.Context, valgrind, bin, dir, out, workload string, n int, log io.Writer) (uint64, error) {
	pattern := "^BenchmarkServeLoadgen$/^" + workload + "$"
	cmd := exec.CommandContext(ctx, valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file="+out,
		bin, "-test.run", "^$", "-test.bench", pattern, "-test.benchtime", strconv.Itoa(n)+"x")
	cmd.Dir = dir // the benchmark reads gateway/testdata
	cmd.Env = append(os.Environ(), "GODEBUG=asyncpreemptoff=1", "GOMAXPROCS=1", "GOGC=off")
	var stdout, all bytes.Buffer
	cmd.Stdout = io.MultiWriter(&stdout, &all, log)
	cmd.Stderr = io.MultiWriter(&all, log)
	what := fmt.Sprintf("%s, %d iterations under valgrind", workload, n)
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s: %w\n%s", what, err, lastLines(all.String(), 20))
	}
	// A pattern that matches no benchmark runs nothing and exits 0.
	if !strings.Contains(stdout.String(), "BenchmarkServeLoadgen/"+workload) {
		return 0, fmt.Errorf("%s: the test binary ran no BenchmarkServeLoadgen/%s (renamed?)\n%s", what, workload, lastLines(all.String(), 20))
	}
	f, err := os.Open(out)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	total, err := ParseSummary(f)
	if err != nil {
		return 0, fmt.Errorf("%s: cachegrind's output: %w", what, err)
	}
	return total, nil
}

// ParseSummary returns the instruction count of a cachegrind output file
// made with --cache-sim=no: its "summary:" line, whose first number counts
// the first event, Ir.
func ParseSummary(r io.Reader) (uint64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	events := ""
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "events:"); ok {
			events = strings.TrimSpace(v)
			continue
		}
		v, ok := strings.CutPrefix(line, "summary:")
		if !ok {
			continue
		}
		if first, _, _ := strings.Cut(events, " "); first != "Ir" {
			return 0, errors.New("no Ir event before the summary line: not a cachegrind output file")
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			return 0, errors.New("empty summary line")
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("summary line: the instruction count %q is not a number", f[0])
		}
		return n, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no summary line: not a complete cachegrind output file")
}

// PerRequest is (high - low) / (highN - lowN): the instructions one more
// iteration costs.
func PerRequest(low, high uint64, lowN, highN int) (float64, error) {
	if highN <= lowN {
		return 0, errors.New("iteration counts: want low < high")
	}
	if high < low {
		return 0, fmt.Errorf("%d iterations counted fewer instructions (%d) than %d (%d)", highN, high, lowN, low)
	}
	return float64(high-low) / float64(highN-lowN), nil
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
