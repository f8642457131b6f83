package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestE2EReloadSignalDuringStart: a SIGHUP that arrives while the gateway
// is still starting (here: waiting for a Kafka broker that accepts the
// connection and never answers, as check_topic does for up to 10s) does not
// kill it. It used to: SIGHUP was caught only once the gateway listened, so
// "systemctl reload" or a deploy tool's HUP in that window ended the
// process with its default action. The reload is applied once it listens.
func TestE2EReloadSignalDuringStart(t *testing.T) {
	broker, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	accepted := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := broker.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c // held open, never answered
		}
	}()
	dir := t.TempDir()
	cfg := writeE2EConfig(t, dir, "k.yaml", `destinations:
  - name: bus
    type: kafka
    tcf: {without_vendor: true}
    kafka:
      brokers: [`+broker.Addr().String()+`]
      topic: events
`)
	cmd := exec.Command(binPath, "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-data", filepath.Join(dir, "data"), "-config", cfg)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	msgs := make(chan string, 64)
	var logs strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			var rec struct{ Msg string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil {
				msgs <- rec.Msg
			}
		}
		close(msgs)
		exited <- cmd.Wait()
	}()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	}()

	// The gateway is starting: it has connected to the broker and waits
	// for its answer.
	var conns []net.Conn
	select {
	case c := <-accepted:
		conns = append(conns, c)
	case <-time.After(20 * time.Second):
		t.Fatal("the gateway did not connect to the broker within 20s")
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// Let the start go on: the broker goes away, which only delays delivery.
	broker.Close()
	for c := range accepted {
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}

	wait := func(want string) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					err := <-exited
					t.Fatalf("the gateway ended (%v) before logging %q\n%s", err, want, logs.String())
				}
				if m == want {
					return
				}
			case <-deadline:
				t.Fatalf("no %q log line within 30s", want)
			}
		}
	}
	wait("listening")
	wait("config reloaded") // the SIGHUP, applied once it listens
	cmd.Process.Signal(syscall.SIGTERM)
	for range msgs {
	}
	<-exited
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d\n%s", code, logs.String())
	}
}
