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

// TestSubjectListIsAudited: subject list prints the suppression list, the
// keyed hashes of everyone who objected, as a lookup prints a subject's
// pseudonyms, but it alone of the officer's reading commands left no entry
// in the audit log. It is recorded now (suppression.list, with how many
// hashes it showed), also as the deprecated optout list, and fails closed
// as a lookup does when the entry cannot be written.
func TestSubjectListIsAudited(t *testing.T) {
	pinClocks(t, clocktest.Golden)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-list\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "sites:\n  - id: shop\npseudonym:\n  mode: derived\n  secret_file: "+secret+"\n")
	if code, out := cli(t, "subject", "suppress", "-config", cfgPath, "-data", data, "-site", "shop", "-id", "kim-4711"); code != 0 {
		t.Fatalf("suppress: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"subject", "list", "-config", cfgPath, "-data", data},
		{"optout", "-config", cfgPath, "-data", data, "list"},
	} {
		if code, out := cli(t, args...); code != 0 || !strings.Contains(out, "# 1 subject(s) and device(s)") {
			t.Fatalf("%v: exit %d\n%s", args, code, out)
		}
	}
	logPath := filepath.Join(data, audit.FileName)
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(raw, []byte(`"action":"suppression.list","fields":{"hashes":"1","source":"cli"}`)); n != 2 {
		t.Errorf("%d suppression.list entries, want 2:\n%s", n, raw)
	}
	if n, err := audit.VerifyFile(logPath); n != 3 || err != nil {
		t.Errorf("audit verify: %d entries, %v; want 3, intact", n, err)
	}
	// Fail closed: the log's path a directory, which root cannot append to.
	if err := os.Rename(logPath, logPath+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(logPath, 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"subject", "list", "-config", cfgPath, "-data", data}, nil, &out, &errb); code != 1 || out.Len() > 0 || !strings.Contains(errb.String(), logPath) {
		t.Errorf("list with an unwritable audit log: exit %d, want 1, nothing printed and the log named\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
}
