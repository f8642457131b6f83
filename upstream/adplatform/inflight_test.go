package adplatform_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/adplatform"
	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

// visitors returns n GA4 records of n visitors (clients v0, v1, ...), one
// event each, the event's id (params.event_id, which the GA4 contract
// server reports as Event.ID) ev<i>.
func visitors(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = withEventID(rec(i, fmt.Sprintf("v%d", i), false), fmt.Sprintf("ev%d", i))
	}
	return out
}

func withEventID(r []byte, id string) []byte {
	return []byte(strings.Replace(string(r), `"plan":"pro"`, `"plan":"pro","event_id":"`+id+`"`, 1))
}

// waves holds the requests that reach a contract server (its Before hook)
// until n of them are there together, or all total have arrived, then lets
// those go; it counts the most there at once. A request there is one the
// sink has in flight, so that count is never above the sink's bound, and
// reaches n only if the sink sends n at once. No clock decides: a sink
// that never has n in flight would wait for ever, so the safety release
// after 10 s only lets such a test end (and fail on most).
type waves struct {
	n, total  int
	firstOnly bool // hold the first wave only

	mu                 sync.Mutex
	cur, most, arrived int
	release            chan struct{}
	open               bool // firstOnly and the first wave went
	timedOut           bool
}

func newWaves(n, total int) *waves { return &waves{n: n, total: total, release: make(chan struct{})} }

func (w *waves) hold(*http.Request, []byte) contract.Answer {
	w.mu.Lock()
	w.cur++
	w.arrived++
	w.most = max(w.most, w.cur)
	ch := w.release
	if w.open {
		ch = nil
	} else if w.cur >= w.n || w.arrived >= w.total {
		close(ch)
		ch = nil
		w.release = make(chan struct{})
		w.open = w.firstOnly
	}
	w.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			w.mu.Lock()
			w.timedOut, w.open = true, true // hold no more
			w.mu.Unlock()
		}
	}
	w.mu.Lock()
	w.cur--
	w.mu.Unlock()
	return contract.Answer{}
}

func (w *waves) stats() (most, arrived int, timedOut bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.most, w.arrived, w.timedOut
}

// TestGA4RequestsInFlight: GA4 takes 25 events of one client per request,
// so a batch of 120 visitors is 120 requests. Before the fix they went
// one after the other: at 50-100 ms a round trip to Google, 1,000
// visitors took 50-100 s, longer than the shipper's bound on one send
// (twice the destination's timeout, 60 s by default), and a site with more
// than 10-20 GA4-bound visitors a second built a backlog that never
// drained. Now the sink keeps DefaultMaxInFlight requests in flight: the
// server sees that many at once, never more, and each event once.
func TestGA4RequestsInFlight(t *testing.T) {
	const n = 120
	srv, s, _, reg := setup(t, adplatform.GA4, nil)
	w := newWaves(adplatform.DefaultMaxInFlight, n)
	srv.Before(w.hold)
	if err := send(s, batch(0, visitors(n)...)); err != nil {
		t.Fatal(err)
	}
	most, arrived, timedOut := w.stats()
	if most != 8 || timedOut {
		t.Fatalf("at most %d requests in flight (a wave timed out: %v); want 8, never more", most, timedOut)
	}
	st := srv.Stats()
	if arrived != n || st.Requests != n || st.Events != n || len(st.Refused) > 0 {
		t.Fatalf("%d requests arrived, stats %+v; want %d requests of one event each", arrived, st, n)
	}
	seen := map[string]bool{}
	for _, e := range srv.Events() {
		if seen[e.ID] {
			t.Fatalf("event %s delivered twice", e.ID)
		}
		seen[e.ID] = true
	}
	if got := counter(t, reg, "beacongate_upstream_platform_events_total", nil); got != n {
		t.Fatalf("events_total %v; want %d", got, n)
	}
	if got := counter(t, reg, "beacongate_upstream_platform_requests_total", map[string]string{"status": "2xx"}); got != n {
		t.Fatalf("requests_total{2xx} %v; want %d", got, n)
	}
}

// TestCancelStopsNewRequests: once the shipper's context ends (its send
// timeout, a shutdown), the sink starts no further request: those in
// flight end with it, and the batch comes back to be retried, with none
// of its events taken as delivered.
func TestCancelStopsNewRequests(t *testing.T) {
	const n = 40
	srv, s, _, reg := setup(t, adplatform.GA4, nil)
	wave, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	arrived := 0
	srv.Before(func(*http.Request, []byte) contract.Answer {
		mu.Lock()
		arrived++
		if arrived == 8 {
			close(wave)
		}
		mu.Unlock()
		<-release
		return contract.Answer{Status: 503} // too late: the sink has given up on it
	})
	ctx, cancel := context.WithCancel(context.Background())
	b := batch(0, visitors(n)...)
	errc := make(chan error, 1)
	go func() { errc <- s.Send(ctx, b) }()
	select {
	case <-wave:
	case <-time.After(10 * time.Second):
		close(release)
		<-errc
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("%d requests in flight at most; want 8 before the context ends", arrived)
	}
	cancel()
	err := <-errc
	mu.Lock()
	got := arrived
	mu.Unlock()
	close(release)
	var se *upstream.SendError
	if err == nil || !errors.Is(err, context.Canceled) || errors.As(err, &se) && se.Permanent {
		t.Fatalf("Send after the context ended: %v; want a retryable error naming the cancellation", err)
	}
	if got != 8 {
		t.Fatalf("%d requests reached the server; want the 8 in flight when the context ended, no new one", got)
	}
	if e := counter(t, reg, "beacongate_upstream_platform_requests_total", map[string]string{"status": "error"}); e != 8 {
		t.Fatalf("requests_total{error} %v; want the 8 cut short, and no request started after", e)
	}
	if und, ok := s.Undelivered(b); !ok || len(und) != n {
		t.Fatalf("undelivered %d (%v); want all %d", len(und), ok, n)
	}
}

// outcomesRun is what a batch left behind once settled: the events GA4
// took (by id, how many times), the records dead-lettered, the counters.
type outcomesRun struct {
	delivered           map[string]int
	rejected            []int
	final               string
	attempts, refusals  int
	events, invalid     float64
	requests, requested int // requests_total, and requests the server saw
}

// TestConcurrentOutcomesAsSequential: a GA4 batch whose requests meet
// every kind of answer at once, sent 8 at a time, leaves the same
// progress, dead letters and counters as one request at a time. The first
// request (client v-auth) is refused as unauthorised on its first two
// sends, which stops the batch: the 7 requests started with it end and
// what they delivered is kept (asserted after each attempt: the events
// the server took are exactly those Undelivered leaves out), no new one
// starts. Requests holding a bad event are answered 400 and halved until
// it stands alone; the rest are taken.
func TestConcurrentOutcomesAsSequential(t *testing.T) {
	seq := runOutcomes(t, 1)
	con := runOutcomes(t, adplatform.DefaultMaxInFlight)
	if seq.attempts != 3 || seq.refusals != 2 {
		t.Fatalf("one at a time: %d attempts, %d refusals; want 3 and 2", seq.attempts, seq.refusals)
	}
	if con.attempts != seq.attempts || con.refusals != seq.refusals || con.final != seq.final ||
		con.events != seq.events || con.invalid != seq.invalid || !slices.Equal(con.rejected, seq.rejected) || !maps.Equal(con.delivered, seq.delivered) {
		t.Fatalf("8 at a time: %+v\none at a time: %+v", con, seq)
	}
	for _, r := range []outcomesRun{seq, con} {
		if r.requests != r.requested {
			t.Fatalf("requests_total %d; the server saw %d", r.requests, r.requested)
		}
	}
}

func runOutcomes(t *testing.T, inFlight int) outcomesRun {
	t.Helper()
	// Client v-auth's two events first, then 30 clients of 1-3 events
	// each, their records interleaved; bad events in 4 of them.
	bad := map[string]bool{"e2-1": true, "e5-0": true, "e5-2": true, "e7-0": true, "e9-0": true}
	var recs [][]byte
	var ids []string
	add := func(client, id string) {
		recs = append(recs, withEventID(rec(len(recs), client, false), id))
		ids = append(ids, id)
	}
	add("v-auth", "a-0")
	add("v-auth", "a-1")
	for round := range 3 {
		for k := range 30 {
			if round <= k%3 {
				id := fmt.Sprintf("e%d-%d", k, round)
				if bad[id] {
					id = "bad-" + id
				}
				add(fmt.Sprintf("v%d", k), id)
			}
		}
	}
	srv, s, _, reg := setup(t, adplatform.GA4, func(o *adplatform.Options) { o.MaxInFlight = inFlight })
	w := newWaves(inFlight, 1<<30)
	w.firstOnly = true
	var mu sync.Mutex
	refusals := 0
	srv.Before(func(r *http.Request, body []byte) contract.Answer {
		w.hold(r, body)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.Contains(string(body), `"client_id":"v-auth"`) && refusals < 2:
			refusals++
			return contract.Answer{Status: 401, Body: `{}`}
		case strings.Contains(string(body), `"event_id":"bad-`):
			return contract.Answer{Status: 400, Body: `{}`}
		}
		return contract.Answer{}
	})
	b := batch(0, recs...)
	run := outcomesRun{delivered: map[string]int{}}
	var err error
	for run.attempts < 10 {
		run.attempts++
		err = send(s, b)
		// The events the server took are those the sink counts done.
		und, ok := s.Undelivered(b)
		if !ok {
			t.Fatal("Undelivered: the sink lost the batch's progress")
		}
		left := map[string]bool{}
		for _, i := range und {
			left[ids[i]] = true
		}
		took := map[string]bool{}
		for _, e := range srv.Events() {
			took[e.ID] = true
		}
		for _, id := range ids {
			if took[id] == left[id] {
				t.Fatalf("%d in flight, attempt %d: event %s taken by the server %v, left undelivered %v", inFlight, run.attempts, id, took[id], left[id])
			}
		}
		if run.attempts == 1 {
			if upstream.RefusalOf(err) != upstream.RefusalAuth {
				t.Fatalf("%d in flight, attempt 1: %v; want the auth refusal", inFlight, err)
			}
			// Requests started with the refused one (8 at a time: v0-v6)
			// delivered, and that is kept.
			for _, id := range []string{"e0-0", "e1-0", "e1-1", "e3-0", "e4-0", "e4-1", "e6-0"} {
				if inFlight > 1 && !took[id] {
					t.Fatalf("attempt 1: event %s, of a request in flight with the refused one, not delivered", id)
				}
			}
		}
		if err == nil || len(rejectedOf(err)) > 0 {
			break
		}
	}
	if most, _, timedOut := w.stats(); most != inFlight || timedOut {
		t.Fatalf("%d requests in flight at most (timed out: %v); want %d", most, timedOut, inFlight)
	}
	run.rejected = rejectedOf(err)
	if err != nil {
		run.final = err.Error()
	}
	var want []int
	for i, id := range ids {
		if strings.HasPrefix(id, "bad-") {
			want = append(want, i)
		}
	}
	if !slices.Equal(run.rejected, want) {
		t.Fatalf("%d in flight: rejected %v (%v); want the bad events %v", inFlight, run.rejected, err, want)
	}
	for _, e := range srv.Events() {
		run.delivered[e.ID]++
		if run.delivered[e.ID] > 1 {
			t.Fatalf("%d in flight: event %s delivered twice", inFlight, e.ID)
		}
	}
	if len(run.delivered)+len(want) != len(ids) {
		t.Fatalf("%d in flight: %d events delivered, %d dead-lettered, of %d", inFlight, len(run.delivered), len(want), len(ids))
	}
	run.refusals = refusals
	run.events = counter(t, reg, "beacongate_upstream_platform_events_total", nil)
	run.invalid = counter(t, reg, "beacongate_upstream_platform_event_errors_total", map[string]string{"reason": "invalid_event"})
	if run.events != float64(len(run.delivered)) || run.invalid != float64(len(want)) {
		t.Fatalf("%d in flight: events_total %v, event_errors_total{invalid_event} %v; want %d and %d", inFlight, run.events, run.invalid, len(run.delivered), len(want))
	}
	run.requests = int(counter(t, reg, "beacongate_upstream_platform_requests_total", nil))
	run.requested = srv.Stats().Requests
	return run
}

// TestRetryAfterOfConcurrentRequests: two requests in flight together
// answered 429 with Retry-After 3 and 9 s: the batch is retried after the
// longer wait, and what the others delivered is not sent again.
func TestRetryAfterOfConcurrentRequests(t *testing.T) {
	const n = 20
	srv, s, _, _ := setup(t, adplatform.GA4, nil)
	w := newWaves(adplatform.DefaultMaxInFlight, 1<<30)
	w.firstOnly = true
	srv.Before(func(r *http.Request, body []byte) contract.Answer {
		w.hold(r, body)
		switch {
		case strings.Contains(string(body), `"client_id":"v3"`):
			return contract.Answer{Status: 429, RetryAfter: "3"}
		case strings.Contains(string(body), `"client_id":"v5"`):
			return contract.Answer{Status: 429, RetryAfter: "9"}
		}
		return contract.Answer{}
	})
	b := batch(0, visitors(n)...)
	var se *upstream.SendError
	if err := send(s, b); !errors.As(err, &se) || se.RetryAfter != 9*time.Second || se.Permanent {
		t.Fatalf("%v; want a retry after 9s", err)
	}
	srv.Before(nil)
	und, _ := s.Undelivered(b)
	if err := send(s, b); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.Events != n || len(und) < 2 {
		t.Fatalf("%d events in %d requests, %d left after the 429s; want %d once each", st.Events, st.Requests, len(und), n)
	}
	seen := map[string]bool{}
	for _, e := range srv.Events() {
		if seen[e.ID] {
			t.Fatalf("event %s delivered twice", e.ID)
		}
		seen[e.ID] = true
	}
}

// TestStoppingAnswerOfConcurrentRequests pins which answer decides a batch
// when two requests in flight at once both stop it, one permanently (404:
// no such stream or pixel, so no event of the destination will be taken)
// and one retryably (503): the first started, as when they go one at a
// time. Every answer that stops a batch concerns the destination, not its
// events (an event refused for itself is outcomeInvalid, which stops
// nothing), so the other's events meet what they would have met one at a
// time: retried when the first says retry (the next attempt meets the 404
// again and dead-letters them then), dead-lettered when the first says no
// event will be taken (one at a time they would not even have been sent).
// What a request delivered is kept either way, and a request never
// started is dead-lettered or retried with the rest.
func TestStoppingAnswerOfConcurrentRequests(t *testing.T) {
	for _, c := range []struct {
		name        string
		answer      map[string]int // by client: status
		permanent   bool
		undelivered []int // and v2's unless v1's 2xx came before v0's 404: then its request started
		delivered   []int
	}{
		{"retry first", map[string]int{"v0": 503, "v1": 404}, false, []int{0, 1, 2}, nil},
		{"permanent first", map[string]int{"v0": 404, "v1": 503}, true, []int{0, 1, 2}, nil},
		{"permanent first, second delivered", map[string]int{"v0": 404, "v1": 200}, true, []int{0}, []int{1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, s, _, _ := setup(t, adplatform.GA4, func(o *adplatform.Options) { o.MaxInFlight = 2 })
			w := newWaves(2, 2)
			w.firstOnly = true
			srv.Before(func(r *http.Request, body []byte) contract.Answer {
				w.hold(r, body) // both in flight before either is answered
				for client, status := range c.answer {
					if strings.Contains(string(body), `"client_id":"`+client+`"`) && status != 200 {
						return contract.Answer{Status: status, Body: `{}`}
					}
				}
				return contract.Answer{}
			})
			b := batch(0, visitors(3)...)
			err := s.Send(context.Background(), b)
			if err == nil || upstream.IsPermanent(err) != c.permanent {
				t.Fatalf("Send: %v (permanent %v); want an error, permanent %v", err, upstream.IsPermanent(err), c.permanent)
			}
			if _, _, timedOut := w.stats(); timedOut {
				t.Fatal("the two requests were not in flight at once")
			}
			got, ok := s.Undelivered(b)
			if !ok {
				t.Fatal("the sink kept no progress of the batch")
			}
			for _, i := range c.undelivered {
				if !slices.Contains(got, i) {
					t.Fatalf("undelivered %v; want %d among them", got, i)
				}
			}
			for _, i := range c.delivered {
				if slices.Contains(got, i) {
					t.Fatalf("undelivered %v; want %d delivered", got, i)
				}
			}
		})
	}
}
