package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWrite: the content is replaced whole, with the mode asked for (also
// over a leftover temporary file of another mode), and no temporary file
// stays behind; a failed write leaves the old content and no temporary file.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "list")
	if err := os.WriteFile(p+".tmp", []byte("leftover of a crash"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, content := range []string{"one\n", "two, longer\n", ""} {
		if err := Write(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != content {
			t.Fatalf("content %q, %v; want %q", b, err, content)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v; want 0600", fi.Mode().Perm())
		}
		if _, err := os.Stat(p + ".tmp"); !os.IsNotExist(err) {
			t.Errorf("temporary file left: %v", err)
		}
	}
	// A directory in the way of the rename: the old content stays.
	if err := Write(filepath.Join(dir, "nosuch", "list"), []byte("x"), 0o600); err == nil {
		t.Error("write into a missing directory succeeded")
	}
	if b, _ := os.ReadFile(p); len(b) != 0 {
		t.Errorf("content %q after the failed write elsewhere", b)
	}
}
