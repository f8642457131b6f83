package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// commit is the VCS revision, set at link time where the build has no .git
// (the Dockerfile passes -ldflags "-X main.commit=..."). Empty: the revision
// Go stamped into the build info, if any.
var commit string

// version is the module version, set at link time where the build has no
// VCS data (-ldflags "-X main.version=v1.2.0"). Empty: the build info's.
var version string

// buildInfo is what `beacongate version` prints and beacongate_build_info
// exports.
type buildInfo struct {
	version   string // module version: a tag, a pseudo-version, or "(devel)"
	commit    string // VCS revision, or "unknown"
	modified  bool   // built from a tree with uncommitted changes
	goVersion string
}

func readBuildInfo() buildInfo {
	b := buildInfo{version: "(devel)", commit: "unknown", goVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			b.version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.commit = s.Value
			case "vcs.modified":
				b.modified = s.Value == "true"
			}
		}
	}
	if commit != "" {
		b.commit = commit
	}
	if version != "" {
		b.version = version
	}
	return b
}

// String is the one line `beacongate version` prints, e.g.
// "beacongate v1.2.0, commit 1345e2a1…, go1.26.8 linux/amd64".
func (b buildInfo) String() string {
	mod := ""
	if b.modified {
		mod = " (modified)"
	}
	return fmt.Sprintf("beacongate %s, commit %s%s, %s %s/%s", b.version, b.commit, mod, b.goVersion, runtime.GOOS, runtime.GOARCH)
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && isHelp(args[0]) {
		fmt.Fprintln(stdout, "usage: beacongate version")
		return 0
	}
	if len(args) != 0 {
		fmt.Fprintln(stderr, "usage: beacongate version")
		return 2
	}
	fmt.Fprintln(stdout, readBuildInfo())
	return 0
}

// registerBuildInfo exports beacongate_build_info, a gauge that is always 1
// and whose labels say which build is running.
func registerBuildInfo(reg prometheus.Registerer) {
	b := readBuildInfo()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "beacongate_build_info",
		Help:        "Always 1; the labels name the running build: module version, VCS revision, Go version.",
		ConstLabels: prometheus.Labels{"version": b.version, "revision": b.commit, "goversion": b.goVersion},
	})
	g.Set(1)
	reg.MustRegister(g)
}
