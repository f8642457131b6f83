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

// TestUnreadableSectionDoesNotHideAReadableRefusal: a GPP string whose
// tcfeuv2 section is a valid TC string refusing ads, next to a section
// beacongate cannot read (tcfcav1), is a readable refusal of ads even though
// the GPP signal is also rejected. Under the priority merge, a malformed
// signal standing before gpp in the order said the default [analytics, ads]
// and granted ads: the refusals an unreadable signal may not override were
// read per signal, and a signal with one unreadable reading counted as
// refusing nothing.
func TestUnreadableSectionDoesNotHideAReadableRefusal(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	def := Of(Analytics, Ads)
	gppTCCA := gppHeader(2, 5) + "~" + tcAnalytics + "~BPXxRfAPXxRfAAfKABENB" // tcfeuv2 refuses ads; tcfcav1 unreadable
	cases := []struct {
		name string
		o    Options
		s    Signals
		want Purposes
	}{
		{"malformed consent field first", Options{Merge: MergePriority, Default: def},
			Signals{Consent: b("analytics,cookies"), GPP: b(gppTCCA)}, Of(Analytics)},
		{"malformed consent mode before gpp", Options{Merge: MergePriority, Default: def, Priority: []Signal{SignalConsentMode, SignalGPP}},
			Signals{GCS: b("Gxyz"), GPP: b(gppTCCA)}, Of(Analytics)},
		{"gpp alone decides", Options{Merge: MergePriority, Default: def},
			Signals{GPP: b(gppTCCA)}, Of(Analytics)},
		{"most restrictive", Options{Default: def},
			Signals{Consent: b("analytics,cookies"), GPP: b(gppTCCA)}, Of(Analytics)},
	}
	for _, tc := range cases {
		e, err := NewEvaluator(tc.o)
		if err != nil {
			t.Fatal(err)
		}
		var scratch TCString
		s := tc.s
		a := e.Evaluate(&s, &scratch)
		if a.Purposes != tc.want {
			t.Errorf("%s: purposes %v; want %v (rejected %v, malformed %v)", tc.name, a.Purposes, tc.want, a.Rejected, a.Malformed)
		}
	}
}
