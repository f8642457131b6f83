package upstream

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestNATSReconnectsAfterAuthRefusals: during an outage the server comes
// back refusing the gateway's credentials for a while (an account being
// rotated, an auth callout still down, a configuration reloaded half way),
// then takes them again. nats.go closes a connection for good once one
// server refused its credentials twice in a row: every later publish
// failed with "connection closed", the batch was retried (not even
// dead-lettered, the error is no auth refusal) until someone restarted the
// gateway, though the server had long taken the credentials again.
// Delivery must resume by itself, as it does after any other outage.
func TestNATSReconnectsAfterAuthRefusals(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	store := t.TempDir()
	var srv *server.Server
	start := func(password string) {
		t.Helper()
		s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true,
			StoreDir: store, NoLog: true, NoSigs: true, Username: "gateway", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatal("NATS server not ready")
		}
		srv = s
	}
	stop := func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
	start("right")
	t.Cleanup(func() { stop() })

	admin, err := nats.Connect(url, nats.UserInfo("gateway", "right"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(admin)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"bg.>"},
		Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	admin.Close()

	var refused atomic.Int64
	d := natsDest(url)
	d.NATS.Extra = []nats.Option{nats.UserInfo("gateway", "right"),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
			if errors.Is(err, nats.ErrAuthorization) {
				refused.Add(1)
			}
		})}
	p := openP(t, Options{Destinations: []DestinationOptions{d}})
	var a appender
	a.run(t, p, "n", 1, 50, RouteTo(0))
	waitFor(t, "the first records delivered", 10*time.Second, func() bool { return p.Stats()[0].Records >= 50 })

	stop()
	start("rotated") // the gateway's password is refused
	a.run(t, p, "o", 1, 50, RouteTo(0))
	waitFor(t, "the server to refuse the credentials twice", 20*time.Second, func() bool { return refused.Load() >= 2 })

	stop()
	start("right") // and taken again
	acked := a.ackedIDs()
	waitFor(t, "every acknowledged record delivered after the server takes the credentials again", 30*time.Second, func() bool {
		return p.Stats()[0].LagBytes == 0
	})
	closeP(t, p)

	nc, err := nats.Connect(url, nats.UserInfo("gateway", "right"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ = jetstream.New(nc)
	st, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != uint64(len(acked)) {
		t.Fatalf("%d messages in the stream for %d acknowledged records", info.State.Msgs, len(acked))
	}
}
