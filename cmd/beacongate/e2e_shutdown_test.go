package main

import (
	"bufio"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestE2EShutdownClosesUnusedConnections: on SIGTERM a connection that
// never sent a byte (a browser's preconnect, a balancer's TCP check) is
// closed at once, while a request in flight on another connection is
// still answered and its event delivered. It used to hold the stop: the
// HTTP server counts a new connection as idle only after 5 s, so one
// unused connection took that much of server.shutdown_timeout, all of it
// when the timeout is shorter, and the gateway logged "in-flight requests
// did not finish in time" (there were none) and skipped the delivery
// flush ("delivery did not finish"), even for the local file destination.
func TestE2EShutdownClosesUnusedConnections(t *testing.T) {
	dir := t.TempDir()
	cfg := writeE2EConfig(t, dir, "c.yaml", "server:\n  shutdown_timeout: 3s\n")
	p := startGatewayAt(t, clocktest.Golden, filepath.Join(dir, "data"), cfg)

	unused, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer unused.Close()
	// A beacon whose body is still on its way when the signal arrives.
	busy, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	body := `{"site":"s","event":"late","consent":"analytics"}`
	if _, err := busy.Write([]byte("POST /b HTTP/1.1\r\nHost: gw\r\nContent-Type: text/plain\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body[:10])); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // both connections are accepted and served

	stopAt := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	if _, err := busy.Write([]byte(body[10:])); err != nil {
		t.Fatalf("the request in flight was cut: %v", err)
	}
	busy.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil {
		t.Fatalf("no answer to the request in flight at SIGTERM: %v\n%s", err, p.logText())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("request in flight at SIGTERM: %d, want 204", resp.StatusCode)
	}
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("no exit within 15s of SIGTERM\n%s", p.logText())
	}
	logs := p.logText()
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d\n%s", code, logs)
	}
	for _, msg := range []string{"in-flight requests did not finish in time", "delivery did not finish"} {
		if strings.Contains(logs, msg) {
			t.Errorf("stopped %v after SIGTERM, logging %q, with one unused connection open and no request in flight\n%s",
				time.Since(stopAt).Round(time.Millisecond), msg, logs)
		}
	}
}
