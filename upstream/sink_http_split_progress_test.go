package upstream

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHTTPSplitPartRefusedDeadLettersOnlyUndelivered: a batch answered 413
// is sent in halves; the collector takes the first half and refuses the
// second for good (400: a record it will not take). The batch is
// dead-lettered without the records of the half already delivered: before
// the fix the whole batch went to the dead letters, and a replay delivered
// the first half a second time.
func TestHTTPSplitPartRefusedDeadLettersOnlyUndelivered(t *testing.T) {
	const limit = 600 // bytes of body the collector takes
	var mu sync.Mutex
	delivered := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case len(body) > limit:
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		case strings.Contains(string(body), `"bad":true`):
			w.WriteHeader(http.StatusBadRequest)
		default:
			mu.Lock()
			for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
				delivered[idOf([]byte(line))]++
			}
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	data := t.TempDir()
	d := httpDest("api", srv.URL)
	d.Compression = CodecNone
	d.Batch.MaxEvents, d.Batch.MaxAge = 8, time.Minute // one batch of all 8
	p := openP(t, Options{DataDir: data, Destinations: []DestinationOptions{d}})
	for i := range 8 {
		r := fmt.Sprintf(`{"v":1,"id":"r%d","site":"s","pad":%q}`, i, strings.Repeat("x", 60))
		if i == 6 {
			r = fmt.Sprintf(`{"v":1,"id":"r%d","site":"s","bad":true,"pad":%q}`, i, strings.Repeat("x", 50))
		}
		if err := p.Append([]byte(r), RouteTo(0)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the batch delivered or dead-lettered", 10*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	closeP(t, p)
	files, _ := filepath.Glob(filepath.Join(data, "deadletter", "api", "*.ndjson*"))
	dead := map[string]int{}
	for _, f := range files {
		recs, err := readDeadLetter(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			dead[idOf(r)]++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(delivered) != 4 || len(dead) != 4 {
		t.Fatalf("delivered %v, dead-lettered %v; want the first half delivered, the second dead-lettered", delivered, dead)
	}
	for id := range delivered {
		if dead[id] > 0 {
			t.Fatalf("%s delivered and dead-lettered (dead letters %v): a replay would deliver it twice", id, dead)
		}
	}
}

// TestHTTPSplitRetrySkipsDeliveredParts: a batch answered 413 is sent in
// halves; the second half is answered 503 once. The retry sends only that
// half: the first, delivered, is not posted again.
func TestHTTPSplitRetrySkipsDeliveredParts(t *testing.T) {
	const limit = 600
	var mu sync.Mutex
	delivered := map[string]int{}
	refused := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case len(body) > limit:
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		case strings.Contains(string(body), `"id":"r7"`) && !refused:
			refused = true
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
				delivered[idOf([]byte(line))]++
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	d := httpDest("api", srv.URL)
	d.Compression = CodecNone
	d.Batch.MaxEvents, d.Batch.MaxAge = 8, time.Minute
	p := openP(t, Options{Destinations: []DestinationOptions{d}})
	for i := range 8 {
		if err := p.Append(fmt.Appendf(nil, `{"v":1,"id":"r%d","site":"s","pad":%q}`, i, strings.Repeat("x", 60)), RouteTo(0)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the batch delivered", 10*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	closeP(t, p)
	mu.Lock()
	defer mu.Unlock()
	if len(delivered) != 8 {
		t.Fatalf("delivered %v; want all 8", delivered)
	}
	for id, n := range delivered {
		if n != 1 {
			t.Fatalf("%s delivered %d times (%v); the retry must send only the part not delivered", id, n, delivered)
		}
	}
}
