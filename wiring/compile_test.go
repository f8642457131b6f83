package wiring

import (
	"strconv"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/plan"
)

func parse(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func version(t *testing.T, yaml string) string {
	t.Helper()
	p, err := Compile(parse(t, yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p.Version()
}

// TestVersionChangesWithBehaviour: the policy version changes exactly when
// what a record holds or who receives it changes, and not when the same
// rules are written differently or settings that decide neither change.
func TestVersionChangesWithBehaviour(t *testing.T) {
	const base = `
properties: {allow: [plan, cart_value]}
consent: {purposes: [analytics, ads]}
sites: [{id: web}, {id: app}]
destinations:
  - {name: all, type: file}
  - {name: partner, type: file, requires: [analytics, ads], tcf: {without_vendor: true}}
`
	v := version(t, base)
	same := map[string]string{
		"defaults written out": strings.Replace(base, "consent: {purposes: [analytics, ads]}",
			"consent: {purposes: [analytics, ads], merge: most_restrictive}\npolicies: {none: {ip: {action: drop}}}", 1),
		"batching and compression":    strings.Replace(base, "{name: all, type: file}", "{name: all, type: file, level: 6, batch: {max_events: 10}}", 1),
		"listen address":              base + "server: {listen: ':9999'}",
		"a site without declarations": strings.Replace(base, "{id: app}]", "{id: app}, {id: blog}]", 1),
		"spool":                       base + "spool: {max_bytes: 512MiB}",
		"properties reordered":        strings.Replace(base, "[plan, cart_value]", "[cart_value, plan]", 1),
	}
	for name, yaml := range same {
		if got := version(t, yaml); got != v {
			t.Errorf("%s changed the version: %s → %s", name, v, got)
		}
	}
	differ := map[string]string{
		"server-to-server site":           strings.Replace(base, "{id: app}", "{id: app, server_to_server: true}", 1),
		"http_clients":                    base + "policies: {ads: {http_clients: drop}}",
		"a field action":                  base + "policies: {analytics: {url: path}}",
		"a destination's own policy":      strings.Replace(base, "{name: all, type: file}", "{name: all, type: file, policies: {ads: {user_agent: {action: drop}}}}", 1),
		"a destination's purposes":        strings.Replace(base, "requires: [analytics, ads]", "requires: [analytics]", 1),
		"a destination's vendor":          strings.Replace(base, "tcf: {without_vendor: true}", "tcf: {vendor_id: 755, purposes: [1, 3]}", 1),
		"a destination's vendor purposes": strings.Replace(base, "tcf: {without_vendor: true}", "tcf: {vendor_id: 755, purposes: [1, 3, 4]}", 1),
		"a renamed destination":           strings.Replace(base, "name: partner", "name: partner2", 1),
		"an allowlisted property":         strings.Replace(base, "[plan, cart_value]", "[plan, cart_value, note]", 1),
		"TC string age":                   strings.Replace(base, "purposes: [analytics, ads]}", "purposes: [analytics, ads], tcf: {max_age: 30d}}", 1),
		"a scan setting":                  base + "scan: {drop_utm: true}",
		"pseudonym period":                base + "pseudonym: {period: 48h}",
		"a site's origins":                strings.Replace(base, "{id: app}", "{id: app, origins: ['https://app.example.com']}", 1),
	}
	seen := map[string]string{v: "base"}
	for name, yaml := range differ {
		got := version(t, yaml)
		if other, dup := seen[got]; dup {
			t.Errorf("%s: version %s, the same as %s", name, got, other)
		}
		seen[got] = name
	}
}

// TestVersionFollowsTheVendorList: with a vendor list, the declarations
// it holds for our destinations enter the version; a new list that says
// the same of them keeps it.
func TestVersionFollowsTheVendorList(t *testing.T) {
	cfg := parse(t, `
consent: {purposes: [analytics, ads], tcf: {gvl_file: vendor-list.json}}
destinations: [{name: partner, type: file, requires: [analytics, ads], tcf: {vendor_id: 755}}]
`)
	gvl := func(version int, purposes string) *consent.GVL {
		g, err := consent.ParseGVL([]byte(`{"vendorListVersion":` + strconv.Itoa(version) + `,"vendors":{"755":{"id":755,"purposes":` + purposes + `,"legIntPurposes":[],"specialFeatures":[]},"1":{"id":1,"purposes":[1],"legIntPurposes":[],"specialFeatures":[]}}}`))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	compile := func(g *consent.GVL) *plan.Plan {
		p, err := Compile(cfg, g)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, c := compile(gvl(1, "[1,3]")), compile(gvl(2, "[1,3]")), compile(gvl(3, "[1,3,4]"))
	if a.Destinations[0].Vendor != b.Destinations[0].Vendor || c.Destinations[0].Vendor.Consent == a.Destinations[0].Vendor.Consent {
		t.Fatalf("vendor declarations: %+v %+v %+v", a.Destinations[0].Vendor, b.Destinations[0].Vendor, c.Destinations[0].Vendor)
	}
	if a.Version() == c.Version() {
		t.Error("a vendor list that changes our partner's purposes keeps the version")
	}
	// The list's own version is part of the plan (the report names it):
	// which list decided is part of how a record came to be.
	if a.Version() == b.Version() {
		t.Error("two vendor lists give one version")
	}
}

// TestCompileRefusesOutOfRange: a hand-built config with an enum value the
// parser never yields is an error naming the field, never a panic.
func TestCompileRefusesOutOfRange(t *testing.T) {
	cfg := config.Default()
	cfg.Policies.Ads.URL = config.URLAction(17)
	cfg.Policies.Analytics.IP.V4Prefix = 40 // analytics truncates by default
	_, err := Compile(cfg, nil)
	if err == nil {
		t.Fatal("compiled a config with url: 17 and v4_prefix: 40")
	}
	for _, want := range []string{"policies.ads: url: unknown value 17", "policies.analytics: ip.v4_prefix: 40 is not in 0..32"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestCompileExamples compiles every example config and the default.
func TestCompileExamples(t *testing.T) {
	for _, path := range []string{"../examples/analytics-only.yaml", "../examples/retail-ble.yaml", "../examples/shop-retargeting.yaml"} {
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Compile(cfg, nil); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	if _, err := Compile(config.Default(), nil); err != nil {
		t.Errorf("default: %v", err)
	}
}

// TestEnumTablesMatchNames: each config enum value maps onto the plan value
// of the same name, so the tables cannot drift from the config's order.
func TestEnumTablesMatchNames(t *testing.T) {
	check := func(kind string, n int, cfgName, planName func(int) string) {
		t.Helper()
		for v := range n {
			if cfgName(v) != planName(v) {
				t.Errorf("%s %d: config %q, plan %q", kind, v, cfgName(v), planName(v))
			}
		}
	}
	check("ip", len(ipActions), func(v int) string { return config.IPAction(v).String() }, func(v int) string { return ipActions[v].String() })
	check("geo", len(geoLevels), func(v int) string { return config.GeoLevel(v).String() }, func(v int) string { return geoLevels[v].String() })
	check("ua", len(uaActions), func(v int) string { return config.UAAction(v).String() }, func(v int) string { return uaActions[v].String() })
	check("bots", len(botActions), func(v int) string { return config.BotAction(v).String() }, func(v int) string { return botActions[v].String() })
	check("id", len(idActions), func(v int) string { return config.IDAction(v).String() }, func(v int) string { return idActions[v].String() })
	check("url", len(urlActions), func(v int) string { return config.URLAction(v).String() }, func(v int) string { return urlActions[v].String() })
	check("referrer", len(referrerActions), func(v int) string { return config.ReferrerAction(v).String() }, func(v int) string { return referrerActions[v].String() })
	check("language", len(languageActions), func(v int) string { return config.LanguageAction(v).String() }, func(v int) string { return languageActions[v].String() })
	check("properties", len(propertiesActions), func(v int) string { return config.PropertiesAction(v).String() }, func(v int) string { return propertiesActions[v].String() })
	check("contact", len(contactActions), func(v int) string { return config.ContactAction(v).String() }, func(v int) string { return contactActions[v].String() })
	check("click_ids", len(clickIDActions), func(v int) string { return config.ClickIDAction(v).String() }, func(v int) string { return clickIDActions[v].String() })
	// And the tables cover every value the config has: the next one has no name.
	if config.IPAction(len(ipActions)).String() == "keep" || config.ReferrerAction(len(referrerActions)).String() == "keep" {
		t.Error("a config enum has more values than its table")
	}
}

// TestMaxDestinationsAgree: config check refuses what the plan (and the
// spool's 64-bit routes) cannot hold, and nothing the plan can.
func TestMaxDestinationsAgree(t *testing.T) {
	if config.MaxDestinations != plan.MaxDestinations {
		t.Fatalf("config.MaxDestinations %d, plan.MaxDestinations %d", config.MaxDestinations, plan.MaxDestinations)
	}
}

// TestPriorityKeepsOptOuts: with merge: priority, the grant signals the
// priority list leaves out are ignored (of a GPP string, what it grants:
// its opt-outs stay, GPPOptOutsOnly; see TestPriorityKeepsGPPOptOuts),
// while the opt-outs (gpc, dnt, us_privacy) withdraw purposes whether
// listed or not, as consent.priority's doc says (it said every signal not
// listed was ignored).
func TestPriorityKeepsOptOuts(t *testing.T) {
	p, err := Compile(parse(t, "consent: {purposes: [analytics, ads], merge: priority, priority: [explicit]}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Consent.Ignored.Has(consent.SignalTCF) || !p.Consent.Ignored.Has(consent.SignalConsentMode) || !p.Consent.Evaluator.GPPOptOutsOnly {
		t.Errorf("ignored %v, GPP opt-outs only %v; want tcf and consent_mode ignored, GPP for its opt-outs only", p.Consent.Ignored, p.Consent.Evaluator.GPPOptOutsOnly)
	}
	ev, err := consent.NewEvaluator(p.Consent.Evaluator)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]consent.Signals{
		"gpc":        {Consent: []byte("analytics,ads"), GPC: true},
		"dnt":        {Consent: []byte("analytics,ads"), DNT: true},
		"us_privacy": {Consent: []byte("analytics,ads"), USPrivacy: []byte("1YYN")},
	} {
		if a := ev.Evaluate(&s, new(consent.TCString)); a.Purposes.Has(consent.Ads) || !a.Purposes.Has(consent.Analytics) {
			t.Errorf("%s, not in the priority list: purposes %v; want analytics without ads", name, a.Purposes)
		}
	}
}
