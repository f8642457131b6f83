package upstream

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsServer is an in-process NATS server with JetStream, restartable on
// the same port and store directory.
type natsServer struct {
	t     testing.TB
	store string
	port  int
	srv   *server.Server
	// maxPayload is the server's max_payload; 0: its default (1 MB).
	maxPayload int32
}

// connectNATS connects to url, closing the connection when the test ends.
func connectNATS(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// newJetStream returns the JetStream API of nc.
func newJetStream(t testing.TB, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func startNATS(t testing.TB) *natsServer {
	t.Helper()
	return startNATSMaxPayload(t, 0)
}

// startNATSMaxPayload is startNATS with the server's max_payload (0: its
// default).
func startNATSMaxPayload(t testing.TB, maxPayload int32) *natsServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	n := &natsServer{t: t, store: t.TempDir(), port: port, maxPayload: maxPayload}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func (n *natsServer) start() {
	n.t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: n.port, JetStream: true,
		StoreDir: n.store, NoLog: true, NoSigs: true, MaxPayload: n.maxPayload})
	if err != nil {
		n.t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		n.t.Fatal("NATS server not ready")
	}
	n.srv = s
}

func (n *natsServer) stop() {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
		n.srv = nil
	}
}

func (n *natsServer) url() string { return "nats://127.0.0.1:" + strconv.Itoa(n.port) }

// natsStream creates the stream EVENTS on subjects bg.> and returns a
// JetStream handle on a separate connection.
func natsStream(t testing.TB, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js := newJetStream(t, nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"bg.>"},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	return js
}

// readStream reads every message of EVENTS, checking subjects and headers
// (Nats-Msg-Id: natsDest's name and the record's id).
func readStream(t testing.TB, url string) (ids *idSet, msgs int) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := int(info.State.Msgs)
	c, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ids = newIDSet()
	for msgs < total {
		m, err := c.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", msgs, total, err)
		}
		msgs++
		v := m.Data()
		id := string(jsonStringField(v, "id"))
		if m.Headers().Get(jetstream.MsgIDHeader) != "nats:"+id {
			t.Fatalf("Nats-Msg-Id %q, record id %q", m.Headers().Get(jetstream.MsgIDHeader), id)
		}
		if want := "bg.events." + subjectToken(jsonStringField(v, "site")); m.Subject() != want {
			t.Fatalf("subject %q, want %q", m.Subject(), want)
		}
		ids.add(idOf(v))
	}
	return ids, msgs
}

func natsDest(url string) DestinationOptions {
	return DestinationOptions{Name: "nats",
		NATS:  &NATSOptions{Destination: "nats", URLs: []string{url}, Subject: "bg.events", SubjectBy: NATSSubjectSite, Stream: "EVENTS", AckTimeout: time.Second, MaxPending: 64},
		Batch: BatchOptions{MaxAge: 20 * time.Millisecond}, Retry: fastRetry, SendTimeout: 5 * time.Second}
}

// TestNATSKillAndRestart: under load, the JetStream server is shut down and
// started again on the same store. Every acknowledged event must be in the
// stream exactly once: retried batches are de-duplicated by Nats-Msg-Id.
func TestNATSKillAndRestart(t *testing.T) {
	ns := startNATS(t)
	natsStream(t, ns.url())
	d := natsDest(ns.url())
	p := openP(t, Options{Destinations: []DestinationOptions{d}})
	sink := p.shippers[0].sink.(*NATSSink)

	var a appender
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.run(t, p, "n", 4, 2000, RouteTo(0)) }()
	waitFor(t, "some events in the stream", 10*time.Second, func() bool { return p.Stats()[0].Records > 500 })
	ns.stop()
	waitFor(t, "a shipper retry while the server is down", 10*time.Second, func() bool { return p.Stats()[0].Retries > 0 })
	ns.start()
	wg.Wait()
	acked := a.ackedIDs()
	js := natsStream(t, ns.url()) // the stream exists already: this only connects
	waitFor(t, "every acknowledged event in the stream", 30*time.Second, func() bool {
		st, err := js.Stream(context.Background(), "EVENTS")
		if err != nil {
			return false
		}
		info, err := st.Info(context.Background())
		return err == nil && info.State.Msgs >= uint64(len(acked))
	})
	st := p.Stats()[0]
	closeP(t, p)
	ids, msgs := readStream(t, ns.url())
	missing, dups := ids.compare(acked)
	if len(acked) != 8000 || len(missing) != 0 {
		t.Fatalf("acked %d, lost %d", len(acked), len(missing))
	}
	if dups != 0 || msgs != len(acked) {
		t.Fatalf("%d messages in the stream for %d events (%d duplicates stored)", msgs, len(acked), dups)
	}
	if st.Retries == 0 {
		t.Fatal("the server restart caused no retry")
	}
	t.Logf("acknowledged %d, delivered %d, lost 0, duplicates published %d (dropped by the stream's window), stored duplicates %d, shipper retries %d",
		len(acked), msgs, sink.dups, dups, st.Retries)
}

// TestNATSDuplicateWindow: a batch sent twice is stored once.
func TestNATSDuplicateWindow(t *testing.T) {
	ns := startNATS(t)
	natsStream(t, ns.url())
	d := natsDest(ns.url())
	s, err := NewNATSSink(*d.NATS)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b Batch
	for i := range 10 {
		b.add(fmt.Appendf(nil, `{"id":"d%d","site":"a.b c","kind":"beacon","consent":{"state":"analytics","purposes":[]},"policy":"0123456789ab"}`, i))
	}
	ctx := context.Background()
	for range 2 {
		if err := s.Send(ctx, &b); err != nil {
			t.Fatal(err)
		}
	}
	if s.acked != 20 || s.dups != 10 {
		t.Fatalf("acked %d, duplicates %d; want 20, 10", s.acked, s.dups)
	}
	_, msgs := readStream(t, ns.url())
	if msgs != 10 {
		t.Fatalf("%d messages stored, want 10", msgs)
	}
}

// TestNATSTwoDestinationsOneStream: two destinations whose subjects one
// stream stores, sending records of equal ids (equal policies give equal
// ids), both have every record stored: the destination's name in
// Nats-Msg-Id keeps the stream from dropping the second copy as a
// duplicate of the first, while a batch one destination sends again is
// still dropped.
func TestNATSTwoDestinationsOneStream(t *testing.T) {
	ns := startNATS(t)
	js := natsStream(t, ns.url())
	var b Batch
	for i := range 10 {
		b.add(fmt.Appendf(nil, `{"id":"t%d","site":"s","kind":"pixel","consent":{"state":"analytics","purposes":[]},"policy":"0123456789ab"}`, i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range []string{"warehouse", "lake"} {
		d := natsDest(ns.url())
		d.Name = name
		o := *d.NATS
		o.Destination = "" // as wiring leaves it: the pipeline names it
		o.Subject, o.SubjectBy = "bg."+name, NATSSubjectFixed
		d.NATS = &o
		sink, err := buildSink(&d, t.TempDir(), nil, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := sink.Send(ctx, &b); err != nil {
				t.Fatal(err)
			}
		}
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
	}
	st, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 20 {
		t.Fatalf("%d messages stored, want 20 (10 records for each destination, each sent twice)", info.State.Msgs)
	}
	for _, name := range []string{"warehouse", "lake"} {
		m, err := st.GetLastMsgForSubject(ctx, "bg."+name)
		if err != nil {
			t.Fatalf("subject bg.%s: %v", name, err)
		}
		if got, want := m.Header.Get(jetstream.MsgIDHeader), name+":t9"; got != want {
			t.Fatalf("subject bg.%s: Nats-Msg-Id %q, want %q", name, got, want)
		}
	}
}

// TestNATSHeadersAndCheck: headers carry the policy and consent state; the
// startup check names a subject no stream listens on.
func TestNATSHeadersAndCheck(t *testing.T) {
	ns := startNATS(t)
	js := natsStream(t, ns.url())
	d := natsDest(ns.url())
	s, err := NewNATSSink(*d.NATS)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.CheckStream(ctx); err != nil {
		t.Fatal(err)
	}
	var b Batch
	b.add([]byte(`{"id":"h1","site":"s","kind":"ble","consent":{"state":"ads","purposes":["ads"]},"policy":"abcdef012345"}`))
	if err := s.Send(ctx, &b); err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	m, err := stream.GetLastMsgForSubject(ctx, "bg.events.s")
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Beacongate-Consent") != "ads" || m.Header.Get("Beacongate-Policy") != "abcdef012345" || m.Header.Get("Nats-Msg-Id") != "nats:h1" {
		t.Fatalf("headers %v", m.Header)
	}

	o := *d.NATS
	o.Subject = "other.events"
	s2, err := NewNATSSink(o)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	err = s2.CheckStream(ctx)
	if err == nil || !strings.Contains(err.Error(), "no JetStream stream listens on subject other.events.x") {
		t.Fatalf("CheckStream: %v", err)
	}
	// Publishing there fails and is retryable.
	if err := s2.Send(ctx, &b); err == nil || IsPermanent(err) {
		t.Fatalf("Send to a subject without a stream: %v", err)
	}
}

func TestSubjectToken(t *testing.T) {
	for in, want := range map[string]string{"": "_", "shop-1": "shop-1", "a.b c*>": "a_b_c__", "é": "__"} {
		if got := subjectToken([]byte(in)); got != want {
			t.Errorf("subjectToken(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNATSStartupCheck: with CheckStream, a reachable server without a
// stream on the subject fails NewNATSSink with a clear error; an
// unreachable server does not (events wait in the spool).
func TestNATSStartupCheck(t *testing.T) {
	ns := startNATS(t)
	natsStream(t, ns.url())
	o := NATSOptions{URLs: []string{ns.url()}, Subject: "nowhere", CheckStream: true, AckTimeout: 2 * time.Second}
	if s, err := NewNATSSink(o); err == nil || !strings.Contains(err.Error(), "no JetStream stream listens on subject nowhere") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("NewNATSSink without a stream: %v", err)
	}
	o.Subject, o.SubjectBy, o.Stream = "bg.events", NATSSubjectKind, "OTHER"
	if _, err := NewNATSSink(o); err == nil || !strings.Contains(err.Error(), "stored by stream EVENTS, not OTHER") {
		t.Fatalf("NewNATSSink with the wrong stream: %v", err)
	}
	o.Stream = "EVENTS"
	s, err := NewNATSSink(o)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	url := ns.url()
	ns.stop()
	o.URLs = []string{url}
	var logs bytes.Buffer
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	s, err = NewNATSSink(o)
	if err != nil {
		t.Fatalf("NewNATSSink with the server down: %v", err)
	}
	s.Close()
	// check_stream's documented warning (config: "Unreachable servers
	// only log a warning"): until 2026-12-06 nothing was logged.
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "the stream could not be checked at start") {
		t.Errorf("the server down logged %q; want a warning that the stream was not checked", logs.String())
	}
}

// appendTooLarge appends 20 records routed to destination 0 of p, the 8th
// (id big007) padded to pad bytes, and returns their ids.
func appendTooLarge(t *testing.T, p *Pipeline, pad int) []string {
	t.Helper()
	var ids []string
	for i := range 20 {
		id := fmt.Sprintf("big%03d", i)
		r := fmt.Sprintf(`{"v":1,"id":%q,"site":"s","kind":"beacon"}`, id)
		if i == 7 {
			r = fmt.Sprintf(`{"v":1,"id":%q,"site":"s","kind":"beacon","pad":%q}`, id, strings.Repeat("x", pad))
		}
		if err := p.Append([]byte(r), RouteTo(0)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// checkTooLargeAlone checks that, of ids, big007 alone is in the dead
// letters of destination "nats" under data, and every other one in the
// stream once.
func checkTooLargeAlone(t *testing.T, p *Pipeline, data, url string, ids []string) {
	t.Helper()
	waitFor(t, "the batch delivered or dead-lettered", 20*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	st := p.Stats()[0]
	closeP(t, p)
	dl := newIDSet()
	files, _ := filepath.Glob(filepath.Join(data, "deadletter", "nats", "*.ndjson*"))
	for _, f := range files {
		recs, err := readDeadLetter(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			dl.add(idOf(r))
		}
	}
	stored, msgs := readStream(t, url)
	if dl.n.Load() != 1 || !dl.has("big007") || st.DeadRecords != 1 || st.Records != 19 {
		t.Fatalf("dead letters hold %d records (big007: %v), stats %d dead-lettered, %d delivered; want only big007 dead-lettered, 19 delivered",
			dl.n.Load(), dl.has("big007"), st.DeadRecords, st.Records)
	}
	if msgs != 19 {
		t.Fatalf("%d messages in the stream, want 19", msgs)
	}
	for _, id := range ids {
		if id != "big007" && !stored.has(id) {
			t.Fatalf("%s not in the stream", id)
		}
	}
}

// TestNATSTooLargeForServerDeadLetteredAlone: a record longer than the
// server's max_payload (which the client refuses at once) in a batch of
// records the stream takes. Only that record may go to the dead letters:
// before the fix the whole batch did, the records published before it
// (stored in the stream) included, so a replay stored them twice, and the
// records after it were never published.
func TestNATSTooLargeForServerDeadLetteredAlone(t *testing.T) {
	ns := startNATSMaxPayload(t, 16<<10)
	natsStream(t, ns.url())
	data := t.TempDir()
	d := natsDest(ns.url())
	d.Batch.MaxEvents, d.Batch.MaxAge = 20, time.Hour // one batch of all 20
	p := openP(t, Options{DataDir: data, Destinations: []DestinationOptions{d}})
	ids := appendTooLarge(t, p, 32<<10)
	checkTooLargeAlone(t, p, data, ns.url(), ids)
}

// TestNATSTooLargeForStreamDeadLetteredAlone: a record longer than the
// stream's max_msg_size (below the server's max_payload), which the
// stream refuses with JetStream error 10054 on every attempt. Before the
// fix the error was retried for ever: the batch never drained and no
// later record of the destination was delivered.
func TestNATSTooLargeForStreamDeadLetteredAlone(t *testing.T) {
	ns := startNATS(t)
	nc := connectNATS(t, ns.url())
	js := newJetStream(t, nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"bg.>"},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute, MaxMsgSize: 4 << 10}); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	d := natsDest(ns.url())
	d.Batch.MaxEvents, d.Batch.MaxAge = 20, time.Hour
	p := openP(t, Options{DataDir: data, Destinations: []DestinationOptions{d}})
	ids := appendTooLarge(t, p, 8<<10)
	checkTooLargeAlone(t, p, data, ns.url(), ids)
}
