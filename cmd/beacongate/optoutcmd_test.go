package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOptOutCommand: add, list and remove through the command; the file
// and the listing hold hashes only; a missing key is created 0600; bad use
// exits 2.
func TestOptOutCommand(t *testing.T) {
	dir := t.TempDir()
	list, key := filepath.Join(dir, "optout.txt"), filepath.Join(dir, "optout.key")
	cfg := writeE2EConfig(t, dir, "c.yaml", "ble: {optout_file: "+list+", optout_key_file: "+key+"}\n")
	runCmd := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(append([]string{"optout", "-config", cfg}, args...), nil, &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := runCmd("add", "A4:5E:60:C1:0D:2F", "6D92078A-8246-4BA4-AE5B-76104861E7DC"); code != 0 || !strings.Contains(out, "added 2 of 2") {
		t.Fatalf("add: %d %s", code, out)
	}
	if code, out := runCmd("add", "a45e.60c1.0d2f"); code != 0 || !strings.Contains(out, "added 0 of 1") {
		t.Fatalf("add again in another notation: %d %s", code, out)
	}
	fi, err := os.Stat(key)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("key file: %v %v", err, fi)
	}
	data, _ := os.ReadFile(list)
	code, out := runCmd("list")
	for _, clear := range []string{"a4:5e", "A4:5E", "6d92078a", "6D92078A"} {
		if strings.Contains(string(data), clear) || strings.Contains(out, clear) {
			t.Fatalf("an id in clear:\n%s\n%s", data, out)
		}
	}
	if code != 0 || !strings.Contains(out, "# 2 device(s)") {
		t.Fatalf("list: %d %s", code, out)
	}
	if code, out := runCmd("remove", "a4-5e-60-c1-0d-2f"); code != 0 || !strings.Contains(out, "removed 1 of 1") || !strings.Contains(out, "holds 1") {
		t.Fatalf("remove: %d %s", code, out)
	}
	for _, bad := range [][]string{{}, {"add"}, {"list", "x"}, {"drop", "x"}} {
		if code, _ := runCmd(bad...); code != 2 {
			t.Errorf("%v: exit %d; want 2", bad, code)
		}
	}
}

// TestE2EOptOutReload: a device added to the opt-out list of a running
// gateway is dropped after a reload, and counted.
func TestE2EOptOutReload(t *testing.T) {
	dir := t.TempDir()
	list, key := filepath.Join(dir, "optout.txt"), filepath.Join(dir, "optout.key")
	out := filepath.Join(dir, "out")
	cfg := writeE2EConfig(t, dir, "c.yaml", "ble: {optout_file: "+list+", optout_key_file: "+key+"}\n"+
		"destinations:\n  - {name: local, type: file, batch: {max_age: 100ms}, file: {dir: "+out+"}}\n")
	if code := run([]string{"optout", "-config", cfg, "add", "00:00:00:00:00:01"}, nil, io.Discard, io.Discard); code != 0 {
		t.Fatalf("optout add: %d", code)
	}
	p := startGateway(t, filepath.Join(dir, "data"), cfg)
	post := func(mac string) {
		body := `{"site":"shop","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"mac":"` + mac + `"}]}`
		resp, err := http.Post(p.url("/ble"), "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 {
			t.Fatalf("POST: %d", resp.StatusCode)
		}
	}
	post("00-00-00-00-00-01")
	post("00:00:00:00:00:02")
	if v := metricValue(t, p, "beacongate_ble_optout_suppressed_total"); v != 1 {
		t.Fatalf("suppressed %v; want 1", v)
	}
	if v := metricValue(t, p, "beacongate_gateway_events_total{endpoint=\"ble\"}"); v != 1 {
		t.Fatalf("events %v; want 1", v)
	}
	if code := run([]string{"optout", "-config", cfg, "add", "000000000002"}, nil, io.Discard, io.Discard); code != 0 {
		t.Fatalf("optout add: %d", code)
	}
	req, _ := http.NewRequest("POST", "http://"+p.admin+"/-/reload", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("reload: %d\n%s", resp.StatusCode, p.logText())
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		post("00:00:00:00:00:02")
		if metricValue(t, p, "beacongate_ble_optout_suppressed_total") >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v := metricValue(t, p, "beacongate_ble_optout_suppressed_total"); v != 2 {
		t.Fatalf("after reload: suppressed %v; want 2", v)
	}
	if code := p.stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}
