package adplatform_test

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/upstream/adplatform"
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
