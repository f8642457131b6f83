package main

import (
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsProc is Debian's nats-server binary with JetStream, on a fixed
// loopback port and store directory so that it can be killed and started
// again on the same stream.
type natsProc struct {
	t     *testing.T
	bin   string
	port  int
	store string
	cmd   *exec.Cmd
}

func startNATSBinary(t *testing.T) *natsProc {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("nats-server is not installed (Debian package nats-server; .ci/run installs it)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	n := &natsProc{t: t, bin: bin, port: port, store: t.TempDir()}
	n.start()
	t.Cleanup(func() {
		if n.cmd != nil {
			n.kill()
		}
	})
	return n
}

func (n *natsProc) url() string { return "nats://127.0.0.1:" + strconv.Itoa(n.port) }

func (n *natsProc) start() {
	n.t.Helper()
	n.cmd = exec.Command(n.bin, "-a", "127.0.0.1", "-p", strconv.Itoa(n.port), "-js", "-sd", n.store)
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		nc, err := nats.Connect(n.url(), nats.Timeout(time.Second))
		if err == nil {
			nc.Close()
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("nats-server not reachable: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL: JetStream gets no chance to flush or shut down.
func (n *natsProc) kill() {
	n.cmd.Process.Kill()
	n.cmd.Wait()
	n.cmd = nil
}

// TestE2ENATSKillAndRestart runs the gateway binary under load into a
// JetStream stream of Debian's nats-server, kills the server with SIGKILL,
// starts it again on the same store, and checks that every acknowledged
// event is in the stream exactly once (resent batches are dropped by the
// stream's duplicate window, keyed by Nats-Msg-Id = destination:event id).
func TestE2ENATSKillAndRestart(t *testing.T) {
	ns := startNATSBinary(t)
	nc, err := nats.Connect(ns.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"bg.>"},
		Storage: jetstream.FileStorage, Duplicates: 5 * time.Minute}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	cfg := writeE2EConfig(t, dir, "nats.yaml", `properties:
  allow: [seq]
destinations:
  - name: bus
    type: nats
    batch: {max_events: 500, max_age: 100ms}
    nats:
      urls: [`+ns.url()+`]
      subject: bg.events
      subject_by: site
      stream: EVENTS
      max_pending: 128
      ack_timeout: 1s
`)
	p := startGateway(t, filepath.Join(dir, "data"), cfg)
	load := newLoadGen(t, "http://"+p.addr)
	load.start(4)
	phase := time.Duration(e2eScale(1000, 500)) * time.Millisecond
	load.waitPhase(e2eScale(3000, 1000), phase)
	ackedAtKill := load.ackedCount()
	ns.kill()
	load.waitPhase(e2eScale(2000, 500), phase) // the gateway keeps accepting into its spool
	ns.start()
	load.waitPhase(e2eScale(2000, 500), phase)
	load.stop()
	acked := load.snapshot()

	nc2, err := nats.Connect(ns.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	js2, _ := jetstream.New(nc2)
	st, err := js2.Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var stored uint64
	for time.Now().Before(deadline) {
		info, err := st.Info(ctx)
		if err == nil {
			stored = info.State.Msgs
			if stored >= uint64(len(acked)) {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	c, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]int{}
	dups := 0
	var got uint64
	for got < stored {
		batch, err := c.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			got++
			checkNATSMessage(t, m, seen, &dups)
		}
		if batch.Error() != nil || n == 0 {
			t.Fatalf("after %d of %d messages: %v", got, stored, batch.Error())
		}
	}
	retries := metricValue(t, p, `beacongate_upstream_send_retries_total{destination="bus"}`)
	lost := 0
	for seq := range acked {
		if seen[seq] == 0 {
			lost++
		}
	}
	t.Logf("nats kill -9: %s", load.summary())
	t.Logf("nats kill -9: acknowledged %d (%d before the kill), in the stream %d, lost %d, duplicates stored %d, shipper retries %v",
		len(acked), ackedAtKill, stored, lost, dups, retries)
	if lost != 0 || dups != 0 {
		t.Errorf("lost %d acknowledged events, %d duplicates stored\n%s", lost, dups, p.logText())
	}
	if len(acked) < ackedAtKill+e2eScale(2000, 500) {
		t.Errorf("the gateway acknowledged too little while the server was down: %d, then %d", ackedAtKill, len(acked))
	}
	if code := p.stop(); code != 0 {
		t.Errorf("exit code after SIGTERM: %d\n%s", code, p.logText())
	}
}

// checkNATSMessage checks one stream message's subject and headers and
// counts its seq.
func checkNATSMessage(t *testing.T, m jetstream.Msg, seen map[int64]int, dups *int) {
	t.Helper()
	var r e2eRecord
	if err := json.Unmarshal(m.Data(), &r); err != nil {
		t.Fatal(err)
	}
	if m.Headers().Get("Nats-Msg-Id") != "bus:"+r.ID || m.Subject() != "bg.events.e2e" || m.Headers().Get("Beacongate-Consent") != r.Consent.State {
		t.Fatalf("message %s: subject %s, headers %v", r.ID, m.Subject(), m.Headers())
	}
	if seen[r.seq()]++; seen[r.seq()] > 1 {
		*dups++
	}
}
