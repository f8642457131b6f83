package upstream

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestHTTPTooLargeSplits: a collector whose body limit is below the batch
// (a proxy's client_max_body_size) answers 413; the batch is sent again in
// halves down to what it takes, each part under a key of its own, every
// record arrives once, and only a record too large on its own is refused
// (RejectedRecords: dead-lettered alone, not the batch). Before, the whole
// batch went to the dead letters, and so did every replay of it.
func TestHTTPTooLargeSplits(t *testing.T) {
	for _, codec := range []Codec{CodecZstd, CodecNone} {
		t.Run(codec.String(), func(t *testing.T) {
			const limit = 700 // bytes of the decoded body
			var mu sync.Mutex
			var got []string
			keys := map[string]bool{}
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
				mu.Lock()
				defer mu.Unlock()
				k := r.Header.Get("Idempotency-Key")
				if keys[k] {
					t.Errorf("Idempotency-Key %s used for two parts", k)
				}
				keys[k] = true
				got = append(got, strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")...)
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()
			s, err := NewHTTPSink(HTTPOptions{URL: srv.URL + "/ingest"})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()

			b := &Batch{Destination: "api", First: 10, End: 99, Codec: codec}
			var want []string
			for i := range 12 {
				rec := fmt.Sprintf(`{"v":1,"id":"rec%02d","note":"%s"}`, i, strings.Repeat("x", 100))
				if i == 7 {
					rec = fmt.Sprintf(`{"v":1,"id":"rec%02d","note":"%s"}`, i, strings.Repeat("y", 900)) // too large alone
				} else {
					want = append(want, rec)
				}
				b.Add([]byte(rec))
			}
			enc, err := NewEncoder(codec, 0)
			if err != nil {
				t.Fatal(err)
			}
			if b.Encoded, err = enc.AppendEncoded(nil, b.Data); err != nil {
				t.Fatal(err)
			}
			if codec == CodecNone {
				b.Encoded = nil
			}
			err = s.Send(context.Background(), b)
			if rej := rejectedOf(err); !slices.Equal(rej, []int{7}) || IsPermanent(err) {
				t.Fatalf("Send: %v (rejected %v); want record 7 alone rejected", err, rej)
			}
			if strings.Contains(err.Error(), srv.URL) {
				t.Errorf("the error quotes the URL: %v", err)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("the collector took %d records; want the 11 that fit, once each", len(got))
			}
			// A batch that fits is one request, under the batch's key.
			small := &Batch{Destination: "api", First: 100, End: 120, Codec: CodecNone}
			small.Add([]byte(`{"v":1,"id":"small"}`))
			if err := s.Send(context.Background(), small); err != nil || !keys[idempotencyKey(small)] {
				t.Fatalf("a batch that fits: %v", err)
			}
		})
	}
}
