package upstream

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestKafkaTooLargeRetryCutShortIsNotRefusal: a batch of small records the
// broker refused together with MESSAGE_TOO_LARGE is produced again one
// record at a time; when the send's context ends during that (its
// SendTimeout, or the shutdown's deadline), the records not produced again
// yet were never judged alone. They must make the batch retryable, not be
// reported as refused for good: the shipper would dead-letter them (and
// move the cursor past them) although each fits the broker's limit.
func TestKafkaTooLargeRetryCutShortIsNotRefusal(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, kafkaTopic),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": "2000"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first produce request carries the whole batch (refused as too
	// large); the second is the first record produced alone: the context
	// ends while it is answered.
	var produces atomic.Int32
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if produces.Add(1) == 2 {
			cancel()
		}
		return nil, nil, false
	})
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
	err = s.Send(ctx, &b)
	if produces.Load() < 2 {
		t.Fatalf("%d produce requests; the test needs the batch refused and a record produced alone", produces.Load())
	}
	if err == nil || IsPermanent(err) || len(rejectedOf(err)) > 0 {
		t.Fatalf("Send: %v (permanent %v, %d records rejected); want a retryable error: no record was found too large alone",
			err, IsPermanent(err), len(rejectedOf(err)))
	}
}
