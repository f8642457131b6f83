package consent

import "testing"

// TestUnreadableSignalNeverOverridesAReadableRefusal: under the priority
// merge, a grant signal that is malformed or rejected said the configured
// default for every purpose, and being first in the order it decided: with
// consent.default [analytics, ads], gdpr=1 without a TC string, an expired
// or undecodable one, or a consent field that does not parse granted ads
// to a visitor whose Consent Mode denied it. An unreadable signal now says
// the default only where no readable signal present refuses the purpose.
func TestUnreadableSignalNeverOverridesAReadableRefusal(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	def := Of(Analytics, Ads)
	cases := []struct {
		name string
		s    Signals
		want Purposes
	}{
		{"gdpr=1 without a TC string, consent mode denies all", Signals{GDPR: b("1"), GCS: b("G100")}, 0},
		{"gdpr=1 without a TC string, consent mode denies ads", Signals{GDPR: b("1"), GCS: b("G101")}, Of(Analytics)},
		{"undecodable TC string, consent mode denies ads", Signals{TCString: b("CO!x"), GCS: b("G101")}, Of(Analytics)},
		{"malformed consent field, consent mode denies ads", Signals{Consent: b("analytics,,nonsense!"), GCS: b("G101")}, Of(Analytics)},
		{"malformed consent mode after a readable consent field", Signals{Consent: b("analytics"), GCS: b("Gxyz")}, Of(Analytics)},
		{"gdpr=1 alone: the default", Signals{GDPR: b("1")}, def},
		// gcs alone grants storage; Consent Mode v2 refuses ads without
		// ad_user_data and ad_personalization (gcd): a readable refusal.
		{"gdpr=1, consent mode grants storage only", Signals{GDPR: b("1"), GCS: b("G111")}, Of(Analytics)},
		{"gdpr=1, consent mode grants all: the default, no more", Signals{GDPR: b("1"), GCD: b("13r3r3r3r5")}, def},
	}
	for _, tc := range cases {
		e, err := NewEvaluator(Options{Merge: MergePriority, Default: def})
		if err != nil {
			t.Fatal(err)
		}
		var scratch TCString
		s := tc.s
		if got := e.Evaluate(&s, &scratch).Purposes; got != tc.want {
			t.Errorf("%s: purposes %v; want %v", tc.name, got, tc.want)
		}
	}
}
