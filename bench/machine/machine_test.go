package machine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCPUModel(t *testing.T) {
	dir := t.TempDir()
	f := func(content, want string) {
		t.Helper()
		p := filepath.Join(dir, "cpuinfo")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := cpuModel(p); got != want {
			t.Fatalf("cpuModel = %q; want %q", got, want)
		}
	}
	f("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n", "AMD EPYC 7B13")
	f("processor\t: 0\n", "unknown")
	f("model name\t:\n", "unknown")
	if got := cpuModel(filepath.Join(dir, "absent")); got != "unknown" {
		t.Fatalf("absent file: %q", got)
	}
	i := Describe()
	if i.Cores < 1 || !strings.HasPrefix(i.Go, "go") || !strings.Contains(i.String(), "logical CPUs") {
		t.Fatalf("Describe = %+v", i)
	}
}
