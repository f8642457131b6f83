//go:build !race

package consent

import "testing"

func noAllocs(t *testing.T, name string, fn func()) {
	t.Helper()
	if n := testing.AllocsPerRun(200, fn); n != 0 {
		t.Errorf("%s: %v allocs per run; want 0", name, n)
	}
}

// TestNoAllocs covers every hot-path API with real strings.
func TestNoAllocs(t *testing.T) {
	tc := new(TCString)
	var all []string
	for _, v := range loadTCFVectors(t) {
		all = append(all, v.TCString)
	}
	all = append(all, builtSeeds()...)
	all = append(all, "", "COwGV", "BONJ5bvONJ5bvAMAPyFRAL7AAAAMhuqKklS-gAAAAAAAAAAAAAAAAAAAAAAAAAA", "CO!x")
	for _, s := range all {
		b := []byte(s)
		noAllocs(t, "Decode "+s, func() {
			if err := tc.Decode(b); err == nil {
				_ = tc.Problems()
				_ = tc.VendorConsent(755)
				_ = tc.VendorLI(14)
				_ = tc.VendorDisclosed(3)
				_ = tc.PubRestrictions(7)
			}
		})
	}

	e, err := NewEvaluator(Options{VendorID: 7})
	if err != nil {
		t.Fatal(err)
	}
	signals := []Signals{
		{},
		{GDPR: []byte("1"), TCString: []byte(tcAll), GCS: []byte("G111"), GCD: []byte("13r3r3r3r5"), GPC: true, DNT: true},
		{TCString: []byte(tcRestricted), USPrivacy: []byte("1YYN"), Consent: []byte("analytics, ads")},
		{TCString: []byte("${GDPR_CONSENT_755}"), Consent: []byte("bogus"), GCS: []byte("x"), USPrivacy: []byte("x")},
		{GPP: []byte(gppHeader(2, 6) + "~" + tcAll + "~1YYN"), GPPSID: []byte("2,6")},
		{GPP: []byte(gppHeader(7, 8) + "~CVVVVVVVVVVW.YA~BVoYYZoI")},
		{GPP: []byte("DBABM~garbage")},
	}
	gppOptOuts, err := NewEvaluator(Options{GPPOptOutsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range signals {
		s := &signals[i]
		noAllocs(t, "Evaluate", func() { _ = e.Evaluate(s, tc) })
		noAllocs(t, "Evaluate, GPP opt-outs only", func() { _ = gppOptOuts.Evaluate(s, tc) })
	}

	gcs, gcd, usp := []byte("G101"), []byte("13r3q3r3r5l1"), []byte("1YNN")
	gpp, sid, usnat := []byte("DBACNY~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN"), []byte("2,6"), []byte("CVVVVVVVVVVW.YA")
	explicit := []byte("analytics, device_storage")
	buf := make([]byte, 0, 128)
	noAllocs(t, "ParseGCS", func() { _, _ = ParseGCS(gcs) })
	noAllocs(t, "ParseGCD", func() { _, _ = ParseGCD(gcd) })
	noAllocs(t, "ParseUSPrivacy", func() { _, _ = ParseUSPrivacy(usp) })
	noAllocs(t, "ParseGPPHeader+GPPSection", func() {
		h, _ := ParseGPPHeader(gpp)
		_, _ = GPPSection(gpp, h, 6)
	})
	noAllocs(t, "ParseGPPSID", func() { _, _ = ParseGPPSID(sid) })
	noAllocs(t, "ParseUSNat", func() { _, _ = ParseUSNat(usnat) })
	noAllocs(t, "ParseExplicit", func() { _, _ = ParseExplicit(explicit) })
	noAllocs(t, "ParseExplicit error", func() { _, _ = ParseExplicit([]byte("analytics,bogus")) })
	noAllocs(t, "ParseExplicit folded", func() { _, _ = ParseExplicit([]byte("Analytics, ADS")) })
	noAllocs(t, "Purposes.AppendText", func() { buf, _ = AllPurposes.AppendText(buf[:0]) })
	noAllocs(t, "SignalSet.AppendText", func() { buf, _ = SignalSet(0xfe).AppendText(buf[:0]) })
}
