package spool

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
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
