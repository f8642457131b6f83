package upstream

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestNATSPublishPermissionRefusalIsAuth: credentials the server takes but
// whose permissions do not allow publishing on the destination's subject.
// The server answers each message with an asynchronous -ERR, never with an
// acknowledgement: Send failed with "timeout waiting for ack" alone, an
// error no auth refusal, so the batch was retried for ever (never
// dead-lettered past retry.auth_dead_letter_after), auth_failing_seconds
// stayed 0, and the cause went only to nats.go's default handler, which
// wrote one raw line per message to stderr, past the gateway's log. The
// error must be an auth refusal that names the violation, and nothing may
// go to stderr.
func TestNATSPublishPermissionRefusalIsAuth(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
		Users: []*server.User{{Username: "admin", Password: "admin-pw"}, {Username: "gateway", Password: "gateway-pw",
			Permissions: &server.Permissions{Publish: &server.SubjectPermission{Allow: []string{"$JS.API.>", "bg.other.>"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	admin, err := nats.Connect(url, nats.UserInfo("admin", "admin-pw"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := newJetStream(t, admin).CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"bg.>"}}); err != nil {
		t.Fatal(err)
	}

	// nats.go's default handler writes to the os.Stderr of the moment.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	restored := false
	restore := func() {
		if !restored {
			os.Stderr, restored = stderr, true
			w.Close()
		}
	}
	defer restore()
	printed := make(chan string, 1)
	go func() { b, _ := io.ReadAll(r); printed <- string(b) }()

	s, err := NewNATSSink(NATSOptions{URLs: []string{url}, Subject: "bg.events", SubjectBy: NATSSubjectSite,
		Stream: "EVENTS", CheckStream: true, AckTimeout: 500 * time.Millisecond,
		Extra: []nats.Option{nats.UserInfo("gateway", "gateway-pw")}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b Batch
	for i := range 5 {
		b.add(fmt.Appendf(nil, `{"id":"p%d","site":"shop","kind":"beacon"}`, i))
	}
	err = s.Send(ctx, &b)
	s.Close()
	restore()
	out := <-printed
	if err == nil || RefusalOf(err) != RefusalAuth || !strings.Contains(err.Error(), "Permissions Violation for Publish") {
		t.Errorf("Send to a subject the credentials may not publish on: %v (refusal %v); want an auth refusal naming the violation", err, RefusalOf(err))
	}
	if out != "" {
		t.Errorf("written to stderr, past the log:\n%s", out)
	}
}
