package wiring

import (
	"testing"
	"time"
)

// TestNATSSendTimeoutCoversAckTimeout: one send of a nats destination
// waits for its messages' acknowledgements, each up to ack_timeout
// (100ms..5m), so its bound must be longer: until 2026-12-06 every send was
// cut at the shipper's default 30 s, and an ack_timeout of 2m did nothing.
func TestNATSSendTimeoutCoversAckTimeout(t *testing.T) {
	for ack, want := range map[string]time.Duration{"5s": 30 * time.Second, "2m": 4 * time.Minute, "5m": 10 * time.Minute} {
		cfg := parse(t, "destinations:\n  - name: bus\n    type: nats\n    nats: {urls: [\"nats://127.0.0.1:4222\"], subject: bg.events, ack_timeout: "+ack+"}\n")
		o, err := PipelineOptions(cfg, nil, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.Destinations[0].SendTimeout; got != want {
			t.Errorf("ack_timeout %s: send timeout %v; want %v", ack, got, want)
		}
	}
}
