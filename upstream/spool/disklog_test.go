package spool

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// lockedBuffer is a bytes.Buffer a logger and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the JSON log lines written so far.
func (l *lockedBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestDiskErrorAllClearLogged: a write that fails on a full disk logs
// "spool: write failed; appends fail until a write succeeds" at ERROR, and
// the gateway then refuses records (beacons 503, /readyz 503). When space
// returns, appends work again, and the log said nothing of it: the last
// line about the spool was that error, so an operator reading the log
// could not tell whether, or since when, records were taken again. A full
// spool's refusals end with an all-clear ("spool: taking records again
// after being full", README); a disk error's now do too, naming the
// folder, how long writes failed and how many records were refused.
func TestDiskErrorAllClearLogged(t *testing.T) {
	dir := t.TempDir()
	fs := &smallFS{dir: dir, capacity: 1 << 30}
	clk := clock.NewManual(clocktest.Golden)
	var logs lockedBuffer
	o := Options{Dir: dir, Destinations: []string{"a"}, SegmentBytes: 1 << 20, MaxRecordBytes: 4 << 10,
		DiskRetryInterval: time.Second, Clock: clk, writeCheck: fs.check,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	s := openT(t, o)
	if err := s.Append(rec(0), 1); err != nil {
		t.Fatal(err)
	}
	fs.ballast.Store(fs.capacity - fs.used()) // the disk fills up
	refused := 0
	for i := 1; i <= 3; i++ {
		if err := s.Append(rec(i), 1); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Append on a full disk: %v", err)
		}
		refused++
		clk.Advance(time.Second) // past DiskRetryInterval: the next append tries the disk
	}
	fs.ballast.Store(0) // space returns
	clk.Advance(time.Minute)
	if err := s.Append(rec(100), 1); err != nil {
		t.Fatalf("Append once the disk has room: %v", err)
	}

	var failed, cleared map[string]any
	for _, l := range logs.lines(t) {
		msg, _ := l["msg"].(string)
		switch {
		case strings.HasPrefix(msg, "spool: write failed"):
			failed = l
		case failed != nil && strings.Contains(msg, "takes writes again"):
			cleared = l
		}
	}
	if failed == nil {
		t.Fatalf("no \"spool: write failed\" line:\n%s", logs.b.String())
	}
	if cleared == nil {
		t.Fatalf("the disk takes writes again and appends work, but the log's last word is the failure:\n%s", logs.b.String())
	}
	if cleared["level"] != "INFO" || cleared["dir"] != dir || cleared["failed_for"] != "1m3s" || cleared["refused"] != float64(refused) {
		t.Fatalf("all-clear %v; want INFO, dir %s, failed_for 1m3s, refused %d", cleared, dir, refused)
	}
}
