// Package machine describes where a benchmark ran, for the header of a
// results file: CPU model, core count, OS and Go version.
package machine

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Info describes the machine and toolchain.
type Info struct {
	CPU   string // model name, "unknown" if not found
	Cores int    // logical CPUs
	OS    string // GOOS/GOARCH
	Go    string // Go version of this binary
}

// Describe returns the running machine's Info.
func Describe() Info {
	return Info{CPU: cpuModel("/proc/cpuinfo"), Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
}

// String formats the Info on one line.
func (i Info) String() string {
	return fmt.Sprintf("%s, %d logical CPUs, %s, %s", i.CPU, i.Cores, i.OS, i.Go)
}

// cpuModel reads the first "model name" of a /proc/cpuinfo file.
func cpuModel(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
	}
	return "unknown"
}
