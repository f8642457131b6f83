package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/beacongate/beacongate/config"
)

const deployDir = "../../deploy"

// exposedMetrics returns the metric names on the real binary's /metrics.
func exposedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	// The default config, and ble.output: aggregates, whose BLE spool
	// and aggregation have metrics of their own, with a retention, whose
	// sweep has too.
	dir := t.TempDir()
	for _, cfg := range []string{"", writeE2EConfig(t, dir, "ble.yaml", "ble: {output: aggregates}\nprivacy: {dead_letter_retention: 720h}\n")} {
		p := startGateway(t, t.TempDir(), cfg)
		st, body := httpGet(t, "http://"+p.admin+"/metrics")
		if st != 200 {
			t.Fatalf("/metrics: %d", st)
		}
		for _, line := range strings.Split(string(body), "\n") {
			if line == "" || line[0] == '#' {
				continue
			}
			names[line[:strings.IndexAny(line, "{ ")]] = true
		}
		p.stop()
	}
	return names
}

var metricRE = regexp.MustCompile(`\bbeacongate_[a-z0-9_]+`)

// queriedMetrics returns the beacongate metric names in PromQL text.
func queriedMetrics(exprs []string) []string {
	set := map[string]bool{}
	for _, e := range exprs {
		for _, m := range metricRE.FindAllString(e, -1) {
			set[m] = true
		}
	}
	var out []string
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

type grafanaPanel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ H, W, X, Y int } `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

type grafanaDashboard struct {
	UID           string         `json:"uid"`
	Title         string         `json:"title"`
	SchemaVersion int            `json:"schemaVersion"`
	Panels        []grafanaPanel `json:"panels"`
	Templating    struct {
		List []struct {
			Name, Type string
		} `json:"list"`
	} `json:"templating"`
}

// TestDeployDashboardAndRules: the dashboard is a well-formed Grafana
// dashboard (strictly decoded: every panel has an id, a known type, a place
// on the 24-column grid, the templated Prometheus data source and a query);
// the rules pass promtool check and promtool test; every metric either
// queries is on the real binary's /metrics; and every metric there is in
// the README.
func TestDeployDashboardAndRules(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(deployDir, "grafana", "beacongate.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 36 || len(d.Panels) < 10 {
		t.Fatalf("dashboard: uid %q, title %q, schemaVersion %d, %d panels", d.UID, d.Title, d.SchemaVersion, len(d.Panels))
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" || vars["instance"] != "query" || vars["destination"] != "query" {
		t.Fatalf("template variables %v", vars)
	}
	var exprs []string
	ids := map[int]bool{}
	for _, p := range d.Panels {
		switch {
		case p.ID == 0 || ids[p.ID]:
			t.Errorf("panel %q: id %d missing or repeated", p.Title, p.ID)
		case p.Type != "timeseries" && p.Type != "stat":
			t.Errorf("panel %q: type %q", p.Title, p.Type)
		case p.GridPos.W < 1 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H < 1:
			t.Errorf("panel %q: gridPos %+v off the 24-column grid", p.Title, p.GridPos)
		case p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}":
			t.Errorf("panel %q: data source %+v", p.Title, p.Datasource)
		case len(p.Targets) == 0:
			t.Errorf("panel %q: no query", p.Title)
		}
		ids[p.ID] = true
		for _, tg := range p.Targets {
			if tg.Expr == "" || tg.RefID == "" {
				t.Errorf("panel %q: empty query", p.Title)
			}
			exprs = append(exprs, tg.Expr)
		}
	}

	rulesPath := filepath.Join(deployDir, "prometheus", "beacongate.rules.yml")
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert, Expr string
			}
		}
	}
	raw, err = os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatal(err)
	}
	var ruleExprs []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			ruleExprs = append(ruleExprs, r.Expr)
		}
	}
	if len(ruleExprs) < 6 {
		t.Fatalf("%d alert rules", len(ruleExprs))
	}

	exposed := exposedMetrics(t)
	// Every metric the binary exports is described in the README (a
	// histogram by its base name).
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range metricRE.FindAllString(string(readme), -1) {
		documented[m] = true
	}
	for m := range exposed {
		if !strings.HasPrefix(m, "beacongate_") {
			continue
		}
		base := m
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(m, suffix); ok && exposed[b+"_bucket"] {
				base = b
			}
		}
		if !documented[base] {
			t.Errorf("the binary exports %s, which the README does not describe", base)
		}
	}
	for _, set := range []struct {
		what  string
		exprs []string
	}{{"dashboard", exprs}, {"alert rules", ruleExprs}} {
		for _, m := range queriedMetrics(set.exprs) {
			if !exposed[m] {
				t.Errorf("the %s query %s, which the binary's /metrics does not have", set.what, m)
			}
		}
	}

	// The gateway's own metrics vanish when it stops answering scrapes,
	// so only up can tell that it is down: a rule must read it, for the
	// job the compose file's Prometheus scrapes it under.
	raw, err = os.ReadFile(filepath.Join(deployDir, "compose", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var prom struct {
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(raw, &prom); err != nil {
		t.Fatal(err)
	}
	jobs := map[string]bool{}
	for _, sc := range prom.ScrapeConfigs {
		jobs[sc.JobName] = true
	}
	upJob := regexp.MustCompile(`\bup\{job="([^"]+)"\}`)
	var upRules int
	for _, e := range ruleExprs {
		for _, m := range upJob.FindAllStringSubmatch(e, -1) {
			upRules++
			if !jobs[m[1]] {
				t.Errorf("an alert rule reads up for the job %q, which deploy/compose/prometheus.yml does not scrape (jobs %v)", m[1], jobs)
			}
		}
	}
	if upRules == 0 {
		t.Errorf("no alert rule reads up{job=...}: a gateway that stops answering scrapes (crashed, or refusing to start) alerts nothing, its own metrics being gone")
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian package prometheus; .ci/run installs it): rules not checked")
	}
	for _, args := range [][]string{
		{"check", "rules", "beacongate.rules.yml"},
		{"test", "rules", "beacongate.rules.test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = filepath.Join(deployDir, "prometheus")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestDeploySystemdUnit: systemd-analyze verify accepts the unit (with the
// real binary in place of /usr/local/bin/beacongate) and says nothing: an
// unknown or misspelt key is only a warning to systemd, and fails here.
func TestDeploySystemdUnit(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(deployDir, "systemd", "beacongate.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NoNewPrivileges=yes", "ProtectSystem=strict", "DynamicUser=yes", "StateDirectory=beacongate",
		"CapabilityBoundingSet=\n", "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the unit's syntax is not checked")
	}
	bin, err := filepath.Abs(binPath)
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), "beacongate.service")
	if err := os.WriteFile(unit, bytes.ReplaceAll(raw, []byte("/usr/local/bin/beacongate"), []byte(bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestDeployCompose: the compose file names the services the README
// promises, every file it mounts exists, and the gateway's config passes
// the same checks as beacongate config check.
func TestDeployCompose(t *testing.T) {
	dir := filepath.Join(deployDir, "compose")
	raw, err := os.ReadFile(filepath.Join(dir, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Image   string   `yaml:"image"`
			Build   any      `yaml:"build"`
			Volumes []string `yaml:"volumes"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, s := range []string{"beacongate", "nats", "prometheus", "grafana"} {
		if _, ok := c.Services[s]; !ok {
			t.Errorf("no service %s", s)
		}
	}
	for name, s := range c.Services {
		if s.Image == "" && s.Build == nil {
			t.Errorf("service %s has neither image nor build", name)
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join(dir, src)); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("service %s mounts the undeclared volume %s", name, src)
			}
		}
	}
	if _, err := config.Load(filepath.Join(dir, "beacongate.yaml")); err != nil {
		t.Errorf("deploy/compose/beacongate.yaml: %v", err)
	}
	// Nor any note: a destination without tcf.vendor_id or
	// tcf.without_vendor would get no event where GDPR applies (gdpr=1 or
	// a TC string), and the gateway would warn of it at every start.
	var out, errOut bytes.Buffer
	if code := runConfig([]string{"check", filepath.Join(dir, "beacongate.yaml")}, &out, &errOut); code != 0 || errOut.Len() != 0 {
		t.Errorf("beacongate config check deploy/compose/beacongate.yaml: exit %d\n%s%s", code, out.String(), errOut.String())
	}
}

// TestDeploySystemdUnitSecrets: the unit says how a secret file reaches
// the gateway. It runs as a DynamicUser, whose uid is drawn at each start,
// so no file under /etc/beacongate can be its own; and the gateway
// refuses a secret file readable by every user (pseudonym.secret_file,
// server.admin_token_file, bearer_token_file, password_file,
// tls.key_file). A config with any of them (derived pseudonyms, as
// README's several instances need) could not start under the unit, which
// said nothing of it. systemd hands such files over with LoadCredential=,
// readable by the service alone, under $CREDENTIALS_DIRECTORY.
func TestDeploySystemdUnitSecrets(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(deployDir, "systemd", "beacongate.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"LoadCredential=", "/run/credentials/beacongate.service/", "secret_file"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("the unit does not say how a secret file reaches the dynamic user: it lacks %q", want)
		}
	}
	// The example, uncommented, is a unit systemd accepts.
	var lines []string
	for _, l := range strings.Split(string(raw), "\n") {
		if c, ok := strings.CutPrefix(l, "#LoadCredential="); ok {
			l = "LoadCredential=" + c
		}
		lines = append(lines, l)
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the example is not checked")
	}
	bin, err := filepath.Abs(binPath)
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), "beacongate.service")
	text := strings.ReplaceAll(strings.Join(lines, "\n"), "/usr/local/bin/beacongate", bin)
	if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", unit).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("systemd-analyze verify with the LoadCredential= example: %v\n%s", err, out)
	}
}
