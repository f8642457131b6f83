package upstream

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestKafkaRetryProducesOnlyUnacknowledged: one partition of the topic
// refuses produce requests (a retriable error) until the records bound
// there time out, while the other partition takes its records. The batch
// is retried; the retry must produce only the records Kafka did not
// acknowledge. Before the fix every retry produced the whole batch again,
// so each record of a healthy partition was stored once more per retry for
// as long as another partition was unavailable.
func TestKafkaRetryProducesOnlyUnacknowledged(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, kafkaTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cons := consumeKafka(t, c.ListenAddrs())
	down := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Partitions: []int32{1},
		Err: kerr.NotEnoughReplicas, Count: -1})
	s, err := NewKafkaSink(KafkaOptions{Brokers: c.ListenAddrs(), Topic: kafkaTopic, KeyField: "site",
		ProduceTimeout: time.Second, Extra: fastKafkaRetries})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := Batch{Destination: "kafka", First: 100, End: 200}
	var ids []string
	for i := range 40 {
		id := fmt.Sprintf("p%03d", i)
		ids = append(ids, id)
		b.add(fmt.Appendf(nil, `{"v":1,"id":%q,"site":"site-%d"}`, id, i%8))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Send(ctx, &b); err == nil {
		t.Fatal("Send delivered although partition 1 refused its records")
	}
	if down.Hits() == 0 {
		t.Fatal("no produce request reached partition 1")
	}
	// The other partition's records are in Kafka already.
	waitFor(t, "the healthy partition's records", 10*time.Second, func() bool { return cons.ids.n.Load() > 0 })
	down.Remove()
	if err := s.Send(ctx, &b); err != nil {
		t.Fatalf("retry: %v", err)
	}
	waitFor(t, "every record in Kafka", 10*time.Second, func() bool { return cons.ids.countMissing(ids) == 0 })
	time.Sleep(200 * time.Millisecond) // copies, if any, arrive with the rest
	if _, dups := cons.ids.compare(ids); dups != 0 {
		t.Fatalf("%d records stored twice; the retry must produce only the records Kafka had not acknowledged", dups)
	}
}
