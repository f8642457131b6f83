package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/audit"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestKeysForgetOfManyKeysKeepsTheAuditLogWritable: the key.destroy entry
// listed every key destroyed by name. With short periods (pseudonym.period
// may be 1m) a store collects tens of thousands of keys, and the first
// keys forget (or key_retention sweep) over them wrote one line of more
// than a MiB: the audit log reads lines up to 1 MiB, so audit verify said
// the log was broken there, and every later entry (reloads, suppressions,
// lookups) failed with "cannot read": the audit log was dead for good. The
// entry now names runs of consecutive periods as one range.
func TestKeysForgetOfManyKeysKeepsTheAuditLogWritable(t *testing.T) {
	pinClocks(t, clocktest.Golden)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-forget\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "sites:\n  - id: shop\npseudonym:\n  mode: derived\n  secret_file: "+secret+
		"\n  period: 1m\nprivacy:\n  key_store: true\n")
	cfg, err := officerConfig(cfgPath, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openKeyStore(cfg, clocktest.Golden, false); err != nil {
		t.Fatal(err)
	}
	// A month of one-minute periods before the golden day, and its days.
	const minutes = 45000
	end := clocktest.Golden.Add(-time.Hour).Unix() / 60
	for idx := end - minutes; idx < end; idx++ {
		if err := os.WriteFile(filepath.Join(keyStoreDir(cfg), fmt.Sprintf("pseudonym-60s-%d.key", idx)), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for day := end/1440 - 32; day < end/1440; day++ {
		os.WriteFile(filepath.Join(keyStoreDir(cfg), fmt.Sprintf("visitor-86400s-%d.key", day)), nil, 0o600)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"keys", "forget", "-config", cfgPath, "-data", data, "-before", clocktest.Golden.Add(-time.Hour).Format(time.RFC3339)}, nil, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), fmt.Sprintf("destroyed %d stored key(s)", minutes+32)) || errb.Len() > 0 {
		t.Fatalf("keys forget: exit %d\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"subject", "-config", cfgPath, "-data", data, "-site", "shop", "-id", "kim-4711", "-from", "2026-11-24T11:00:00Z", "-to", "2026-11-24T11:05:00Z"}, nil, &out, &errb); code != 0 ||
		strings.Contains(errb.String(), "cannot write the audit log") {
		t.Errorf("a lookup after keys forget: exit %d\n%s", code, errb.String())
	}
	path := filepath.Join(data, audit.FileName)
	if n, err := audit.VerifyFile(path); n != 2 || err != nil {
		t.Errorf("audit verify: %d entries, %v; want 2, intact", n, err)
	}
	raw, _ := os.ReadFile(path)
	first := fmt.Sprintf("pseudonym-60s-%d..%d.key", end-minutes, end-1)
	if !bytes.Contains(raw, []byte(first)) || !bytes.Contains(raw, []byte(fmt.Sprintf("visitor-86400s-%d..%d.key", end/1440-32, end/1440-1))) {
		t.Errorf("the key.destroy entry does not name the ranges destroyed (%s):\n%.2000s", first, raw)
	}
}
