package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestE2EKill9EveryDestinationType kills the gateway with SIGKILL four
// times under load, at fixed moments (the file destination rolls its files
// every second meanwhile), with four destinations of every transport type:
// an HTTP collector that answers some requests 500, some 429 with
// Retry-After and some slowly, a Kafka topic (kfake), a JetStream stream of
// Debian's nats-server, killed with SIGKILL after the first kill and
// started again before the last (so the gateway restarts twice while NATS
// is down), and the file destination. Every acknowledged event must reach
// each of them at least once.
func TestE2EKill9EveryDestinationType(t *testing.T) {
	col := newCollector(t)
	var n atomic.Int64
	var errs atomic.Int64
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := n.Add(1)
		switch {
		case k%11 == 3:
			errs.Add(1)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		case k%5 == 1:
			errs.Add(1)
			http.Error(w, "oops", http.StatusInternalServerError)
			return
		case k%4 == 0:
			time.Sleep(300 * time.Millisecond)
		}
		col.ServeHTTP(w, r)
	}))
	defer flaky.Close()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "events"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	ns := startNATSBinary(t)
	{
		nc, err := nats.Connect(ns.url())
		if err != nil {
			t.Fatal(err)
		}
		js, _ := jetstream.New(nc)
		if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"bg.>"},
			Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute}); err != nil {
			t.Fatal(err)
		}
		nc.Close()
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := writeE2EConfig(t, dir, "chaos.yaml", `properties:
  allow: [seq]
spool:
  segment_bytes: 1MiB
  max_bytes: 16MiB
destinations:
  - name: collector
    type: http
    compression: none
    batch: {max_events: 300, max_age: 100ms}
    http:
      url: `+flaky.URL+`
      timeout: 2s
      retry: {initial_backoff: 20ms, max_backoff: 300ms}
  - name: kafka
    type: kafka
    batch: {max_events: 500, max_age: 100ms}
    kafka:
      brokers: [`+kc.ListenAddrs()[0]+`]
      topic: events
  - name: bus
    type: nats
    batch: {max_events: 500, max_age: 100ms}
    nats:
      urls: [`+ns.url()+`]
      subject: bg.events
      stream: EVENTS
      ack_timeout: 1s
  - name: local
    type: file
    batch: {max_events: 200, max_age: 50ms}
    file:
      max_file_bytes: 1MiB
      max_file_age: 1s
`)
	p := startGateway(t, data, cfg)
	load := newLoadGen(t, "http://"+p.addr)
	load.start(4)
	for k := 0; k < 4; k++ {
		time.Sleep(time.Duration(400+250*k) * time.Millisecond)
		if k == 1 {
			ns.kill()
		}
		if k == 3 {
			ns.start()
		}
		p.kill()
		time.Sleep(100 * time.Millisecond)
		p = startGateway(t, data, cfg)
		load.setBase("http://" + p.addr)
	}
	time.Sleep(time.Second)
	load.stop()
	acked := load.snapshot()
	missing := col.waitFor(acked, 30*time.Second)
	t.Logf("every type: %s; collector answered %d errors; http lost %d", load.summary(), errs.Load(), len(missing))
	if len(missing) > 0 {
		t.Errorf("http lost %d: %v; stats %+v\n%s", len(missing), missing[:min(20, len(missing))], col.stats(), p.logText())
	}
	if code := p.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, p.logText())
	}
	_, recs := readOut(t, filepath.Join(data, "out", "local"))
	got := map[int64]bool{}
	for _, r := range recs {
		got[r.seq()] = true
	}
	lost := 0
	for s := range acked {
		if !got[s] {
			lost++
		}
	}
	t.Logf("file: %d records, lost %d", len(recs), lost)
	if lost > 0 {
		t.Errorf("file lost %d", lost)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.ConsumeTopics("events"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	kg := map[int64]bool{}
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			recs, _ := parseNDJSON(append(r.Value, '\n'), false)
			for _, x := range recs {
				kg[x.seq()] = true
			}
		})
		done := true
		for s := range acked {
			if !kg[s] {
				done = false
				break
			}
		}
		if done {
			break
		}
	}
	cl.Close()
	klost := 0
	for s := range acked {
		if !kg[s] {
			klost++
		}
	}
	t.Logf("kafka: lost %d", klost)
	if klost > 0 {
		t.Errorf("kafka lost %d", klost)
	}
	nt := map[int64]bool{}
	nc, err := nats.Connect(ns.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := st.Info(ctx)
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for got := uint64(0); got < info.State.Msgs; {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for m := range batch.Messages() {
			recs, _ := parseNDJSON(append(m.Data(), '\n'), false)
			for _, x := range recs {
				nt[x.seq()] = true
			}
			k++
		}
		if k == 0 {
			break
		}
		got += uint64(k)
	}
	nlost := 0
	for s := range acked {
		if !nt[s] {
			nlost++
		}
	}
	t.Logf("nats: msgs %d lost %d", info.State.Msgs, nlost)
	if nlost > 0 {
		t.Errorf("nats lost %d", nlost)
	}
}
