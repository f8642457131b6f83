package main

import (
	"bytes"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// runCLI runs the binary with args and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// TestE2EDeadletterReplay: a partner refuses every batch with 400 (say, a
// wrong tenant id), so the gateway dead-letters them. With the cause fixed
// and the gateway stopped, "beacongate deadletter replay" puts them back
// into the spool, and the gateway delivers every acknowledged event when it
// starts again. A replay while the gateway runs is refused (the spool is
// locked); dry runs change nothing.
func TestE2EDeadletterReplay(t *testing.T) {
	col := newCollector(t)
	var refuse atomic.Bool
	refuse.Store(true)
	var refusedBatches atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse.Load() {
			refusedBatches.Add(1)
			http.Error(w, "unknown tenant", http.StatusBadRequest)
			return
		}
		col.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := writeE2EConfig(t, dir, "dl.yaml", httpDestConfig("http://"+ln.Addr().String()+"/ingest", "zstd", ""))
	p := startGateway(t, data, cfg)
	load := newLoadGen(t, "http://"+p.addr)
	load.start(2)
	load.waitAcked(e2eScale(3000, 1000), 15*time.Second)
	load.stop()
	acked := load.snapshot()
	deadline := time.Now().Add(15 * time.Second)
	for metricValue(t, p, `beacongate_upstream_dead_letter_records_total{destination="collector"}`) < float64(len(acked)) {
		if time.Now().After(deadline) {
			t.Fatalf("not every event dead-lettered\n%s", p.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}

	code, _, stderr := runCLI(t, "deadletter", "replay", "-config", cfg, "-data", data, "collector")
	if code != 1 || !strings.Contains(stderr, "stop the gateway before a replay") {
		t.Fatalf("replay while the gateway runs: exit %d, %s", code, stderr)
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d", code)
	}

	code, out, stderr := runCLI(t, "deadletter", "list", "-config", cfg, "-data", data, "collector")
	if code != 0 || !strings.Contains(out, " records in ") || !strings.Contains(out, "unknown tenant") {
		t.Fatalf("list: exit %d\n%s\n%s", code, out, stderr)
	}
	summary := out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]
	code, dry, _ := runCLI(t, "deadletter", "replay", "-dry-run", "-config", cfg, "-data", data, "collector")
	code2, dryDrop, _ := runCLI(t, "deadletter", "drop", "collector", "-config", cfg, "-data", data, "-dry-run")
	if code != 0 || code2 != 0 || !strings.HasPrefix(dry, "dry run: replayed ") || !strings.HasPrefix(dryDrop, "dry run: dropped ") {
		t.Fatalf("dry runs: %q %q", dry, dryDrop)
	}
	if _, again, _ := runCLI(t, "deadletter", "list", "-config", cfg, "-data", data, "collector"); again != out {
		t.Fatalf("a dry run changed the dead letters:\n%s\n%s", out, again)
	}
	if code, _, stderr := runCLI(t, "deadletter", "replay", "-config", cfg, "-data", data, "nope"); code != 1 || !strings.Contains(stderr, `no destination "nope"`) {
		t.Fatalf("unknown destination: exit %d, %s", code, stderr)
	}

	refuse.Store(false) // the cause is fixed
	code, replayed, stderr := runCLI(t, "deadletter", "replay", "-config", cfg, "-data", data, "collector")
	if code != 0 {
		t.Fatalf("replay: exit %d\n%s", code, stderr)
	}
	if _, after, _ := runCLI(t, "deadletter", "list", "-config", cfg, "-data", data, "collector"); !strings.HasPrefix(after, "0 batches, 0 records") {
		t.Fatalf("after the replay: %s", after)
	}
	p = startGateway(t, data, cfg)
	missing := col.waitFor(acked, 20*time.Second)
	st := col.stats()
	t.Logf("deadletter: acknowledged %d; refused batches %d; list: %s; %s; delivered %d records, lost %d, duplicates(by seq) %d",
		len(acked), refusedBatches.Load(), strings.TrimSpace(summary), strings.TrimSpace(replayed), st.records, len(missing), st.dupSeqs)
	if len(missing) != 0 {
		t.Fatalf("%d acknowledged events lost\n%s", len(missing), p.logText())
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d", code)
	}
}
