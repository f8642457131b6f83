package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// busRecord is what the three-instance test reads back from a bus.
type busRecord struct {
	ID     string `json:"id"`
	Client string `json:"client"`
	Props  struct {
		Seq int64 `json:"seq"`
	} `json:"props"`
}

// busTally collects records by seq and checks event ids and pseudonyms.
type busTally struct {
	name      string
	bySeq     map[int64]busRecord
	ids       map[string]int64 // event id -> seq
	dups      int              // records whose seq was seen already (same id: a resend)
	collision int              // one event id on two different seqs
}

func newBusTally(name string) *busTally {
	return &busTally{name: name, bySeq: map[int64]busRecord{}, ids: map[string]int64{}}
}

func (b *busTally) add(t *testing.T, v []byte) {
	var r busRecord
	if err := json.Unmarshal(v, &r); err != nil {
		t.Fatalf("%s: %v", b.name, err)
	}
	if s, ok := b.ids[r.ID]; ok && s != r.Props.Seq {
		b.collision++
	}
	b.ids[r.ID] = r.Props.Seq
	if _, ok := b.bySeq[r.Props.Seq]; ok {
		b.dups++
		return
	}
	b.bySeq[r.Props.Seq] = r
}

// TestE2EThreeInstances runs three gateway processes (own ports and data
// dirs, one shared pseudonym secret) on one data set: events of 40 client
// ids, each client's events spread over all three instances, into one
// Kafka topic (kfake) and one JetStream stream (Debian's nats-server). It
// kills the NATS server so that every spool fills, kills instance 3 with
// SIGKILL, brings NATS back and checks that instances 1 and 2 drain on
// their own; then restarts instance 3 and checks that its spool is
// delivered. In both buses: every acknowledged event once, no event id on
// two events, and one pseudonym per client id whatever the instance.
func TestE2EThreeInstances(t *testing.T) {
	ns := startNATSBinary(t)
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "events"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
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
	secret := filepath.Join(dir, "pseudonym.secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-shared-by-all-instances\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeE2EConfig(t, dir, "multi.yaml", `properties:
  allow: [seq]
pseudonym:
  mode: derived
  secret_file: `+secret+`
destinations:
  - name: kafka
    type: kafka
    batch: {max_events: 500, max_age: 100ms}
    kafka:
      brokers: [`+kc.ListenAddrs()[0]+`]
      topic: events
      key: pseudonym
  - name: bus
    type: nats
    batch: {max_events: 500, max_age: 100ms}
    nats:
      urls: [`+ns.url()+`]
      subject: bg.events
      stream: EVENTS
      ack_timeout: 1s
`)
	data := func(i int) string { return filepath.Join(dir, fmt.Sprintf("data%d", i)) }
	gw := []*gatewayProc{startGateway(t, data(0), cfg), startGateway(t, data(1), cfg), startGateway(t, data(2), cfg)}

	const clients = 40
	var mu sync.Mutex
	acked := map[int64]int{} // seq -> instance
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(from, to int64) {
		var wg sync.WaitGroup
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seq := from + int64(w); seq < to; seq += 3 {
					inst := int(seq % 3)
					body := fmt.Sprintf(`{"site":"multi","event":"load","consent":"analytics","cid":"client-%d","props":{"seq":%d}}`, seq%clients, seq)
					resp, err := client.Post(gw[inst].url("/b"), "text/plain", bytes.NewBufferString(body))
					if err != nil {
						continue
					}
					resp.Body.Close()
					if resp.StatusCode == http.StatusNoContent {
						mu.Lock()
						acked[seq] = inst
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
	}
	n := int64(e2eScale(3000, 1200))
	send(0, n/2)
	ns.kill() // NATS down: the bus destination's records wait in every spool
	send(n/2, n)
	lagOf := func(p *gatewayProc) float64 {
		return metricValue(t, p, `beacongate_upstream_lag_bytes{destination="bus"}`)
	}
	if lagOf(gw[2]) == 0 {
		t.Fatal("instance 3 has nothing waiting for NATS")
	}
	gw[2].kill()
	ns.start()
	deadline := time.Now().Add(30 * time.Second)
	for lagOf(gw[0]) != 0 || lagOf(gw[1]) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("instances 1 and 2 did not drain: lag %v, %v", lagOf(gw[0]), lagOf(gw[1]))
		}
		time.Sleep(50 * time.Millisecond)
	}
	gw[2] = startGateway(t, data(2), cfg) // its spool is delivered now
	deadline = time.Now().Add(30 * time.Second)
	for lagOf(gw[2]) != 0 || metricValue(t, gw[2], `beacongate_upstream_lag_bytes{destination="kafka"}`) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("instance 3 did not drain after its restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, p := range gw {
		if code := p.stop(); code != 0 {
			t.Errorf("exit code after SIGTERM: %d", code)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kt := newBusTally("kafka")
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.ConsumeTopics("events"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	for len(kt.bySeq) < len(acked) && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { kt.add(t, r.Value) })
	}
	cl.Close()
	nt := newBusTally("nats")
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
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
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
			nt.add(t, m.Data())
			k++
		}
		if k == 0 {
			t.Fatalf("stream read stalled at %d of %d", got, info.State.Msgs)
		}
		got += uint64(k)
	}

	perInstance := [3]int{}
	for _, inst := range acked {
		perInstance[inst]++
	}
	for _, b := range []*busTally{kt, nt} {
		lost := 0
		pseudo := map[int64]string{} // client number -> pseudonym
		instances := map[int64]map[int]bool{}
		disagree := 0
		for seq, inst := range acked {
			r, ok := b.bySeq[seq]
			if !ok {
				lost++
				continue
			}
			c := seq % clients
			if instances[c] == nil {
				instances[c] = map[int]bool{}
			}
			instances[c][inst] = true
			if p, ok := pseudo[c]; ok && p != r.Client {
				disagree++
			}
			pseudo[c] = r.Client
		}
		distinct := map[string]bool{}
		for _, p := range pseudo {
			distinct[p] = true
		}
		spread := 0
		for _, s := range instances {
			if len(s) == 3 {
				spread++
			}
		}
		t.Logf("%s: acknowledged %d (per instance %v), delivered %d, lost %d, duplicates %d, event-id collisions %d; %d clients seen through all 3 instances, %d distinct pseudonyms, %d disagreeing",
			b.name, len(acked), perInstance, len(b.bySeq), lost, b.dups, b.collision, spread, len(distinct), disagree)
		if lost != 0 || b.collision != 0 || disagree != 0 || len(distinct) != clients || spread != clients || pseudo[0] == "" {
			t.Errorf("%s: lost %d, id collisions %d, pseudonyms disagreeing %d, distinct %d of %d, clients through all instances %d",
				b.name, lost, b.collision, disagree, len(distinct), clients, spread)
		}
	}
	if nt.dups != 0 {
		t.Errorf("nats: %d duplicates stored despite Nats-Msg-Id", nt.dups)
	}
}
