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

	"github.com/beacongate/beacongate/internal/atomicfile"
	"github.com/beacongate/beacongate/retail"
)

// TestOptOutCommand: the deprecated spelling prints a one-line notice and
// does what subject suppress|unsuppress|list -kind mac|adid do: add puts
// store devices on the suppression list (hashes only, one entry whichever
// MAC notation), list and remove work, and bad use still exits 2.
func TestOptOutCommand(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := writeE2EConfig(t, dir, "c.yaml", "")
	runCmd := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(append([]string{"optout", "-config", cfg, "-data", data}, args...), nil, &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, errs := runCmd("add", "A4:5E:60:C1:0D:2F", "6D92078A-8246-4BA4-AE5B-76104861E7DC")
	if code != 0 || !strings.Contains(out, "added 2 of 2") {
		t.Fatalf("add: %d %s %s", code, out, errs)
	}
	if errs != optOutNotice || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "subject suppress") {
		t.Errorf("the deprecated spelling printed %q, want the one-line notice", errs)
	}
	if code, out, _ := runCmd("add", "a45e.60c1.0d2f"); code != 0 || !strings.Contains(out, "added 0 of 1") {
		t.Fatalf("add again in another notation: %d %s", code, out)
	}
	stored, err := os.ReadFile(filepath.Join(data, "suppressed.txt"))
	if err != nil {
		t.Fatalf("the devices are not on the suppression list: %v", err)
	}
	code, out, _ = runCmd("list")
	for _, clear := range []string{"a4:5e", "A4:5E", "6d92078a", "6D92078A"} {
		if strings.Contains(string(stored), clear) || strings.Contains(out, clear) {
			t.Fatalf("an id in clear:\n%s\n%s", stored, out)
		}
	}
	if code != 0 || !strings.Contains(out, "# 2 subject(s) and device(s)") {
		t.Fatalf("list: %d %s", code, out)
	}
	if code, out, _ := runCmd("remove", "a4-5e-60-c1-0d-2f"); code != 0 || !strings.Contains(out, "removed 1 of 1") {
		t.Fatalf("remove: %d %s", code, out)
	}
	if code, out, _ := runCmd("list"); code != 0 || !strings.Contains(out, "# 1 subject(s) and device(s)") {
		t.Fatalf("list after remove: %d %s", code, out)
	}
	for _, bad := range [][]string{{}, {"add"}, {"list", "x"}, {"drop", "x"}} {
		if code, _, _ := runCmd(bad...); code != 2 {
			t.Errorf("%v: exit %d; want 2", bad, code)
		}
	}
	var errb bytes.Buffer
	if code := run([]string{"subject", "suppress", "-config", cfg, "-data", data, "-kind", "mac", "-id", "not-a-mac"}, nil, io.Discard, &errb); code != 2 ||
		!strings.Contains(errb.String(), "-id is not a MAC address") {
		t.Errorf("subject suppress -kind mac with no MAC: exit %d %s", code, errb.String())
	}
}

// TestE2EDeviceSuppression: one gateway honours both lists. A device on the
// older opt-out list (ble.optout_file, as "beacongate optout add" wrote it
// before) is still dropped; one put on the suppression list with
// "subject suppress -kind mac" while the gateway runs is dropped within
// seconds, without a reload; "subject unsuppress" takes a device off the
// older list too, applied on reload; other devices pass.
func TestE2EDeviceSuppression(t *testing.T) {
	dir := t.TempDir()
	list, key := filepath.Join(dir, "optout.txt"), filepath.Join(dir, "optout.key")
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "out")
	cfg := writeE2EConfig(t, dir, "c.yaml", "ble: {optout_file: "+list+", optout_key_file: "+key+"}\n"+
		"destinations:\n  - {name: local, type: file, batch: {max_age: 100ms}, file: {dir: "+out+"}}\n")
	// The older list, in its own format and key, as before this change.
	writeOlderOptOutList(t, list, key, "00:00:00:00:00:01")
	cli := func(args ...string) {
		t.Helper()
		var errb bytes.Buffer
		if code := run(append(args, "-config", cfg, "-data", data), nil, io.Discard, &errb); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, errb.String())
		}
	}
	p := startGateway(t, data, cfg)
	post := func(mac string) {
		t.Helper()
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
	const legacyMetric, listMetric = "beacongate_ble_optout_suppressed_total", "beacongate_anonymize_suppressed_events_total"
	post("00-00-00-00-00-01")
	post("00:00:00:00:00:02")
	if v := metricValue(t, p, legacyMetric); v != 1 {
		t.Fatalf("older list: suppressed %v; want 1", v)
	}
	if v := metricValue(t, p, "beacongate_gateway_events_total{endpoint=\"ble\"}"); v != 1 {
		t.Fatalf("events %v; want 1", v)
	}

	cli("subject", "suppress", "-kind", "mac", "-id", "000000000002")
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(t, p, listMetric) < 1 && time.Now().Before(deadline) {
		post("00:00:00:00:00:02")
		time.Sleep(100 * time.Millisecond)
	}
	if v := metricValue(t, p, listMetric); v < 1 {
		t.Fatalf("device suppressed with subject suppress -kind mac still passes after 10 s (suppressed %v)", v)
	}
	before := metricValue(t, p, "beacongate_gateway_events_total{endpoint=\"ble\"}")
	post("00:00:00:00:00:03")
	if v := metricValue(t, p, "beacongate_gateway_events_total{endpoint=\"ble\"}"); v != before+1 {
		t.Fatalf("an unlisted device was dropped: events %v, want %v", v, before+1)
	}

	cli("subject", "unsuppress", "-kind", "mac", "-id", "00:00:00:00:00:01")
	if b, _ := os.ReadFile(list); strings.Count(string(b), "\n") != 1 { // the header line only
		t.Fatalf("unsuppress left the device on the older list:\n%s", b)
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
	legacy := metricValue(t, p, legacyMetric)
	deadline = time.Now().Add(10 * time.Second)
	for {
		before = metricValue(t, p, "beacongate_gateway_events_total{endpoint=\"ble\"}")
		post("00:00:00:00:00:01")
		if metricValue(t, p, "beacongate_gateway_events_total{endpoint=\"ble\"}") == before+1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v := metricValue(t, p, "beacongate_gateway_events_total{endpoint=\"ble\"}"); v != before+1 {
		t.Fatalf("the unsuppressed device is still dropped after reload (older-list drops %v)", legacy)
	}
	if code := p.stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestOptOutKeyIsText: a created opt-out key is text without surrounding
// white space, so the config check (which trims) sees all of it; raw random
// bytes were refused about once in twenty.
func TestOptOutKeyIsText(t *testing.T) {
	for i := range 200 {
		path := filepath.Join(t.TempDir(), "k")
		k, err := optOutKey(path, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(k)) != len(k) || len(k) < 32 {
			t.Fatalf("key %d: %d bytes, %d after trimming", i, len(k), len(bytes.TrimSpace(k)))
		}
	}
}

// TestUnsuppressFromTheOlderListSaysReload: a running gateway re-reads the
// older opt-out list (ble.optout_file) only on reload or restart, so
// "subject unsuppress -kind mac" of a device on it must not tell the
// officer the change applies within seconds: the device stays dropped
// until the reload. Before, it said "a running gateway applies it within
// seconds" and nothing about a reload.
func TestUnsuppressFromTheOlderListSaysReload(t *testing.T) {
	dir := t.TempDir()
	list, key := filepath.Join(dir, "optout.txt"), filepath.Join(dir, "optout.key")
	cfg := writeE2EConfig(t, dir, "c.yaml", "ble: {optout_file: "+list+", optout_key_file: "+key+"}\n")
	writeOlderOptOutList(t, list, key, "00:00:00:00:00:01")
	var out, errb bytes.Buffer
	if code := run([]string{"subject", "unsuppress", "-config", cfg, "-data", filepath.Join(dir, "data"), "-kind", "mac", "-id", "00:00:00:00:00:01"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	if !strings.Contains(out.String(), "ble.optout_file") || !strings.Contains(out.String(), "reload") {
		t.Errorf("unsuppress of a device on the older list does not say that list applies on reload:\n%s", out.String())
	}
	// A device on the suppression list only: no word of the older list.
	out.Reset()
	for _, verb := range []string{"suppress", "unsuppress"} {
		out.Reset()
		if code := run([]string{"subject", verb, "-config", cfg, "-data", filepath.Join(dir, "data"), "-kind", "mac", "-id", "00:00:00:00:00:02"}, nil, &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d\n%s", verb, code, errb.String())
		}
		if strings.Contains(out.String(), "reload") {
			t.Errorf("%s of a device on the suppression list only speaks of a reload:\n%s", verb, out.String())
		}
	}
}

// TestSuppressAsTypedWarnsOfDeviceForms: without -kind, subject suppress
// takes the id exactly as typed, while the BLE endpoint normalises a
// device id before the list is checked (a MAC to aa:bb:cc:dd:ee:ff, an
// advertising id lower-cased). A store device's MAC typed as the sensor
// sent it, AA-BB-CC-DD-EE-FF, was put on the list in a form no sighting
// carries, and the officer was told "now suppressed" with no word of
// -kind mac. It now says so, as the lookup does; an id that is the same
// as a device (a user id) gets no such note.
func TestSuppressAsTypedWarnsOfDeviceForms(t *testing.T) {
	dir := t.TempDir()
	cfg := writeE2EConfig(t, dir, "c.yaml", "consent: {default: [analytics]}\n")
	suppress := func(id string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run([]string{"subject", "suppress", "-config", cfg, "-data", filepath.Join(dir, "data"), "-site", "shop", "-id", id}, nil, &out, &errb); code != 0 {
			t.Fatalf("exit %d\n%s", code, errb.String())
		}
		return out.String()
	}
	for _, id := range []string{"AA-BB-CC-DD-EE-FF", "aabb.ccdd.eeff", "Kim-Alice"} {
		if out := suppress(id); !strings.Contains(out, "-kind mac") || !strings.Contains(out, "-kind adid") {
			t.Errorf("suppress %q: no note that a store device needs -kind mac or adid:\n%s", id, out)
		}
	}
	if out := suppress("user-4711"); strings.Contains(out, "-kind") {
		t.Errorf("suppress of a lower-case user id speaks of device kinds:\n%s", out)
	}
}

// writeOlderOptOutList writes the older opt-out list (ble.optout_file) at
// list, with a new key at key, holding devices, as "beacongate optout add"
// wrote it before the suppression list replaced it.
func writeOlderOptOutList(t *testing.T, list, key string, devices ...string) {
	t.Helper()
	k, err := optOutKey(key, true)
	if err != nil {
		t.Fatal(err)
	}
	old, err := retail.NewOptOut(k)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devices {
		old.Add([]byte(d))
	}
	if err := atomicfile.Write(list, old.AppendFile(nil), 0o600); err != nil {
		t.Fatal(err)
	}
}
