package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/audit"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestSubjectLookupIsAuditedBeforeTheDataDirExists: in derived mode a
// lookup needs nothing from the data directory, so on a host where no
// gateway had run yet (or with -data naming a directory still to be made)
// the lookup printed the subject's pseudonyms and contact hashes, and its
// audit entry failed ("warning: cannot write the audit log: ... no such
// file or directory"): subject lookups went unrecorded, while the README
// says every one is recorded. The officer's commands now make the data
// directory for the audit log, as suppress does for its list.
func TestSubjectLookupIsAuditedBeforeTheDataDirExists(t *testing.T) {
	pinClocks(t, clocktest.Golden)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-lookup\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeE2EConfig(t, dir, "c.yaml", "sites:\n  - id: shop\npseudonym:\n  mode: derived\n  secret_file: "+secret+"\n")
	for _, args := range [][]string{
		{"-site", "shop", "-id", "kim-4711", "-from", "2026-11-23", "-to", "2026-11-25"},
		{"-kind", "email", "-id", "kim@example.com"},
	} {
		var out, errb bytes.Buffer
		code := run(append([]string{"subject", "-config", cfg, "-data", data}, args...), nil, &out, &errb)
		if code != 0 || strings.Contains(errb.String(), "cannot write the audit log") {
			t.Errorf("subject %v: exit %d\n%s%s", args, code, out.String(), errb.String())
		}
	}
	raw, err := os.ReadFile(filepath.Join(data, audit.FileName))
	if err != nil {
		t.Fatalf("no audit log after two lookups: %v", err)
	}
	if n := bytes.Count(raw, []byte(`"action":"subject.lookup"`)); n != 2 {
		t.Errorf("%d subject.lookup entries, want 2:\n%s", n, raw)
	}
	if bytes.Contains(raw, []byte("kim")) {
		t.Errorf("the audit log names the subject:\n%s", raw)
	}
	if n, err := audit.VerifyFile(filepath.Join(data, audit.FileName)); n != 2 || err != nil {
		t.Errorf("audit verify: %d entries, %v", n, err)
	}
}
