package stages

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// DefaultPackages are the packages on the request path.
var DefaultPackages = []string{"./gateway", "./anonymize/...", "./upstream/..."}

// RunOptions says which benchmarks to run and how.
type RunOptions struct {
	Dir       string   // module root, where go test runs
	Packages  []string // package patterns, each run by its own go test so one that fails to build spoils nothing else
	Bench     string   // -bench regexp; "." when empty
	Benchtime string   // -benchtime; go's default when empty
	CPU       string   // -cpu list; go's default when empty
}

// Run runs the benchmarks, copies go test's output to log as it comes, and
// parses it. A package that fails to build or to run is recorded in
// Output.Failed; Run itself fails only when go cannot be started.
func Run(ctx context.Context, o RunOptions, log io.Writer) (Output, []byte, error) {
	var all bytes.Buffer
	for _, p := range o.Packages {
		args := []string{"test", "-run", "^$", "-bench", "."}
		if o.Bench != "" {
			args[4] = o.Bench
		}
		args = append(args, "-benchmem", "-count", "1")
		if o.Benchtime != "" {
			args = append(args, "-benchtime", o.Benchtime)
		}
		if o.CPU != "" {
			args = append(args, "-cpu", o.CPU)
		}
		args = append(args, p)
		fmt.Fprintf(log, "$ go %s\n", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = o.Dir
		var buf bytes.Buffer
		cmd.Stdout = io.MultiWriter(&buf, log)
		cmd.Stderr = io.MultiWriter(&buf, log)
		err := cmd.Run()
		all.Write(buf.Bytes())
		if err != nil {
			if _, ok := err.(*exec.ExitError); !ok {
				return Output{}, all.Bytes(), fmt.Errorf("cannot run go test: %w", err)
			}
			if !strings.Contains(buf.String(), "FAIL") {
				// e.g. a pattern that matches no package: go says why on stderr
				msg := strings.TrimSpace(buf.String())
				if i := strings.IndexByte(msg, '\n'); i >= 0 {
					msg = msg[:i]
				}
				fmt.Fprintf(&all, "FAIL\t%s [%s]\n", p, msg)
			}
		}
	}
	out, err := Parse(bytes.NewReader(all.Bytes()))
	return out, all.Bytes(), err
}
