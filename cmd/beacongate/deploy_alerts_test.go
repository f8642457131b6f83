package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestDeployAlertSpoolDroppingShedPixels: with spool.when_full: block and
// pixel_when_full: shed, the spool blocks and the gateway sheds pixel
// events itself while the spool is full. Those events are lost (the pixel
// answered its GIF) and never reach the spool, so
// beacongate_upstream_dropped_records_total does not count them. The real
// binary fills its spool behind a destination that is down, pixel hits
// are shed, and the counters it exports are fed to promtool with the
// shipped rules: BeacongateSpoolDropping must fire. It read the spool's
// counter alone, and stayed silent while every pixel event was lost.
func TestDeployAlertSpoolDroppingShedPixels(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian package prometheus): the rules are not evaluated")
	}
	rules, err := filepath.Abs(filepath.Join(deployDir, "prometheus", "beacongate.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := writeE2EConfig(t, dir, "shed.yaml", `sites: [{id: shop.example}]
properties: {allow: [pad]}
spool: {max_bytes: 16MiB, segment_bytes: 4MiB, when_full: block, pixel_when_full: shed, block_timeout: 10ms}
destinations:
  - name: down
    type: http
    tcf: {without_vendor: true}
    http: {url: "http://127.0.0.1:1/events"}
`)
	p := startGatewayAt(t, clocktest.Golden, filepath.Join(dir, "data"), cfg)
	defer p.stop()

	// Fill the spool: the destination never answers, so nothing leaves it.
	pad := strings.Repeat("x", 1000)
	var body bytes.Buffer
	body.WriteByte('[')
	for i := range 40 {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"site":"shop.example","event":"fill","consent":"analytics","props":{"pad":"%s"}}`, pad)
	}
	body.WriteByte(']')
	for i := 0; ; i++ {
		if st, _ := httpGet(t, "http://"+p.admin+"/readyz"); st == http.StatusServiceUnavailable {
			break
		}
		if i > 2000 {
			t.Fatal("the spool never filled")
		}
		resp, err := http.Post(p.url("/b"), "application/json", bytes.NewReader(body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	const shedName = `beacongate_anonymize_dropped_total{reason="spool"}`
	const spoolName = `beacongate_upstream_dropped_records_total{reason="full"}`
	shed0, spool0 := metricValue(t, p, shedName), metricValue(t, p, spoolName)
	const pixels = 20
	for range pixels {
		getPixel(t, p.url("/p.gif?site=shop.example&e=page_view&consent=analytics"))
	}
	shed1, spool1 := metricValue(t, p, shedName), metricValue(t, p, spoolName)
	if shed1-shed0 != pixels || spool1 != spool0 {
		t.Fatalf("%d pixel hits into the full spool: %s %v → %v, %s %v → %v; want the first to count each, the second none (the gateway sheds them)",
			pixels, shedName, shed0, shed1, spoolName, spool0, spool1)
	}

	// The scraped values, a minute apart, as Prometheus would store them.
	test := fmt.Sprintf(`rule_files: [%q]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'beacongate_anonymize_dropped_total{instance="gw",reason="spool"}'
        values: '%v %vx8'
      - series: 'beacongate_upstream_dropped_records_total{instance="gw",reason="full"}'
        values: '%v %vx8'
    promql_expr_test:
      - expr: count by (instance) (ALERTS{alertname="BeacongateSpoolDropping",alertstate="firing"})
        eval_time: 2m
        exp_samples:
          - labels: '{instance="gw"}'
            value: 1
`, rules, shed0, shed1, spool0, spool1)
	path := filepath.Join(dir, "shed.test.yml")
	if err := os.WriteFile(path, []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("pixel events shed and lost, and BeacongateSpoolDropping does not fire: %v\n%s", err, out)
	}
}

// runAlertTest writes a promtool rule test (text, with %[1]q standing for
// the shipped rules' path) into dir and runs it; failing says why.
func runAlertTest(t *testing.T, dir, name, text, failing string) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian package prometheus): the rules are not evaluated")
	}
	rules, err := filepath.Abs(filepath.Join(deployDir, "prometheus", "beacongate.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(fmt.Sprintf(text, rules)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("%s: %v\n%s", failing, err, out)
	}
}

// TestDeployAlertPseudonymKeysUnavailable: a key store whose destruction
// watermark lies past the clock gives out no key for the current period,
// and the real binary writes events without pseudonyms and visitor hashes,
// setting beacongate_pseudonym_keys_unavailable to 1. No shipped rule
// read it: every event lost its pseudonyms and no alert fired. Its value
// on /metrics, held for 10 minutes, must fire
// BeacongatePseudonymKeysUnavailable.
func TestDeployAlertPseudonymKeysUnavailable(t *testing.T) {
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Skip("promtool is not installed (Debian package prometheus): the rules are not evaluated")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secretPath := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretPath, []byte("0123456789abcdef0123456789abcdef-deploy\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret, err := pseudonym.LoadSecretFile(secretPath)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := pseudonym.OpenKeyStore(filepath.Join(data, "keys"), secret, clocktest.Golden, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Forget(clocktest.Golden.Add(72 * time.Hour).Truncate(24 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	cfg := writeE2EConfig(t, dir, "keys.yaml", "pseudonym: {mode: derived, secret_file: "+secretPath+"}\nprivacy: {key_store: true}\n")
	p := startGatewayAt(t, clocktest.Golden, data, cfg)
	defer p.stop()
	v := metricValue(t, p, "beacongate_pseudonym_keys_unavailable")
	if v != 1 {
		t.Fatalf("beacongate_pseudonym_keys_unavailable = %v with the current period's keys destroyed, want 1", v)
	}
	runAlertTest(t, dir, "keys.test.yml", `rule_files: [%[1]q]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'beacongate_pseudonym_keys_unavailable{instance="gw"}'
        values: '`+fmt.Sprint(v)+`x10'
    promql_expr_test:
      - expr: count by (instance) (ALERTS{alertname="BeacongatePseudonymKeysUnavailable",alertstate="firing"})
        eval_time: 10m
        exp_samples:
          - labels: '{instance="gw"}'
            value: 1
`, "events written without pseudonyms, and BeacongatePseudonymKeysUnavailable does not fire")
}
