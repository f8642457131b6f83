package main

import (
	"bytes"
	"errors"
	"github.com/beacongate/beacongate/clock/clocktest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fullDisk is a writer that takes limit bytes, then fails as a full disk
// does under "beacongate subject ... > answer.json".
type fullDisk struct {
	n, limit int
}

func (w *fullDisk) Write(p []byte) (int, error) {
	if w.n+len(p) > w.limit {
		k := w.limit - w.n
		w.n = w.limit
		return k, errors.New("no space left on device")
	}
	w.n += len(p)
	return len(p), nil
}

// TestSubjectFailsWhenItsAnswerCannotBeWritten: the lookup is the answer
// to an access or erasure request, usually redirected to a file; when it
// cannot be written (a full disk, a closed pipe) the command must fail,
// not exit 0 with a cut or empty answer that a script then sends on. The
// same for subject list. Before, every write error was ignored.
func TestSubjectFailsWhenItsAnswerCannotBeWritten(t *testing.T) {
	pinClocks(t, clocktest.Golden)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-output\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "pseudonym: {mode: derived, secret_file: "+secret+"}\n")
	lookup := []string{"subject", "-config", cfgPath, "-data", data, "-site", "shop", "-id", "user-4711", "-from", "2026-03-01", "-to", "2026-03-03"}
	if code := run([]string{"subject", "suppress", "-config", cfgPath, "-data", data, "-site", "shop", "-id", "user-4711"}, nil, &bytes.Buffer{}, &bytes.Buffer{}); code != 0 {
		t.Fatalf("suppress: exit %d", code)
	}
	for name, args := range map[string][]string{
		"lookup text": lookup,
		"lookup json": append(append([]string(nil), lookup...), "-format", "json"),
		"list":        {"subject", "list", "-config", cfgPath, "-data", data},
	} {
		var full bytes.Buffer
		if code := run(args, nil, &full, &bytes.Buffer{}); code != 0 {
			t.Fatalf("%s: exit %d with a working stdout", name, code)
		}
		for _, limit := range []int{0, full.Len() / 2, full.Len() - 1} {
			var errb bytes.Buffer
			code := run(args, nil, &fullDisk{limit: limit}, &errb)
			if code != 1 || !strings.Contains(errb.String(), "no space left on device") {
				t.Errorf("%s, stdout full after %d of %d bytes: exit %d, stderr %q; want 1 and the error", name, limit, full.Len(), code, errb.String())
			}
		}
	}
}
