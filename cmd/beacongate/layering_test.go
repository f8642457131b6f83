package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering fails when an import breaks the one-way layering:
//
//	cmd → wiring (config → plan, options) and gateway (requests → events)
//	    → delivery (events → engine → spool) → anonymize (the engine, on a plan)
//	                                         → upstream (spool → destinations)
//
// The engine (anonymize and its subpackages) never imports config: it runs
// on the compiled plan. The gateway is the HTTP package and imports neither
// the engine, nor delivery, nor upstream. plan, config and the leaves
// (clock, suggest, tag, internal, contact, adwire) import only what is listed for
// them; config may use the internal leaves (httpheader's checks, which the
// HTTP destination applies again at start; paramname's, which the scanner
// applies again, so plan reaches it through anonymize/scrub).
func TestLayering(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	const mod = "github.com/beacongate/beacongate/"
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}:{{join .Deps " "}}`, "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const fasthttp = "github.com/valyala/fasthttp"
	checked := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, ":")
		if !strings.HasPrefix(pkg, mod) {
			continue
		}
		rel := strings.TrimPrefix(pkg, mod)
		top, _, _ := strings.Cut(rel, "/")
		var forbidden []string
		switch top {
		case "anonymize":
			forbidden = []string{mod + "config", mod + "wiring", mod + "gateway", mod + "delivery", mod + "upstream", mod + "ropa", mod + "cmd", fasthttp}
		case "upstream":
			forbidden = []string{mod + "config", mod + "wiring", mod + "gateway", mod + "delivery", mod + "anonymize", mod + "cmd", fasthttp}
		case "delivery":
			forbidden = []string{mod + "config", mod + "wiring", mod + "gateway", mod + "cmd", fasthttp}
		case "plan":
			onlyOurs(t, rel, deps, "plan", "anonymize/consent", "anonymize/scrub", "internal/paramname")
		case "wiring":
			forbidden = []string{mod + "gateway", mod + "delivery", mod + "cmd", fasthttp}
		case "explain":
			// explain runs on the plan; config reaches it only through ropa,
			// whose report also renders the config's declarations.
			forbidden = []string{mod + "wiring", mod + "delivery", mod + "upstream", mod + "cmd"}
		case "ropa":
			forbidden = []string{mod + "gateway", mod + "delivery", mod + "upstream", mod + "cmd", fasthttp}
		case "config":
			onlyOurs(t, rel, deps, "config", "suggest", "internal")
			forbidden = []string{fasthttp}
		case "clock", "suggest", "internal", "contact":
			onlyOurs(t, rel, deps, top)
		case "event":
			onlyOurs(t, rel, deps, "event")
			forbidden = []string{fasthttp}
		case "gateway":
			forbidden = []string{mod + "anonymize", mod + "delivery", mod + "upstream", mod + "config", mod + "wiring", mod + "ropa", mod + "cmd", mod + "bench"}
		case "tag":
			onlyOurs(t, rel, deps, "tag")
		case "adwire":
			// What the ad platform mappings send, for the report and
			// subject: a leaf, so that ropa need not import upstream.
			onlyOurs(t, rel, deps, "adwire")
		default:
			continue
		}
		checked[top] = true
		for _, d := range strings.Fields(deps) {
			for _, f := range forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("%s imports %s (directly or not): see the layering in TestLayering's comment", rel, d)
				}
			}
		}
	}
	for _, top := range []string{"anonymize", "upstream", "delivery", "plan", "wiring", "ropa", "explain", "config", "gateway", "event", "internal", "adwire"} {
		if !checked[top] {
			t.Errorf("no package under %s/ checked; go list output looks wrong", top)
		}
	}
}

// onlyOurs fails for every package of this module in deps that is not
// one of the allowed packages or below one: for the leaves (clock,
// suggest, tag, internal), config and plan, which must stay free of the
// rest.
func onlyOurs(t *testing.T, rel, deps string, allowed ...string) {
	t.Helper()
	const mod = "github.com/beacongate/beacongate/"
	for _, d := range strings.Fields(deps) {
		if !strings.HasPrefix(d, mod) {
			continue
		}
		rel := strings.TrimPrefix(d, mod)
		ok := false
		for _, a := range allowed {
			ok = ok || rel == a || strings.HasPrefix(rel, a+"/")
		}
		if !ok {
			t.Errorf("%s imports %s: it may import only %v of this module", rel, d, allowed)
		}
	}
}

// TestTestOnlyDependenciesStayOut: the libraries used to generate the
// config schema (invopop/jsonschema) and to validate records against the
// record schemas (santhosh-tekuri/jsonschema, via internal/schematest) are
// for go generate and tests only: the gateway binary does not link them.
// Until 2026-12-06 config's walker read enum names through the schema
// generator's JSONSchema methods, which linked invopop/jsonschema (91
// symbols) into every build.
func TestTestOnlyDependenciesStayOut(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"github.com/invopop/jsonschema", "github.com/santhosh-tekuri/jsonschema", "github.com/beacongate/beacongate/internal/schematest"} {
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				t.Errorf("the gateway binary links %s, which is for tests and go generate only", dep)
			}
		}
	}
}
