package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering fails when an import breaks the one-way layering:
// cmd → gateway → {anonymize, upstream, config}; anonymize and upstream never
// import gateway or fasthttp; config and clock import no other package of
// ours; tag is a leaf that imports no package of ours.
func TestLayering(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	const mod = "github.com/beacongate/beacongate/"
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}:{{join .Deps " "}}`, "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, ":")
		if !strings.HasPrefix(pkg, mod) {
			continue
		}
		rel := strings.TrimPrefix(pkg, mod)
		top, _, _ := strings.Cut(rel, "/")
		var forbidden []string
		switch top {
		case "anonymize", "upstream":
			forbidden = []string{mod + "gateway", mod + "cmd", "github.com/valyala/fasthttp"}
		case "config":
			onlyOurs(t, rel, deps, "config", "suggest")
			forbidden = []string{"github.com/valyala/fasthttp"}
		case "clock", "suggest":
			onlyOurs(t, rel, deps, top)
		case "event":
			forbidden = []string{mod + "gateway", mod + "anonymize", mod + "upstream", mod + "config", mod + "cmd", "github.com/valyala/fasthttp"}
		case "gateway":
			forbidden = []string{mod + "cmd", mod + "bench"}
		case "tag":
			onlyOurs(t, rel, deps, "tag")
		default:
			continue
		}
		checked++
		for _, d := range strings.Fields(deps) {
			for _, f := range forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("%s imports %s (directly or not): layering is cmd → gateway → {anonymize, upstream, config}", rel, d)
				}
			}
		}
	}
	if checked < 3 {
		t.Fatalf("only %d project packages checked; go list output looks wrong", checked)
	}
}

// onlyOurs fails for every package of this module in deps that is not
// below one of the allowed top-level folders: for the leaves (clock,
// suggest, tag) and config, which must stay free of the rest.
func onlyOurs(t *testing.T, rel, deps string, allowed ...string) {
	t.Helper()
	const mod = "github.com/beacongate/beacongate/"
	for _, d := range strings.Fields(deps) {
		if !strings.HasPrefix(d, mod) {
			continue
		}
		top, _, _ := strings.Cut(strings.TrimPrefix(d, mod), "/")
		ok := false
		for _, a := range allowed {
			ok = ok || top == a
		}
		if !ok {
			t.Errorf("%s imports %s: it may import only %v of this module", rel, d, allowed)
		}
	}
}
