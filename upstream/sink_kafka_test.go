package upstream

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const kafkaTopic = "events"

func newKafka(t testing.TB) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, kafkaTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// kafkaConsumer reads the topic from the start into ids, checking each
// record's key against its "site" field and noting the compression.
type kafkaConsumer struct {
	ids       *idSet
	zstd      atomic.Int64
	badKey    atomic.Int64
	keyParts  sync.Map // key -> partition
	splitKeys atomic.Int64
	cancel    context.CancelFunc
	done      chan struct{}
}

func consumeKafka(t testing.TB, addrs []string) *kafkaConsumer {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(kafkaTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	k := &kafkaConsumer{ids: newIDSet(), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(k.done)
		defer cl.Close()
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				k.ids.add(idOf(r.Value))
				if r.Attrs.CompressionType() == 4 {
					k.zstd.Add(1)
				}
				if string(r.Key) != string(jsonStringField(r.Value, "site")) {
					k.badKey.Add(1)
				}
				if p, loaded := k.keyParts.LoadOrStore(string(r.Key), r.Partition); loaded && p.(int32) != r.Partition {
					k.splitKeys.Add(1)
				}
			})
		}
	}()
	t.Cleanup(k.stop)
	return k
}

func (k *kafkaConsumer) stop() {
	k.cancel()
	<-k.done
}

func kafkaDest(addrs []string) DestinationOptions {
	return DestinationOptions{Name: "kafka",
		Kafka: &KafkaOptions{Brokers: addrs, Topic: kafkaTopic, KeyField: "site", ProduceTimeout: 2 * time.Second,
			Extra: fastKafkaRetries},
		Batch: BatchOptions{MaxAge: 20 * time.Millisecond}, Retry: fastRetry, SendTimeout: 5 * time.Second}
}

// fastKafkaRetries shortens franz-go's own waits after a produce error
// (metadata refresh at most every 5 s, backoff up to 2.5 s) for tests.
var fastKafkaRetries = []kgo.Opt{
	kgo.MetadataMinAge(20 * time.Millisecond),
	kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }),
}

// TestKafkaDownThenBack: produce requests fail (a retriable broker error,
// then dropped connections) for a while under load; then the broker
// recovers. Every acknowledged event must be in the topic.
func TestKafkaDownThenBack(t *testing.T) {
	c := newKafka(t)
	addrs := c.ListenAddrs()
	cons := consumeKafka(t, addrs)
	down := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotEnoughReplicas, Count: -1})
	var drops atomic.Int64
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		if drops.Load() == 3 {
			c.DropControl() // wins over the earlier KeepControl
			return nil, nil, false
		}
		drops.Add(1)
		c.KeepControl()
		return nil, errors.New("dropped"), true // closes the connection
	})
	d := kafkaDest(addrs)
	d.Kafka.ProduceTimeout = time.Second // so that franz-go gives up and the shipper retries too
	p := openP(t, Options{Destinations: []DestinationOptions{d}})
	var a appender
	a.run(t, p, "k", 4, 1000, RouteTo(0))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := down.Wait(ctx, 5); err != nil { // let some attempts fail
		t.Fatalf("waiting for refused produce requests: %v", err)
	}
	waitFor(t, "a shipper retry", 10*time.Second, func() bool { return p.Stats()[0].Retries > 0 })
	if cons.ids.n.Load() != 0 {
		t.Fatal("records produced while the broker refused them")
	}
	failed := down.Hits()
	down.Remove()
	acked := a.ackedIDs()
	waitFor(t, "every acknowledged event in Kafka", 30*time.Second, func() bool { return cons.ids.countMissing(acked) == 0 })
	st := p.Stats()[0]
	closeP(t, p)
	missing, dups := cons.ids.compare(acked)
	if len(acked) != 4000 || len(missing) != 0 {
		t.Fatalf("acked %d, lost %d", len(acked), len(missing))
	}
	if failed < 5 || drops.Load() != 3 {
		t.Fatalf("faults not hit: %d refusals, %d drops", failed, drops.Load())
	}
	if cons.badKey.Load() != 0 || cons.splitKeys.Load() != 0 {
		t.Fatalf("%d records with a wrong key, %d keys over several partitions", cons.badKey.Load(), cons.splitKeys.Load())
	}
	if cons.zstd.Load() == 0 {
		t.Fatal("no zstd-compressed record batch")
	}
	t.Logf("acked %d, lost 0, duplicates %d, refused produce requests %d, dropped connections %d, shipper retries %d",
		len(acked), dups, failed, drops.Load(), st.Retries)
}

// TestKafkaPermanentError: a record batch the broker refuses for good
// (MESSAGE_TOO_LARGE, also for each record produced alone) goes to the
// dead-letter folder; the rest flows.
func TestKafkaPermanentError(t *testing.T) {
	c := newKafka(t)
	addrs := c.ListenAddrs()
	cons := consumeKafka(t, addrs)
	fault := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.MessageTooLarge, Count: -1})
	data := t.TempDir()
	d := kafkaDest(addrs)
	d.Batch.MaxEvents = 50
	p := openP(t, Options{DataDir: data, Destinations: []DestinationOptions{d}})
	var a appender
	a.run(t, p, "q", 1, 50, RouteTo(0))
	waitFor(t, "the dead letter", 10*time.Second, func() bool { return p.Stats()[0].DeadBatches == 1 })
	fault.Remove()
	a.run(t, p, "r", 1, 50, RouteTo(0))
	waitFor(t, "the next batch", 10*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	closeP(t, p)
	dl := newIDSet()
	readFiles := func(glob string) []string {
		m, _ := filepath.Glob(filepath.Join(data, "deadletter", "kafka", glob))
		return m
	}
	if files := readFiles("*.ndjson"); len(files) != 1 {
		t.Fatalf("dead-letter files: %q", readFiles("*"))
	}
	for _, f := range readFiles("*.ndjson") {
		dl.addNDJSON(t, mustRead(t, f))
	}
	// The refused batch may have partly landed on other partitions; what
	// matters is that every record is in Kafka or in the dead letter.
	waitFor(t, "consumer", 10*time.Second, func() bool { return cons.ids.n.Load() >= 50 })
	for _, id := range a.ackedIDs() {
		if !cons.ids.has(id) && !dl.has(id) {
			t.Fatalf("%s neither in Kafka nor in the dead letter", id)
		}
	}
}

func TestKafkaSASLOptions(t *testing.T) {
	for _, m := range []string{"PLAIN", "SCRAM-SHA-256", "scram-sha-512"} {
		if mech, err := saslMechanism(SASLOptions{Mechanism: m, User: "u", Password: "p"}); err != nil || mech == nil {
			t.Fatalf("%s: %v", m, err)
		}
	}
}

// TestKafkaSCRAM produces through a cluster that requires SCRAM-SHA-256.
func TestKafkaSCRAM(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, kafkaTopic),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "gate", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := NewKafkaSink(KafkaOptions{Brokers: c.ListenAddrs(), Topic: kafkaTopic,
		SASL: SASLOptions{Mechanism: "SCRAM-SHA-256", User: "gate", Password: "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b Batch
	b.add([]byte(`{"id":"s1"}`))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Send(ctx, &b); err != nil {
		t.Fatalf("Send with SCRAM: %v", err)
	}
}

func TestClassifyKafka(t *testing.T) {
	f := func(err error, permanent bool, refusal Refusal) {
		t.Helper()
		got := classifyKafka(err)
		if IsPermanent(got) != permanent || RefusalOf(got) != refusal {
			t.Fatalf("%v: permanent %v, refusal %v", err, IsPermanent(got), RefusalOf(got))
		}
	}
	f(kerr.MessageTooLarge, true, RefusalNone)
	f(kerr.TopicAuthorizationFailed, false, RefusalAuth)
	f(fmt.Errorf("produce: %w", kerr.SaslAuthenticationFailed), false, RefusalAuth)
	f(kerr.NotLeaderForPartition, false, RefusalNone)
}

// TestKafkaTooLargeRecordDeadLetteredAlone: one record of a batch larger
// than the producer's record batch limit (franz-go's 1,000,012 bytes by
// default, below the spool's 1 MiB record limit) is failed by the client
// with MESSAGE_TOO_LARGE while the batch's other records are produced.
// Before the fix the whole batch went to the dead letters: the records
// Kafka had taken were counted dead-lettered, and a replay produced them a
// second time. Now only the record Kafka refused goes there.
func TestKafkaTooLargeRecordDeadLetteredAlone(t *testing.T) {
	c := newKafka(t)
	addrs := c.ListenAddrs()
	cons := consumeKafka(t, addrs)
	data := t.TempDir()
	d := kafkaDest(addrs)
	d.Batch.MaxEvents = 20
	d.Batch.MaxBytes = 4 << 20
	d.Batch.MaxAge = time.Hour // the batch goes out full: all 20 in one
	p := openP(t, Options{DataDir: data, Destinations: []DestinationOptions{d}})
	var ids []string
	for i := range 20 {
		id := fmt.Sprintf("big%03d", i)
		r := fmt.Sprintf(`{"v":1,"id":%q,"site":"s"}`, id)
		if i == 7 {
			r = fmt.Sprintf(`{"v":1,"id":%q,"site":"s","pad":%q}`, id, strings.Repeat("x", 1_010_000))
		}
		if err := p.Append([]byte(r), RouteTo(0)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	waitFor(t, "the batch delivered or dead-lettered", 10*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	st := p.Stats()[0]
	closeP(t, p)
	dl := newIDSet()
	files, _ := filepath.Glob(filepath.Join(data, "deadletter", "kafka", "*.ndjson*"))
	for _, f := range files {
		recs, err := readDeadLetter(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			dl.add(idOf(r))
		}
	}
	waitFor(t, "consumer", 10*time.Second, func() bool { return cons.ids.n.Load() >= 19 })
	if dl.n.Load() != 1 || !dl.has("big007") || st.DeadRecords != 1 || st.Records != 19 {
		t.Fatalf("dead letters hold %d records (big007: %v), stats %d dead-lettered, %d delivered; want only big007 dead-lettered, 19 delivered",
			dl.n.Load(), dl.has("big007"), st.DeadRecords, st.Records)
	}
	for _, id := range ids {
		if id != "big007" && !cons.ids.has(id) {
			t.Fatalf("%s not in Kafka", id)
		}
	}
}

// TestKafkaTooLargeRecordAmongRetryableFailures: a batch holding a record
// too large for the producer (failed by the client at once with
// MESSAGE_TOO_LARGE) while the broker refuses the others for a reason a
// retry can fix (here an authorization refusal, retried for
// AuthDeadLetterAfter; a broker outage or a send timeout alike). The batch
// must be retried, not dead-lettered: its other records were never
// produced. Before the fix the first error of ProduceSync's results, the
// too-large record's, made the whole batch permanent.
func TestKafkaTooLargeRecordAmongRetryableFailures(t *testing.T) {
	c := newKafka(t)
	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.TopicAuthorizationFailed, Count: -1})
	s, err := NewKafkaSink(KafkaOptions{Brokers: c.ListenAddrs(), Topic: kafkaTopic, KeyField: "site",
		ProduceTimeout: 2 * time.Second, Extra: fastKafkaRetries})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b Batch
	for i := range 20 {
		r := fmt.Sprintf(`{"v":1,"id":"big%03d","site":"s"}`, i)
		if i == 0 {
			r = fmt.Sprintf(`{"v":1,"id":"big%03d","site":"s","pad":%q}`, i, strings.Repeat("x", 1_010_000))
		}
		b.add([]byte(r))
	}
	err = s.Send(context.Background(), &b)
	if err == nil || IsPermanent(err) || rejectedOf(err) != nil || RefusalOf(err) != RefusalAuth {
		t.Fatalf("Send: %v (permanent %v, rejected %v, refusal %v); want an authorization refusal, retried",
			err, IsPermanent(err), rejectedOf(err), RefusalOf(err))
	}
}
