package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/audit"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestOfficerCommandsFailClosedWhenTheAuditLogCannotBeWritten: the audit
// log is the officer's proof of who looked up or changed what. A lookup
// whose audit line could not be written printed a warning and then the
// subject's pseudonyms, visitor hashes or contact hashes all the same, and
// exited 0; suppress, unsuppress and keys forget did likewise: nothing
// showed that the log missed them. Now each prints nothing of its answer,
// says on stderr which audit log to fix, and exits 1. The log's path is
// made a directory, which no one (root neither) can append to.
func TestOfficerCommandsFailClosedWhenTheAuditLogCannotBeWritten(t *testing.T) {
	pinClocks(t, clocktest.Golden)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-failclosed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "sites:\n  - id: shop\npseudonym:\n  mode: derived\n  secret_file: "+secret+"\nprivacy:\n  key_store: true\n")
	cfg, err := officerConfig(cfgPath, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openKeyStore(cfg, clocktest.Golden, false); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(data, audit.FileName)
	if err := os.MkdirAll(logPath, 0o755); err != nil {
		t.Fatal(err)
	}
	const id = "kim-4711"
	base := []string{"-config", cfgPath, "-data", data}
	for name, args := range map[string][]string{
		"lookup text":   append([]string{"subject"}, append(base, "-site", "shop", "-id", id, "-from", "2026-11-23", "-to", "2026-11-25")...),
		"lookup json":   append([]string{"subject"}, append(base, "-site", "shop", "-id", id, "-from", "2026-11-23", "-to", "2026-11-25", "-format", "json")...),
		"lookup mac":    append([]string{"subject"}, append(base, "-site", "shop", "-kind", "mac", "-id", "00:1a:2b:3c:4d:5e", "-from", "2026-11-23", "-to", "2026-11-25")...),
		"lookup email":  append([]string{"subject"}, append(base, "-kind", "email", "-id", "kim@example.com")...),
		"suppress":      append([]string{"subject", "suppress"}, append(base, "-site", "shop", "-id", id)...),
		"suppress mac":  append([]string{"subject", "suppress"}, append(base, "-kind", "mac", "-id", "00:1a:2b:3c:4d:5f")...),
		"optout add":    append([]string{"optout"}, append(base, "add", "00:1a:2b:3c:4d:60")...),
		"keys forget":   append([]string{"keys", "forget"}, append(base, "-before", clocktest.Golden.Add(-24*time.Hour).Format(time.RFC3339))...),
		"unsuppress id": append([]string{"subject", "unsuppress"}, append(base, "-site", "shop", "-id", "never-suppressed")...),
	} {
		var out, errb bytes.Buffer
		code := run(args, nil, &out, &errb)
		if name == "unsuppress id" {
			// Nothing changed, so nothing is recorded: it is answered.
			if code != 0 {
				t.Errorf("%s: exit %d\n%s", name, code, errb.String())
			}
			continue
		}
		if code != 1 {
			t.Errorf("%s: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", name, code, out.String(), errb.String())
		}
		if out.Len() > 0 {
			t.Errorf("%s: printed its answer though the audit log could not record it:\n%s", name, out.String())
		}
		if !strings.Contains(errb.String(), logPath) {
			t.Errorf("%s: stderr does not name the audit log %s to fix:\n%s", name, logPath, errb.String())
		}
		if strings.Contains(errb.String(), "kim") || strings.Contains(errb.String(), "1a:2b") {
			t.Errorf("%s: stderr names the subject:\n%s", name, errb.String())
		}
	}
}
