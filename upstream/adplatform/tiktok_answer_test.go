package adplatform_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/adplatform"
	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

// A TikTok partial success (code 20001) whose data.failed_events cannot
// say which events failed (an entry without an index, an index that is no
// integer, out of the request or given twice, or no entry at all), or an
// answer without a numeric code, tells nothing per event: the request is
// retried whole, no event is counted delivered and none is dead-lettered
// in place of another. The retry then delivers every event.
func TestTikTokUnusableAnswerRetried(t *testing.T) {
	for _, c := range []struct{ name, body string }{
		{"index missing", `{"code":20001,"message":"Partial success","request_id":"r","data":{"failed_events":[{"code":40002,"message":"invalid"}]}}`},
		{"index out of range", `{"code":20001,"message":"Partial success","request_id":"r","data":{"failed_events":[{"index":3,"code":40002,"message":"invalid"}]}}`},
		{"index negative", `{"code":20001,"message":"Partial success","request_id":"r","data":{"failed_events":[{"index":-1,"code":40002,"message":"invalid"}]}}`},
		{"index a string", `{"code":20001,"message":"Partial success","request_id":"r","data":{"failed_events":[{"index":"1","code":40002,"message":"invalid"}]}}`},
		{"index a fraction", `{"code":20001,"message":"Partial success","request_id":"r","data":{"failed_events":[{"index":1.5,"code":40002,"message":"invalid"}]}}`},
		{"index repeated", `{"code":20001,"message":"Partial success","request_id":"r","data":{"failed_events":[{"index":1,"code":40002,"message":"invalid"},{"index":1,"code":40002,"message":"invalid"}]}}`},
		{"no failed events", `{"code":20001,"message":"Partial success","request_id":"r","data":{}}`},
		{"no code", `{"message":"OK","request_id":"r","data":{}}`},
		{"code a string", `{"code":"0","message":"OK","request_id":"r","data":{}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, s, _, reg := setup(t, adplatform.TikTok, nil)
			recs := records(3, true)
			srv.Script(contract.Answer{Status: 200, Body: c.body})
			err := send(s, batch(10, recs...))
			var se *upstream.SendError
			if err == nil || errors.As(err, &se) && (se.Permanent || len(se.Rejected) > 0) {
				t.Fatalf("answer %s: %v; want a retryable error for the whole request", c.body, err)
			}
			if !strings.Contains(err.Error(), "tiktok") {
				t.Fatalf("error %q does not name the platform", err)
			}
			if got := counter(t, reg, "beacongate_upstream_platform_events_total", nil); got != 0 {
				t.Fatalf("events_total %v after an unusable answer; want 0", got)
			}
			if got := counter(t, reg, "beacongate_upstream_platform_event_errors_total", nil); got != 0 {
				t.Fatalf("event_errors_total %v after an unusable answer; want 0", got)
			}
			// The shipper's retry: every event goes, once.
			if err := send(s, batch(10, recs...)); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if st := srv.Stats(); st.Events != 3 || st.Requests != 2 {
				t.Fatalf("%d events in %d requests; want 3 in 2", st.Events, st.Requests)
			}
			if got := counter(t, reg, "beacongate_upstream_platform_events_total", nil); got != 3 {
				t.Fatalf("events_total %v; want 3", got)
			}
		})
	}
}
