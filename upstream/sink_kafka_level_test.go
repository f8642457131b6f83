package upstream

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestKafkaCompressionLevel: the destination's compression level reaches
// Kafka's record batches. Before the fix it was dropped for a kafka
// destination (level: 9 compressed as franz-go's default), without a word.
func TestKafkaCompressionLevel(t *testing.T) {
	wire := func(level int) int64 {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, kafkaTopic))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var n atomic.Int64
		c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			for _, tp := range req.(*kmsg.ProduceRequest).Topics {
				for _, p := range tp.Partitions {
					n.Add(int64(len(p.Records)))
				}
			}
			return nil, nil, false
		})
		d := DestinationOptions{Name: "kafka", Compression: CodecZstd, CompressionLevel: level,
			Kafka: &KafkaOptions{Brokers: c.ListenAddrs(), Topic: kafkaTopic, ProduceTimeout: 2 * time.Second}}
		sink, err := buildSink(&d, t.TempDir(), nil, DurabilityProcess, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		var b Batch
		for i := range 300 {
			b.add(fmt.Appendf(nil, `{"v":1,"id":"id%07d","site":"shop-%d","event":"view_%d","url":"https://shop.example/p/%d?q=%d","n":%d}`,
				i*7919%100003, i%13, i%17, i*31%1009, i*i%977, i*i*i%100019))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sink.Send(ctx, &b); err != nil {
			t.Fatal(err)
		}
		return n.Load()
	}
	fast, best := wire(1), wire(9)
	if best >= fast {
		t.Fatalf("record batches of %d bytes at level 9, %d at level 1; the level must reach the producer", best, fast)
	}
}
