package upstream

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/nats-io/nats.go"
)

// TestRejectedRecordsDeadLetterWriteFails: a batch whose records the
// destination took but one, which it refused for good (too large alone),
// while the dead letter of that record cannot be written (its folder is
// not one: a full or failing disk alike). The shipper retries until it can
// write it; the retry must not send the records the destination already
// took. Before the fix the HTTP, Kafka and NATS sinks forgot the batch's
// progress once they reported the refused record, so every retry sent the
// whole batch again: each record the destination had taken arrived once
// more per attempt, for as long as the dead letters could not be written
// (NATS: stored again once the stream's duplicate window had passed).
func TestRejectedRecordsDeadLetterWriteFails(t *testing.T) {
	for _, kind := range []string{"http", "kafka", "nats"} {
		t.Run(kind, func(t *testing.T) {
			got := newIDSet() // every copy the destination was sent and took
			var d DestinationOptions
			pad := 0
			switch kind {
			case "http":
				const limit = 4 << 10 // bytes of the decoded body
				dec, _ := zstd.NewReader(nil)
				defer dec.Close()
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					body, _ := io.ReadAll(r.Body)
					if r.Header.Get("Content-Encoding") == "zstd" {
						var err error
						if body, err = dec.DecodeAll(body, nil); err != nil {
							w.WriteHeader(http.StatusBadRequest)
							return
						}
					}
					if len(body) > limit {
						w.WriteHeader(http.StatusRequestEntityTooLarge)
						return
					}
					got.addNDJSON(t, body)
					w.WriteHeader(http.StatusNoContent)
				}))
				defer srv.Close()
				d = DestinationOptions{Name: "http", HTTP: &HTTPOptions{URL: srv.URL}, Retry: fastRetry}
				pad = 8 << 10
			case "kafka":
				c := newKafka(t)
				cons := consumeKafka(t, c.ListenAddrs())
				got = cons.ids
				d = kafkaDest(c.ListenAddrs())
				d.Batch.MaxBytes = 4 << 20
				pad = 1_010_000 // beyond the producer's batch limit
			case "nats":
				ns := startNATSMaxPayload(t, 16<<10)
				natsStream(t, ns.url())
				nc := connectNATS(t, ns.url())
				// Every message published, copies the stream's window
				// would drop included.
				if _, err := nc.Subscribe("bg.>", func(m *nats.Msg) { got.add(idOf(m.Data)) }); err != nil {
					t.Fatal(err)
				}
				if err := nc.Flush(); err != nil {
					t.Fatal(err)
				}
				d = natsDest(ns.url())
				pad = 32 << 10
			}
			d.Batch.MaxEvents, d.Batch.MaxAge = 20, time.Hour // one batch of all 20
			data := t.TempDir()
			// The dead letters' folder of the destination cannot be
			// created: a file stands in its place.
			blocker := filepath.Join(data, "deadletter", d.Name)
			if err := os.MkdirAll(filepath.Dir(blocker), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(blocker, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			p := openP(t, Options{DataDir: data, Destinations: []DestinationOptions{d}})
			var ids []string
			for i := range 20 {
				id := fmt.Sprintf("big%03d", i)
				r := fmt.Sprintf(`{"v":1,"id":%q,"site":"s","kind":"beacon"}`, id)
				if i == 7 {
					r = fmt.Sprintf(`{"v":1,"id":%q,"site":"s","kind":"beacon","pad":%q}`, id, strings.Repeat("x", pad))
				} else {
					ids = append(ids, id)
				}
				if err := p.Append([]byte(r), RouteTo(0)); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "three retries while the dead letter cannot be written", 20*time.Second, func() bool { return p.Stats()[0].Retries >= 3 })
			if err := os.Remove(blocker); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the batch delivered", 20*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
			st := p.Stats()[0]
			closeP(t, p)
			waitFor(t, "the destination's records", 10*time.Second, func() bool { return got.countMissing(ids) == 0 })
			dl := newIDSet()
			files, _ := filepath.Glob(filepath.Join(blocker, "*.ndjson*"))
			for _, f := range files {
				recs, err := readDeadLetter(f)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range recs {
					dl.add(idOf(r))
				}
			}
			if dl.n.Load() != 1 || !dl.has("big007") || st.DeadRecords != 1 || st.Records != 19 {
				t.Fatalf("dead letters hold %d records (big007: %v), stats %d dead-lettered, %d delivered; want big007 alone dead-lettered, 19 delivered",
					dl.n.Load(), dl.has("big007"), st.DeadRecords, st.Records)
			}
			if _, dups := got.compare(ids); dups != 0 || got.has("big007") {
				t.Fatalf("the destination was sent %d copies of the 19 records it took, over %d retries (want 0); big007 taken: %v",
					dups, st.Retries, got.has("big007"))
			}
		})
	}
}
