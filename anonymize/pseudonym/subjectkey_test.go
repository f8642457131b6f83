package pseudonym

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSubjectKeyFileMode: the subject key file is made 0600 and read back;
// one that every user may read or write is refused, naming the path and
// the chmod, never the key: whoever reads it can test identifiers against
// the suppression list, whoever replaces it unnames every suppressed
// subject.
func TestSubjectKeyFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "subject.key")
	k1, err := LoadOrCreateSubjectKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("created with mode %v (%v); want 0600", fi.Mode().Perm(), err)
	}
	k2, err := LoadOrCreateSubjectKeyFile(path)
	if err != nil || k1.Sum([]byte("s"), []byte("id")) != k2.Sum([]byte("s"), []byte("id")) {
		t.Fatalf("read back: %v, or another key", err)
	}
	key, _ := os.ReadFile(path)
	for _, mode := range []os.FileMode{0o644, 0o602} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadOrCreateSubjectKeyFile(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "chmod 600") ||
			strings.Contains(err.Error(), strings.TrimSpace(string(key))) {
			t.Errorf("mode %04o: %v; want a refusal naming the file and the chmod, not the key", mode, err)
		}
	}
}

// TestLoadSubjectKeyFileCreatesNothing: the read-only loader config check
// uses makes no file, says so with os.ErrNotExist, and reads a key the
// creating loader wrote as that loader does.
func TestLoadSubjectKeyFileCreatesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "subject.key")
	if _, err := LoadSubjectKeyFile(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("absent: %v; want os.ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadSubjectKeyFile made the file (stat: %v)", err)
	}
	made, err := LoadOrCreateSubjectKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	read, err := LoadSubjectKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if made.Hex([]byte("s"), []byte("id")) != read.Hex([]byte("s"), []byte("id")) {
		t.Fatal("the read-only loader reads another key")
	}
	if err := os.WriteFile(path, []byte("zz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSubjectKeyFile(path); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged: %v", err)
	}
}
