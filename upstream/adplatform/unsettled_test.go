package adplatform_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/adplatform"
)

// A Meta endpoint that answers every request holding one poisoned event
// with a 2xx that never accounts for its events (events_received 0), and
// takes every other request. Before the fix the shipper retried that
// request for ever: no later event reached the destination, and nothing
// but send_retries_total said so. Now, after 10 such
// answers in a row, the request's events go to the dead letters alone
// (reason "unsettled", counted), and the later batches are delivered.
func TestUnsettledAnswersDeadLettered(t *testing.T) {
	const poison = "eid-000002"
	var mu sync.Mutex
	delivered := map[string]int{}
	poisoned := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Data []struct {
				EventID string `json:"event_id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, `{"error":{"code":100,"message":"bad body"}}`, 400)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		for _, e := range req.Data {
			if e.EventID == poison {
				poisoned++
				fmt.Fprint(w, `{"events_received":0,"messages":[],"fbtrace_id":"AbC"}`)
				return
			}
		}
		for _, e := range req.Data {
			delivered[e.EventID]++
		}
		fmt.Fprintf(w, `{"events_received":%d,"messages":[],"fbtrace_id":"AbC"}`, len(req.Data))
	}))
	defer srv.Close()

	reg := prometheus.NewRegistry()
	m, err := adplatform.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	tf := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tf, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := adplatform.New(adplatform.Options{Destination: "ads", Platform: adplatform.Meta, ID: pixelID,
		TokenFile: tf, Endpoint: srv.URL, Metrics: m, Clock: clock.Fixed(testNow),
		Origins: adplatform.NewOrigins(map[string]string{"shop": "https://shop.example"})})
	if err != nil {
		t.Fatal(err)
	}
	o := upstream.Options{DataDir: t.TempDir(), Destinations: []upstream.DestinationOptions{{Name: "ads", Sink: s,
		Batch: upstream.BatchOptions{MaxEvents: 5, MaxAge: 10 * time.Millisecond},
		Retry: upstream.RetryOptions{Initial: time.Millisecond, Max: 2 * time.Millisecond}}}}
	p, err := upstream.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for _, r := range records(n, true) {
		if err := p.Append(r, upstream.RouteTo(0)); err != nil {
			t.Fatal(err)
		}
	}
	settled := func() bool {
		st := p.Stats()[0]
		return st.Records+st.DeadRecords >= n
	}
	for deadline := time.Now().Add(15 * time.Second); !settled() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	closeErr := p.Close(ctx)
	mu.Lock()
	defer mu.Unlock()
	st := p.Stats()[0]
	if st.Records+st.DeadRecords != n {
		t.Fatalf("%d records delivered, %d dead-lettered of %d after %d unsettled answers to one request: the destination is stalled behind it",
			st.Records, st.DeadRecords, n, poisoned)
	}
	if closeErr != nil {
		t.Fatal(closeErr)
	}
	if poisoned != adplatform.MaxUnsettled {
		t.Fatalf("the poisoned request was sent %d times; want %d", poisoned, adplatform.MaxUnsettled)
	}
	dls, err := upstream.ListDeadLetters(upstream.DeadLetterDir(o, "ads"))
	if err != nil || len(dls) != 1 {
		t.Fatalf("dead letters %+v, %v; want one", dls, err)
	}
	raw, _ := os.ReadFile(dls[0].Path)
	if !strings.Contains(string(raw), `"eid":"`+poison+`"`) || !strings.Contains(dls[0].Reason, "unsettled=") {
		t.Fatalf("dead letter %s: %s", dls[0].Reason, raw)
	}
	if dls[0].Records != int(st.DeadRecords) || len(delivered)+dls[0].Records != n {
		t.Fatalf("%d delivered, %d in the dead letter (stats %+v); want %d in all", len(delivered), dls[0].Records, st, n)
	}
	for id, c := range delivered {
		if c != 1 || strings.Contains(string(raw), `"eid":"`+id+`"`) {
			t.Fatalf("event %s delivered %d times, or also dead-lettered", id, c)
		}
	}
	if got := counter(t, reg, "beacongate_upstream_platform_event_errors_total", map[string]string{"reason": "unsettled"}); got != float64(dls[0].Records) {
		t.Fatalf("event_errors_total{reason=unsettled} %v; want %d", got, dls[0].Records)
	}
}
