package adplatform_test

import (
	"context"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/adplatform"
	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

// TestGivenUpBatchDeadLettersOnlyItsUndeliveredEvents: through the real
// shipper and spool, GA4 takes the first request of a batch (25 events),
// then refuses the token until the batch is dead-lettered. The dead letter
// must hold only the 35 events no request delivered: before the fix it
// held the whole batch, so the replay the README prescribes once the
// token is fixed sent the first 25 to GA4 a second time (GA4 has no event
// id to drop them by).
func TestGivenUpBatchDeadLettersOnlyItsUndeliveredEvents(t *testing.T) {
	// One request at a time: the script answers the first to arrive.
	srv, s, _, _ := setup(t, adplatform.GA4, func(o *adplatform.Options) { o.MaxInFlight = 1 })
	refused := contract.Answer{Status: 401, Body: `{"error":"unauthorized"}`}
	srv.Script(contract.Answer{}, refused, refused, refused, refused, refused, refused, refused, refused)
	data := t.TempDir()
	o := upstream.Options{DataDir: data, Clock: clock.Fixed(testNow), Destinations: []upstream.DestinationOptions{{Name: "ads", Sink: s,
		Batch: upstream.BatchOptions{MaxEvents: 500, MaxAge: 10 * time.Millisecond},
		Retry: upstream.RetryOptions{Initial: time.Millisecond, Max: 5 * time.Millisecond, AuthDeadLetterAfter: time.Nanosecond}}}}
	recs := make([][]byte, 60)
	for i := range recs {
		recs[i] = rec(i, "one-client", false) // one client: requests of 25
	}
	p, err := upstream.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := p.Append(r, upstream.RouteTo(0)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for p.Stats()[0].DeadRecords == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	delivered := map[string]bool{}
	for _, e := range srv.Events() {
		delivered[string(e.Raw)] = true
	}
	if len(delivered) != 25 {
		t.Fatalf("%d events delivered before the refusals; want the first request's 25", len(delivered))
	}
	dls, err := upstream.ListDeadLetters(upstream.DeadLetterDir(o, "ads"))
	if err != nil {
		t.Fatal(err)
	}
	dead := 0
	for _, d := range dls {
		dead += d.Records
	}
	if dead != 35 {
		t.Fatalf("%d records in the dead letters %+v; want the 35 no request delivered", dead, dls)
	}

	// The replay, once the token works again (what is left of the
	// scripted refusals is waited out): every event reaches GA4 once.
	if _, err := upstream.ReplayDeadLetters(o, "ads", upstream.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	o.Destinations[0].Retry.AuthDeadLetterAfter = time.Hour
	p, err = upstream.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(15 * time.Second)
	for srv.Stats().Events < len(recs) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := p.Close(ctx2); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range srv.Events() {
		seen[string(e.Raw)]++
		if seen[string(e.Raw)] > 1 {
			t.Fatalf("event delivered twice: %s", e.Raw)
		}
	}
	if len(seen) != len(recs) {
		t.Fatalf("%d distinct events delivered; want %d", len(seen), len(recs))
	}
}
