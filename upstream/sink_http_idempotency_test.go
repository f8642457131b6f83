package upstream

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestHTTPIdempotencyConflictRetried: a collector that honours
// Idempotency-Key (draft-ietf-httpapi-idempotency-key-header) answers 409
// to a retry that arrives while the first request with the same key is
// still being processed, here one the gateway gave up waiting for (past
// SendTimeout). That is "not yet", not a refusal of the batch: it must be
// retried until the collector answers for the key, never dead-lettered.
func TestHTTPIdempotencyConflictRetried(t *testing.T) {
	c := newCollector(t)
	var mu sync.Mutex
	state := map[string]string{} // key -> "processing" or "done"
	conflicted := make(chan struct{}, 1)
	c.setBehave(func(n int64, w http.ResponseWriter, r *http.Request) int {
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		st := state[key]
		if st == "" {
			state[key] = "processing"
		}
		mu.Unlock()
		switch st {
		case "processing":
			select {
			case conflicted <- struct{}{}:
			default:
			}
			return http.StatusConflict
		case "done":
			w.WriteHeader(http.StatusOK) // the stored answer; the records were counted the first time
			return -1
		}
		if n == 1 {
			// The first request outlives the client's patience and ends
			// only once a retry has been told 409 (bounded wait).
			<-r.Context().Done()
			select {
			case <-conflicted:
			case <-time.After(5 * time.Second):
			}
		}
		mu.Lock()
		state[key] = "done"
		mu.Unlock()
		return http.StatusOK
	})
	d := httpDest("api", c.srv.URL)
	d.Batch.MaxEvents, d.Batch.MaxAge = 50, time.Minute
	d.SendTimeout = 100 * time.Millisecond
	p := openP(t, Options{Destinations: []DestinationOptions{d}})
	var a appender
	a.run(t, p, "i", 1, 50, RouteTo(0))
	waitFor(t, "the batch to leave the spool", 10*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	closeP(t, p)
	if st := p.Stats()[0]; st.DeadBatches != 0 {
		t.Fatalf("%d batches dead-lettered after a 409 to a retry with the same Idempotency-Key", st.DeadBatches)
	}
	if n := c.ids.countMissing(a.ackedIDs()); n != 0 {
		t.Fatalf("%d records missing", n)
	}
}

// TestHTTPIdempotencyKeyUniqueAcrossSpools: two gateways (two data
// directories, as README's "Running several instances" runs them, or an
// instance replaced on a fresh volume) send to one collector that honours
// Idempotency-Key, answering a key it has seen with its stored answer and
// storing nothing. Their spools number offsets alike from 0, so equal
// offsets must not make equal keys: before the fix the key was the
// destination and the offsets alone, the second gateway's batch of
// records as long as the first's got the first's key, and the collector
// dropped its acknowledged records as a retry.
func TestHTTPIdempotencyKeyUniqueAcrossSpools(t *testing.T) {
	c := newCollector(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	c.setBehave(func(n int64, w http.ResponseWriter, r *http.Request) int {
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		dup := seen[key]
		seen[key] = true
		mu.Unlock()
		if dup {
			w.WriteHeader(http.StatusOK) // the stored answer: the records are not stored again
			return -1
		}
		return http.StatusOK
	})
	var want []string
	for _, instance := range []string{"a", "b"} {
		d := httpDest("api", c.srv.URL)
		d.Batch.MaxEvents, d.Batch.MaxAge = 10, time.Minute
		p := openP(t, Options{Destinations: []DestinationOptions{d}})
		for i := range 10 {
			id := fmt.Sprintf("%s%03d", instance, i) // records of equal length in both
			want = append(want, id)
			if err := p.Append(fmt.Appendf(nil, `{"v":1,"id":%q,"site":"s"}`, id), RouteTo(0)); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "the batch to leave the spool", 10*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
		closeP(t, p)
	}
	if n := c.ids.countMissing(want); n != 0 {
		t.Fatalf("%d of %d acknowledged records not stored by the collector (%d keys seen for 2 batches)", n, len(want), len(seen))
	}
}
