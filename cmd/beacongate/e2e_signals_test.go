package main

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestE2EStopSignalNotLostBehindReloads: a SIGTERM that arrives while a
// reload is running and another SIGHUP waits its turn still stops the
// gateway. It used to be dropped: one channel of one slot took SIGHUP,
// SIGTERM and SIGINT, and the signal package drops a signal that finds it
// full, so a "systemctl reload" twice and a "systemctl stop" while the
// first reload read a slow file (a large GeoIP database, a config on a
// slow mount; here a FIFO held open) left the gateway running until the
// supervisor killed it.
func TestE2EStopSignalNotLostBehindReloads(t *testing.T) {
	dir := t.TempDir()
	text := "server:\n  shutdown_timeout: 1s\n"
	cfg := writeE2EConfig(t, dir, "c.yaml", text)
	p := startGatewayAt(t, clocktest.Golden, filepath.Join(dir, "data"), cfg)

	// The config becomes a FIFO: the next reload blocks reading it until
	// the test writes the file and closes its end.
	fifo := filepath.Join(dir, "c.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.Rename(fifo, cfg); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	var w *os.File
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		f, err := os.OpenFile(cfg, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			w = f // the gateway opened the config and reads it: the reload runs
			break
		}
		if !errors.Is(err, syscall.ENXIO) || time.Now().After(deadline) {
			t.Fatalf("the gateway did not open the config after SIGHUP: %v\n%s", err, p.logText())
		}
	}
	// A second reload is asked for while the first runs, then the stop.
	p.cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(100 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(100 * time.Millisecond)
	// The next reload reads a plain file again; the first one ends.
	writeE2EConfig(t, dir, "plain.yaml", text)
	if err := os.Rename(filepath.Join(dir, "plain.yaml"), cfg); err != nil {
		t.Fatal(err)
	}
	w.WriteString(text)
	w.Close()

	select {
	case <-p.exited:
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("exit %d after SIGTERM\n%s", code, p.logText())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the gateway still runs 10s after a SIGTERM sent during a reload\n%s", p.logText())
	}
}

// TestE2EStopDuringHungReload: a SIGTERM stops the gateway even while a
// reload cannot finish (a config file on a mount that stopped answering;
// here a FIFO nobody writes). It used to wait for the reload, which ran
// on the goroutine that handles signals: the gateway never stopped, and
// the supervisor's SIGKILL cut the requests in flight and the delivery
// flush.
func TestE2EStopDuringHungReload(t *testing.T) {
	dir := t.TempDir()
	cfg := writeE2EConfig(t, dir, "c.yaml", "server:\n  shutdown_timeout: 1s\n")
	p := startGatewayAt(t, clocktest.Golden, filepath.Join(dir, "data"), cfg)
	fifo := filepath.Join(dir, "c.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.Rename(fifo, cfg); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	// Wait until the reload reads the FIFO, then leave it hanging.
	var w *os.File
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		f, err := os.OpenFile(cfg, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			w = f
			break
		}
		if !errors.Is(err, syscall.ENXIO) || time.Now().After(deadline) {
			t.Fatalf("the gateway did not open the config after SIGHUP: %v\n%s", err, p.logText())
		}
	}
	defer w.Close()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("exit %d after SIGTERM\n%s", code, p.logText())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the gateway still runs 10s after a SIGTERM sent while a reload hangs (shutdown_timeout 1s)\n%s", p.logText())
	}
}

// TestE2EReloadSignalWhileExiting: SIGHUPs that keep arriving while the
// gateway stops, up to the moment it exits, are ignored and it exits 0, as
// the README says ("a SIGHUP once stopping is ignored"). It used to stop
// catching SIGHUP as runServe returned, before the process exited: one
// arriving then killed it (SIGHUP's default action), its stop reported as
// "killed by SIGHUP" instead of exit 0. The window is microseconds in a
// normal build; under go test -race the binary is built with -race, whose
// exit waits a second (GORACE atexit_sleep_ms), and the test then fails
// every time without the fix.
func TestE2EReloadSignalWhileExiting(t *testing.T) {
	dir := t.TempDir()
	cfg := writeE2EConfig(t, dir, "c.yaml", "server:\n  shutdown_timeout: 1s\n")
	p := startGatewayAt(t, clocktest.Golden, filepath.Join(dir, "data"), cfg)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case <-p.exited:
			if !p.cmd.ProcessState.Success() {
				t.Fatalf("SIGHUPs while stopping: the gateway ended %v; want exit 0\n%s", p.cmd.ProcessState, p.logText())
			}
			return
		case <-deadline:
			t.Fatalf("the gateway did not exit within 30s of SIGTERM\n%s", p.logText())
		case <-time.After(2 * time.Millisecond):
			p.cmd.Process.Signal(syscall.SIGHUP)
		}
	}
}
