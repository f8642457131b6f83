package upstream

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestFailingSecondsGauge: beacongate_upstream_failing_seconds says how
// long every attempt to send a destination's batch has failed, and is 0
// again once it is delivered. BeacongateDestinationFailing alerts on it:
// it alerted on a rate of retries, which a destination tried only every
// 10 minutes (Retry-After: 600, max_backoff of 5 minutes and more) kept
// at 0 half the time, so the alert never fired while nothing was
// delivered for hours.
func TestFailingSecondsGauge(t *testing.T) {
	c := newCollector(t)
	var down atomic.Bool
	var refused atomic.Int64
	down.Store(true)
	c.setBehave(func(n int64, w http.ResponseWriter, r *http.Request) int {
		if down.Load() {
			refused.Add(1)
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	reg := prometheus.NewRegistry()
	p := openP(t, Options{Registerer: reg, Destinations: []DestinationOptions{httpDest("api", c.srv.URL)}})
	var a appender
	a.run(t, p, "f", 1, 20, RouteTo(0))
	waitFor(t, "failed attempts", 10*time.Second, func() bool { return refused.Load() >= 3 })
	if g := metricSum(t, reg, "beacongate_upstream_failing_seconds"); g <= 0 {
		t.Fatalf("failing_seconds = %v after %d failed attempts", g, refused.Load())
	}
	down.Store(false)
	waitFor(t, "the spool to drain", 20*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	if g := metricSum(t, reg, "beacongate_upstream_failing_seconds"); g != 0 {
		t.Fatalf("failing_seconds = %v after a delivery", g)
	}
	closeP(t, p)
}
