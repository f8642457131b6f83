package spool

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDiskFull runs in a child process whose file size limit (RLIMIT_FSIZE)
// is lowered, so that writes really fail in the kernel (EFBIG), as they would
// with ENOSPC. The limit is process-wide, hence the child.
func TestDiskFull(t *testing.T) {
	if os.Getenv("SPOOL_DISKFULL_CHILD") != "" {
		diskFullChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiskFull$", "-test.v")
	cmd.Env = append(os.Environ(), "SPOOL_DISKFULL_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDiskFull") {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
}

func diskFullChild(t *testing.T) {
	signal.Ignore(syscall.SIGXFSZ) // get EFBIG instead of being killed
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip("no RLIMIT_FSIZE:", err)
	}
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}, SegmentBytes: 1 << 20,
		DiskRetryInterval: time.Millisecond})
	lim := old
	lim.Cur = 64 << 10
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skip("cannot lower RLIMIT_FSIZE:", err)
	}
	var ok []int
	var err error
	for i := 0; i < 1000; i++ {
		if err = s.Append(rec(i), 1); err != nil {
			break
		}
		ok = append(ok, i)
	}
	if !errors.Is(err, ErrDisk) || !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("Append beyond the file size limit: %v", err)
	}
	if s.Err() == nil {
		t.Fatal("Err() = nil")
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	if err := s.Append(rec(5000), 1); err != nil {
		t.Fatalf("Append after the disk recovered: %v", err)
	}
	ok = append(ok, 5000)
	if got := drain(t, s, 0); !equalInts(got, ok) {
		t.Fatalf("read %d records, want the %d accepted", len(got), len(ok))
	}
	t.Logf("%d records accepted before EFBIG: %v", len(ok)-1, err)
}

// TestTornTailOnFullDisk: a crash in the middle of a group write (a kill
// -9 during write(2), an orchestrator killing a gateway made unready by a
// full disk) leaves a torn tail, and the restart finds the disk still
// full. The spool must open (draining what is spooled, as README promises
// for a start on a full disk), even though the torn bytes cannot be
// copied to the quarantine folder: they hold no valid frame. Before the
// fix Open failed ("write quarantined tail"), so the gateway could not
// start and nothing spooled was delivered. The child's file size limit
// (RLIMIT_FSIZE) makes the copy fail in the kernel (EFBIG, as ENOSPC).
func TestTornTailOnFullDisk(t *testing.T) {
	if os.Getenv("SPOOL_TORNFULL_CHILD") != "" {
		tornTailFullChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTornTailOnFullDisk$", "-test.v")
	cmd.Env = append(os.Environ(), "SPOOL_TORNFULL_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestTornTailOnFullDisk") {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
}

func tornTailFullChild(t *testing.T) {
	signal.Ignore(syscall.SIGXFSZ) // get EFBIG instead of being killed
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip("no RLIMIT_FSIZE:", err)
	}
	dir := t.TempDir()
	o := Options{Dir: dir, Destinations: []string{"a"}}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := s.Append(rec(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	last := files[len(files)-1]
	// A group write cut by the kill: a frame of a 256 KiB record, half
	// written.
	big := bytes.Repeat([]byte("x"), 256<<10)
	half := appendFrame(nil, big, 1, 0)
	half = half[:len(half)/2]
	fh, err := os.OpenFile(last, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.Write(half)
	fh.Close()

	lim := old
	lim.Cur = 64 << 10
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skip("cannot lower RLIMIT_FSIZE:", err)
	}
	s, err = Open(o)
	if err != nil {
		t.Fatalf("Open with a torn tail on a full disk: %v", err)
	}
	defer s.Close()
	if got := drain(t, s, 0); !equalInts(got, seq(0, 20)) {
		t.Fatalf("read %v, want the 20 records accepted", got)
	}
	if got := s.TornBytes(); got != uint64(len(half)) {
		t.Fatalf("torn bytes %d, want %d", got, len(half))
	}
}
