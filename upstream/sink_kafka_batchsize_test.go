package upstream

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// TestKafkaBrokerBatchLimitNotRecordLimit: the broker's max.message.bytes
// (here 2,000 bytes) bounds a whole produce batch, which the client fills up
// to 1 MB. A batch of small records, each far below the limit but together
// above it, is refused by the broker with MESSAGE_TOO_LARGE for every record
// of it: none of them is a record too large, and none may be dead-lettered.
func TestKafkaBrokerBatchLimitNotRecordLimit(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, kafkaTopic),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": "2000"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cons := consumeKafka(t, c.ListenAddrs())
	s, err := NewKafkaSink(KafkaOptions{Brokers: c.ListenAddrs(), Topic: kafkaTopic, KeyField: "site",
		Compression: CodecNone, ProduceTimeout: 2 * time.Second, Extra: fastKafkaRetries})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b Batch
	for i := range 40 {
		b.add(fmt.Appendf(nil, `{"v":1,"id":"small%03d","site":"s","pad":%q}`, i, strings.Repeat("x", 150)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Send(ctx, &b); err != nil {
		t.Fatalf("Send: %v (permanent %v, %d records rejected); every record fits the broker's limit alone",
			err, IsPermanent(err), len(rejectedOf(err)))
	}
	waitFor(t, "the consumer", 10*time.Second, func() bool { return cons.ids.n.Load() >= 40 })
}
