package upstream

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestKafkaOutageIsRetriedAndShown: a broker that goes down while a
// produce request is in flight (it reads the request and drops the
// connection, as a broker does when it crashes or restarts) leaves the
// request's records in doubt. franz-go's idempotent producer by default
// never fails such records, neither on the send's context nor on
// RecordDeliveryTimeout: it retries them for as long as the broker is
// down. Send then did not return for the whole outage: no retry was
// counted, failing_seconds stayed 0 (so BeacongateDestinationFailing
// never fired), nothing was logged, and ProduceTimeout bounded nothing.
// Each attempt must end within the send's timeout, be counted and shown,
// and when the broker is back every acknowledged record must arrive.
func TestKafkaOutageIsRetriedAndShown(t *testing.T) {
	c := newKafka(t)
	addrs := c.ListenAddrs()
	cons := consumeKafka(t, addrs)
	var down atomic.Bool
	var dropped atomic.Int64
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !down.Load() {
			return nil, nil, false // the cluster answers
		}
		dropped.Add(1)
		return nil, errors.New("broker down"), true // closes the connection
	})
	d := kafkaDest(addrs)
	d.Kafka.ProduceTimeout = time.Second
	d.SendTimeout = 300 * time.Millisecond
	reg := prometheus.NewRegistry()
	p := openP(t, Options{Registerer: reg, Destinations: []DestinationOptions{d}})
	var a appender
	a.run(t, p, "k", 1, 20, RouteTo(0))
	waitFor(t, "the first records in the topic", 10*time.Second, func() bool { return cons.ids.n.Load() >= 20 })

	down.Store(true)
	a.run(t, p, "m", 2, 100, RouteTo(0))
	waitFor(t, "the broker to drop a produce request", 10*time.Second, func() bool { return dropped.Load() > 0 })
	// Well beyond SendTimeout and ProduceTimeout: several attempts must
	// have ended, each counted as a retry.
	waitFor(t, "failed attempts counted while the broker is down", 20*time.Second, func() bool {
		return p.Stats()[0].Retries >= 3
	})
	if g := metricSum(t, reg, "beacongate_upstream_failing_seconds"); g <= 0 {
		t.Fatalf("failing_seconds = %v while every attempt fails", g)
	}

	down.Store(false)
	acked := a.ackedIDs()
	waitFor(t, "every acknowledged record in the topic", 30*time.Second, func() bool { return cons.ids.countMissing(acked) == 0 })
	waitFor(t, "failing_seconds back to 0", 10*time.Second, func() bool {
		return metricSum(t, reg, "beacongate_upstream_failing_seconds") == 0
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	_, dups := cons.ids.compare(acked)
	t.Logf("acked %d, lost 0, duplicates %d, produce requests dropped %d, retries %d", len(acked), dups, dropped.Load(), p.Stats()[0].Retries)
}
