package upstream

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKafkaHeaders: every Kafka record carries the event id, policy version
// and consent state as headers.
func TestKafkaHeaders(t *testing.T) {
	c := newKafka(t)
	s, err := NewKafkaSink(KafkaOptions{Brokers: c.ListenAddrs(), Topic: kafkaTopic, KeyField: "site", CheckTopic: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b Batch
	b.add([]byte(`{"id":"e1","site":"s","consent":{"state":"ads","purposes":["ads"]},"policy":"abcdef012345"}`))
	b.add([]byte(`{"id":"e2","site":"s","consent":{"signal":"none","state":"none"},"policy":"abcdef012345"}`))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Send(ctx, &b); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(kafkaTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := map[string]map[string]string{}
	for len(got) < 2 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			h := map[string]string{}
			for _, x := range r.Headers {
				h[x.Key] = string(x.Value)
			}
			got[h[KafkaHeaderEventID]] = h
		})
	}
	if got["e1"][KafkaHeaderConsent] != "ads" || got["e1"][KafkaHeaderPolicy] != "abcdef012345" ||
		got["e2"][KafkaHeaderConsent] != "none" || len(got["e2"]) != 3 {
		t.Fatalf("headers %v", got)
	}
}

// TestKafkaTopicCheck: with CheckTopic, a missing topic fails NewKafkaSink
// with ErrNoTopic and a message naming it; brokers that cannot be reached
// do not (events wait in the spool).
func TestKafkaTopicCheck(t *testing.T) {
	c := newKafka(t)
	_, err := NewKafkaSink(KafkaOptions{Brokers: c.ListenAddrs(), Topic: "no-such-topic", CheckTopic: true})
	if !errors.Is(err, ErrNoTopic) || !strings.Contains(err.Error(), "the brokers have no topic no-such-topic; create it") {
		t.Fatalf("missing topic: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs bytes.Buffer
	s, err := NewKafkaSink(KafkaOptions{Brokers: []string{addr}, Topic: kafkaTopic, CheckTopic: true, CheckTimeout: 500 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("unreachable brokers: %v", err)
	}
	s.Close()
	// The documented warning: without it a start with the brokers down
	// looked like a start whose topic was checked.
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "the topic could not be checked at start") {
		t.Errorf("unreachable brokers logged %q; want a warning that the topic was not checked", logs.String())
	}
}
