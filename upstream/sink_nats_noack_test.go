package upstream

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestNATSStartupCheckRefusesNoAckStream: a stream created with no_ack
// stores every message and acknowledges none. The gateway counts a record
// delivered only on its acknowledgement, so such a destination never
// delivered a batch ("timeout waiting for ack", retried for ever, the
// spool filling behind it) while the stream stored each retry again once
// its duplicate window had passed; the startup check took the stream.
// It now refuses it, saying why.
func TestNATSStartupCheckRefusesNoAckStream(t *testing.T) {
	ns := startNATS(t)
	js := newJetStream(t, connectNATS(t, ns.url()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"bg.>"},
		NoAck: true, Duplicates: time.Minute}); err != nil {
		t.Fatal(err)
	}
	for _, stream := range []string{"", "EVENTS"} {
		o := NATSOptions{URLs: []string{ns.url()}, Subject: "bg.events", SubjectBy: NATSSubjectSite,
			Stream: stream, CheckStream: true, AckTimeout: time.Second}
		s, err := NewNATSSink(o)
		if s != nil {
			s.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "no_ack") {
			t.Errorf("stream %q: NewNATSSink on a no_ack stream: %v; want an error naming no_ack", stream, err)
		}
	}
}
