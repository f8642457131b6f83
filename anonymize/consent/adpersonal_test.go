package consent

import "testing"

// Answer.AdPersonalization per signal: ads for personalised advertising
// only when every signal that decides ads allows that too (TCF purposes 3
// and 4, Consent Mode ad_personalization, ads listed in the consent
// field), never from the default, a broken signal or our personalization
// purpose (content personalisation).
func TestAdPersonalization(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	tc := func(pc ...int) string {
		s := goodSpec()
		s.pc = pc
		return s.encode()
	}
	noAdProfile := tc(1, 2, 5, 6, 7, 8, 9, 10, 11) // no purposes 3 and 4: content profiles only
	ads127 := Options{TCF: map[Purpose]TCFRule{Ads: {Purposes: []int{1, 2, 7}}, Analytics: DefaultTCFRule(Analytics)}}
	for _, c := range []struct {
		name string
		o    Options
		s    Signals
		ads  bool // Ads granted
		want bool
	}{
		{"explicit ads", Options{}, Signals{Consent: b("analytics,ads")}, true, true},
		{"explicit personalization only", Options{}, Signals{Consent: b("analytics,personalization")}, false, false},
		{"tcf all", Options{}, Signals{TCString: b(tcAll)}, true, true},
		{"tcf ads 1,2,7 with 3 and 4", ads127, Signals{TCString: b(tcAll)}, true, true},
		{"tcf ads 1,2,7 without 3 and 4", ads127, Signals{TCString: b(noAdProfile)}, true, false},
		{"tcf in gpp", Options{}, Signals{GPP: b(gppHeader(2) + "~" + tcAll)}, true, true},
		{"gpp tcf ads 1,2,7 without 3 and 4", ads127, Signals{GPP: b(gppHeader(2) + "~" + noAdProfile)}, true, false},
		{"consent mode all granted", Options{}, Signals{GCS: b("G111"), GCD: b("13r3r3r3r5")}, true, true},
		{"consent mode gcd all granted", Options{}, Signals{GCD: b("13r3r3r3r5")}, true, true},
		{"consent mode ad_personalization denied", Options{}, Signals{GCD: b("13r3r3r3q5")}, false, false},
		{"default ads", Options{Default: Of(Analytics, Ads)}, Signals{}, true, false},
		{"malformed explicit, default ads", Options{Default: Of(Analytics, Ads)}, Signals{Consent: b("ads,x")}, true, false},
		{"rejected tcf, default ads", Options{Default: Of(Analytics, Ads)}, Signals{TCString: b(tcGlobal)}, true, false},
		{"gpc", Options{}, Signals{Consent: b("analytics,ads"), GPC: true}, false, false},
		{"us privacy opt-out", Options{}, Signals{Consent: b("analytics,ads"), USPrivacy: b("1YYN")}, false, false},
		// Most restrictive: each signal that speaks for ads must allow
		// personalised ads.
		{"tcf all and consent mode", Options{}, Signals{TCString: b(tcAll), GCD: b("13r3r3r3r5")}, true, true},
		{"tcf without 3 and 4, consent mode granted", ads127, Signals{TCString: b(noAdProfile), GCD: b("13r3r3r3r5")}, true, false},
		{"explicit ads, default ads", Options{Default: Of(Ads)}, Signals{Consent: b("ads")}, true, true},
		// Priority: the first signal that speaks for ads decides.
		{"priority explicit first", Options{Merge: MergePriority, TCF: ads127.TCF}, Signals{TCString: b(noAdProfile), Consent: b("analytics,ads")}, true, true},
		{"priority consent mode before tcf", Options{Merge: MergePriority, TCF: ads127.TCF, Priority: []Signal{SignalConsentMode, SignalTCF}},
			Signals{TCString: b(noAdProfile), GCD: b("13r3r3r3r5")}, true, true},
		{"priority tcf before consent mode", Options{Merge: MergePriority, TCF: ads127.TCF, Priority: []Signal{SignalTCF, SignalConsentMode}},
			Signals{TCString: b(noAdProfile), GCD: b("13r3r3r3r5")}, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := NewEvaluator(c.o)
			if err != nil {
				t.Fatal(err)
			}
			var scratch TCString
			a := e.Evaluate(&c.s, &scratch)
			if a.Purposes.Has(Ads) != c.ads || a.AdPersonalization != c.want {
				t.Fatalf("purposes %v, ad personalization %v; want ads %v, ad personalization %v", a.Purposes, a.AdPersonalization, c.ads, c.want)
			}
		})
	}
}
