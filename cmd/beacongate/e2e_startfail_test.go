package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// startFailBound is how long a start that fails may take to exit: the
// shutdown timeout of startFailConfig (1s) plus the pipeline's grace for
// a send that ignores cancellation (5s), with room for a slow machine.
const startFailBound = 30 * time.Second

// startFailConfig is a config with one http destination at url, a short
// shutdown timeout and the BLE aggregation, whose spool a start opens too.
func startFailConfig(url string) string {
	return httpDestConfig(url, "zstd", `server:
  shutdown_timeout: 1s
ble:
  output: aggregates
`)
}

// spoolWithUndelivered runs the gateway once on a new data directory with
// its only destination refusing connections, acknowledges n pixels and
// stops it: the records stay in the spool. It returns the collector (still
// closed), the test's directory, the data directory and the config text.
func spoolWithUndelivered(t *testing.T, n int) (col *collector, dir, data, cfg string) {
	t.Helper()
	col = newCollector(t)
	col.close() // connection refused from now on
	dir = t.TempDir()
	data = filepath.Join(dir, "data")
	cfg = startFailConfig(col.url())
	p := startGateway(t, data, writeE2EConfig(t, dir, "first.yaml", cfg))
	for range n {
		if st, _ := httpGet(t, p.url("/p.gif?site=s&consent=analytics")); st != 200 {
			t.Fatalf("pixel: %d", st)
		}
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, p.logText())
	}
	return col, dir, data, cfg
}

// TestE2EStartListenInUseReleasesSpool: a start that cannot listen (the
// address is taken) after it opened the delivery pipeline, with records in
// the spool and the destination down, exits 1 naming the address, within
// server.shutdown_timeout, and releases the spool: a corrected start on the
// same data directory listens and delivers the records once the destination
// is back. It used to close the pipeline without a deadline: the process
// waited forever for the spool to drain, holding its lock.
func TestE2EStartListenInUseReleasesSpool(t *testing.T) {
	const n = 3
	col, dir, data, cfg := spoolWithUndelivered(t, n)
	cfgPath := writeE2EConfig(t, dir, "second.yaml", cfg)

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cmd := exec.Command(binPath, "-listen", taken.Addr().String(), "-admin", "127.0.0.1:0", "-data", data, "-config", cfgPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	}()
	select {
	case <-exited:
		logs := stderr.String()
		if code := cmd.ProcessState.ExitCode(); code != 1 {
			t.Errorf("a start whose listen address is taken: exit %d, want 1\n%s", code, logs)
		}
		if !strings.Contains(logs, `"msg":"cannot listen"`) || !strings.Contains(logs, taken.Addr().String()) ||
			!strings.Contains(logs, "address already in use") {
			t.Errorf("the log does not say which address cannot be listened on, and why:\n%s", logs)
		}
	case <-time.After(startFailBound):
		// Still running: the next start below finds the spool locked.
		t.Errorf("a start whose listen address is taken did not exit within %v (shutdown_timeout 1s)", startFailBound)
	}

	p := startGateway(t, data, cfgPath)
	col.reopen()
	deadline := time.After(startFailBound)
	for col.stats().records < n {
		select {
		case <-deadline:
			t.Fatalf("the collector got %d of the %d records left in the spool\n%s", col.stats().records, n, p.logText())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.logText())
	}
}

// TestStartFailureClosesPipelineAndBLE: a start that fails after the
// delivery pipeline and the BLE aggregation were opened (here: the vendor
// list cannot be read), with records in the spool and the destination down,
// returns its error within server.shutdown_timeout and closes both spools,
// so a corrected start on the same data directory opens them. It used to
// wait forever: the pipeline was closed without a deadline, and the
// privacy sweeper, never started, was waited for.
func TestStartFailureClosesPipelineAndBLE(t *testing.T) {
	_, dir, data, cfg := spoolWithUndelivered(t, 3)
	bad := writeE2EConfig(t, dir, "bad.yaml", cfg+"consent:\n  tcf: {gvl_file: "+filepath.Join(dir, "missing-vendor-list.json")+"}\n")
	good := writeE2EConfig(t, dir, "good.yaml", cfg)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	start := func(path string) (*app, error) {
		t.Helper()
		type result struct {
			a   *app
			err error
		}
		done := make(chan result, 1)
		go func() {
			a, err := startApp(serveFlags{config: path, data: data}, map[string]bool{"data": true}, prometheus.NewRegistry(), log)
			done <- result{a, err}
		}()
		select {
		case r := <-done:
			return r.a, r.err
		case <-time.After(startFailBound):
			t.Fatalf("startApp(%s) did not return within %v (shutdown_timeout 1s)", filepath.Base(path), startFailBound)
			return nil, nil
		}
	}
	if _, err := start(bad); err == nil || !strings.Contains(err.Error(), "consent.tcf.gvl_file") {
		t.Fatalf("start with a missing vendor list: %v; want an error naming consent.tcf.gvl_file", err)
	}
	a, err := start(good)
	if err != nil {
		t.Fatalf("a corrected start after a failed one: %v; want the spools released", err)
	}
	if a.ble == nil {
		t.Fatal("the corrected start runs no BLE aggregation; the test needs one")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	a.close(ctx) // the destination is down: the records stay in the spool
}

// TestE2EDataDirInUseSaysWhatToDo: a second gateway started on a running
// one's data directory exits 1, and its "cannot start" says what to do:
// stop the other, or give this one its own data directory; and that the
// lock file is not to be deleted (it used to name only the LOCK file as
// "in use by another process", which sent operators looking for a stale
// lock to delete: two gateways would then write one spool).
func TestE2EDataDirInUseSaysWhatToDo(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	p := startGateway(t, data, "")
	ctx, cancel := context.WithTimeout(context.Background(), startFailBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-data", data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	logs := stderr.String()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("a second start on one data directory: exit %d (%v), want 1\n%s", code, err, logs)
	}
	for _, want := range []string{`"msg":"cannot start"`, data, "server.data_dir or -data", "never delete the LOCK file"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not say %q:\n%s", want, logs)
		}
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("the first gateway: exit %d\n%s", code, p.logText())
	}
}

// TestE2EDataDirInUseWithSpoolElsewhere: two gateways given one data
// directory but each its own spool.dir must not both run: the data
// directory holds the audit log, the dead letters, the saved policies and
// the subject key of one instance. Only the spool was locked, so the
// second started and both wrote one data directory, while the README says
// a second start on it exits 1 naming the directory.
func TestE2EDataDirInUseWithSpoolElsewhere(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := func(n string) string {
		return writeE2EConfig(t, dir, n+".yaml", `destinations:
  - name: out
    type: file
    file: {dir: `+filepath.Join(dir, "out-"+n)+`}
    tcf: {without_vendor: true}
spool: {dir: `+filepath.Join(dir, "spool-"+n)+`}
`)
	}
	p := startGatewayAt(t, clocktest.Golden, data, cfg("a"))
	ctx, cancel := context.WithTimeout(context.Background(), startFailBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-data", data, "-config", cfg("b"))
	cmd.Env = append(os.Environ(), startEnv(clocktest.Golden))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	logs := stderr.String()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("a second start on one data directory, with a spool of its own: exit %d (%v), want 1\n%s", code, err, logs)
	}
	for _, want := range []string{`"msg":"cannot start"`, data, "server.data_dir or -data", "never delete the LOCK file"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not say %q:\n%s", want, logs)
		}
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("the first gateway: exit %d\n%s", code, p.logText())
	}
	// The lock goes with the process: a start after the first stopped runs.
	q := startGatewayAt(t, clocktest.Golden, data, cfg("b"))
	if code := q.stop(); code != 0 {
		t.Fatalf("a start after the first gateway stopped: exit %d\n%s", code, q.logText())
	}
}
