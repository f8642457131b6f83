package upstream

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestNATSRetryPublishesOnlyUnacknowledged: a batch half of whose records
// go to a subject no stream listens on (a new site, a stream listing its
// subjects one by one) fails, and is retried. The retry must publish only
// the records the stream has not acknowledged: before the fix it published
// the whole batch again on every attempt, so the records already stored
// were stored once more per attempt as soon as the stream's duplicate
// window (2 min by default, less than an outage the shipper retries
// through) had passed, and a batch given up on was dead-lettered with them
// (NATSSink kept no Progress), so a replay stored them again.
func TestNATSRetryPublishesOnlyUnacknowledged(t *testing.T) {
	ns := startNATS(t)
	nc := connectNATS(t, ns.url())
	var published atomic.Int64 // messages published on bg.events.a, copies included
	sub, err := nc.Subscribe("bg.events.a", func(*nats.Msg) { published.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	js := newJetStream(t, nc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"bg.events.a"}, Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute}
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	d := natsDest(ns.url())
	s, err := NewNATSSink(*d.NATS)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b Batch
	b.First, b.End = 100, 200
	var onB []int
	for i := range 10 {
		site := "a"
		if i%2 == 1 {
			site = "b"
			onB = append(onB, i)
		}
		b.add(fmt.Appendf(nil, `{"id":"p%d","site":%q,"kind":"beacon"}`, i, site))
	}
	for attempt := range 3 {
		if err := s.Send(ctx, &b); err == nil {
			t.Fatalf("attempt %d: delivered, with no stream on bg.events.b", attempt)
		}
	}
	waitFor(t, "the first attempt's messages on bg.events.a", 5*time.Second, func() bool { return published.Load() >= 5 })
	if err := nc.Flush(); err != nil { // every publish of the sink reached the server before
		t.Fatal(err)
	}
	if n := published.Load(); n != 5 {
		t.Fatalf("%d messages published on bg.events.a over 3 attempts, want 5 (the acknowledged records are not published again)", n)
	}
	pr, ok := any(s).(Progress)
	if !ok {
		t.Fatal("NATSSink keeps no Progress: a batch given up on is dead-lettered with the records the stream stored")
	}
	if idx, ok := pr.Undelivered(&b); !ok || !slices.Equal(idx, onB) {
		t.Fatalf("Undelivered = %v, %v; want %v, true (the records on bg.events.b)", idx, ok, onB)
	}

	cfg.Subjects = append(cfg.Subjects, "bg.events.b")
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, &b); err != nil {
		t.Fatal(err)
	}
	if _, ok := pr.Undelivered(&b); ok {
		t.Fatal("progress kept after the batch was delivered")
	}
	st, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 10 || published.Load() != 5 {
		t.Fatalf("%d messages stored (want 10), %d published on bg.events.a (want 5)", info.State.Msgs, published.Load())
	}
}

// TestNATSOtherStreamStoresNothing: with Stream set, a subject another
// stream listens on (the configured one recreated under another name, a
// stream of another team) is refused by the server, and nothing is stored
// there. Before the fix the messages were published without the
// expected-stream header: the other stream stored every record, and only
// then did the sink read the acknowledgement's stream name and retry the
// batch, storing the records there again on every retry once the
// duplicate window had passed, into a stream the configuration says is not
// theirs (its retention and readers are not this destination's).
func TestNATSOtherStreamStoresNothing(t *testing.T) {
	ns := startNATS(t)
	nc := connectNATS(t, ns.url())
	js := newJetStream(t, nc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	other, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"bg.>"}, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	d := natsDest(ns.url()) // Stream: EVENTS
	s, err := NewNATSSink(*d.NATS)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b Batch
	for i := range 10 {
		b.add(fmt.Appendf(nil, `{"id":"o%d","site":"a","kind":"beacon"}`, i))
	}
	for attempt := range 2 {
		err := s.Send(ctx, &b)
		if err == nil {
			t.Fatalf("attempt %d: delivered, to stream OTHER", attempt)
		}
		if IsPermanent(err) {
			t.Fatalf("attempt %d: %v is permanent; want retried until stream or subject is fixed", attempt, err)
		}
	}
	info, err := other.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 0 {
		t.Fatalf("stream OTHER stored %d messages of a destination whose stream is EVENTS, want 0", info.State.Msgs)
	}
	if err := s.Send(ctx, &b); err == nil || !strings.Contains(err.Error(), "another stream than the destination's stream listens on the subject") {
		t.Fatalf("the error does not say what is wrong: %v", err)
	}
}
