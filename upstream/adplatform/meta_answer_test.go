package adplatform_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/adplatform"
	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

// Meta answers a request it took with {"events_received":n,"messages":[],
// "fbtrace_id":...}. A 2xx whose events_received is not the number of
// events sent (fewer, more, absent, not an integer) or that is no JSON
// does not say every event arrived: the request is retried whole (Meta
// de-duplicates on event_id and event_name), no event is counted
// delivered, none dead-lettered. The retry then delivers every event.
func TestMetaEventsReceivedChecked(t *testing.T) {
	for _, c := range []struct{ name, body string }{
		{"fewer", `{"events_received":2,"messages":[],"fbtrace_id":"AbC"}`},
		{"none", `{"events_received":0,"messages":[],"fbtrace_id":"AbC"}`},
		{"more", `{"events_received":4,"messages":[],"fbtrace_id":"AbC"}`},
		{"absent", `{"messages":[],"fbtrace_id":"AbC"}`},
		{"a string", `{"events_received":"3","messages":[],"fbtrace_id":"AbC"}`},
		{"a fraction", `{"events_received":2.5,"messages":[],"fbtrace_id":"AbC"}`},
		{"not JSON", `<html>ok</html>`},
		{"empty", ``},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, s, _, reg := setup(t, adplatform.Meta, nil)
			recs := records(3, true)
			srv.Script(contract.Answer{Status: 200, Body: c.body})
			err := send(s, batch(10, recs...))
			var se *upstream.SendError
			if err == nil || errors.As(err, &se) && (se.Permanent || len(se.Rejected) > 0) {
				t.Fatalf("answer %q: %v; want a retryable error for the whole request", c.body, err)
			}
			if !strings.Contains(err.Error(), "events_received") && !strings.Contains(err.Error(), "JSON") {
				t.Fatalf("error %q does not say what was wrong with the answer", err)
			}
			if got := counter(t, reg, "beacongate_upstream_platform_events_total", nil); got != 0 {
				t.Fatalf("events_total %v after answer %q; want 0", got, c.body)
			}
			if err := send(s, batch(10, recs...)); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if st := srv.Stats(); st.Events != 3 || st.Requests != 2 {
				t.Fatalf("%d events in %d requests; want 3 in 2", st.Events, st.Requests)
			}
			ev := srv.Events()
			for _, e := range ev {
				if e.ID == "" || e.Name == "" {
					t.Fatalf("event without event_id or event_name, which Meta de-duplicates on: %s", e.Raw)
				}
			}
			if got := counter(t, reg, "beacongate_upstream_platform_events_total", nil); got != 3 {
				t.Fatalf("events_total %v; want 3", got)
			}
		})
	}
}

// Meta's throttling and temporary blocks come as a 400 with an error code
// whose documented recovery is to wait and retry
// (https://developers.facebook.com/docs/graph-api/guides/error-handling:
// 341 "Application limit reached", temporary issue due to downtime or
// throttling; 368 "Temporarily blocked for policies violations"). They
// are retried with the backoff like the other rate limits, every event is
// delivered once they pass, and none goes to the dead letters. Before the
// fix they were read as a refused event: the request was halved down to
// single events, each answered by the same code and dead-lettered as
// invalid_event (3 events: 5 requests, 3 dead letters).
func TestMetaThrottleCodesRetried(t *testing.T) {
	for _, code := range []string{"341", "368"} {
		t.Run(code, func(t *testing.T) {
			srv, s, _, reg := setup(t, adplatform.Meta, nil)
			limited := contract.Answer{Status: 400, Body: `{"error":{"message":"limited","type":"OAuthException","code":` + code + `,"fbtrace_id":"AbC"}}`}
			srv.Script(limited, limited, limited, limited, limited)
			recs := records(3, true)
			var err error
			for range 10 {
				if err = send(s, batch(10, recs...)); err == nil {
					break
				}
				var se *upstream.SendError
				if errors.As(err, &se) && (se.Permanent || len(se.Rejected) > 0) {
					t.Fatalf("code %s: %v (rejected %v); want a retry of the whole request", code, err, se.Rejected)
				}
			}
			if err != nil {
				t.Fatalf("code %s: not delivered after 10 attempts: %v", code, err)
			}
			if st := srv.Stats(); st.Events != 3 || st.Requests != 6 {
				t.Fatalf("code %s: %d events in %d requests; want 3 in 6 (5 refused, 1 taken)", code, st.Events, st.Requests)
			}
			if got := counter(t, reg, "beacongate_upstream_platform_event_errors_total", nil); got != 0 {
				t.Fatalf("code %s: %v events counted refused; want 0", code, got)
			}
		})
	}
}

// Meta's session and method errors are credential problems, as its
// Graph API error reference says
// (https://developers.facebook.com/docs/graph-api/guides/error-handling:
// 102 "API Session", the access token has expired, been revoked or is
// otherwise invalid, get a new one; 3 "API Method", a capability or
// permissions issue): they are auth refusals, retried for
// retry.auth_dead_letter_after with the token file read again, as code
// 190 and the permission codes are. Before the fix they were read as a
// refused event: the request was halved down to single events, each
// dead-lettered at once as invalid_event, before a rotated token could
// be written.
func TestMetaSessionCodesAreAuthRefusals(t *testing.T) {
	for _, code := range []string{"102", "3"} {
		t.Run(code, func(t *testing.T) {
			srv, s, _, reg := setup(t, adplatform.Meta, nil)
			refused := contract.Answer{Status: 400, Body: `{"error":{"message":"session","type":"OAuthException","code":` + code + `,"fbtrace_id":"AbC"}}`}
			srv.Script(refused, refused, refused, refused, refused)
			recs := records(3, true)
			err := send(s, batch(10, recs...))
			if upstream.RefusalOf(err) != upstream.RefusalAuth || len(rejectedOf(err)) > 0 {
				t.Fatalf("code %s: %v (refusal %v, rejected %v); want an auth refusal", code, err, upstream.RefusalOf(err), rejectedOf(err))
			}
			if got := counter(t, reg, "beacongate_upstream_platform_event_errors_total", nil); got != 0 {
				t.Fatalf("code %s: %v events counted refused; want 0", code, got)
			}
		})
	}
}
