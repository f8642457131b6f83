package adplatform_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/upstream/adplatform"
)

// TestGA4AdPersonalization: GA4's consent.ad_personalization is GRANTED
// exactly when the record's consent says ads is granted for personalised
// advertising ("ad_personalization": true, which the engine writes for a
// TC string consenting to purposes 3 and 4, Consent Mode
// ad_personalization granted, or ads in the consent field), whatever our
// personalization purpose (content personalisation) says; ad_user_data is
// ads. Each record is one the engine writes under that signal.
func TestGA4AdPersonalization(t *testing.T) {
	for _, c := range []struct {
		name, consent string
		want          string
	}{
		// Consent Mode never grants personalization: everything granted
		// used to reach GA4 as ad_personalization DENIED.
		{"consent mode, all granted", `{"state":"ads","purposes":["analytics","ads","device_storage"],"signal":"consent_mode","ad_personalization":true}`, "GRANTED"},
		{"tcf, purposes 1-11", `{"state":"ads","purposes":["analytics","ads","personalization","precise_geo","device_storage"],"signal":"tcf","ad_personalization":true}`, "GRANTED"},
		// ads mapped to TCF purposes 1, 2 and 7, the string without 3 and
		// 4 but with 5 and 6 (content profiles): no personalised ads.
		{"tcf without purposes 3 and 4", `{"state":"ads","purposes":["analytics","ads","personalization","device_storage"],"signal":"tcf"}`, "DENIED"},
		{"gpp tcfeuv2, purposes 1-11", `{"state":"ads","purposes":["analytics","ads","personalization"],"signal":"gpp","ad_personalization":true}`, "GRANTED"},
		{"explicit ads", `{"state":"ads","purposes":["analytics","ads"],"signal":"explicit","ad_personalization":true}`, "GRANTED"},
		{"default ads, no signal", `{"state":"ads","purposes":["analytics","ads","personalization"],"signal":"none"}`, "DENIED"},
		// Never without ads, whatever the record says.
		{"no ads", `{"state":"analytics","purposes":["analytics","personalization"],"signal":"explicit","ad_personalization":true}`, "DENIED"},
		{"not a boolean", `{"state":"ads","purposes":["analytics","ads"],"signal":"explicit","ad_personalization":"true"}`, "DENIED"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, s, _, _ := setup(t, adplatform.GA4, func(o *adplatform.Options) { o.TestMode = true })
			r := strings.Replace(string(rec(1, "c1", false)),
				`"consent":{"state":"ads","purposes":["analytics","ads","personalization"],"signal":"explicit"}`, `"consent":`+c.consent, 1)
			if err := send(s, batch(0, []byte(r))); err != nil {
				t.Fatal(err)
			}
			if st := srv.Stats(); st.Events != 1 || len(st.Refused) > 0 {
				t.Fatalf("stats %+v", st)
			}
			ads := "DENIED"
			if strings.Contains(c.consent, `"ads"`) {
				ads = "GRANTED"
			}
			want := fmt.Sprintf(`"consent":{"ad_personalization":%q,"ad_user_data":%q}`, c.want, ads)
			if env := srv.Envelopes(); len(env) != 1 || !strings.Contains(env[0], want) {
				t.Fatalf("envelopes %q\nwant %s", env, want)
			}
		})
	}
}
