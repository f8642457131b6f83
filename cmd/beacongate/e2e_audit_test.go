package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/beacongate/beacongate/audit"
)

// TestE2EAuditAndRetention runs the binary with an admin token, a
// retention limit on the file destination, on dead letters and on the
// spools' quarantine folders: the start sweep deletes an output file, a
// dead letter and quarantined files (in the spool and the BLE spool) dated
// 2001 and keeps those dated 2101; a reload over HTTP, one by SIGHUP and a refused one
// are logged with their source, the HTTP one with the token's hash (never
// the token); audit verify accepts the log and names the line that was
// edited afterwards.
func TestE2EAuditAndRetention(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	const token = "audit-admin-token-0123456789abcdef"
	tokenPath := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenPath, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgText := "server:\n  admin_token_file: " + tokenPath + "\nprivacy:\n  retention:\n    local: 395d\n  dead_letter_retention: 30d\n  quarantine_retention: 30d\n"
	cfgPath := writeE2EConfig(t, dir, "c.yaml", cfgText)
	put := func(rel string, when time.Time) string {
		p := filepath.Join(data, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
		return p
	}
	past, future := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2101, 1, 1, 0, 0, 0, 0, time.UTC)
	oldOut := put("out/local/events-20010101T000000Z-000001.ndjson.zst", past)
	newOut := put("out/local/events-21010101T000000Z-000001.ndjson.zst", future)
	oldDL := put("deadletter/local/20010101T000000.000Z-00000000000000000001.ndjson", past)
	oldQ := put("spool/quarantine/00000000000000000001.seg", past)
	oldBLEQ := put("ble-spool/quarantine/00000000000000000001.seg.tail-4096", past)
	newQ := put("spool/quarantine/00000000000000000002.seg", future)

	p := startGateway(t, data, cfgPath)
	if st := postAdmin(t, "http://"+p.admin+"/-/reload", token); st != 200 {
		t.Fatalf("POST /-/reload: %d", st)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(t, p, "beacongate_config_reloads_total") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP reload not seen\n%s", p.logText())
		}
		time.Sleep(5 * time.Millisecond)
	}
	os.WriteFile(cfgPath, []byte(strings.Replace(cfgText, "privacy:", "privacyy:", 1)), 0o644)
	if st := postAdmin(t, "http://"+p.admin+"/-/reload", token); st != 400 {
		t.Fatalf("POST /-/reload of a bad config: %d", st)
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.logText())
	}
	for _, f := range []string{oldOut, oldDL, oldQ, oldBLEQ} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s outlived its retention", f)
		}
	}
	for _, f := range []string{newOut, newQ} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("a file within its retention was deleted: %v", err)
		}
	}
	if !strings.Contains(p.logText(), "retention: deleted expired files") {
		t.Errorf("no retention log line\n%s", p.logText())
	}

	logPath := filepath.Join(data, audit.FileName)
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(token)) {
		t.Fatal("the audit log holds the admin token")
	}
	var actions []string
	var httpReload map[string]string
	for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		var e audit.Entry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		actions = append(actions, e.Action+"/"+e.Fields["source"]+e.Fields["rule"])
		if e.Action == "config.reload" && e.Fields["source"] == "http" {
			httpReload = e.Fields
		}
	}
	want := "config.load/start retention.delete/local retention.delete/deadletter retention.delete/quarantine retention.delete/ble-quarantine config.reload/http config.reload/signal config.reload_refused/http"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("audit actions:\n got %s\nwant %s", got, want)
	}
	if httpReload["token"] != audit.TokenHash([]byte(token)) || !strings.HasPrefix(httpReload["peer"], "127.0.0.1:") || httpReload["policy"] == "" {
		t.Errorf("HTTP reload entry = %v", httpReload)
	}

	out, err := exec.Command(binPath, "audit", "verify", "-data", data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "8 entries, chain intact") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	tampered := bytes.Replace(raw, []byte(`"source":"signal"`), []byte(`"source":"start!"`), 1)
	if err := os.WriteFile(logPath, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(binPath, "audit", "verify", "-data", data).CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "line 7 (seq 7)") || !strings.Contains(string(out), "the 6 entries before it are intact") {
		t.Fatalf("audit verify of a tampered log: exit %d\n%s", code, out)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
