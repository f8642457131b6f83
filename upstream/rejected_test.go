package upstream

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"
)

// rejectOddSink takes every batch but refuses its records whose "n" is
// odd, as an ad platform refuses single events; it counts how often it saw
// each record.
type rejectOddSink struct {
	mu   sync.Mutex
	seen map[string]int
}

func (s *rejectOddSink) Send(_ context.Context, b *Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rej []int
	for i := range b.Len() {
		r := b.Record(i)
		s.seen[string(r)]++
		n, _ := strconv.Atoi(string(jsonStringField(r, "n")))
		if n%2 == 1 {
			rej = append(rej, i)
		}
	}
	if len(rej) == 0 {
		return nil
	}
	return RejectedRecords(errors.New("2 events invalid"), rej)
}

func (s *rejectOddSink) Close() error { return nil }

// TestRejectedRecordsDeadLetteredAlone: records a destination refuses
// while taking the rest of the batch go to the dead letters on their own;
// the good records are delivered once, never sent again.
func TestRejectedRecordsDeadLetteredAlone(t *testing.T) {
	data := t.TempDir()
	sink := &rejectOddSink{seen: map[string]int{}}
	o := Options{DataDir: data, Destinations: []DestinationOptions{
		{Name: "ads", Sink: sink, Batch: BatchOptions{MaxEvents: 10, MaxAge: 5 * time.Millisecond}, Retry: fastRetry},
	}}
	p := openP(t, o)
	const total = 40
	for i := range total {
		if err := p.Append([]byte(`{"id":"`+strconv.Itoa(i)+`","n":"`+strconv.Itoa(i)+`"}`), RouteTo(0)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every record sent", 10*time.Second, func() bool {
		st := p.Stats()[0]
		return st.Records+st.DeadRecords == total
	})
	closeP(t, p)
	st := p.Stats()[0]
	if st.Records != total/2 || st.DeadRecords != total/2 || st.Retries != 0 {
		t.Fatalf("stats %+v: want %d delivered, %d dead, no retries", st, total/2, total/2)
	}
	for r, n := range sink.seen {
		if n != 1 {
			t.Fatalf("record %s sent %d times", r, n)
		}
	}
	dls, err := ListDeadLetters(DeadLetterDir(o, "ads"))
	if err != nil {
		t.Fatal(err)
	}
	recs := 0
	for _, d := range dls {
		if d.Err != nil || d.Reason != "2 events invalid" {
			t.Fatalf("dead letter %+v", d)
		}
		recs += d.Records
		for _, line := range bytes.Split(bytes.TrimSpace(mustRead(t, d.Path)), []byte("\n")) {
			n, _ := strconv.Atoi(string(jsonStringField(line, "n")))
			if n%2 == 0 {
				t.Fatalf("good record %s dead-lettered", line)
			}
		}
	}
	if recs != total/2 {
		t.Fatalf("%d records dead-lettered, want %d", recs, total/2)
	}
}
