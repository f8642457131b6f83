//go:build unix

package upstream

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// TestFileSinkOutputNotWorldReadable: the files of a file destination hold
// the same records as the spool and the dead letters (0600 in 0700
// folders): pseudonyms, truncated addresses, URLs. They were created 0644
// in a 0755 folder, readable by every user of the host. They are now
// readable by the gateway's user and group only (0640 in 0750), whatever
// the umask lets through.
func TestFileSinkOutputNotWorldReadable(t *testing.T) {
	old := syscall.Umask(0o022) // the usual umask, under which the bug showed
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "out", "local")
	s, err := NewFileSink(FileOptions{Dir: dir, Clock: clock.Fixed(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), fileBatch("m1")); err != nil {
		t.Fatal(err)
	}
	check := func(glob string) {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(dir, glob))
		if len(files) != 1 {
			t.Fatalf("%s: %q", glob, files)
		}
		fi, err := os.Stat(files[0])
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o007 != 0 {
			t.Fatalf("%s has mode %v: readable by every user", filepath.Base(files[0]), fi.Mode().Perm())
		}
	}
	check("*.zst.part")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("*.zst")
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o007 != 0 {
		t.Fatalf("%s has mode %v: open to every user", dir, fi.Mode().Perm())
	}
}
