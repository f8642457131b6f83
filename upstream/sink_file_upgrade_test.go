//go:build unix

package upstream

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/beacongate/beacongate/clock"
)

// TestFileSinkRestrictsOutputOfEarlierVersions: a beacongate before
// 2026-12-07 created a file destination's output 0644 (a7dbf9e made it
// 0640), readable by every user of the host under the usual umask. After an
// upgrade on the same data directory those files stayed 0644, for as long
// as the destination's retention keeps them (for ever without one): the
// records they hold (pseudonyms, truncated addresses, URLs) stayed readable
// by every user while the README says output is readable by the gateway's
// user and group only. testdata/upgrade-fdfd365 holds what fdfd365 (the end
// of 2026-12-05) left in out/local: a finished file after a SIGTERM and an
// open one after a kill -9 (3 pixel records in all). The files are made
// 0644 here, as that build made them under umask 022 (git keeps no mode).
func TestFileSinkRestrictsOutputOfEarlierVersions(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "out", "local")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src, _ := filepath.Glob(filepath.Join("testdata", "upgrade-fdfd365", "events-*"))
	if len(src) != 2 {
		t.Fatalf("fixtures: %q", src)
	}
	for _, f := range src {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := NewFileSink(FileOptions{Dir: dir, Clock: clock.Fixed(time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 2 {
		t.Fatalf("want the finished file and the repaired one, got %q", files)
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	records := 0
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o007 != 0 {
			t.Errorf("%s, written by fdfd365, still has mode %04o after the upgrade: readable by every user", filepath.Base(f), fi.Mode().Perm())
		}
		if fi.Mode().Perm()&0o040 == 0 {
			t.Errorf("%s has mode %04o: the group (a loader) can no longer read it", filepath.Base(f), fi.Mode().Perm())
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data, err := dec.DecodeAll(b, nil)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		records += bytes.Count(data, []byte("\n"))
	}
	if records != 3 {
		t.Fatalf("%d records in the output, want the 3 fdfd365 wrote", records)
	}
}
