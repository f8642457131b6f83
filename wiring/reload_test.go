package wiring

import (
	"slices"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/config"
)

// TestPrepareReload: every changed setting is reported, either applied or
// needing a restart, and the restart-only ones keep their running values.
func TestPrepareReload(t *testing.T) {
	const base = `
server: {listen: ':8080', read_timeout: 5s, max_conns_per_ip: 100, max_body_bytes: 64KiB}
consent: {purposes: [analytics, ads]}
pseudonym: {period: 24h}
destinations:
  - {name: all, type: file, batch: {max_events: 100}}
  - {name: partner, type: file, requires: [analytics, ads], tcf: {without_vendor: true}}
`
	running := parse(t, base)
	next := parse(t, `
server: {listen: ':9090', read_timeout: 7s, max_conns_per_ip: 50, max_body_bytes: 128KiB, max_header_bytes: 16KiB}
consent: {purposes: [analytics, ads]}
pseudonym: {period: 48h}
policies: {ads: {url: path}}
spool: {max_bytes: 512MiB}
destinations:
  - {name: all, type: file, batch: {max_events: 200}, policies: {ads: {user_agent: {action: drop}}}}
  - {name: partner, type: file, requires: [analytics], tcf: {without_vendor: true}}
`)
	r, err := PrepareReload(running, next)
	if err != nil {
		t.Fatal(err)
	}
	wantApplied := []string{"policies.ads.url", "destinations[0].policies.ads.user_agent.action", "destinations[1].requires"}
	wantRestart := []string{"server.listen", "server.read_timeout", "server.max_header_bytes", "server.max_conns_per_ip", "server.max_body_bytes", "pseudonym.period", "spool.max_bytes", "destinations[0].batch.max_events"}
	for _, k := range wantApplied {
		if !slices.Contains(r.Applied, k) {
			t.Errorf("applied %v lacks %s", r.Applied, k)
		}
	}
	for _, k := range wantRestart {
		if !slices.Contains(r.NeedRestart, k) {
			t.Errorf("needs restart %v lacks %s", r.NeedRestart, k)
		}
	}
	for _, k := range r.Applied {
		if slices.Contains(r.NeedRestart, k) {
			t.Errorf("%s is both applied and restart-only", k)
		}
	}
	// Restart-only settings keep the running values; applied ones are new.
	if next.Server.Listen != ":8080" || next.Server.ReadTimeout != running.Server.ReadTimeout || next.Server.MaxConnsPerIP != 100 ||
		next.Pseudonym.Period != running.Pseudonym.Period || next.Spool != running.Spool || next.Destinations[0].Batch != running.Destinations[0].Batch {
		t.Errorf("a restart-only setting took the new value: %+v %+v", next.Server, next.Pseudonym)
	}
	if next.Server.MaxBodyBytes != running.Server.MaxBodyBytes || next.Policies.Ads.URL != config.URLPath || len(next.Destinations[1].Requires) != 1 {
		t.Error("an applied setting kept the running value")
	}
	// Comparing again finds only what was applied.
	again, err := PrepareReload(running, next)
	if err != nil || len(again.NeedRestart) != 0 {
		t.Errorf("second comparison: %+v, %v", again, err)
	}
}

// TestPrepareReloadRefusesNewDestinations: the spool routes by position,
// so a changed destination list needs a restart.
func TestPrepareReloadRefusesNewDestinations(t *testing.T) {
	running := parse(t, "destinations: [{name: a, type: file}, {name: b, type: file}]")
	for _, yaml := range []string{
		"destinations: [{name: a, type: file}]",
		"destinations: [{name: b, type: file}, {name: a, type: file}]",
		"destinations: [{name: a, type: file}, {name: b, type: file}, {name: c, type: file}]",
		"destinations: [{name: a, type: file}, {name: c, type: file}]",
	} {
		_, err := PrepareReload(running, parse(t, yaml))
		if err == nil || !strings.Contains(err.Error(), "needs a restart") {
			t.Errorf("%s: %v", yaml, err)
		}
	}
}

// TestNoUnchangedKeys: an identical config reports nothing.
func TestNoUnchangedKeys(t *testing.T) {
	for _, path := range []string{"../examples/analytics-only.yaml", "../examples/retail-ble.yaml", "../examples/shop-retargeting.yaml"} {
		a, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := config.Load(path)
		r, err := PrepareReload(a, b)
		if err != nil || len(r.Applied)+len(r.NeedRestart) != 0 {
			t.Errorf("%s against itself: %+v, %v", path, r, err)
		}
	}
}

// TestPrepareReloadRefusesTypeChange: a destination's type (its sink) is
// fixed at start, while its requires, tcf and policies apply on reload and
// were checked for the type the new file names. Keeping the running type
// with them would send every visitor's events to Meta when a meta_capi
// destination is rewritten as a file one with requires: [], and hashed
// contact data and click ids to a warehouse in the other direction: the
// reload is refused, naming the field.
func TestPrepareReloadRefusesTypeChange(t *testing.T) {
	const meta = `  - {name: ads, type: meta_capi, requires: [ads], meta_capi: {pixel_id: "123", access_token_file: /run/meta.token},
     policies: {ads: {contact: hash, click_ids: keep}}}
`
	const file = `  - {name: ads, type: file, requires: [], tcf: {without_vendor: true}}
`
	const head = "consent: {purposes: [analytics, ads]}\ndestinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n"
	for _, c := range []struct{ running, next string }{{meta, file}, {file, meta}} {
		running, next := parse(t, head+c.running), parse(t, head+c.next)
		from, to := running.Destinations[1].Type, next.Destinations[1].Type
		r, err := PrepareReload(running, next)
		if err == nil || !strings.Contains(err.Error(), "destinations[1].type") || !strings.Contains(err.Error(), "needs a restart") {
			t.Errorf("%s -> %s: %+v, %v; want the reload refused, naming destinations[1].type", from, to, r, err)
		}
	}
}
