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
			forbidden = []string{mod + "gateway", mod + "anonymize", mod + "upstream", mod + "cmd", mod + "event", "github.com/valyala/fasthttp"}
		case "clock":
			forbidden = []string{mod + "gateway", mod + "anonymize", mod + "upstream", mod + "config", mod + "event", mod + "cmd", "github.com/valyala/fasthttp"}
		case "event":
			forbidden = []string{mod + "gateway", mod + "anonymize", mod + "upstream", mod + "config", mod + "cmd", "github.com/valyala/fasthttp"}
		case "gateway":
			forbidden = []string{mod + "cmd", mod + "bench"}
		case "tag":
			// A leaf: only its own generator helpers.
			for _, d := range strings.Fields(deps) {
				if strings.HasPrefix(d, mod) && d != mod+"tag" && !strings.HasPrefix(d, mod+"tag/") {
					t.Errorf("%s imports %s: the tag package imports no other package of ours", rel, d)
				}
			}
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
