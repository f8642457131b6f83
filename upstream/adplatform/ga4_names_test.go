package adplatform_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/upstream/adplatform"
	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

// Event and parameter names GA4 reserves (reserved event names, the
// google_, ga_ and firebase_ prefixes), also when they become one only
// once made to GA4's characters, get "e_" put first: as sent they would
// be refused.
func TestGA4ReservedNames(t *testing.T) {
	srv, s, _, _ := setup(t, adplatform.GA4, func(o *adplatform.Options) { o.TestMode = true })
	var recs [][]byte
	for i, ev := range []string{"session_start", "session-start", "google_purchase", "GA_signup", "firebase_x"} {
		r := strings.Replace(string(rec(i, "c", false)), `"event":"add_to_cart"`, `"event":"`+ev+`"`, 1)
		r = strings.Replace(r, `"plan":"pro"`, `"plan":"pro","ga_session_number":3,"Google.ref":"x","firebase_conversion":"y"`, 1)
		recs = append(recs, []byte(r))
	}
	if err := send(s, batch(0, recs...)); err != nil {
		t.Fatal(err)
	}
	st := srv.Stats()
	if st.Events != len(recs) || len(st.Refused) > 0 {
		t.Fatalf("stats %+v", st)
	}
	want := []string{"e_session_start", "e_session_start", "e_google_purchase", "e_GA_signup", "e_firebase_x"}
	for i, ev := range srv.Events() {
		if ev.Name != want[i] {
			t.Errorf("event %d named %q, want %q", i, ev.Name, want[i])
		}
		for _, w := range []string{`"e_ga_session_number":3`, `"e_Google_ref":"x"`, `"e_firebase_conversion":"y"`, `"plan":"pro"`} {
			if !strings.Contains(string(ev.Raw), w) {
				t.Errorf("event %s\nlacks %s", ev.Raw, w)
			}
		}
	}
}

// Properties whose names GA4's rules make one (plan-type, plan_type and
// plan.type; a name and its "e_" form; a name and one of ours; names alike
// in their first 40 characters) would give a duplicate key in params, no
// I-JSON, of which GA4 keeps one value silently: the first parameter of a
// name is sent, the later ones are left out and counted.
func TestGA4DuplicateParamNames(t *testing.T) {
	srv, s, _, reg := setup(t, adplatform.GA4, func(o *adplatform.Options) { o.TestMode = true })
	long := strings.Repeat("x", 40)
	r := strings.Replace(string(rec(1, "c", false)), `"plan":"pro"`, `"plan":"pro","plan-type":"a","plan_type":"b","plan.type":"c",`+
		`"ga_x":1,"e_ga_x":2,"page-location":"https://evil.example/","`+long+`1":"first","`+long+`2":"second"`, 1)
	if err := send(s, batch(0, []byte(r), rec(2, "c", false))); err != nil {
		t.Fatal(err)
	}
	st := srv.Stats()
	if st.Events != 2 || len(st.Refused) > 0 {
		t.Fatalf("stats %+v", st)
	}
	ev := srv.Events()[0]
	for _, w := range []string{`"plan_type":"a"`, `"e_ga_x":1`, `"page_location":"https://shop.example/p/1"`, `"` + long + `":"first"`, `"plan":"pro"`} {
		if !strings.Contains(string(ev.Raw), w) {
			t.Errorf("event %s\nlacks %s", ev.Raw, w)
		}
	}
	if got := counter(t, reg, "beacongate_upstream_platform_dropped_params_total", map[string]string{"reason": "duplicate_name"}); got != 5 {
		t.Fatalf("dropped_params_total{duplicate_name} = %v; want 5", got)
	}
}

// TestGA4ValidationMessagesAsGA4WritesThem: GA4's validation server names
// a bad event name with fieldPath "events" and the event's index in the
// description, as its reference shows
// (https://developers.google.com/analytics/devguides/collection/protocol/ga4/validating-events:
// {"fieldPath":"events","description":"Event at index: [0] has invalid
// name [_badEventName]. ...","validationCode":"NAME_INVALID"}); each
// message's own code is the event's reason. Before the fix such a message
// named no event, so every event of the request was dead-lettered (one
// bad name cost 25), and all were counted under the last message's code.
func TestGA4ValidationMessagesAsGA4WritesThem(t *testing.T) {
	srv, s, _, reg := setup(t, adplatform.GA4, func(o *adplatform.Options) { o.TestMode = true })
	srv.Script(contract.Answer{Status: 200, Body: `{"validationMessages":[` +
		`{"fieldPath":"events","description":"Event at index: [1] has invalid name [_bad]. Names must start with an alphabetic character.","validationCode":"NAME_INVALID"},` +
		`{"fieldPath":"events[2].params.plan","description":"Value is too long.","validationCode":"VALUE_OUT_OF_BOUNDS"}]}`})
	recs := make([][]byte, 4)
	for i := range recs {
		recs[i] = rec(i, "one-client", false) // one request
	}
	rej := rejectedOf(send(s, batch(0, recs...)))
	if !slices.Equal(rej, []int{1, 2}) {
		t.Fatalf("rejected %v; want [1 2], the events the messages name", rej)
	}
	for reason, want := range map[string]float64{"validation_name_invalid": 1, "validation_value_out_of_bounds": 1} {
		if got := counter(t, reg, "beacongate_upstream_platform_event_errors_total", map[string]string{"reason": reason}); got != want {
			t.Errorf("%s: %v; want %v", reason, got, want)
		}
	}
	if got := counter(t, reg, "beacongate_upstream_platform_events_total", nil); got != 2 {
		t.Errorf("events_total %v; want 2", got)
	}
}
