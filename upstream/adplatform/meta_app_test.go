package adplatform_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/upstream/adplatform"
)

// An app event (a record an HTTP client library sent) is not sent to Meta,
// which requires app_data (ATT status, app-level opt-out, device extinfo)
// the gateway does not know, nor under another action source: it is
// dead-lettered unsent (reason no_app_data); the website event goes.
func TestMetaAppEventsNotSent(t *testing.T) {
	srv, s, _, reg := setup(t, adplatform.Meta, nil)
	app := strings.Replace(string(rec(2, "c", true)), `"user_agent":`, `"ua":{"class":"http_client"},"user_agent":`, 1)
	rej := rejectedOf(send(s, batch(0, rec(1, "c", true), []byte(app))))
	if !slices.Equal(rej, []int{1}) {
		t.Fatalf("rejected %v; want the app event [1]", rej)
	}
	if st := srv.Stats(); st.Events != 1 || st.Requests != 1 || len(st.Refused) > 0 {
		t.Fatalf("stats %+v; want the website event alone in one request", st)
	}
	if got := counter(t, reg, "beacongate_upstream_platform_event_errors_total", map[string]string{"reason": "no_app_data"}); got != 1 {
		t.Fatalf("no_app_data %v", got)
	}
}
