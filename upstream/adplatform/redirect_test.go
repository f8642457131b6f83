package adplatform_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/adplatform"
	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

// TestRedirectIsARefusal: an ad platform endpoint that answers with a
// redirect (an endpoint moved, a proxy in the way) is a redirect refusal,
// as for the HTTP destination: retried, counted as a redirect, named by the
// Location's host only, and dead-lettered after
// retry.redirect_dead_letter_after. Before the fix a 3xx was a plain
// retry: the batch was sent again for ever, the setting had no effect and
// every later event of the destination stayed behind it.
func TestRedirectIsARefusal(t *testing.T) {
	moved := contract.Answer{Status: 301, Location: "https://elsewhere.example/v23.0/1/events?access_token=leak", Body: `{}`}
	for _, p := range []adplatform.Platform{adplatform.Meta, adplatform.GA4, adplatform.TikTok} {
		srv, s, _, _ := setup(t, p, nil)
		srv.Script(moved)
		err := send(s, batch(0, records(3, true)...))
		if upstream.RefusalOf(err) != upstream.RefusalRedirect {
			t.Fatalf("%s: a 301 gave %v (refusal %v); want a redirect refusal", p, err, upstream.RefusalOf(err))
		}
		if msg := err.Error(); !strings.Contains(msg, "elsewhere.example") || strings.Contains(msg, "leak") || strings.Contains(msg, token) {
			t.Fatalf("%s: error %q; want the Location's host only", p, msg)
		}
	}

	// Through the shipper: the batch goes to the dead letters once the
	// redirects outlast the window, and the destination moves on.
	srv, s, _, _ := setup(t, adplatform.Meta, nil)
	answers := make([]contract.Answer, 50)
	for i := range answers {
		answers[i] = moved
	}
	srv.Script(answers...)
	o := upstream.Options{DataDir: t.TempDir(), Clock: clock.Fixed(testNow), Destinations: []upstream.DestinationOptions{{Name: "ads", Sink: s,
		Batch: upstream.BatchOptions{MaxEvents: 500, MaxAge: 10 * time.Millisecond},
		Retry: upstream.RetryOptions{Initial: time.Millisecond, Max: 5 * time.Millisecond, RedirectDeadLetterAfter: time.Nanosecond}}}}
	pl, err := upstream.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records(20, true) {
		if err := pl.Append(r, upstream.RouteTo(0)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for pl.Stats()[0].DeadRecords == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pl.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := pl.Stats()[0]; st.DeadRecords != 20 {
		t.Fatalf("after %d redirects: stats %+v; want the 20 events dead-lettered after redirect_dead_letter_after", srv.Stats().Requests, st)
	}
}
