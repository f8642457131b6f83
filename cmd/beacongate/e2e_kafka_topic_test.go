package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// TestE2EKafkaMissingTopic: the gateway refuses to start, with an error that
// names the topic and how to create it, when the brokers have no such topic;
// with check_topic: false it starts.
func TestE2EKafkaMissingTopic(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "events"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	conf := func(name, extra string) string {
		return writeE2EConfig(t, dir, name+".yaml", `destinations:
  - name: bus
    type: kafka
    kafka:
      brokers: [`+c.ListenAddrs()[0]+`]
      topic: missing-topic
`+extra)
	}
	cmd := exec.Command(binPath, "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-data", filepath.Join(dir, "data"), "-config", conf("check", ""))
	done := make(chan struct{})
	var out []byte
	go func() { out, _ = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the gateway started with a missing topic")
	}
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "the brokers have no topic missing-topic; create it") {
		t.Fatalf("exit %d:\n%s", cmd.ProcessState.ExitCode(), out)
	}
	p := startGateway(t, filepath.Join(dir, "data2"), conf("nocheck", "      check_topic: false\n"))
	if code := p.stop(); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d", code)
	}
}
