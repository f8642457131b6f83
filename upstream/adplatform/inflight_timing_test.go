package adplatform_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/beacongate/beacongate/upstream/adplatform"
	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

// BenchmarkGA4Drain sends batches of 200 GA4 visitors (one event each, so
// 200 requests) to the contract server, which answers each request 20 ms
// late, as a round trip to Google would: visitors/s is the rate at which a
// ga4 destination drains its spool. One request at a time that is at most
// 50 a second, whatever the batch.
func BenchmarkGA4Drain(b *testing.B) {
	const n = 200
	srv, s, _, _ := setup(b, adplatform.GA4, nil)
	srv.Before(func(*http.Request, []byte) contract.Answer {
		time.Sleep(20 * time.Millisecond)
		return contract.Answer{}
	})
	bt := batch(0, visitors(n)...)
	for b.Loop() {
		bt.First, bt.End = bt.End, bt.End+n // a new batch each time: no progress is reused
		if err := send(s, bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "visitors/s")
}
