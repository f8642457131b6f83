package ropa

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/plan"
	"github.com/beacongate/beacongate/wiring"
)

// render returns the Markdown, the HTML and the HTML's text content.
func render(t *testing.T, r *Report) (md, html, text string) {
	t.Helper()
	var mb, hb bytes.Buffer
	if err := r.WriteMarkdown(&mb); err != nil {
		t.Fatalf("WriteMarkdown: %v", err)
	}
	if err := r.WriteHTML(&hb); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	return mb.String(), hb.String(), htmlText(t, hb.Bytes())
}

// htmlText checks that the page is well-formed XHTML (every tag closed and
// nested, every entity known) and returns its text content.
func htmlText(t *testing.T, page []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict = true
	var text strings.Builder
	var stack []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("HTML is not well-formed: %v", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			stack = append(stack, tk.Name.Local)
			if tk.Name.Local == "script" || tk.Name.Local == "link" || tk.Name.Local == "img" {
				t.Fatalf("HTML holds a <%s> element: it must be self-contained and script-free", tk.Name.Local)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 && stack[len(stack)-1] != "style" {
				text.Write(tk)
			}
		}
	}
	if len(stack) != 0 {
		t.Fatalf("HTML ends with open elements %v", stack)
	}
	return text.String()
}

// checkTables fails when a Markdown table row has a different number of
// cells than its header (an unescaped '|' in a value would do that).
func checkTables(t *testing.T, md string) {
	t.Helper()
	want := -1
	for _, l := range strings.Split(md, "\n") {
		if !strings.HasPrefix(l, "|") {
			want = -1
			continue
		}
		n := strings.Count(l, "|") - strings.Count(l, `\|`)
		if want < 0 {
			want = n
		} else if n != want {
			t.Fatalf("table row has %d cell separators, header has %d: %s", n, want, l)
		}
	}
}

func loadExample(t *testing.T, name string) *config.Config {
	t.Helper()
	c, err := config.Load(filepath.Join("..", "examples", name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

func parse(t *testing.T, yaml string) *config.Config {
	t.Helper()
	c, err := config.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return c
}

func TestReportExamples(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	if err != nil || len(paths) < 3 {
		t.Fatalf("examples: %v, %d found; want at least 3", err, len(paths))
	}
	cfgs := map[string]*config.Config{"default": config.Default()}
	for _, p := range paths {
		cfgs[filepath.Base(p)] = loadExample(t, filepath.Base(p))
	}
	for name, cfg := range cfgs {
		t.Run(name, func(t *testing.T) {
			r := build(t, cfg)
			md, _, text := render(t, r)
			checkTables(t, md)
			for _, s := range []string{"# Record of processing activities", "## 1. Overview", "## 2. Consent", "### 2.2 Signals honoured",
				"### 2.3 Merge rule", "### 2.4 TCF mapping", "## 3. Data collected per consent state", "### State `none`",
				"### State `analytics`", "### State `ads`", "## 4. Pseudonyms and re-identification",
				"## 5. Free-text and URL scanning", "## 6. Recipients", "## 7. Storage and retention"} {
				if !strings.Contains(md, s) {
					t.Errorf("Markdown lacks %q", s)
				}
			}
			v := compile(t, cfg).Version()
			if r.PolicyVersion != v || !strings.Contains(md, "`"+v+"`") || !strings.Contains(text, v) {
				t.Errorf("policy version %s missing", v)
			}
			for _, d := range cfg.Destinations {
				if !strings.Contains(md, "`"+d.Name+"`") || !strings.Contains(text, d.Name) {
					t.Errorf("destination %s missing", d.Name)
				}
			}
			for _, st := range []config.PolicyName{config.PolicyNone, config.PolicyAnalytics, config.PolicyAds} {
				p := cfg.Policies.Get(st) // the file's words against the report's
				if p.IP.Action == config.IPTruncate {
					want := "truncated to /" + strconv.Itoa(p.IP.V4Prefix) + " (IPv4) and /" + strconv.Itoa(p.IP.V6Prefix) + " (IPv6)"
					if !strings.Contains(text, want) {
						t.Errorf("%s: lacks %q", st, want)
					}
				}
			}
			if !strings.Contains(text, "rotates every "+cfg.Pseudonym.Period.String()) {
				t.Errorf("lacks the pseudonym period %s", cfg.Pseudonym.Period)
			}
			if !strings.Contains(text, cfg.Spool.Dir) {
				t.Errorf("lacks the spool directory %s", cfg.Spool.Dir)
			}
		})
	}
}

func TestReportFollowsConfig(t *testing.T) {
	base := parse(t, "")
	changed := parse(t, `
pseudonym: {period: 12h}
policies:
  analytics:
    ip: {action: truncate, v4_prefix: 16, v6_prefix: 56}
`)
	_, _, baseText := render(t, build(t, base))
	_, _, text := render(t, build(t, changed))
	f := func(text, s string, want bool) {
		t.Helper()
		if strings.Contains(text, s) != want {
			t.Errorf("contains %q = %v; want %v", s, !want, want)
		}
	}
	f(baseText, "truncated to /24 (IPv4) and /48 (IPv6)", true)
	f(baseText, "/16 (IPv4)", false)
	f(baseText, "rotates every 24h (1 day)", true)
	f(text, "truncated to /16 (IPv4) and /56 (IPv6): the last 16 bits of an IPv4 address and the last 72 bits", true)
	f(text, "rotates every 12h;", true)
	f(text, "rotates every 24h", false)
	f(text, "ephemeral: the key is random and never stored", true)
	if build(t, base).PolicyVersion == build(t, changed).PolicyVersion {
		t.Error("policy version did not change with the policy")
	}

	derived := parse(t, `
pseudonym: {mode: derived, secret_env: BG_TEST_SECRET, period: 168h}
geoip: {database: /nonexistent/GeoLite2-City.mmdb}
policies:
  analytics:
    geo: {level: city, grid: 0.1}
`)
	_, _, text = render(t, build(t, derived))
	f(text, "rotates every 168h (7 days); derived: whoever holds the secret in the environment variable BG_TEST_SECRET can recompute", true)
	f(text, "coordinates rounded to a 0.1° grid (about 11.1 km", true)
	f(text, "nobody can re-identify after rotation", false)

	// The full-spool policy of the pixel is stated as configured.
	f(baseText, "Pixel events when the spool is full (pixel_when_full: shed): pixel events are dropped and counted", true)
	_, _, text = render(t, build(t, parse(t, "spool: {pixel_when_full: block, block_timeout: 3s}")))
	f(text, "Pixel events when the spool is full (pixel_when_full: block): pixel events wait up to 3s for space", true)
	f(text, "When the spool is full (when_full: shed): new beacon and BLE requests are refused (HTTP 503)", true)
}

func TestReportRecipients(t *testing.T) {
	shop := build(t, loadExample(t, "shop-retargeting.yaml"))
	got := map[string][]string{}
	for _, s := range shop.States {
		for _, rc := range s.Recipients {
			got[s.Name.String()] = append(got[s.Name.String()], rc.Destination+"|"+rc.Condition)
		}
	}
	want := map[string][]string{"none": {"warehouse|"}, "analytics": {"warehouse|"}, "ads": {"warehouse|", "retargeting|", "meta|", "ga4|", "tiktok|"}}
	for st, w := range want {
		if !slices.Equal(got[st], w) {
			t.Errorf("state %s recipients = %v; want %v", st, got[st], w)
		}
	}

	// A destination that needs device_storage receives every state, but
	// only when that purpose is granted too; ads is not used, so the ads
	// state never applies and nobody receives it.
	c := parse(t, `
consent: {purposes: [analytics, device_storage]}
destinations:
  - {name: local, type: file}
  - {name: storage, type: file, requires: [device_storage]}
`)
	r := build(t, c)
	if r.States[2].Reachable || len(r.States[2].Recipients) != 0 {
		t.Errorf("ads state: reachable %v, recipients %v; want unreachable, none", r.States[2].Reachable, r.States[2].Recipients)
	}
	if rc := r.States[0].Recipients; len(rc) != 2 || rc[1] != (Recipient{Destination: "storage", Condition: "device_storage"}) {
		t.Errorf("none state recipients = %v", rc)
	}
	md, _, _ := render(t, r)
	if !strings.Contains(md, "`storage`: only events for which `device_storage` is also granted") ||
		!strings.Contains(md, "This state never applies with this configuration") {
		t.Errorf("conditions not rendered:\n%s", md)
	}
}

func TestReportEscapesHostileValues(t *testing.T) {
	c := config.Default()
	const hostile = `<script>alert("x")</script>`
	c.Destinations[0].Name = hostile
	c.Properties.Allow = []string{"a" + hostile, "pipe|`tick`"}
	c.Sites = []config.Site{{ID: "s&<b>", Origins: []string{"https://x.example\n| injected | row |"}}}
	r := build(t, c)
	r.Generated = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	md, html, text := render(t, r)
	if strings.Contains(html, "<script") || strings.Contains(html, "<b>") {
		t.Error("HTML holds a raw hostile tag")
	}
	if !strings.Contains(text, hostile) || !strings.Contains(text, "pipe|`tick`") || !strings.Contains(text, "s&<b>") {
		t.Error("HTML text lost the hostile values; they must be shown escaped")
	}
	if strings.Contains(md, "<script") || strings.Contains(md, "<b>") {
		t.Error("Markdown holds a raw hostile tag")
	}
	if !strings.Contains(md, "&lt;script&gt;") {
		t.Error("Markdown lacks the escaped destination name")
	}
	if strings.Contains(md, "\n| injected") {
		t.Error("a line break in a value started a new Markdown line")
	}
	checkTables(t, md)
	// Without '<' the property list is a code span; '|' must not split the cell there either.
	c.Properties.Allow = []string{"pipe|`tick`"}
	md2, _, _ := render(t, build(t, c))
	checkTables(t, md2)
	if !strings.Contains(md2, "| `` properties: allowlist: pipe\\|`tick` `` |") {
		t.Error("property list not rendered as an escaped code span")
	}
	if !strings.Contains(text, "2026-01-02 03:04 UTC") {
		t.Error("Generated time not shown")
	}
}

func TestReportRules(t *testing.T) {
	f := func(cfg *config.Config, st plan.State, field, action string, kept bool) {
		t.Helper()
		for _, r := range Rules(compile(t, cfg), FactsOf(cfg), st) {
			if r.Field == field {
				if r.Action != action || r.Kept != kept {
					t.Errorf("%s %s: action %q kept %v; want %q %v", st, field, r.Action, r.Kept, action, kept)
				}
				return
			}
		}
		t.Errorf("%s: no rule for %s", st, field)
	}
	def := config.Default()
	f(def, plan.StateNone, "ip", "drop", false)
	f(def, plan.StateAnalytics, "ip", "truncate /24 (IPv4), /48 (IPv6)", true)
	f(def, plan.StateNone, "geo", "country (no geoip.database: none)", false)
	f(def, plan.StateNone, "user_id", "drop", false)
	f(def, plan.StateAnalytics, "user_id", "pseudonymize (ephemeral key, 24h)", true)
	f(def, plan.StateAnalytics, "properties", "allowlist (empty)", false)
	f(def, plan.StateAds, "bots", "drop", false)
	f(def, plan.StateAds, "http_clients", "keep", true)
	f(def, plan.StateNone, "http_clients", "keep", true)
	f(parse(t, "policies: {analytics: {http_clients: drop}}"), plan.StateAnalytics, "http_clients", "drop", false)
	f(def, plan.StateAds, "user_agent", "keep", true)
	shop := loadExample(t, "shop-retargeting.yaml")
	f(shop, plan.StateAds, "geo", "city, grid 0.1°", true)
	f(shop, plan.StateAnalytics, "properties", "allowlist: cart_value, category, currency, product_id, step", true)
	off := parse(t, "pseudonym: {visitor_hash: false}")
	f(off, plan.StateNone, "visitor_hash", "off (pseudonym.visitor_hash: false)", false)
	f(def, plan.StateNone, "visitor_hash", "daily hash", true)
}

func TestReportHTMLFile(t *testing.T) {
	// The HTML must stand alone: no external references of any kind; the
	// only links are those of the contents, to headings of the page.
	var b bytes.Buffer
	if err := build(t, config.Default()).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"src=", "@import", "url("} {
		if strings.Contains(b.String(), s) {
			t.Errorf("HTML references an external asset (%s)", s)
		}
	}
	for _, h := range strings.Split(b.String(), "href=")[1:] {
		if !strings.HasPrefix(h, `"#`) {
			t.Errorf("HTML links outside the page: href=%.40s", h)
		}
	}
}

// TestReportServerToServer: the report says what a server-to-server site
// implies, and the HTTP client rule says HTTP clients are not bots.
func TestReportServerToServer(t *testing.T) {
	shop := loadExample(t, "shop-retargeting.yaml")
	var b bytes.Buffer
	if err := build(t, shop).WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"`shop-app` (`server_to_server`: its events are posted by its own servers, so no IP address, location or visitor hash is taken from the sending address",
		"HTTP client traffic",
		"kept like any other event; they are not bots",
		"not for the server-to-server sites shop-app",
		"Crawler traffic",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, r := range Rules(compile(t, config.Default()), FactsOf(config.Default()), plan.StateAnalytics) {
		if strings.Contains(r.Treatment, "server-to-server") {
			t.Errorf("%s: %q mentions server-to-server sites, and there are none", r.Field, r.Treatment)
		}
	}
}

// TestReportRetailSection: the report says what happens to BLE sightings as
// configured: per-sighting records, or aggregates with their thresholds,
// minimum count and opt-out list.
func TestReportRetailSection(t *testing.T) {
	markdown := func(r *Report) string {
		var b strings.Builder
		if err := r.WriteMarkdown(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	retail := markdown(build(t, loadExample(t, "retail-ble.yaml")))
	for _, want := range []string{"## 8. Retail stores (BLE sightings)", "ble.output: aggregates", "k = 5", "-75 dBm", "`15m` interval", "beacongate subject suppress -kind mac|adid", "Older opt-out list"} {
		if !strings.Contains(retail, want) {
			t.Errorf("retail-ble report lacks %q", want)
		}
	}
	shop := markdown(build(t, loadExample(t, "shop-retargeting.yaml")))
	if !strings.Contains(shop, "ble.output: sightings") || strings.Contains(shop, "k = ") {
		t.Error("the shop report must describe per-sighting records and no aggregation")
	}
	if strings.Contains(shop, "Older opt-out list") || !strings.Contains(shop, "beacongate subject suppress -kind mac|adid") {
		t.Error("the shop report names an opt-out list it does not have, or not how to suppress a device")
	}
}

// compile compiles cfg as the server does.
func compile(t testing.TB, cfg *config.Config) *plan.Plan {
	t.Helper()
	p, err := wiring.Compile(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// build makes the report of cfg from its compiled plan.
func build(t testing.TB, cfg *config.Config) *Report {
	t.Helper()
	return Build(cfg, compile(t, cfg))
}

// TestReportSaysWhichAllowlistedPropertiesAreNeverRecorded: the engine
// never writes some allowlisted names as properties (contact data, click
// ids and ad cookies, names that say secret or person); the record of
// processing listed them all as recorded ("only plan, gclid, password,
// em, user_id, msclkid"), and so told the officer that the records hold
// a password and a user id in clear. It now lists what is recorded, and
// names the others with the reason.
func TestReportSaysWhichAllowlistedPropertiesAreNeverRecorded(t *testing.T) {
	cfg := parse(t, "properties: {allow: [plan, gclid, password, em, user_id, msclkid]}")
	var rule *FieldRule
	for _, r := range Rules(compile(t, cfg), FactsOf(cfg), plan.StateAnalytics) {
		if r.Field == "properties" {
			rule = &r
			break
		}
	}
	if rule == nil || !rule.Kept {
		t.Fatalf("properties rule %+v", rule)
	}
	if !strings.HasPrefix(rule.Treatment, "only plan; ") {
		t.Errorf("treatment %q; want it to start \"only plan; \"", rule.Treatment)
	}
	for _, want := range []string{"gclid (a click id or ad cookie", "password (its name says secret or person)", "em (contact data", "user_id (its name says secret or person)", "msclkid (a click id)"} {
		if !strings.Contains(rule.Treatment, want) {
			t.Errorf("treatment %q lacks %q", rule.Treatment, want)
		}
	}
	only := parse(t, "properties: {allow: [gclid, password]}")
	for _, r := range Rules(compile(t, only), FactsOf(only), plan.StateAnalytics) {
		if r.Field == "properties" && (r.Kept || !strings.HasPrefix(r.Treatment, "none recorded; ")) {
			t.Errorf("allowlist of unrecorded names only: kept %v, treatment %q", r.Kept, r.Treatment)
		}
	}
}
