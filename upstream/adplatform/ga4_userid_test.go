package adplatform_test

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/upstream/adplatform"
)

// TestGA4UserDataNeedsUserID: GA4 takes user_data only with a user_id in
// the same request ("The user_id parameter must be present whenever
// user_data is provided", uid-data): a record without a user sends its
// event without user_data, and its contact data does not leave; with a
// user, user_data goes as before.
func TestGA4UserDataNeedsUserID(t *testing.T) {
	srv, s, _, _ := setup(t, adplatform.GA4, func(o *adplatform.Options) { o.TestMode = true })
	anon := strings.Replace(string(rec(1, "c1", true)), `"user":"bdCsXP8rYIvgqcB6lLquEQ",`, "", 1)
	if anon == string(rec(1, "c1", true)) {
		t.Fatal("the record kept its user")
	}
	if err := send(s, batch(0, []byte(anon), rec(2, "c2", true))); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.Events != 2 || len(st.Refused) > 0 {
		t.Fatalf("stats %+v", st)
	}
	env := srv.Envelopes()
	if len(env) != 2 {
		t.Fatalf("%d requests: %q", len(env), env)
	}
	for _, e := range env {
		withUser := strings.Contains(e, `"user_id":`)
		if hasData := strings.Contains(e, `"user_data":`); hasData != withUser {
			t.Errorf("envelope %s: user_data %v, user_id %v", e, hasData, withUser)
		}
	}
	for _, r := range srv.Requests() {
		if !strings.Contains(r, `"user_id":`) && strings.Contains(r, emHash) {
			t.Errorf("a request without user_id carries the e-mail hash: %s", r)
		}
	}
}
