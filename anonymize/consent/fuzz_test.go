package consent

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// Fuzz targets for every decoder. Each asserts that bad input gives an error
// rather than a panic, checks what can be checked about the result, and,
// outside the race detector, that decoding does not allocate.

func fuzzNoAllocs(t *testing.T, name string, fn func()) {
	t.Helper()
	if raceEnabled {
		return
	}
	// 10 runs: AllocsPerRun divides, so a stray allocation by the fuzzing
	// engine's own goroutines rounds away while 1 per call does not.
	if n := testing.AllocsPerRun(10, fn); n != 0 {
		t.Fatalf("%s: %v allocs per call", name, n)
	}
}

func FuzzDecodeTC(f *testing.F) {
	for _, v := range loadTCFVectors(f) {
		f.Add(v.TCString)
	}
	for _, s := range builtSeeds() {
		f.Add(s)
	}
	// TCF v2.3: last updated after 2026-02-28 with the disclosed vendors
	// segment, and the same core string without it (ProblemNoDisclosedVendors).
	f.Add(tcDisclosed)
	f.Add(tcDisclosed[:strings.IndexByte(tcDisclosed, '.')])
	f.Add("COwGV")
	f.Add("")
	// What CMPs and transports make of a TC string: standard base64 with
	// padding, percent-encoded, cut mid-segment, an empty segment.
	f.Add(strings.NewReplacer("-", "+", "_", "/").Replace(tcAll) + "==")
	f.Add(strings.ReplaceAll(tcAll, "-", "%2D"))
	f.Add(tcAll[:len(tcAll)/2])
	f.Add(tcAll + ".")
	f.Add(tcAll + "..")
	f.Fuzz(func(t *testing.T, s string) {
		tc := new(TCString)
		b := []byte(s)
		err := tc.Decode(b)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Reason == ReasonNone || de.Error() == "" || strings.Contains(de.Error(), "\n") {
				t.Fatalf("bad error %v", err)
			}
		} else {
			_ = tc.Problems()
			// Lookups agree with the lists (bounded: ranges can span 65535 ids).
			if tc.MaxVendorConsent() < 5000 {
				ids := tc.AppendVendorConsents(nil)
				if !slices.IsSorted(ids) {
					t.Fatalf("unsorted vendor list %v", ids)
				}
				for id := 0; id <= tc.MaxVendorConsent()+1; id++ {
					if tc.VendorConsent(id) != slices.Contains(ids, id) {
						t.Fatalf("VendorConsent(%d) disagrees with the list", id)
					}
				}
			}
			// The TCF v2.3 rule: a string last updated on or after the
			// cut-off needs the segment; a vendor the segment leaves out is
			// refused whatever its bits say.
			needs := !tc.LastUpdated.Before(time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC))
			if got := tc.Problems()&ProblemNoDisclosedVendors != 0; got != (needs && !tc.HasDisclosedVendors()) {
				t.Fatalf("ProblemNoDisclosedVendors %v, last updated %v, segment %v", got, tc.LastUpdated, tc.HasDisclosedVendors())
			}
			if tc.HasDisclosedVendors() && !tc.VendorDisclosed(755) {
				if v := CheckVendor(tc, &Vendor{ID: 755, Consent: 1}); v.Reason != VendorNotDisclosed {
					t.Fatalf("undisclosed vendor 755: %v", v.Reason)
				}
			}
			_ = NewReport(tc, time.Time{}, 0)
		}
		fuzzNoAllocs(t, "Decode", func() {
			if tc.Decode(b) == nil {
				_ = tc.Problems()
				_ = tc.VendorConsent(755)
				_ = tc.VendorLI(1)
				_ = tc.PubRestrictions(7)
				_ = tc.VendorDisclosed(755)
			}
		})
	})
}

// FuzzGCS compares ParseGCS with the format written out: exactly "G1"
// and two digits 0 or 1, ad_storage then analytics_storage, 1 granted.
func FuzzGCS(f *testing.F) {
	for _, s := range []string{"G100", "G101", "G110", "G111", "G1", "G2xx", "", "g111", "G1110", "G1\u00e91"} {
		f.Add(s)
	}
	state := map[byte]ModeState{'0': ModeDenied, '1': ModeGranted}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		m, err := ParseGCS(b)
		ad, okAd := byte(0), false
		an, okAn := byte(0), false
		if len(s) == 4 {
			ad, an = s[2], s[3]
			_, okAd = state[ad]
			_, okAn = state[an]
		}
		want := len(s) == 4 && strings.HasPrefix(s, "G1") && okAd && okAn
		if want != (err == nil) {
			t.Fatalf("%q: error %v", s, err)
		}
		if err == nil && m != (ConsentMode{AdStorage: state[ad], AnalyticsStorage: state[an]}) {
			t.Fatalf("%q: %+v", s, m)
		}
		fuzzNoAllocs(t, "ParseGCS", func() { _, _ = ParseGCS(b) })
	})
}

// gcdLetters is the meaning of each valid gcd state letter as the public
// write-ups of the parameter list it (default, then update): l neither
// set, p denied by default, q denied and denied, t granted by default, r
// denied then granted, m denied by an update, n granted by an update, u
// granted then denied, v granted and granted. The update wins; neither
// set is denied.
var gcdLetters = map[byte]ModeState{
	'l': ModeDenied, 'p': ModeDenied, 'q': ModeDenied, 'm': ModeDenied, 'u': ModeDenied,
	't': ModeGranted, 'r': ModeGranted, 'n': ModeGranted, 'v': ModeGranted,
}

// FuzzGCD compares ParseGCD with gcdLetters: 9 to 64 characters of
// 0-9a-zA-Z-_, a state letter at positions 2, 4, 6 and 8.
func FuzzGCD(f *testing.F) {
	for _, s := range []string{"11p1p1p1p5", "13r3r3r3r5", "13q3q3q3q5", "11t1t1t1t5", "13r3r3r3r5l1", "13k3l3l3l5", "", "1", "13r3r3r3r5" + strings.Repeat("l1", 200), "1lmnpqrtuv", "1v1u1n1m1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		m, err := ParseGCD(b)
		want := len(s) >= 9 && len(s) <= 64
		for _, c := range b {
			want = want && strings.IndexByte(gcdAlphabet, c) >= 0
		}
		var st [4]ModeState
		for i := range st {
			if want {
				st[i], want = gcdLetters[s[2+2*i]]
			}
		}
		if want != (err == nil) {
			t.Fatalf("%q: error %v", s, err)
		}
		if err == nil {
			if m != (ConsentMode{AdStorage: st[0], AnalyticsStorage: st[1], AdUserData: st[2], AdPersonalization: st[3]}) {
				t.Fatalf("%q: %+v", s, m)
			}
			_ = m.Purposes()
		}
		fuzzNoAllocs(t, "ParseGCD", func() { _, _ = ParseGCD(b) })
	})
}

func FuzzUSPrivacy(f *testing.F) {
	for _, s := range []string{"1YNN", "1NYN", "1-Y-", "1---", "", "2YNN", "1ynn", "1YNNN", "1YN", "1%59NN", "1YN\u00e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		u, err := ParseUSPrivacy(b)
		if err == nil {
			// Round trip: the flags spell the input.
			c := func(fl Flag) byte { return "-YN"[fl] }
			if got := string([]byte{'1', c(u.Notice), c(u.OptOutSale), c(u.LSPACovered)}); got != s {
				t.Fatalf("%q decoded as %q", s, got)
			}
		}
		fuzzNoAllocs(t, "ParseUSPrivacy", func() { _, _ = ParseUSPrivacy(b) })
	})
}

// FuzzGPP fuzzes the GPP header, section lookup, gpp_sid and usnat decoders,
// and compares the header and usnat fields with iabconsent.
func FuzzGPP(f *testing.F) {
	for _, s := range gppSeeds {
		f.Add(s, "2,6")
	}
	f.Add(gppHeader(2, 6)+"~"+tcAll+"~1YYN", "2")
	f.Add("DBABRG", "-1")
	// Empty header, empty sections, empty and spaced gpp_sid lists.
	f.Add("", "")
	f.Add("DBABLA~", "")
	f.Add("DBACNY~~", "2,,6")
	f.Add("DBACNY~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN", " 2 , 6 ")
	f.Add("DBABLA%7EBVVqAAEABCA", "7"+strings.Repeat(",7", 200))
	// usnat notices not given, Service Provider Mode, and an invalid 3 in each.
	f.Add(gppHeader(7)+"~"+usnatWith(1, [6]uint64{2, 2, 1, 1, 1, 1}, [3]uint64{0, 0, 2}, [3]uint64{1, 2, 2}), "7")
	f.Add(gppHeader(7)+"~"+usnatWith(2, [6]uint64{1, 1, 1, 1, 1, 1}, [3]uint64{2, 2, 2}, [3]uint64{1, 2, 1})+".YA", "7")
	f.Add(gppHeader(7)+"~"+usnatWith(2, [6]uint64{1, 1, 1, 3, 1, 1}, [3]uint64{2, 2, 2}, [3]uint64{1, 2, 3}), "")
	f.Fuzz(func(t *testing.T, s, sid string) {
		b, sb := []byte(s), []byte(sid)
		h, err := ParseGPPHeader(b)
		if err == nil {
			if h.Version != 1 || h.Sections&1 != 0 {
				t.Fatalf("%q: %+v", s, h)
			}
			for id := 0; id <= 64; id++ {
				sec, err := GPPSection(b, h, id)
				if err == nil && sec != nil && !h.Sections.Has(id) {
					t.Fatalf("%q: section %d found but not listed", s, id)
				}
			}
		}
		if sids, err := ParseGPPSID(sb); err == nil && sids&1 != 0 {
			t.Fatalf("gpp_sid %q gave section 0", sid)
		}
		if _, _, ok := strings.Cut(s, "~"); !ok {
			_, _ = ParseUSNat(b)
		}
		gppOracleCompare(t, s)
		fuzzNoAllocs(t, "GPP", func() {
			if h, err := ParseGPPHeader(b); err == nil {
				_, _ = GPPSection(b, h, GPPSectionUSNat)
			}
			_, _ = ParseGPPSID(sb)
			_, _ = ParseUSNat(b)
		})
	})
}

func FuzzExplicit(f *testing.F) {
	for _, s := range []string{"analytics,ads", "none", " ads ", "ads,,x", "precise_geo,device_storage,personalization", "", ",", "ANALYTICS", "analytics%2Cads", "none,ads", "ads" + strings.Repeat(",ads", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		p, err := ParseExplicit(b)
		if err == nil {
			if p&^AllPurposes != 0 {
				t.Fatalf("%q: %b", s, p)
			}
			// Round trip through the canonical text.
			if q, err := ParseExplicit([]byte(p.String())); err != nil || q != p {
				t.Fatalf("%q: %v does not round-trip: %v %v", s, p, q, err)
			}
		}
		fuzzNoAllocs(t, "ParseExplicit", func() { _, _ = ParseExplicit(b) })
	})
}

// FuzzEvaluate feeds arbitrary signals to the evaluator and checks the
// answer's invariants: no panic, no allocation, fail-closed opt-outs.
func FuzzEvaluate(f *testing.F) {
	f.Add("1", tcAll, "G111", "13r3r3r3r5", "1YYN", "", "", "analytics", true, false, uint8(0))
	f.Add("", "", "", "", "", gppHeader(2, 6)+"~"+tcAll+"~1YYN", "2,6", "", false, true, uint8(1))
	f.Add("0", tcRestricted, "G1x", "", "1---", gppHeader(7)+"~CVVVVVVVVVVW.YA", "", "none", false, false, uint8(2))
	e := [3]*Evaluator{}
	for i, o := range []Options{{}, {Merge: MergePriority, GPP: GPPReject, Default: Of(Analytics)}, {VendorID: 7, IgnoreGPC: true, IgnoreDNT: true}} {
		var err error
		if e[i], err = NewEvaluator(o); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, gdpr, tcs, gcs, gcd, usp, gpp, sid, explicit string, gpc, dnt bool, which uint8) {
		ev := e[int(which)%len(e)]
		s := Signals{GDPR: []byte(gdpr), TCString: []byte(tcs), GCS: []byte(gcs), GCD: []byte(gcd), USPrivacy: []byte(usp),
			GPP: []byte(gpp), GPPSID: []byte(sid), Consent: []byte(explicit), GPC: gpc, DNT: dnt}
		tc := new(TCString)
		a := ev.Evaluate(&s, tc)
		if a.Purposes&^AllPurposes != 0 || a.Malformed&^a.Present != 0 || a.Rejected&^a.Present != 0 {
			t.Fatalf("inconsistent answer %+v", a)
		}
		if a.Decider != SignalNone && !a.Present.Has(a.Decider) {
			t.Fatalf("decider %v not present in %v", a.Decider, a.Present)
		}
		if ev.gpc && gpc && (a.Allowed(Ads) || a.Allowed(Personalization)) {
			t.Fatalf("GPC did not remove ads and personalization: %v", a.Purposes)
		}
		if a.Present == 0 && a.Purposes != ev.def {
			t.Fatalf("no signal but %v", a.Purposes)
		}
		fuzzNoAllocs(t, "Evaluate", func() { _ = ev.Evaluate(&s, tc) })
	})
}
