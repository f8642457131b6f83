package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beacongate/beacongate/audit"
)

// TestGatewayMakesNextKeyAhead: a running gateway with a key store makes
// the next day's keys before the day begins (its key-store watcher calls
// Rotate near the end of a period), and the audit log records their
// creation, so that no request of the new day waits for a key or its audit
// line. The clock is pinned; only the watcher's 2 s tick is waited for.
func TestGatewayMakesNextKeyAhead(t *testing.T) {
	day1 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	clk := pinClocks(t, day1)

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-ahead\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "pseudonym: {mode: derived, secret_file: "+secret+"}\nprivacy: {key_store: true}\n")
	g := startStoryGateway(t, cfgPath, data)
	defer g.stop(t)

	day2 := time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)
	next := filepath.Join(data, "keys", "pseudonym-86400s-"+itoa(int(day2.Unix()/86400))+".key")
	if _, err := os.Stat(next); err == nil {
		t.Fatal("the next day's key exists at noon: the test cannot tell ahead from early")
	}
	clk.Set(day2.Add(-time.Minute)) // 23:59, within the lead
	// The key file appears before its audit line, which the store's own
	// goroutine writes: wait for both.
	want := []byte(`"key":"` + filepath.Base(next) + `"`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := os.Stat(next)
		raw, _ := os.ReadFile(filepath.Join(data, audit.FileName))
		if err == nil && bytes.Contains(raw, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not made ahead of its day, or not audited, within 20 s of real time (file: %v); audit log:\n%s", filepath.Base(next), err, raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
